//! Training augmentation, from a seeded generator so a run can be repeated: flips, quarter
//! turns and colour jitter ([`Augmentation::default`], what the page fine-tunes with), and for
//! robustness to photos unlike the training set ([`Augmentation::strong`]) rotation by any
//! angle, zoom with a random crop, aspect-ratio changes, hue shifts and blur.

use image::{GrayImage, RgbImage};
use rand::Rng;
use rand::rngs::SmallRng;

use super::preprocess::reflect;
use super::wide_field::Skin;

/// Which augmentations a training run applies.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augmentation {
    /// Random horizontal and vertical flips.
    pub flips: bool,
    /// Random rotations by 0, 90, 180 or 270 degrees (square inputs only).
    pub rotations: bool,
    /// Largest relative change of brightness, contrast and saturation (0 disables).
    pub color_jitter: f32,
    /// Rotation by any angle (the corners reflect the image), on top of the quarter turns.
    #[serde(default)]
    pub any_angle: bool,
    /// Largest relative zoom in or out, with a random shift: 0.25 zooms by 0.75 to 1.25
    /// (0 disables).
    #[serde(default)]
    pub zoom: f32,
    /// Largest relative stretch of one axis against the other (0 disables).
    #[serde(default)]
    pub aspect: f32,
    /// Largest hue rotation, in turns of the colour wheel (0 disables).
    #[serde(default)]
    pub hue: f32,
    /// Probability of a slight blur (a 3x3 binomial filter).
    #[serde(default)]
    pub blur: f32,
    /// Probability of shrinking the photo into a wider field of skin
    /// ([`super::wide_field::zoom_out`]), so that the lesion covers a few percent of it.
    #[serde(default)]
    pub zoom_out: f32,
    /// Probability of a crop that cuts the lesion ([`super::wide_field::cut`]).
    #[serde(default)]
    pub cut: f32,
    /// Probability of each of the marks real photos carry: a dark rim, a pen circle, a ruler,
    /// hairs ([`super::wide_field`]).
    #[serde(default)]
    pub artefacts: f32,
}

impl Default for Augmentation {
    fn default() -> Self {
        Self {
            flips: true,
            rotations: true,
            color_jitter: 0.1,
            ..Self::NONE
        }
    }
}

impl Augmentation {
    /// No augmentation.
    pub const NONE: Augmentation = Augmentation {
        flips: false,
        rotations: false,
        color_jitter: 0.0,
        any_angle: false,
        zoom: 0.0,
        aspect: 0.0,
        hue: 0.0,
        blur: 0.0,
        zoom_out: 0.0,
        cut: 0.0,
        artefacts: 0.0,
    };

    /// The default's flips and turns, stronger colour jitter, and every geometric and colour
    /// change above: what the shipped weights are trained with (see the model card).
    pub fn strong() -> Self {
        Self {
            flips: true,
            rotations: true,
            color_jitter: 0.2,
            any_angle: true,
            zoom: 0.25,
            aspect: 0.2,
            hue: 0.03,
            blur: 0.2,
            ..Self::NONE
        }
    }

    /// The default's flips, turns and colour jitter, plus photos as people bring them: half the
    /// photos shrunk into a wider field of skin, a sixth cut by a crop, and rims, pen circles,
    /// rulers and hairs (see the model card for what it gains on the wide-field set).
    pub fn wide() -> Self {
        Self {
            zoom_out: 0.5,
            cut: 0.15,
            artefacts: 0.2,
            ..Self::default()
        }
    }

    /// Zoom out or cut, then the marks of real photos ([`super::wide_field`]). Draws no random
    /// number when all three are off, so runs without them repeat as before.
    fn widen(
        &self,
        rng: &mut SmallRng,
        image: &mut RgbImage,
        mask: &mut GrayImage,
        skin: Option<Skin>,
    ) {
        use super::wide_field::{
            border_lesion_share, cut, dark_border, draw_hairs, draw_pen_circle, draw_rim,
            draw_ruler, zoom_out,
        };
        if self.zoom_out > 0.0 || self.cut > 0.0 {
            let roll: f32 = rng.random();
            if roll < self.zoom_out {
                // A lesion the frame cuts would get a straight edge in the wider field, and a
                // photo with its own rim would become a photo in a photo.
                if border_lesion_share(mask) < 0.05 && !dark_border(image) {
                    // Log-uniform between a third and 0.9 of the side: lesion areas shrink 1.2-9x.
                    let scale = (rng.random_range(0.33f32.ln()..0.9f32.ln())).exp();
                    zoom_out(rng, image, mask, scale, skin);
                }
            } else if roll < self.zoom_out + self.cut {
                let keep = rng.random_range(0.5..0.8);
                cut(rng, image, mask, keep);
            }
        }
        if self.artefacts > 0.0 {
            let p = self.artefacts.clamp(0.0, 1.0) as f64;
            if rng.random_bool(p) {
                draw_rim(rng, image, mask);
            }
            if rng.random_bool(p) {
                draw_pen_circle(rng, image, mask);
            }
            if rng.random_bool(p) {
                draw_ruler(rng, image, mask);
            }
            if rng.random_bool(p) {
                draw_hairs(rng, image);
            }
        }
    }

