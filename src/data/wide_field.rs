//! Photos as people bring them, made from the training set's close-ups: the photo shrunk into a
//! wider field of skin (so that the lesion covers a few percent of the frame, as in full-size
//! dermoscopy photos), crops that cut the lesion, and the marks such photos carry: a
//! dermatoscope's dark rim, a pen circle drawn around the lesion, a ruler and hairs.
//!
//! Every function keeps the mask right: artefacts are only drawn where they leave the expert's
//! outline as it was (a rim outside the lesion, a ruler beside it; pen ink and hairs over it,
//! which experts outline through).

use image::{GrayImage, Rgb, RgbImage};
use rand::Rng;
use rand::rngs::SmallRng;

use super::preprocess::reflect;

/// Lesion-free skin to fill a wider field with: another photo and its mask.
#[derive(Clone, Copy)]
pub struct Skin<'a> {
    /// The photo.
    pub image: &'a RgbImage,
    /// Its mask (lesion where above 0).
    pub mask: &'a GrayImage,
}

/// The bounding box of the mask's lesion pixels, `(x0, y0, x1, y1)` inclusive.
pub fn lesion_box(mask: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in mask.enumerate_pixels() {
        if p.0[0] > 0 {
            b = Some(match b {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            });
        }
    }
    b
}

/// The share of the frame's border pixels that are lesion: a lesion cut by the frame cannot be
/// shrunk into a wider field without a straight edge no real lesion has.
pub fn border_lesion_share(mask: &GrayImage) -> f32 {
    let (w, h) = mask.dimensions();
    let mut on = 0usize;
    let mut all = 0usize;
    for (x, y, p) in mask.enumerate_pixels() {
        if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
            all += 1;
            on += usize::from(p.0[0] > 0);
        }
    }
    on as f32 / all.max(1) as f32
}

/// Whether the frame's border is dark on average: the photo already shows a dermatoscope's rim
/// (shrunk into skin it would be a photo in a photo).
pub fn dark_border(image: &RgbImage) -> bool {
    let (w, h) = image.dimensions();
    let mut sum = 0.0f64;
    let mut n = 0usize;
    for (x, y, p) in image.enumerate_pixels() {
        if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
            sum += p.0.iter().map(|&v| v as f64).sum::<f64>() / 3.0;
            n += 1;
        }
    }
    sum / (n.max(1) as f64) < 60.0
}

/// Shrinks photo and mask by `scale` (0 < scale < 1) to a random place in a field of the same
/// size; the rest is skin from `skin` (or the photo's own lesion-free corners), its colour
/// matched to the photo's, and the photo's edge feathered into it.
pub fn zoom_out(
    rng: &mut SmallRng,
    image: &mut RgbImage,
    mask: &mut GrayImage,
    scale: f32,
    skin: Option<Skin>,
) {
    let (w, h) = image.dimensions();
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).clamp(4, w),
        ((h as f32 * scale).round() as u32).clamp(4, h),
    );
    let top = mask.pixels().map(|p| p.0[0]).max().unwrap_or(0).max(1);
    let mut field = skin_field(rng, skin, image, mask);
    match_colour(&mut field, image, mask);
    let small = image::imageops::resize(image, sw, sh, image::imageops::FilterType::Triangle);
    let wide = GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        image::Luma([if mask.get_pixel(x, y).0[0] > 0 {
            255
        } else {
            0
        }])
    });
    let small_mask = image::imageops::resize(&wide, sw, sh, image::imageops::FilterType::Triangle);
    let (px, py) = (rng.random_range(0..=w - sw), rng.random_range(0..=h - sh));
    let feather = (0.08 * sw.min(sh) as f32).max(2.0);
    let mut out_mask = GrayImage::new(w, h);
    for y in 0..sh {
        for x in 0..sw {
            let lesion = small_mask.get_pixel(x, y).0[0] >= 128;
            let edge = x.min(y).min(sw - 1 - x).min(sh - 1 - y) as f32;
            let alpha = if lesion {
                1.0
            } else {
                ((edge + 0.5) / feather).min(1.0)
            };
            let dst = field.get_pixel_mut(px + x, py + y);
            let src = small.get_pixel(x, y).0;
            for (d, s) in dst.0.iter_mut().zip(src) {
                *d = (alpha * s as f32 + (1.0 - alpha) * *d as f32).round() as u8;
            }
            if lesion {
                out_mask.put_pixel(px + x, py + y, image::Luma([top]));
            }
        }
    }
    *image = field;
    *mask = out_mask;
}

