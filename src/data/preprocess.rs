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

use burn::prelude::*;
use image::imageops::{FilterType, resize};
use image::{GrayImage, ImageBuffer, Luma, RgbImage};

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

/// The model input for a photo: resized to `size x size` and normalised.
///
/// # Shapes
/// - output: `[1, 3, size, size]`
pub fn input_tensor(photo: &RgbImage, size: u32, device: &Device) -> Tensor<4> {
    let x = normalize_chw(&resize_rgb(photo, size));
    Tensor::from_data(
        TensorData::new(x, [1, 3, size as usize, size as usize]),
        device,
    )
}

/// Resizes a map of values (a probability, a heatmap) from `from` to `to` (width, height),
/// bilinear: how every answer at the model's input size comes back to the photo's size.
pub fn resize_map(values: Vec<f32>, from: (u32, u32), to: (u32, u32)) -> Vec<f32> {
    if from == to {
        return values;
    }
    let map: ImageBuffer<Luma<f32>, Vec<f32>> =
        ImageBuffer::from_raw(from.0, from.1, values).expect("size matches");
    resize(&map, to.0, to.1, FilterType::Triangle).into_raw()
}

/// Index `i` folded into `0..n` by mirroring at the edges (`-1` reads `0`, `n` reads `n - 1`).
pub(super) fn reflect(i: i64, n: u32) -> usize {
    let n = n as i64;
    let period = 2 * n;
    let m = i.rem_euclid(period);
    (if m < n { m } else { period - 1 - m }) as usize
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
