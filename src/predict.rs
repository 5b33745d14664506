//! The lesion probability of one model input: one pass, or the mean over the eight test-time
//! views, or those views kept apart. Photos reach it through the session, which prepares
//! them and brings the answer back to the photo's size.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use image::GrayImage;

use crate::rules::is_lesion;
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
            .map(|&p| if is_lesion(p, threshold) { 255 } else { 0 })
            .collect();
        GrayImage::from_raw(self.width, self.height, pixels).expect("width * height values")
    }
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
pub async fn probability(
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
/// turned back: the maps test-time augmentation averages, kept apart (how sure the model is).
///
/// # Shapes
/// - x: `[1, 3, size, size]`
/// - returns: eight maps of `size * size` values, row-major
pub async fn probability_views(
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
            pollster::block_on(probability(&model, x, InferenceMode::MeanOfHeads, tta)).unwrap()
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
}