/// A field of skin the photo's size: a lesion-free square of `skin` (else of the photo itself)
/// repeated by mirroring; a flat field of the photo's skin colour when neither has one.
fn skin_field(
    rng: &mut SmallRng,
    skin: Option<Skin>,
    image: &RgbImage,
    mask: &GrayImage,
) -> RgbImage {
    let (w, h) = image.dimensions();
    let own = Skin { image, mask };
    for donor in skin.into_iter().chain(std::iter::once(own)) {
        let patches = clear_squares(donor.mask);
        if patches.is_empty() {
            continue;
        }
        let (x0, y0, side) = patches[rng.random_range(0..patches.len())];
        let (ox, oy) = (
            rng.random_range(0..side as i64),
            rng.random_range(0..side as i64),
        );
        return RgbImage::from_fn(w, h, |x, y| {
            let sx = reflect(x as i64 + ox, side) as u32;
            let sy = reflect(y as i64 + oy, side) as u32;
            *donor.image.get_pixel(x0 + sx, y0 + sy)
        });
    }
    let colour = mean_colour(image, mask, false).unwrap_or([180.0, 140.0, 120.0]);
    RgbImage::from_pixel(w, h, Rgb(colour.map(|v| v.round() as u8)))
}

/// Lesion-free squares of a mask, `(x, y, side)`: the nine squares of a third of the side on a
/// grid, and the four corner squares of half the side.
fn clear_squares(mask: &GrayImage) -> Vec<(u32, u32, u32)> {
    let (w, h) = mask.dimensions();
    let mut out = Vec::new();
    for parts in [2u32, 3] {
        let side = (w.min(h) / parts).max(1);
        for gy in 0..parts {
            for gx in 0..parts {
                if parts == 2 || (gx, gy) != (1, 1) {
                    let (x0, y0) = (gx * (w - side) / (parts - 1), gy * (h - side) / (parts - 1));
                    let clear = (y0..y0 + side)
                        .all(|y| (x0..x0 + side).all(|x| mask.get_pixel(x, y).0[0] == 0));
                    if clear {
                        out.push((x0, y0, side));
                    }
                }
            }
        }
    }
    out
}

/// The mean colour of the lesion pixels (`lesion`) or of the others.
fn mean_colour(image: &RgbImage, mask: &GrayImage, lesion: bool) -> Option<[f32; 3]> {
    let mut sum = [0.0f64; 3];
    let mut n = 0usize;
    for (p, m) in image.pixels().zip(mask.pixels()) {
        if (m.0[0] > 0) == lesion {
            for (s, v) in sum.iter_mut().zip(p.0) {
                *s += v as f64;
            }
            n += 1;
        }
    }
    (n > 0).then(|| sum.map(|s| (s / n as f64) as f32))
}

