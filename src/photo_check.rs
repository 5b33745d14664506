//! Does a photo look like dermoscopy? The models were trained on dermoscopy photos only; on a
//! holiday snap they still draw a "lesion", and the page must say that the result means
//! nothing rather than print an area as if it did.
//!
//! Three statistics of the photo, squashed to 64x64 (as the model squashes it), each compared
//! with the range the 2258 ISIC 2018 training photos span:
//!
//! - **colourfulness**: the mean HSV saturation. Below the range: a grey photo (dermoscopy is
//!   never grey); above it: a photo more vivid than any dermoscopy.
//! - **fine detail**: the mean luminance step between neighbouring pixels. Dermoscopy is a
//!   smooth close-up; scenes with people, buildings or text have edges everywhere.
//! - **off-skin colours**: the share of clearly coloured pixels whose hue is green, cyan, blue or
//!   violet (70°..300°), which neither skin nor lesions have (the blue-grey of some lesions is
//!   barely saturated); sky, sea and plants have them.
//! - **smoothness** (at 128x128): the share of the lit 8x8 blocks with almost no texture. A
//!   dermatoscope magnifies about ten times, so skin lines and pigment show even in a small copy;
//!   a phone photo of an arm, a hand or a face is smooth skin against a smooth wall.
//!
//! A grey photo gets a warning of its own: a black-and-white dermoscopy photo is still one, and
//! its mask may be right, but its colours (the C of the ABCD rule) mean nothing.
//!
//! The limits sit just outside what ISIC photos reach, so that at most 2% of them are flagged:
//! `lesionlab check-photos` measures this on any folder (the model card has the numbers). It is
//! a warning, never a refusal: a user may know better.

use image::RgbImage;
use image::imageops::{FilterType, resize};
use serde::Serialize;

/// Side of the square the statistics are computed on.
const SIDE: u32 = 64;

/// Mean saturation below which a photo is called grey.
pub const MIN_SATURATION: f32 = 0.06;
/// Mean saturation above which a photo is more vivid than dermoscopy.
pub const MAX_SATURATION: f32 = 0.70;
/// Mean neighbouring-pixel luminance step above which a photo has more detail than dermoscopy.
pub const MAX_DETAIL: f32 = 0.085;
/// Share of off-skin coloured pixels above which a photo shows sky, sea or plants.
pub const MAX_OFF_SKIN: f32 = 0.30;
/// Share of smooth lit blocks above which a photo is skin seen from afar, not dermoscopy.
pub const MAX_SMOOTH: f32 = 0.5;

/// Side of the square smoothness is measured on, and of its blocks.
const SMOOTH_SIDE: u32 = 128;
const SMOOTH_BLOCK: usize = 8;
/// A block is smooth when its mean horizontal plus its mean vertical luminance step between
/// neighbours (0..2) is below this...
const SMOOTH_STEP: f32 = 1.0 / 255.0;
/// ...and lit when its mean luminance is above this (a dermatoscope's dark rim is smooth too).
const LIT: f32 = 60.0 / 255.0;

/// Saturation above which a pixel's hue counts.
const COLOURED: f32 = 0.25;

/// The statistics of one photo and what they say.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoCheck {
    /// Whether every statistic is within the range of dermoscopy photos.
    pub looks_like_dermoscopy: bool,
    /// One sentence for the page and the command line when it does not; `None` when it does.
    pub warning: Option<String>,
    /// Each statistic outside its range, in words.
    pub reasons: Vec<String>,
    /// Mean HSV saturation, 0..1.
    pub saturation: f32,
    /// Mean luminance step between neighbouring pixels, 0..2.
    pub detail: f32,
    /// Share of coloured pixels with a green, cyan, blue or violet hue, 0..1.
    pub off_skin: f32,
    /// Share of lit 8x8 blocks of the photo at 128x128 with almost no texture, 0..1.
    pub smooth: f32,
    /// Whether the photo is almost grey: its colours mean nothing, its mask may.
    pub grey: bool,
}