    /// Whether any change beyond flips, quarter turns and colour jitter is on.
    fn warps(&self) -> bool {
        self.any_angle || self.zoom > 0.0 || self.aspect > 0.0
    }

    /// Applies a random transformation to an image and its mask (a 0/1 map of the same size),
    /// geometric ones to both, colour ones to the image only.
    pub fn apply(&self, rng: &mut SmallRng, image: &mut RgbImage, mask: &mut GrayImage) {
        self.apply_with_skin(rng, image, mask, None);
    }

    /// [`Augmentation::apply`], with another photo whose lesion-free skin fills the field a
    /// zoomed-out photo is placed in.
    pub fn apply_with_skin(
        &self,
        rng: &mut SmallRng,
        image: &mut RgbImage,
        mask: &mut GrayImage,
        skin: Option<Skin>,
    ) {
        use image::imageops::{
            flip_horizontal_in_place, flip_vertical_in_place, rotate90, rotate180_in_place,
            rotate270,
        };
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
        self.widen(rng, image, mask, skin);
        if self.warps() {
            let angle = if self.any_angle {
                rng.random_range(-std::f32::consts::PI..std::f32::consts::PI)
            } else {
                0.0
            };
            let zoom = 1.0 + rng.random_range(-self.zoom..=self.zoom);
            let stretch = 1.0 + rng.random_range(-self.aspect..=self.aspect);
            let (sx, sy) = (zoom * stretch.sqrt(), zoom / stretch.sqrt());
            let shift = self.zoom.max(0.05);
            let (dx, dy) = (
                rng.random_range(-shift..=shift),
                rng.random_range(-shift..=shift),
            );
            let warp = Warp::new(
                angle,
                sx,
                sy,
                dx * image.width() as f32,
                dy * image.height() as f32,
                image.width(),
                image.height(),
            );
            *image = warp.apply_rgb(image);
            *mask = warp.apply_mask(mask);
        }
        if self.color_jitter > 0.0 {
            let j = self.color_jitter;
            let brightness = 1.0 + rng.random_range(-j..=j);
            let contrast = 1.0 + rng.random_range(-j..=j);
            let saturation = 1.0 + rng.random_range(-j..=j);
            jitter(image, brightness, contrast, saturation);
        }
        if self.hue > 0.0 {
            rotate_hue(
                image,
                rng.random_range(-self.hue..=self.hue) * std::f32::consts::TAU,
            );
        }
        if self.blur > 0.0 && rng.random_bool(self.blur.clamp(0.0, 1.0) as f64) {
            blur(image);
        }
    }
}

/// An affine map of the image plane about its centre (rotation, then scaling per axis, then a
/// shift), sampled backwards: each output pixel reads the input where the inverse map sends it,
/// reflected at the borders so no black corners appear.
struct Warp {
    /// Inverse linear part, row-major.
    inv: [f32; 4],
    shift: (f32, f32),
    centre: (f32, f32),
    size: (u32, u32),
}

impl Warp {
    fn new(angle: f32, sx: f32, sy: f32, dx: f32, dy: f32, width: u32, height: u32) -> Self {
        // Forward: p' = S·R·p + d; inverse: p = R⁻¹·S⁻¹·(p' - d).
        let (sin, cos) = angle.sin_cos();
        let inv = [cos / sx, sin / sy, -sin / sx, cos / sy];
        Self {
            inv,
            shift: (dx, dy),
            centre: ((width as f32 - 1.0) / 2.0, (height as f32 - 1.0) / 2.0),
            size: (width, height),
        }
    }