/// Shifts the field's colour to the mean of the photo's skin, so the seam does not show more
/// than it does in real photos.
fn match_colour(field: &mut RgbImage, image: &RgbImage, mask: &GrayImage) {
    let Some(target) = mean_colour(image, mask, false) else {
        return;
    };
    let all = GrayImage::new(field.width(), field.height());
    let Some(now) = mean_colour(field, &all, false) else {
        return;
    };
    for p in field.pixels_mut() {
        for c in 0..3 {
            p.0[c] = (p.0[c] as f32 + target[c] - now[c])
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
}

/// Crops a window of `keep` (0 < keep < 1) of the side around part of the lesion and scales it
/// back to the full size: the lesion is larger than the frame, or cut by it, as in close-ups.
pub fn cut(rng: &mut SmallRng, image: &mut RgbImage, mask: &mut GrayImage, keep: f32) {
    let Some((x0, y0, x1, y1)) = lesion_box(mask) else {
        return;
    };
    let (w, h) = image.dimensions();
    let (cw, ch) = (
        ((w as f32 * keep) as u32).clamp(2, w),
        ((h as f32 * keep) as u32).clamp(2, h),
    );
    // A window whose centre lies in the lesion's box, so some of the lesion stays in it.
    let (cx, cy) = (rng.random_range(x0..=x1), rng.random_range(y0..=y1));
    let left = (cx as i64 - cw as i64 / 2).clamp(0, (w - cw) as i64) as u32;
    let upper = (cy as i64 - ch as i64 / 2).clamp(0, (h - ch) as i64) as u32;
    let crop = image::imageops::crop_imm(image, left, upper, cw, ch).to_image();
    *image = image::imageops::resize(&crop, w, h, image::imageops::FilterType::Triangle);
    let top = mask.pixels().map(|p| p.0[0]).max().unwrap_or(1);
    let crop = image::imageops::crop_imm(mask, left, upper, cw, ch).to_image();
    *mask = GrayImage::from_fn(w, h, |x, y| {
        let sx = ((x as f32 + 0.5) * cw as f32 / w as f32) as u32;
        let sy = ((y as f32 + 0.5) * ch as f32 / h as f32) as u32;
        crop.get_pixel(sx.min(cw - 1), sy.min(ch - 1))
            .0
            .map(|v| if v > 0 { top } else { 0 })
            .into()
    });
}

/// A dermatoscope's dark rim: everything beyond a circle around the centre fades to near
/// black. Drawn only when a circle of at least 42% of the side fits outside the lesion.
pub fn draw_rim(rng: &mut SmallRng, image: &mut RgbImage, mask: &GrayImage) {
    let (w, h) = image.dimensions();
    let side = w.min(h) as f32;
    let centre = (
        w as f32 / 2.0 + rng.random_range(-0.05..0.05) * side,
        h as f32 / 2.0 + rng.random_range(-0.05..0.05) * side,
    );
    let dist =
        |x: u32, y: u32| ((x as f32 - centre.0).powi(2) + (y as f32 - centre.1).powi(2)).sqrt();
    let reach = mask
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] > 0)
        .map(|(x, y, _)| dist(x, y))
        .fold(0.0f32, f32::max);
    let soft = rng.random_range(0.02..0.08) * side;
    let lowest = (reach + soft).max(0.42 * side);
    let highest = 0.70 * side;
    if lowest >= highest {
        return;
    }
    let radius = rng.random_range(lowest..highest);
    let dark = rng.random_range(0.0..30.0f32);
    for (x, y, p) in image.enumerate_pixels_mut() {
        let t = ((dist(x, y) - (radius - soft)) / soft).clamp(0.0, 1.0);
        if t > 0.0 {
            for c in 0..3 {
                p.0[c] = ((1.0 - t) * p.0[c] as f32 + t * dark).round() as u8;
            }
        }
    }
}

/// Marker ink: purple, blue, green and black, as dermatologists circle lesions with.
const INKS: [[u8; 3]; 4] = [[90, 40, 120], [40, 50, 130], [30, 90, 60], [25, 25, 30]];

