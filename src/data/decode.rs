//! Decoding photos and masks with the `image` crate, refusing decompression bombs before they
//! are allocated.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, Limits, RgbImage};

use crate::Error;

/// Largest accepted image, in pixels: 50 megapixels, above any dermatoscope or phone photo
/// (the largest ISIC 2018 original is 6708x4439 = 30 MP).
pub const MAX_PIXELS: u64 = 50_000_000;

fn unreadable(name: &str, message: impl Into<String>) -> Error {
    Error::UnreadableImage {
        file: name.to_string(),
        message: message.into(),
    }
}

fn open(bytes: &[u8], name: &str) -> Result<DynamicImage, Error> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(name, format!("cannot read: {e}")))?;
    if reader.format().is_none() {
        return Err(Error::UnsupportedFormat {
            file: name.to_string(),
            message: "not a JPEG or PNG image".into(),
        });
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 * 2);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| unreadable(name, format!("unreadable image ({e})")))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(unreadable(name, "image has no pixels"));
    }
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(Error::TooLarge {
            file: name.to_string(),
            message: format!(
                "image is {w}x{h} ({} megapixels); the limit is {} megapixels",
                (w as u64 * h as u64) / 1_000_000,
                MAX_PIXELS / 1_000_000
            ),
        });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| unreadable(name, format!("corrupt image data ({e})")))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Decodes a photo (JPEG or PNG, grayscale, RGB, RGBA or 16-bit) to 8-bit RGB, upright per its
/// EXIF orientation.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<RgbImage, Error> {
    Ok(open(bytes, name)?.to_rgb8())
}

/// Decodes a ground-truth mask to 8-bit gray (values kept; binarise with `> 128`).
pub fn decode_mask(bytes: &[u8], name: &str) -> Result<GrayImage, Error> {
    Ok(open(bytes, name)?.to_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Luma, Rgba, RgbaImage};

    fn png(img: DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_rgba_gray_and_16_bit_to_rgb() {
        let rgba = RgbaImage::from_pixel(3, 2, Rgba([10, 20, 30, 40]));
        let rgb = decode_image(&png(DynamicImage::ImageRgba8(rgba)), "a.png").unwrap();
        assert_eq!(
            (rgb.width(), rgb.height(), rgb.get_pixel(2, 1).0),
            (3, 2, [10, 20, 30])
        );
        let gray16 = image::ImageBuffer::<Luma<u16>, _>::from_pixel(2, 2, Luma([65535u16]));
        let rgb = decode_image(&png(DynamicImage::ImageLuma16(gray16)), "b.png").unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn corrupt_and_foreign_files_name_the_file() {
        let err = decode_image(b"hello, not an image", "notes.jpg").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::UnsupportedFormat);
        let msg = err.to_string();
        assert!(
            msg.starts_with("notes.jpg: ") && msg.contains("not a JPEG or PNG"),
            "{msg}"
        );
        let mut truncated = png(DynamicImage::ImageRgb8(RgbImage::from_pixel(
            64,
            64,
            image::Rgb([1, 2, 3]),
        )));
        truncated.truncate(truncated.len() / 2);
        let err = decode_image(&truncated, "cut.png").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::UnreadableImage);
        let msg = err.to_string();
        assert!(msg.starts_with("cut.png: "), "{msg}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        // A valid PNG header announcing 20000x20000 pixels, with almost no data after it.
        let mut bytes = png(DynamicImage::ImageLuma8(GrayImage::new(1, 1)));
        bytes[16..20].copy_from_slice(&20000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&20000u32.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = decode_image(&bytes, "bomb.png").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::TooLarge);
        let msg = err.to_string();
        assert!(
            msg.starts_with("bomb.png: ") && msg.contains("20000x20000"),
            "{msg}"
        );
    }
}
