//! Decoding photos and masks with the `image` crate, refusing decompression bombs before they
//! are allocated.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

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

fn check_pixels(name: &str, w: u32, h: u32) -> Result<(), Error> {
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
    Ok(())
}

fn open(bytes: &[u8], name: &str) -> Result<DynamicImage, Error> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(name, format!("cannot read: {e}")))?;
    let format = match reader.format() {
        Some(ImageFormat::Jpeg) => "JPEG",
        Some(ImageFormat::Png) => "PNG",
        _ => {
            return Err(Error::UnsupportedFormat {
                file: name.to_string(),
                message: "not a JPEG or PNG image".into(),
            });
        }
    };
    let corrupt = |detail: String| {
        unreadable(
            name,
            format!("the {format} is corrupt or truncated ({detail})"),
        )
    };
    if format == "JPEG" && !jpeg_is_complete(bytes) {
        return Err(corrupt("it ends before its end-of-image marker".into()));
    }
    if format == "PNG"
        && let Some(size) = bytes.get(16..24)
    {
        // The header's size, before anything else is read: a bomb's data may be cut short.
        let w = u32::from_be_bytes([size[0], size[1], size[2], size[3]]);
        let h = u32::from_be_bytes([size[4], size[5], size[6], size[7]]);
        check_pixels(name, w, h)?;
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 * 2);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| corrupt(e.to_string()))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(unreadable(name, "image has no pixels"));
    }
    check_pixels(name, w, h)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| corrupt(e.to_string()))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Whether a JPEG's coded data reaches its end-of-image marker. Decoders (the `image` crate's,
/// like the browsers') fill a file that stops early with grey and say nothing. The segments
/// before the first scan are skipped by their lengths (an EXIF thumbnail is a whole JPEG, end
/// marker included); after it, byte stuffing keeps `FF D9` out of the coded data, so it appears
/// only where the image ends.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            i += 1;
            continue;
        }
        match bytes[i + 1] {
            0xFF => i += 1,
            0x01 | 0xD0..=0xD8 => i += 2,
            0xDA => return bytes[i..].windows(2).any(|w| w == [0xFF, 0xD9]),
            _ => i += 2 + u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize,
        }
    }
    false
}

/// Decodes a photo (JPEG or PNG, grayscale, RGB, RGBA or 16-bit) to 8-bit RGB, upright per its
/// EXIF orientation.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<RgbImage, Error> {
    Ok(open(bytes, name)?.to_rgb8())
}

/// Decodes a ground-truth mask to 8-bit gray (values kept; binarise with `> 128`), refusing
/// masks that cannot mean what their maker meant ([`check_mask`]).
pub fn decode_mask(bytes: &[u8], name: &str) -> Result<GrayImage, Error> {
    let mask = open(bytes, name)?;
    check_mask(&mask, name)?;
    Ok(mask.to_luma8())
}

