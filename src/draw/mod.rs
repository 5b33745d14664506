//! Drawing on photos, for the CLI's pictures and, through `www/api/rules.js`, the page's: the
//! mask's overlay and the heatmaps' colour map.

mod colormap;

pub use colormap::{blend, mix, turbo};

use image::{GrayImage, RgbImage};

use crate::rules::OUTLINE_BAND_DIVISOR;

/// Overlay colours, which the page reads from `www/api/rules.js`: a two-tone outline, dark outside
/// and yellow inside it, so that one of the two stands out at least 3.8:1 (WCAG contrast) on
/// any photo, pink, brown or black; and a cyan tint, a hue no skin or lesion has.
pub const OUTLINE_DARK: [u8; 3] = [0, 0, 0];
/// The inner, light tone of the outline.
pub const OUTLINE_LIGHT: [u8; 3] = [255, 212, 0];
/// The tint of lesion pixels inside the outline.
pub const FILL: [u8; 3] = [0, 200, 255];

/// The photo with the mask drawn on it: the lesion's outline in two tones (each band
/// `max(1, longest side / OUTLINE_BAND_DIVISOR)` pixels wide), the inside tinted at `opacity`.
pub fn overlay(photo: &RgbImage, mask: &GrayImage, opacity: f32) -> RgbImage {
    let (w, h) = photo.dimensions();
    let inside = |x: i64, y: i64| {
        x >= 0
            && y >= 0
            && x < w as i64
            && y < h as i64
            && mask.get_pixel(x as u32, y as u32).0[0] > 0
    };
    let mut out = photo.clone();
    let band = ((w.max(h) / OUTLINE_BAND_DIVISOR).max(1)) as i64;
    // Distance to the nearest outside pixel along the row or the column, up to two bands.
    let depth = |x: i64, y: i64| {
        (1..=2 * band).find(|&d| {
            [(d, 0), (-d, 0), (0, d), (0, -d)]
                .iter()
                .any(|(dx, dy)| !inside(x + dx, y + dy))
        })
    };
    for y in 0..h {
        for x in 0..w {
            if !inside(x as i64, y as i64) {
                continue;
            }
            let (color, alpha) = match depth(x as i64, y as i64) {
                Some(d) if d <= band => (OUTLINE_DARK, 1.0),
                Some(_) => (OUTLINE_LIGHT, 1.0),
                None => (FILL, opacity),
            };
            mix(out.get_pixel_mut(x, y), color, alpha);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn overlay_changes_only_lesion_pixels() {
        let photo = RgbImage::from_pixel(10, 10, image::Rgb([100, 100, 100]));
        let mut mask = GrayImage::new(10, 10);
        for y in 3..7 {
            for x in 3..7 {
                mask.put_pixel(x, y, Luma([255]));
            }
        }
        let out = overlay(&photo, &mask, 0.5);
        assert_eq!(out.get_pixel(0, 0).0, [100, 100, 100]);
        assert_eq!(
            out.get_pixel(3, 3).0,
            OUTLINE_DARK,
            "outer band of the outline"
        );
        assert_eq!(
            out.get_pixel(4, 4).0,
            OUTLINE_LIGHT,
            "inner band of the outline"
        );
        assert_eq!(out.get_pixel(3, 5).0, OUTLINE_DARK);

        let mut big = GrayImage::new(10, 10);
        for y in 1..9 {
            for x in 1..9 {
                big.put_pixel(x, y, Luma([255]));
            }
        }
        let out = overlay(&photo, &big, 0.5);
        assert_eq!(
            out.get_pixel(4, 4).0,
            [50, 150, 178],
            "inside tinted at half opacity"
        );
    }
}