    /// Where output pixel (x, y) reads from, in input coordinates (not yet reflected).
    fn source(&self, x: u32, y: u32) -> (f32, f32) {
        let (u, v) = (
            x as f32 - self.centre.0 - self.shift.0,
            y as f32 - self.centre.1 - self.shift.1,
        );
        let [a, b, c, d] = self.inv;
        (a * u + b * v + self.centre.0, c * u + d * v + self.centre.1)
    }

    /// Bilinear sample of `channels` interleaved values per pixel, borders reflected.
    fn sample<const C: usize>(&self, raw: &[u8], sx: f32, sy: f32) -> [f32; C] {
        let (w, h) = self.size;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let mut out = [0.0; C];
        for (oy, wy) in [(0, 1.0 - fy), (1, fy)] {
            for (ox, wx) in [(0, 1.0 - fx), (1, fx)] {
                let (px, py) = (reflect(x0 as i64 + ox, w), reflect(y0 as i64 + oy, h));
                let at = (py * w as usize + px) * C;
                for c in 0..C {
                    out[c] += wx * wy * raw[at + c] as f32;
                }
            }
        }
        out
    }

    fn apply_rgb(&self, image: &RgbImage) -> RgbImage {
        RgbImage::from_fn(self.size.0, self.size.1, |x, y| {
            let (sx, sy) = self.source(x, y);
            image::Rgb(
                self.sample::<3>(image.as_raw(), sx, sy)
                    .map(|v| v.round().clamp(0.0, 255.0) as u8),
            )
        })
    }

    /// The mask sampled bilinearly and cut at half its lesion value, so edges stay sharp and the
    /// values stay 0 and the lesion value.
    fn apply_mask(&self, mask: &GrayImage) -> GrayImage {
        let top = mask.pixels().map(|p| p.0[0]).max().unwrap_or(0);
        GrayImage::from_fn(self.size.0, self.size.1, |x, y| {
            let (sx, sy) = self.source(x, y);
            let [v] = self.sample::<1>(mask.as_raw(), sx, sy);
            image::Luma([if top > 0 && v >= top as f32 / 2.0 {
                top
            } else {
                0
            }])
        })
    }
}

/// Rotates every pixel's hue by `angle` radians, keeping its luma: a rotation of the chroma
/// plane of YIQ.
fn rotate_hue(image: &mut RgbImage, angle: f32) {
    let (sin, cos) = angle.sin_cos();
    for p in image.pixels_mut() {
        let y = luma(p.0);
        let [r, g, b] = p.0.map(|v| v as f32);
        let i = 0.596 * r - 0.274 * g - 0.322 * b;
        let q = 0.211 * r - 0.523 * g + 0.312 * b;
        let (i, q) = (i * cos - q * sin, i * sin + q * cos);
        let rgb = [
            y + 0.956 * i + 0.621 * q,
            y - 0.272 * i - 0.647 * q,
            y - 1.106 * i + 1.703 * q,
        ];
        p.0 = rgb.map(|v| v.round().clamp(0.0, 255.0) as u8);
    }
}