/// A mask is lesion where it is above 128 (of 255). Two conventions read as "no lesion" by that
/// rule, and would be scored and trained on as empty: 0/1 masks (many datasets and tools) and
/// colour masks (the lesion painted red or green, which is dark in gray). Both are refused with
/// a hint; masks that are all 0 or all 255 stay legal.
fn check_mask(mask: &DynamicImage, name: &str) -> Result<(), Error> {
    let bad = |message: String| {
        Err(Error::BadMask {
            file: name.to_string(),
            message,
        })
    };
    if mask.color().has_color()
        && let Some(p) = mask
            .to_rgb16()
            .pixels()
            .find(|p| p.0[0] != p.0[1] || p.0[1] != p.0[2])
    {
        let [r, g, b] = p.0.map(|v| v / 257);
        return bad(format!(
            "a colour mask (one pixel is RGB {r},{g},{b}); a mask is gray: 255 (white) for lesion, 0 for skin"
        ));
    }
    // The largest value at the mask's own depth; ISIC's masks are 8-bit gray, read in place.
    let (max, full) = match mask {
        DynamicImage::ImageLuma8(m) => (m.iter().copied().max().unwrap_or(0) as u32, 255),
        m if m.color().bytes_per_pixel() / m.color().channel_count() == 2 => {
            let max = m.to_luma16().pixels().map(|p| p.0[0]).max().unwrap_or(0);
            (max as u32, 65535)
        }
        m => (
            m.to_luma8().pixels().map(|p| p.0[0]).max().unwrap_or(0) as u32,
            255,
        ),
    };
    // Above 128 of 255 once at 8 bits (as `to_luma8` rounds a 16-bit value).
    let lesion = (max * 255 + full / 2) / full > 128;
    if !lesion && max > 0 {
        let hint = if max == 1 {
            format!("values 0-1: multiply by {full}")
        } else {
            format!("make the lesion {full} (white)")
        };
        return bad(format!(
            "no value is above half of {full} (the largest is {max}), so no pixel would count as lesion; {hint}"
        ));
    }
    Ok(())
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
        assert!(
            msg.starts_with("cut.png: the PNG is corrupt or truncated"),
            "{msg}"
        );
    }

    #[test]
    fn masks_in_other_conventions_are_refused_with_a_hint() {
        let gray = |v: u8| {
            png(DynamicImage::ImageLuma8(GrayImage::from_fn(
                8,
                8,
                |x, _| Luma([if x < 4 { v } else { 0 }]),
            )))
        };
        assert_eq!(
            decode_mask(&gray(255), "ok.png").unwrap().get_pixel(0, 0).0,
            [255]
        );
        assert!(
            decode_mask(&gray(0), "empty.png").is_ok(),
            "an all-empty mask is legal"
        );
        let full = png(DynamicImage::ImageLuma8(GrayImage::from_pixel(
            8,
            8,
            Luma([255]),
        )));
        assert!(
            decode_mask(&full, "full.png").is_ok(),
            "an all-lesion mask is legal"
        );
        let err = decode_mask(&gray(1), "ones.png").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::BadMask);
        assert!(
            err.to_string().starts_with("ones.png: ")
                && err.to_string().contains("values 0-1: multiply by 255"),
            "{err}"
        );
        let err = decode_mask(&gray(100), "dim.png").unwrap_err().to_string();
        assert!(err.contains("the largest is 100"), "{err}");
        let red = image::RgbImage::from_fn(8, 8, |x, _| {
            image::Rgb(if x < 4 { [255, 0, 0] } else { [0, 0, 0] })
        });
        let err = decode_mask(&png(DynamicImage::ImageRgb8(red)), "red.png").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::BadMask);
        assert!(
            err.to_string()
                .contains("colour mask (one pixel is RGB 255,0,0)"),
            "{err}"
        );
        let white =
            image::RgbImage::from_fn(8, 8, |x, _| image::Rgb([if x < 4 { 255 } else { 0 }; 3]));
        assert!(decode_mask(&png(DynamicImage::ImageRgb8(white)), "rgb-gray.png").is_ok());
        let ones16 =
            image::ImageBuffer::<Luma<u16>, _>::from_fn(8, 8, |x, _| Luma([(x < 4) as u16]));
        let err = decode_mask(&png(DynamicImage::ImageLuma16(ones16)), "ones16.png").unwrap_err();
        assert!(
            err.to_string().contains("values 0-1: multiply by 65535"),
            "{err}"
        );
    }

    #[test]
    fn a_jpeg_that_stops_early_is_refused_and_a_whole_one_decodes() {
        let photo = "tests/data/isic-fixture/ISIC2018_Task1-2_Training_Input/ISIC_0000125.jpg";
        let jpeg = std::fs::read(photo).unwrap();
        assert!(decode_image(&jpeg, "whole.jpg").is_ok());
        // Cut inside the coded data, and cut then padded (as a failed download can leave it).
        let mut padded = jpeg[..jpeg.len() * 2 / 3].to_vec();
        padded.extend([7u8; 400]);
        for cut in [&jpeg[..jpeg.len() / 2], &padded[..]] {
            let err = decode_image(cut, "cut.jpg").unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::UnreadableImage);
            let msg = err.to_string();
            assert!(
                msg.starts_with("cut.jpg: the JPEG is corrupt or truncated"),
                "{msg}"
            );
        }
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
        let cut = decode_image(&bytes[..29], "cut-bomb.png").unwrap_err();
        assert_eq!(cut.kind(), crate::ErrorKind::TooLarge, "{cut}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("bomb.png: ") && msg.contains("20000x20000"),
            "{msg}"
        );
    }
}
