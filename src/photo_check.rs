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
    let mut reasons = Vec::new();
    if saturation < MIN_SATURATION {
        reasons.push("it is almost grey".to_string());
    } else if saturation > MAX_SATURATION {
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
    let warning = (!reasons.is_empty()).then(|| {
        format!(
            "This does not look like a dermoscopy photo ({}). The models were trained on dermoscopy only, \
             so the mask and its area mean nothing here.",
            reasons.join("; ")
        )
    });
    PhotoCheck {
        looks_like_dermoscopy: reasons.is_empty(),
        warning,
        reasons,
        saturation,
        detail,
        off_skin,
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

    #[test]
    fn each_statistic_has_its_reason() {
        let grey = RgbImage::from_fn(80, 60, |x, y| {
            let v = (100 + (x + y) % 20) as u8;
            Rgb([v, v, v])
        });
        let c = check_photo(&grey);
        assert!(
            c.saturation < 0.01 && c.reasons == ["it is almost grey"],
            "{c:?}"
        );

        // Blue sky over green grass, smooth: only the off-skin colours are wrong.
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
                && c.reasons.len() == 1
                && c.reasons[0].starts_with("100% of it is green"),
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

        // Skin with a brown lesion in the middle.
        let lesion = RgbImage::from_fn(64, 64, |x, y| {
            let d = ((x as f32 - 32.0).powi(2) + (y as f32 - 32.0).powi(2)).sqrt();
            if d < 15.0 {
                Rgb([120, 70, 45])
            } else {
                Rgb([215, 170, 150])
            }
        });
        assert!(check_photo(&lesion).looks_like_dermoscopy);
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