/// A pen circle around the lesion: a wobbly ellipse 1.3-2 times its extent, often not closed.
pub fn draw_pen_circle(rng: &mut SmallRng, image: &mut RgbImage, mask: &GrayImage) {
    let Some((x0, y0, x1, y1)) = lesion_box(mask) else {
        return;
    };
    let side = image.width().min(image.height()) as f32;
    let grow = rng.random_range(1.3..2.0f32);
    let (a, b) = (
        ((x1 - x0) as f32 / 2.0 * grow).max(0.08 * side),
        ((y1 - y0) as f32 / 2.0 * grow).max(0.08 * side),
    );
    let (cx, cy) = ((x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0);
    let ink = INKS[rng.random_range(0..INKS.len())];
    let strength = rng.random_range(0.6..0.95f32);
    let width = (rng.random_range(0.005..0.015) * side).max(1.0);
    let start = rng.random_range(0.0..std::f32::consts::TAU);
    let arc = rng.random_range(0.75..1.05f32) * std::f32::consts::TAU;
    let (waves, phase) = (rng.random_range(2..5) as f32, rng.random_range(0.0..6.3f32));
    let steps = (arc * a.max(b) * 2.0) as usize + 8;
    for i in 0..steps {
        let t = start + arc * i as f32 / steps as f32;
        let wobble = 1.0 + 0.05 * (waves * t + phase).sin();
        let (x, y) = (cx + a * wobble * t.cos(), cy + b * wobble * t.sin());
        paint_dot(image, x, y, width / 2.0, ink, strength);
    }
}

/// A ruler along the edge of the frame farthest from the lesion: a light band with dark ticks.
/// Drawn only where it leaves the lesion alone.
pub fn draw_ruler(rng: &mut SmallRng, image: &mut RgbImage, mask: &GrayImage) {
    let (w, h) = image.dimensions();
    let side = w.min(h) as f32;
    let band = ((rng.random_range(0.05..0.09) * side) as u32).max(3);
    let offset = (rng.random_range(0.0..0.06) * side) as u32;
    let (x0, y0, x1, y1) = lesion_box(mask).unwrap_or((w / 2, h / 2, w / 2, h / 2));
    // The edge with the most room between it and the lesion: 0 top, 1 bottom, 2 left, 3 right.
    let room = [y0, h - 1 - y1, x0, w - 1 - x1];
    let edge = (0..4).max_by_key(|&i| room[i]).unwrap_or(0);
    if room[edge] < band + offset + 2 {
        return;
    }
    let light = rng.random_bool(0.7);
    let base: [u8; 3] = if light {
        [
            rng.random_range(215..250),
            rng.random_range(210..245),
            rng.random_range(180..235),
        ]
    } else {
        [40, 40, 45]
    };
    let tick_colour: [u8; 3] = if light { [20, 20, 25] } else { [230, 230, 230] };
    let pitch = (rng.random_range(0.02..0.04) * side).max(2.0);
    let horizontal = edge < 2;
    let along_len = if horizontal { w } else { h };
    for along in 0..along_len {
        let tick = (along as f32 / pitch).fract() < 1.0 / pitch.max(1.0) + 0.05;
        let n = (along as f32 / pitch) as u32;
        let tick_depth = if n.is_multiple_of(5) { 0.7 } else { 0.4 };
        for across in 0..band {
            let depth = offset + across;
            let (x, y) = match edge {
                0 => (along, depth),
                1 => (along, h - 1 - depth),
                2 => (depth, along),
                _ => (w - 1 - depth, along),
            };
            let colour = if tick && (across as f32) < tick_depth * band as f32 {
                tick_colour
            } else {
                base
            };
            image.put_pixel(x, y, Rgb(colour));
        }
    }
}

/// One to eight dark hairs: thin quadratic curves across the frame, over the lesion too.
pub fn draw_hairs(rng: &mut SmallRng, image: &mut RgbImage) {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let side = w.min(h);
    for _ in 0..rng.random_range(1..=8) {
        let p0 = (rng.random_range(0.0..w), rng.random_range(0.0..h));
        let p2 = (rng.random_range(0.0..w), rng.random_range(0.0..h));
        let p1 = (rng.random_range(0.0..w), rng.random_range(0.0..h));
        let shade = rng.random_range(10..60u8);
        let colour = [shade + 10, shade, shade.saturating_sub(5)];
        let radius = rng.random_range(0.002..0.006) * side;
        let steps = (2.0 * (w + h)) as usize;
        for i in 0..=steps {
            let t = i as f32 / steps as f32;
            let u = 1.0 - t;
            let x = u * u * p0.0 + 2.0 * u * t * p1.0 + t * t * p2.0;
            let y = u * u * p0.1 + 2.0 * u * t * p1.1 + t * t * p2.1;
            paint_dot(image, x, y, radius.max(0.5), colour, 0.85);
        }
    }
}

/// Blends `colour` at `strength` into the pixels within `radius` of `(x, y)`.
fn paint_dot(image: &mut RgbImage, x: f32, y: f32, radius: f32, colour: [u8; 3], strength: f32) {
    let (w, h) = image.dimensions();
    let r = radius.max(0.5);
    let (lo_x, hi_x) = (
        (x - r).floor().max(0.0) as u32,
        (x + r).ceil().max(0.0) as u32,
    );
    let (lo_y, hi_y) = (
        (y - r).floor().max(0.0) as u32,
        (y + r).ceil().max(0.0) as u32,
    );
    for py in lo_y..=hi_y.min(h.saturating_sub(1)) {
        for px in lo_x..=hi_x.min(w.saturating_sub(1)) {
            if (px as f32 - x).powi(2) + (py as f32 - y).powi(2) <= r * r {
                let p = image.get_pixel_mut(px, py);
                for (v, &c) in p.0.iter_mut().zip(&colour) {
                    *v = (strength * c as f32 + (1.0 - strength) * *v as f32).round() as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A 64x64 photo: pinkish skin with a brown disc of radius `r` at the centre, and its mask.
    fn photo(r: f32) -> (RgbImage, GrayImage) {
        let inside = |x: u32, y: u32| (x as f32 - 31.5).powi(2) + (y as f32 - 31.5).powi(2) < r * r;
        (
            RgbImage::from_fn(64, 64, |x, y| {
                Rgb(if inside(x, y) {
                    [90, 50, 30]
                } else {
                    [200, 150, 130]
                })
            }),
            GrayImage::from_fn(64, 64, |x, y| image::Luma([u8::from(inside(x, y))])),
        )
    }

    fn lesion_pixels(mask: &GrayImage) -> usize {
        mask.pixels().filter(|p| p.0[0] > 0).count()
    }

    #[test]
    fn zoom_out_shrinks_the_lesion_and_keeps_it_under_its_mask() {
        let (mut image, mut mask) = photo(20.0);
        let (donor, donor_mask) = photo(8.0);
        let before = lesion_pixels(&mask);
        let mut rng = SmallRng::seed_from_u64(3);
        let skin = Skin {
            image: &donor,
            mask: &donor_mask,
        };
        zoom_out(&mut rng, &mut image, &mut mask, 0.5, Some(skin));
        let after = lesion_pixels(&mask);
        let ratio = after as f32 / before as f32;
        assert!(
            (0.2..0.3).contains(&ratio),
            "a quarter of the area: {ratio}"
        );
        assert!(mask.pixels().all(|p| p.0[0] <= 1), "values stay 0/1");
        // Every lesion pixel is brown, and the field around holds no brown disc of the donor.
        for (p, m) in image.pixels().zip(mask.pixels()) {
            let brown = p.0[0] < 150;
            if m.0[0] > 0 {
                assert!(brown, "lesion pixel {p:?}");
            }
        }
        let brown = image.pixels().filter(|p| p.0[0] < 150).count();
        assert!(
            brown <= after + after / 3,
            "{brown} brown pixels for {after} lesion ones"
        );
    }

    #[test]
    fn a_dark_border_is_a_rim_already() {
        let (mut image, mask) = photo(8.0);
        assert!(!dark_border(&image));
        draw_rim(&mut SmallRng::seed_from_u64(2), &mut image, &mask);
        assert!(dark_border(&image));
    }

    #[test]
    fn cut_keeps_part_of_the_lesion_and_scales_up() {
        let (image, mask) = photo(12.0);
        for seed in 0..8 {
            let (mut i, mut m) = (image.clone(), mask.clone());
            cut(&mut SmallRng::seed_from_u64(seed), &mut i, &mut m, 0.5);
            let n = lesion_pixels(&m);
            assert!(n > lesion_pixels(&mask), "seed {seed}: zoomed in ({n})");
            let agree = i
                .pixels()
                .zip(m.pixels())
                .filter(|(p, q)| (p.0[0] < 150) == (q.0[0] > 0))
                .count();
            assert!(agree > 64 * 64 * 95 / 100, "seed {seed}: {agree}");
        }
    }

    #[test]
    fn rim_darkens_the_corners_and_spares_the_lesion() {
        let (mut image, mask) = photo(10.0);
        let original = image.clone();
        draw_rim(&mut SmallRng::seed_from_u64(1), &mut image, &mask);
        assert!(
            image.get_pixel(0, 0).0[0] < 60,
            "{:?}",
            image.get_pixel(0, 0)
        );
        for (x, y, p) in image.enumerate_pixels() {
            if mask.get_pixel(x, y).0[0] > 0 {
                assert_eq!(p, original.get_pixel(x, y));
            }
        }
        let (mut image, mask) = photo(50.0);
        let original = image.clone();
        draw_rim(&mut SmallRng::seed_from_u64(1), &mut image, &mask);
        assert_eq!(
            image, original,
            "no rim fits outside a lesion that fills the frame"
        );
    }

    #[test]
    fn pen_circle_and_ruler_stay_off_the_lesion() {
        for seed in 0..8 {
            let (mut image, mask) = photo(8.0);
            let original = image.clone();
            let mut rng = SmallRng::seed_from_u64(seed);
            draw_pen_circle(&mut rng, &mut image, &mask);
            draw_ruler(&mut rng, &mut image, &mask);
            let changed = image
                .pixels()
                .zip(original.pixels())
                .filter(|(a, b)| a != b)
                .count();
            assert!(changed > 40, "seed {seed}: something was drawn ({changed})");
            for (x, y, p) in image.enumerate_pixels() {
                if mask.get_pixel(x, y).0[0] > 0 {
                    assert_eq!(p, original.get_pixel(x, y), "seed {seed} at {x},{y}");
                }
            }
        }
    }

    #[test]
    fn hairs_are_thin_and_dark() {
        let (mut image, _) = photo(8.0);
        let original = image.clone();
        draw_hairs(&mut SmallRng::seed_from_u64(5), &mut image);
        let changed: Vec<_> = image
            .pixels()
            .zip(original.pixels())
            .filter(|(a, b)| a != b)
            .collect();
        assert!(!changed.is_empty());
        assert!(changed.len() < 64 * 64 / 3, "{} pixels", changed.len());
        assert!(
            changed.iter().all(|(a, b)| a.0[0] <= b.0[0]),
            "hairs darken"
        );
    }
}
