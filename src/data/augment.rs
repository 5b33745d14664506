//! Training augmentation: flips, 90° rotations and mild colour jitter, from a seeded generator
//! so a run can be repeated.

use image::{GrayImage, RgbImage};
use rand::Rng;
use rand::rngs::SmallRng;

/// Which augmentations a training run applies.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augmentation {
    /// Random horizontal and vertical flips.
    pub flips: bool,
    /// Random rotations by 0, 90, 180 or 270 degrees (square inputs only).
    pub rotations: bool,
    /// Largest relative change of brightness, contrast and saturation (0 disables).
    pub color_jitter: f32,
}

impl Default for Augmentation {
    fn default() -> Self {
        Self { flips: true, rotations: true, color_jitter: 0.1 }
    }
}

impl Augmentation {
    /// No augmentation.
    pub const NONE: Augmentation = Augmentation { flips: false, rotations: false, color_jitter: 0.0 };

    /// Applies a random transformation to an image and its mask (a 0/1 map of the same size),
    /// geometric ones to both, colour ones to the image only.
    pub fn apply(&self, rng: &mut SmallRng, image: &mut RgbImage, mask: &mut GrayImage) {
        use image::imageops::{flip_horizontal_in_place, flip_vertical_in_place, rotate90, rotate180_in_place, rotate270};
        if self.flips {
            if rng.random_bool(0.5) {
                flip_horizontal_in_place(image);
                flip_horizontal_in_place(mask);
            }
            if rng.random_bool(0.5) {
                flip_vertical_in_place(image);
                flip_vertical_in_place(mask);
            }
        }
        if self.rotations && image.width() == image.height() {
            match rng.random_range(0..4) {
                1 => {
                    *image = rotate90(image);
                    *mask = rotate90(mask);
                }
                2 => {
                    rotate180_in_place(image);
                    rotate180_in_place(mask);
                }
                3 => {
                    *image = rotate270(image);
                    *mask = rotate270(mask);
                }
                _ => {}
            }
        }
        if self.color_jitter > 0.0 {
            let j = self.color_jitter;
            let brightness = 1.0 + rng.random_range(-j..=j);
            let contrast = 1.0 + rng.random_range(-j..=j);
            let saturation = 1.0 + rng.random_range(-j..=j);
            jitter(image, brightness, contrast, saturation);
        }
    }
}

fn jitter(image: &mut RgbImage, brightness: f32, contrast: f32, saturation: f32) {
    let n = (image.width() * image.height()).max(1) as f32;
    let mean_luma = image.pixels().map(|p| luma(p.0)).sum::<f32>() / n;
    for p in image.pixels_mut() {
        let l = luma(p.0);
        for c in 0..3 {
            let mut v = p.0[c] as f32;
            v = l + (v - l) * saturation;
            v = mean_luma + (v - mean_luma) * contrast;
            v *= brightness;
            p.0[c] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
}

fn luma(rgb: [u8; 3]) -> f32 {
    0.299 * rgb[0] as f32 + 0.587 * rgb[1] as f32 + 0.114 * rgb[2] as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn geometry_moves_image_and_mask_together_and_is_seeded() {
        let mut image = RgbImage::new(8, 8);
        let mut mask = GrayImage::new(8, 8);
        image.put_pixel(1, 2, image::Rgb([255, 255, 255]));
        mask.put_pixel(1, 2, image::Luma([1]));
        let aug = Augmentation { color_jitter: 0.0, ..Default::default() };
        let mut seen = std::collections::HashSet::new();
        for seed in 0..32 {
            let (mut i, mut m) = (image.clone(), mask.clone());
            aug.apply(&mut SmallRng::seed_from_u64(seed), &mut i, &mut m);
            let lit = i.enumerate_pixels().find(|(_, _, p)| p.0[0] == 255).map(|(x, y, _)| (x, y)).unwrap();
            let marked = m.enumerate_pixels().find(|(_, _, p)| p.0[0] == 1).map(|(x, y, _)| (x, y)).unwrap();
            assert_eq!(lit, marked, "seed {seed}");
            seen.insert(lit);
            let (mut i2, mut m2) = (image.clone(), mask.clone());
            aug.apply(&mut SmallRng::seed_from_u64(seed), &mut i2, &mut m2);
            assert_eq!(i, i2, "same seed, same result");
        }
        assert!(seen.len() >= 6, "flips and rotations reach several of the 8 positions: {seen:?}");
    }

    #[test]
    fn jitter_is_mild_and_leaves_the_mask_alone() {
        let mut image = RgbImage::from_fn(4, 4, |x, y| image::Rgb([(x * 40) as u8, (y * 40) as u8, 100]));
        let original = image.clone();
        let mut mask = GrayImage::from_pixel(4, 4, image::Luma([1]));
        let aug = Augmentation { flips: false, rotations: false, color_jitter: 0.1 };
        aug.apply(&mut SmallRng::seed_from_u64(7), &mut image, &mut mask);
        assert!(mask.pixels().all(|p| p.0[0] == 1));
        for (a, b) in image.pixels().zip(original.pixels()) {
            for c in 0..3 {
                assert!((a.0[c] as i32 - b.0[c] as i32).abs() <= 60, "{a:?} vs {b:?}");
            }
        }
    }
}
