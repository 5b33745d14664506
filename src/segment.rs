//! Segmenting one photo: preprocess, predict, and bring the probability back to the photo's
//! own size. Shared by the CLI and the browser.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use image::{GrayImage, ImageBuffer, Luma, RgbImage};

use crate::data::{normalize_chw, resize_rgb};
use crate::{Error, InferenceMode, Model};

/// Lesion probability of every pixel of a photo.
#[derive(Debug, Clone)]
pub struct Probability {
    /// Width of the photo.
    pub width: u32,
    /// Height of the photo.
    pub height: u32,
    /// Row-major probabilities in [0, 1], `width * height` of them.
    pub values: Vec<f32>,
}

impl Probability {
    /// The binary mask, 255 where the probability exceeds `threshold`, else 0.
    pub fn mask(&self, threshold: f32) -> GrayImage {
        let pixels = self
            .values
            .iter()
            .map(|&p| if p > threshold { 255 } else { 0 })
            .collect();
        GrayImage::from_raw(self.width, self.height, pixels).expect("width * height values")
    }
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

/// Resizes a probability map to `width x height` (bilinear).
pub fn resize_probability(values: Vec<f32>, from: (u32, u32), to: (u32, u32)) -> Vec<f32> {
    if from == to {
        return values;
    }
    let map: ImageBuffer<Luma<f32>, Vec<f32>> =
        ImageBuffer::from_raw(from.0, from.1, values).expect("size matches");
    image::imageops::resize(&map, to.0, to.1, image::imageops::FilterType::Triangle).into_raw()
}

/// Predicts the lesion probability of a photo at its own size. The model runs at
/// `size x size`; U-Net++ uses `mode`; with `tta`, the mean over the input's eight flips and
/// quarter turns (see [`predict_input`]).
pub async fn predict(
    model: &Model,
    photo: &RgbImage,
    size: u32,
    mode: InferenceMode,
    tta: bool,
    device: &Device,
) -> Result<Probability, Error> {
    model.validate_input([1, 3, size as usize, size as usize])?;
    let values = predict_input(model, input_tensor(photo, size, device), mode, tta).await?;
    let (width, height) = photo.dimensions();
    Ok(Probability {
        width,
        height,
        values: resize_probability(values, (size, size), (width, height)),
    })
}

/// The lesion probability of every pixel of one model input, read back asynchronously (the
/// only way WebGPU allows). With `tta` (test-time augmentation) the model sees the input in
/// all eight orientations of the square (flips, transposes: the flips and quarter turns that
/// training augments with) as one batch, and each probability map is turned back and averaged:
/// eight times the work for a smoother, usually better mask.
///
/// # Shapes
/// - x: `[1, 3, size, size]`
/// - returns: `size * size` values, row-major
pub async fn predict_input(
    model: &Model,
    x: Tensor<4>,
    mode: InferenceMode,
    tta: bool,
) -> Result<Vec<f32>, Error> {
    let prob = if tta {
        let views: Vec<Tensor<4>> = (0..ORIENTATIONS).map(|k| orient(x.clone(), k)).collect();
        let prob = sigmoid(model.predict(Tensor::cat(views, 0), mode));
        let back = (0..ORIENTATIONS).map(|k| unorient(prob.clone().narrow(0, k, 1), k));
        back.reduce(|a, b| a + b)
            .expect("eight views")
            .div_scalar(ORIENTATIONS as f64)
    } else {
        sigmoid(model.predict(x, mode))
    };
    crate::model::readback::read_floats(prob).await
}

/// The lesion probability of one model input seen in each of the eight orientations, each
/// turned back: the maps test-time augmentation averages, kept apart (for
/// [`crate::uncertainty`]).
///
/// # Shapes
/// - x: `[1, 3, size, size]`
/// - returns: eight maps of `size * size` values, row-major
pub async fn predict_views(
    model: &Model,
    x: Tensor<4>,
    mode: InferenceMode,
) -> Result<Vec<Vec<f32>>, Error> {
    let [_, _, h, w] = x.dims();
    let views: Vec<Tensor<4>> = (0..ORIENTATIONS).map(|k| orient(x.clone(), k)).collect();
    let prob = sigmoid(model.predict(Tensor::cat(views, 0), mode));
    let back: Vec<Tensor<4>> = (0..ORIENTATIONS)
        .map(|k| unorient(prob.clone().narrow(0, k, 1), k))
        .collect();
    let values = crate::model::readback::read_floats(Tensor::cat(back, 0)).await?;
    Ok(values.chunks(h * w).map(<[f32]>::to_vec).collect())
}

/// The orientations of a square that test-time augmentation averages over.
pub const ORIENTATIONS: usize = 8;

/// Orientation `k` of a batch of square images: bit 2 transposes, bits 0 and 1 then flip the
/// width and the height.
fn orient(x: Tensor<4>, k: usize) -> Tensor<4> {
    let x = if k & 4 != 0 { x.swap_dims(2, 3) } else { x };
    flip(x, k)
}

/// The inverse of [`orient`]: flips are their own inverse, and undone before the transpose.
fn unorient(x: Tensor<4>, k: usize) -> Tensor<4> {
    let x = flip(x, k);
    if k & 4 != 0 { x.swap_dims(2, 3) } else { x }
}

fn flip(x: Tensor<4>, k: usize) -> Tensor<4> {
    match k & 3 {
        0 => x,
        1 => x.flip([3]),
        2 => x.flip([2]),
        _ => x.flip([2, 3]),
    }
}

/// Overlay colours, which the page reads from `www/rules.js` ([`crate::rules`]): a two-tone outline, dark outside
/// and yellow inside it, so that one of the two stands out at least 3.8:1 (WCAG contrast) on
/// any photo, pink, brown or black; and a cyan tint, a hue no skin or lesion has.
pub const OUTLINE_DARK: [u8; 3] = [0, 0, 0];
/// The inner, light tone of the outline.
pub const OUTLINE_LIGHT: [u8; 3] = [255, 212, 0];
/// The tint of lesion pixels inside the outline.
pub const FILL: [u8; 3] = [0, 200, 255];

/// The photo with the mask drawn on it: the lesion's outline in two tones (each band
/// `max(1, longest side / 300)` pixels wide), the inside tinted at `opacity`.
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
    let band = ((w.max(h) / 300).max(1)) as i64;
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
            crate::explain::mix(out.get_pixel_mut(x, y), color, alpha);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientations_are_eight_distinct_and_undone() {
        let x = Tensor::<4>::from_data(
            TensorData::new((0..9).map(|v| v as f32).collect::<Vec<_>>(), [1, 1, 3, 3]),
            &Device::flex(),
        );
        let mut seen = Vec::new();
        for k in 0..ORIENTATIONS {
            let o = orient(x.clone(), k);
            assert_eq!(
                unorient(o.clone(), k).into_data(),
                x.clone().into_data(),
                "orientation {k}"
            );
            seen.push(o.into_data().try_to_vec::<f32>().unwrap());
        }
        seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
        seen.dedup();
        assert_eq!(seen.len(), 8);
    }