/// A 3x3 binomial blur ([1 2 1]/4 in each direction), borders reflected.
fn blur(image: &mut RgbImage) {
    let (w, h) = image.dimensions();
    let src = image.clone();
    let weight = [1.0, 2.0, 1.0];
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0.0f32; 3];
            for (j, wy) in weight.iter().enumerate() {
                for (i, wx) in weight.iter().enumerate() {
                    let px = reflect(x as i64 + i as i64 - 1, w) as u32;
                    let py = reflect(y as i64 + j as i64 - 1, h) as u32;
                    let v = src.get_pixel(px, py).0;
                    for c in 0..3 {
                        acc[c] += wx * wy * v[c] as f32 / 16.0;
                    }
                }
            }
            image.put_pixel(x, y, image::Rgb(acc.map(|v| v.round() as u8)));
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
        let aug = Augmentation {
            color_jitter: 0.0,
            ..Default::default()
        };
        let mut seen = std::collections::HashSet::new();
        for seed in 0..32 {
            let (mut i, mut m) = (image.clone(), mask.clone());
            aug.apply(&mut SmallRng::seed_from_u64(seed), &mut i, &mut m);
            let lit = i
                .enumerate_pixels()
                .find(|(_, _, p)| p.0[0] == 255)
                .map(|(x, y, _)| (x, y))
                .unwrap();
            let marked = m
                .enumerate_pixels()
                .find(|(_, _, p)| p.0[0] == 1)
                .map(|(x, y, _)| (x, y))
                .unwrap();
            assert_eq!(lit, marked, "seed {seed}");
            seen.insert(lit);
            let (mut i2, mut m2) = (image.clone(), mask.clone());
            aug.apply(&mut SmallRng::seed_from_u64(seed), &mut i2, &mut m2);
            assert_eq!(i, i2, "same seed, same result");
        }
        assert!(
            seen.len() >= 6,
            "flips and rotations reach several of the 8 positions: {seen:?}"
        );
    }

    #[test]
    fn jitter_is_mild_and_leaves_the_mask_alone() {
        let mut image = RgbImage::from_fn(4, 4, |x, y| {
            image::Rgb([(x * 40) as u8, (y * 40) as u8, 100])
        });
        let original = image.clone();
        let mut mask = GrayImage::from_pixel(4, 4, image::Luma([1]));
        let aug = Augmentation {
            color_jitter: 0.1,
            ..Augmentation::NONE
        };
        aug.apply(&mut SmallRng::seed_from_u64(7), &mut image, &mut mask);
        assert!(mask.pixels().all(|p| p.0[0] == 1));
        for (a, b) in image.pixels().zip(original.pixels()) {
            for c in 0..3 {
                assert!(
                    (a.0[c] as i32 - b.0[c] as i32).abs() <= 60,
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn strong_warps_move_image_and_mask_together() {
        // A bright square with its mask: after any warp, the mask still covers the bright
        // pixels (bilinear edges aside), the mask keeps its two values, and the warp did
        // something.
        let mut image = RgbImage::from_pixel(64, 64, image::Rgb([20, 20, 20]));
        let mut mask = GrayImage::new(64, 64);
        for y in 20..44 {
            for x in 16..40 {
                image.put_pixel(x, y, image::Rgb([240, 240, 240]));
                mask.put_pixel(x, y, image::Luma([1]));
            }
        }
        let aug = Augmentation {
            color_jitter: 0.0,
            hue: 0.0,
            blur: 0.0,
            ..Augmentation::strong()
        };
        let mut moved = 0;
        for seed in 0..16 {
            let (mut i, mut m) = (image.clone(), mask.clone());
            aug.apply(&mut SmallRng::seed_from_u64(seed), &mut i, &mut m);
            assert!(
                m.pixels().all(|p| p.0[0] <= 1),
                "seed {seed}: mask values stay 0/1"
            );
            let lesion = m.pixels().filter(|p| p.0[0] == 1).count();
            assert!(
                lesion > 200,
                "seed {seed}: the lesion survives ({lesion} pixels)"
            );
            let agree = i
                .pixels()
                .zip(m.pixels())
                .filter(|(p, q)| (p.0[0] > 130) == (q.0[0] == 1))
                .count();
            assert!(
                agree as f32 > 0.95 * 4096.0,
                "seed {seed}: image and mask agree on {agree} of 4096 pixels"
            );
            moved += usize::from(m != mask);
        }
        assert!(moved >= 15, "warps change the mask ({moved} of 16)");
    }

    #[test]
    fn borders_reflect() {
        assert_eq!(
            [-2, -1, 0, 4, 5, 6, 10].map(|i| reflect(i, 5)),
            [1, 0, 0, 4, 4, 3, 0]
        );
    }

    #[test]
    fn hue_rotation_keeps_grey_and_a_full_turn() {
        let mut image = RgbImage::from_fn(4, 1, |x, _| {
            image::Rgb([[128, 128, 128], [200, 80, 60], [30, 90, 200], [90, 60, 40]][x as usize])
        });
        let original = image.clone();
        rotate_hue(&mut image, std::f32::consts::TAU);
        for (a, b) in image.pixels().zip(original.pixels()) {
            assert!(
                a.0.iter()
                    .zip(b.0)
                    .all(|(&p, q)| (p as i32 - q as i32).abs() <= 2),
                "{a:?} vs {b:?}"
            );
        }
        rotate_hue(&mut image, 1.0);
        assert!(
            image
                .get_pixel(0, 0)
                .0
                .iter()
                .all(|&v| (v as i32 - 128).abs() <= 1),
            "grey has no hue"
        );
        assert_ne!(image.get_pixel(1, 0), original.get_pixel(1, 0));
    }
}