/// Computes the statistics of a photo and compares them with the limits. The photo may be
/// given at its own size or already squashed to the model's input, as `segment` and the page
/// do (the statistics change by little: `check-photos --size` measures both).
pub fn check_photo(photo: &RgbImage) -> PhotoCheck {
    let small = if photo.dimensions() == (SIDE, SIDE) {
        photo.clone()
    } else {
        resize(photo, SIDE, SIDE, FilterType::Triangle)
    };
    let n = (SIDE * SIDE) as f32;
    let mut saturation = 0.0;
    let mut off_skin = 0.0;
    let mut luma = Vec::with_capacity((SIDE * SIDE) as usize);
    for p in small.pixels() {
        let [r, g, b] = p.0.map(|c| c as f32 / 255.0);
        let (max, min) = (r.max(g).max(b), r.min(g).min(b));
        let s = if max > 0.0 { (max - min) / max } else { 0.0 };
        saturation += s;
        if s > COLOURED && (70.0..300.0).contains(&hue(r, g, b, max, min)) {
            off_skin += 1.0;
        }
        luma.push(0.299 * r + 0.587 * g + 0.114 * b);
    }
    let side = SIDE as usize;
    let mut detail = 0.0;
    for y in 0..side - 1 {
        for x in 0..side - 1 {
            let here = luma[y * side + x];
            detail +=
                (luma[y * side + x + 1] - here).abs() + (luma[(y + 1) * side + x] - here).abs();
        }
    }
    let (saturation, off_skin) = (saturation / n, off_skin / n);
    let detail = detail / ((side - 1) * (side - 1)) as f32;
    let smooth = smooth_share(photo);
    let grey = saturation < MIN_SATURATION;
    let mut reasons = Vec::new();
    if saturation > MAX_SATURATION {
        reasons.push("its colours are more vivid than skin".to_string());
    }
    if detail > MAX_DETAIL {
        reasons.push(
            "it has sharp detail everywhere, like a scene, not a close-up of skin".to_string(),
        );
    }
    if off_skin > MAX_OFF_SKIN {
        reasons.push(format!(
            "{:.0}% of it is green, blue or violet, which skin is not",
            off_skin * 100.0
        ));
    }
    if smooth > MAX_SMOOTH {
        reasons.push(
            "it is smooth almost everywhere, like skin photographed from a distance, not a magnified \
             close-up"
                .to_string(),
        );
    }
    let looks_like_dermoscopy = reasons.is_empty();
    if grey {
        reasons.push("it is almost grey".to_string());
    }
    let warning = match (looks_like_dermoscopy, grey) {
        (true, false) => None,
        (true, true) => Some(
            "This photo is almost grey: the mask may still follow the lesion, but its colours (the C \
             of the ABCD rule) mean nothing."
                .to_string(),
        ),
        (false, _) => Some(format!(
            "This does not look like a dermoscopy photo ({}). The models were trained on dermoscopy \
             only, so the mask and its area mean nothing here.",
            reasons.join("; ")
        )),
    };
    PhotoCheck {
        looks_like_dermoscopy,
        warning,
        reasons,
        saturation,
        detail,
        off_skin,
        smooth,
        grey,
    }
}

/// The share of lit 8x8 blocks of the photo at 128x128 that are smooth ([`SMOOTH_STEP`]).
fn smooth_share(photo: &RgbImage) -> f32 {
    let small = resize(photo, SMOOTH_SIDE, SMOOTH_SIDE, FilterType::Triangle);
    let side = SMOOTH_SIDE as usize;
    let luma: Vec<f32> = small
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(|c| c as f32 / 255.0);
            0.299 * r + 0.587 * g + 0.114 * b
        })
        .collect();
    let (mut lit, mut smooth) = (0usize, 0usize);
    for by in (0..side).step_by(SMOOTH_BLOCK) {
        for bx in (0..side).step_by(SMOOTH_BLOCK) {
            let (mut sum, mut steps, mut n) = (0.0, 0.0, 0usize);
            for y in by..by + SMOOTH_BLOCK {
                for x in bx..bx + SMOOTH_BLOCK {
                    let here = luma[y * side + x];
                    sum += here;
                    if x + 1 < bx + SMOOTH_BLOCK {
                        steps += (luma[y * side + x + 1] - here).abs();
                        n += 1;
                    }
                    if y + 1 < by + SMOOTH_BLOCK {
                        steps += (luma[(y + 1) * side + x] - here).abs();
                        n += 1;
                    }
                }
            }
            if sum / (SMOOTH_BLOCK * SMOOTH_BLOCK) as f32 > LIT {
                lit += 1;
                // Both directions have as many steps: twice their joint mean is the sum of means.
                smooth += usize::from(2.0 * steps / (n as f32) < SMOOTH_STEP);
            }
        }
    }
    if lit == 0 {
        0.0
    } else {
        smooth as f32 / lit as f32
    }
}