    #[test]
    fn test_time_augmentation_turns_with_the_photo() {
        // Averaged over all orientations, the prediction of a turned photo is the turned
        // prediction: only true when every view is turned back right. Without TTA it is not.
        let device = Device::flex();
        let model = Model::init(crate::Architecture::UNet, crate::Preset::Web, &device).valid();
        let x = Tensor::<4>::random(
            [1, 3, 32, 32],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let turn = |v: Vec<f32>| {
            orient(
                Tensor::<4>::from_data(TensorData::new(v, [1, 1, 32, 32]), &device),
                5,
            )
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
        };
        let run = |x: Tensor<4>, tta| {
            pollster::block_on(predict_input(&model, x, InferenceMode::Accurate, tta)).unwrap()
        };
        let gap = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0f32, f32::max)
        };
        let with = gap(
            &run(orient(x.clone(), 5), true),
            &turn(run(x.clone(), true)),
        );
        let without = gap(&run(orient(x.clone(), 5), false), &turn(run(x, false)));
        assert!(
            with < 1e-5,
            "with TTA the turned prediction differs by {with}"
        );
        assert!(
            without > 1e-4,
            "without TTA a fresh model is not turn-invariant ({without})"
        );
    }

    #[test]
    fn probability_is_resized_back_to_the_photo() {
        let values = vec![0.0, 1.0, 0.0, 1.0];
        let out = resize_probability(values, (2, 2), (6, 4));
        assert_eq!(out.len(), 24);
        assert!(out[0] < 0.5 && out[5] > 0.5, "{out:?}");
        let p = Probability {
            width: 6,
            height: 4,
            values: out,
        };
        let m = p.mask(0.5);
        assert_eq!(m.dimensions(), (6, 4));
        assert!(m.pixels().all(|v| v.0[0] == 0 || v.0[0] == 255));
    }

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
