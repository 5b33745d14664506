//! The one place that defines how a photo becomes model input, used identically for training,
//! evaluation, the CLI and the page.
//!
//! 1. Decode to 8-bit RGB, upright ([`super::decode_image`]).
//! 2. Resize to the model's square input (default 256x256) with a bilinear filter, ignoring the
//!    aspect ratio, as the ISIC data this was trained on was resized.
//! 3. Scale to [0, 1] and normalise each channel with ImageNet's mean and standard deviation.
//!
//! Masks are resized the same way and binarised with `> 128`; predictions are resized back to
//! the photo's own size before thresholding.

use image::imageops::{FilterType, resize};
use image::{GrayImage, RgbImage};

/// Per-channel mean subtracted after scaling to [0, 1] (ImageNet's).
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// Per-channel standard deviation divided by after subtracting the mean (ImageNet's).
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Resizes a photo to `size x size` (bilinear; a no-op when already that size).
pub fn resize_rgb(img: &RgbImage, size: u32) -> RgbImage {
    if img.dimensions() == (size, size) {
        img.clone()
    } else {
        resize(img, size, size, FilterType::Triangle)
    }
}

/// Resizes a mask to `size x size` and binarises it to 0/1.
pub fn resize_mask(mask: &GrayImage, size: u32) -> Vec<u8> {
    let resized = if mask.dimensions() == (size, size) {
        mask.clone()
    } else {
        resize(mask, size, size, FilterType::Triangle)
    };
    resized
        .pixels()
        .map(|p| (p.0[0] > crate::metrics::MASK_THRESHOLD) as u8)
        .collect()
}

/// Channel-first normalised floats `[3, h, w]` of an RGB image.
pub fn normalize_chw(img: &RgbImage) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let n = (w * h) as usize;
    let mut out = vec![0.0f32; 3 * n];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            out[c * n + i] = (p.0[c] as f32 / 255.0 - MEAN[c]) / STD[c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_is_channel_first_with_imagenet_statistics() {
        let mut img = RgbImage::new(2, 1);
        img.put_pixel(1, 0, image::Rgb([255, 0, 128]));
        let x = normalize_chw(&img);
        assert_eq!(x.len(), 6);
        assert!((x[0] - (-0.485 / 0.229)).abs() < 1e-6);
        assert!((x[1] - (1.0 - 0.485) / 0.229).abs() < 1e-6);
        assert!((x[3] - (-0.456 / 0.224)).abs() < 1e-6);
        assert!((x[5] - (128.0 / 255.0 - 0.406) / 0.225).abs() < 1e-6);
    }

    #[test]
    fn masks_are_resized_then_binarised() {
        let mut mask = GrayImage::new(4, 4);
        for y in 0..4 {
            for x in 0..2 {
                mask.put_pixel(x, y, image::Luma([255]));
            }
        }
        let small = resize_mask(&mask, 2);
        assert_eq!(small, vec![1, 0, 1, 0]);
    }
}