/// Hue in degrees, 0..360.
fn hue(r: f32, g: f32, b: f32, max: f32, min: f32) -> f32 {
    let d = max - min;
    if d <= 0.0 {
        return 0.0;
    }
    let h = if max == r {
        ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        (b - r) / d + 2.0
    } else {
        (r - g) / d + 4.0
    };
    h * 60.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn photo(name: &str) -> RgbImage {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name);
        crate::data::decode_image(&std::fs::read(&path).unwrap(), name).unwrap()
    }

    #[test]
    fn real_dermoscopy_photos_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/isic-fixture/ISIC2018_Task1-2_Training_Input");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = format!(
                "isic-fixture/ISIC2018_Task1-2_Training_Input/{}",
                entry.unwrap().file_name().to_string_lossy()
            );
            let check = check_photo(&photo(&name));
            assert!(check.looks_like_dermoscopy, "{name}: {check:?}");
            assert_eq!(check.warning, None);
            seen += 1;
        }
        assert_eq!(seen, 8);
    }

    #[test]
    fn ordinary_photos_are_flagged_with_a_reason() {
        for name in ["rocket.jpg", "astronaut.jpg", "coffee.jpg"] {
            let check = check_photo(&photo(&format!("not-dermoscopy/{name}")));
            assert!(!check.looks_like_dermoscopy, "{name}: {check:?}");
            let warning = check.warning.unwrap();
            assert!(
                warning.starts_with("This does not look like a dermoscopy photo ("),
                "{warning}"
            );
        }
    }

    /// Skin texture: a pseudo-random ±`amplitude` on every pixel, as a magnified photo shows.
    fn textured(x: u32, y: u32, base: [u8; 3], amplitude: i32) -> Rgb<u8> {
        let h = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)) % 1000;
        let d = (h as i32 * 2 * amplitude) / 1000 - amplitude;
        Rgb(base.map(|c| (c as i32 + d).clamp(0, 255) as u8))
    }

    #[test]
    fn each_statistic_has_its_reason() {
        // Blue sky over green grass: off-skin colours (and smooth).
        let landscape = RgbImage::from_fn(120, 90, |_, y| {
            if y < 50 {
                Rgb([90, 150, 230])
            } else {
                Rgb([70, 160, 60])
            }
        });
        let c = check_photo(&landscape);
        assert!(
            c.off_skin > 0.95
                && c.reasons
                    .iter()
                    .any(|r| r.starts_with("100% of it is green")),
            "{c:?}"
        );

        let checkerboard = RgbImage::from_fn(64, 64, |x, y| {
            if (x + y) % 2 == 0 {
                Rgb([200, 150, 130])
            } else {
                Rgb([90, 60, 40])
            }
        });
        let c = check_photo(&checkerboard);
        assert!(
            c.detail > 0.3 && c.reasons.iter().any(|r| r.contains("sharp detail")),
            "{c:?}"
        );

        // Textured skin with a brown lesion in the middle passes; the same skin without its
        // texture (skin seen from afar, as a phone shows an arm) does not.
        let lesion = |amplitude| {
            RgbImage::from_fn(256, 256, move |x, y| {
                let d = ((x as f32 - 128.0).powi(2) + (y as f32 - 128.0).powi(2)).sqrt();
                let base = if d < 60.0 {
                    [120, 70, 45]
                } else {
                    [215, 170, 150]
                };
                textured(x, y, base, amplitude)
            })
        };
        let close_up = check_photo(&lesion(12));
        assert!(
            close_up.looks_like_dermoscopy && close_up.smooth < 0.1,
            "{close_up:?}"
        );
        let afar = check_photo(&lesion(0));
        assert!(
            afar.smooth > 0.8
                && afar
                    .reasons
                    .iter()
                    .any(|r| r.contains("smooth almost everywhere")),
            "{afar:?}"
        );
    }

    #[test]
    fn phone_photos_of_skin_are_flagged_as_smooth() {
        // tests/data/not-dermoscopy/phone: forearms, hands, legs and faces with a mole, made by
        // the make.py beside them. Squashed to the page's input size, as the page checks them.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/not-dermoscopy/phone");
        let (mut seen, mut flagged) = (0, 0);
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if !name.ends_with(".jpg") {
                continue;
            }
            let c = check_photo(&crate::data::resize_rgb(
                &photo(&format!("not-dermoscopy/phone/{name}")),
                176,
            ));
            seen += 1;
            flagged += usize::from(
                !c.looks_like_dermoscopy && c.reasons.iter().any(|r| r.contains("smooth")),
            );
        }
        assert_eq!(seen, 12);
        assert!(flagged >= 10, "{flagged} of 12 flagged");
    }

    #[test]
    fn a_grey_photo_gets_its_own_warning_and_still_counts_as_dermoscopy() {
        let grey = RgbImage::from_fn(256, 256, |x, y| {
            let v = if (x as i32 - 128).pow(2) + (y as i32 - 128).pow(2) < 3600 {
                90
            } else {
                180
            };
            textured(x, y, [v, v, v], 12)
        });
        let c = check_photo(&grey);
        assert!(c.grey && c.looks_like_dermoscopy, "{c:?}");
        assert_eq!(c.reasons, ["it is almost grey"]);
        assert!(
            c.warning
                .unwrap()
                .contains("the mask may still follow the lesion")
        );
        // Grey and smooth: not dermoscopy, for both reasons.
        let flat = RgbImage::from_pixel(80, 60, Rgb([120, 120, 120]));
        let c = check_photo(&flat);
        assert!(!c.looks_like_dermoscopy && c.reasons.len() == 2, "{c:?}");
        assert!(
            c.warning
                .unwrap()
                .starts_with("This does not look like a dermoscopy photo")
        );
    }

    #[test]
    fn hue_follows_the_colour_wheel() {
        let h = |r: f32, g: f32, b: f32| hue(r, g, b, r.max(g).max(b), r.min(g).min(b));
        assert_eq!(h(1.0, 0.0, 0.0), 0.0);
        assert_eq!(h(0.0, 1.0, 0.0), 120.0);
        assert_eq!(h(0.0, 0.0, 1.0), 240.0);
        assert_eq!(h(1.0, 0.0, 1.0), 300.0);
        assert_eq!(h(0.5, 0.5, 0.5), 0.0);
    }
}
