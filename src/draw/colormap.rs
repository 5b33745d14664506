//! One colour map and one blending function for heatmaps, used by the CLI and the page.

use image::RgbImage;

/// Google's Turbo colour map (Mikhailov 2019), as its published polynomial approximation:
/// perceptually ordered from dark blue (0) through green to dark red (1), readable by most
/// colour-blind viewers and on a projector.
pub fn turbo(t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0) as f64;
    let (t2, t3, t4, t5) = (t * t, t * t * t, t.powi(4), t.powi(5));
    let r = 0.13572138 + 4.61539260 * t - 42.66032258 * t2 + 132.13108234 * t3 - 152.94239396 * t4
        + 59.28637943 * t5;
    let g = 0.09140261 + 2.19418839 * t + 4.84296658 * t2 - 14.18503333 * t3
        + 4.27729857 * t4
        + 2.82956604 * t5;
    let b = 0.10667330 + 12.64194608 * t - 60.58204836 * t2 + 110.36276771 * t3 - 89.90310912 * t4
        + 27.34824973 * t5;
    [r, g, b].map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
}

/// Blends a heatmap (values in [0, 1], the photo's size, row-major) over a photo: each pixel
/// becomes `(1 - opacity) · photo + opacity · turbo(heat)`.
pub fn blend(photo: &RgbImage, heatmap: &[f32], opacity: f32) -> RgbImage {
    assert_eq!(
        heatmap.len(),
        (photo.width() * photo.height()) as usize,
        "heatmap and photo sizes differ"
    );
    let mut out = photo.clone();
    for (p, &h) in out.pixels_mut().zip(heatmap) {
        mix(p, turbo(h), opacity);
    }
    out
}

/// Mixes `color` into a pixel: `(1 - alpha) · pixel + alpha · color`.
pub fn mix(pixel: &mut image::Rgb<u8>, color: [u8; 3], alpha: f32) {
    let a = alpha.clamp(0.0, 1.0);
    for (p, &c) in pixel.0.iter_mut().zip(&color) {
        *p = (*p as f32 * (1.0 - a) + c as f32 * a).round() as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turbo_runs_from_blue_to_red() {
        let dark = turbo(0.0).iter().map(|&c| c as u32).sum::<u32>();
        assert!(dark < 120, "starts dark: {:?}", turbo(0.0));
        let (blue, red) = (turbo(0.15), turbo(0.9));
        assert!(blue[2] > blue[0] && red[0] > red[2], "{blue:?} {red:?}");
        assert!(turbo(0.5)[1] > 200, "green in the middle: {:?}", turbo(0.5));
    }

    #[test]
    fn blend_mixes_by_opacity() {
        let photo = RgbImage::from_pixel(2, 1, image::Rgb([0, 0, 0]));
        let out = blend(&photo, &[0.0, 1.0], 1.0);
        assert_eq!(out.get_pixel(1, 0).0, turbo(1.0));
        let out = blend(&photo, &[0.0, 1.0], 0.0);
        assert_eq!(out.get_pixel(1, 0).0, [0, 0, 0]);
    }
}
