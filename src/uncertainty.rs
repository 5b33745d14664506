//! How sure is the model: where the lesion probability changes when the photo is only turned
//! or flipped (test-time views), or from one model to another, and the share of the photo where
//! they disagree about the mask. Teaching aids: a model can be sure and wrong.

use burn::prelude::*;
use image::RgbImage;
use serde::Serialize;

use crate::segment::{Probability, input_tensor, predict_views, resize_probability};
use crate::{Error, InferenceMode, Model};

/// Where several probability maps of one photo agree and where they do not.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Uncertainty {
    /// Width of the photo.
    pub width: u32,
    /// Height of the photo.
    pub height: u32,
    /// Per pixel, the standard deviation of the maps' probabilities, in [0, 0.5], row-major.
    #[serde(skip)]
    pub spread: Vec<f32>,
    /// The mean of `spread` over the photo.
    pub mean_spread: f64,
    /// The share of the photo where some maps say lesion and others do not (at `threshold`).
    pub disagreement: f64,
    /// How many maps were compared.
    pub maps: usize,
}

/// Per-pixel spread and the share of disagreeing pixels of equally sized maps.
fn compare(maps: &[Vec<f32>], threshold: f32) -> (Vec<f32>, f64) {
    let n = maps[0].len();
    let k = maps.len() as f64;
    let mut disagree = 0usize;
    let spread = (0..n)
        .map(|i| {
            let mean = maps.iter().map(|m| m[i] as f64).sum::<f64>() / k;
            // Deviations from the mean, not E[p²] - E[p]²: equal maps must give exactly 0.
            let var = maps
                .iter()
                .map(|m| (m[i] as f64 - mean).powi(2))
                .sum::<f64>()
                / k;
            let above = maps.iter().filter(|m| m[i] > threshold).count();
            if above != 0 && above != maps.len() {
                disagree += 1;
            }
            var.sqrt() as f32
        })
        .collect();
    (spread, disagree as f64 / n as f64)
}

fn summarise(
    width: u32,
    height: u32,
    spread: Vec<f32>,
    disagreement: f64,
    maps: usize,
) -> Uncertainty {
    let mean_spread = spread.iter().map(|&v| v as f64).sum::<f64>() / spread.len() as f64;
    Uncertainty {
        width,
        height,
        spread,
        mean_spread,
        disagreement,
        maps,
    }
}

/// Test-time views: the model on the photo's eight flips and quarter turns (at `size x size`),
/// compared there; the spread map is then resized to the photo.
pub async fn over_views(
    model: &Model,
    photo: &RgbImage,
    size: u32,
    mode: InferenceMode,
    threshold: f32,
    device: &Device,
) -> Result<Uncertainty, Error> {
    model.validate_input([1, 3, size as usize, size as usize])?;
    let maps = predict_views(model, input_tensor(photo, size, device), mode).await?;
    Ok(from_views(&maps, size, photo.dimensions(), threshold))
}

/// Test-time views' maps (each `side * side`), compared at that size; the spread map resized to
/// the photo's `(width, height)`.
pub fn from_views(
    maps: &[Vec<f32>],
    side: u32,
    (width, height): (u32, u32),
    threshold: f32,
) -> Uncertainty {
    let (spread, disagreement) = compare(maps, threshold);
    let spread = resize_probability(spread, (side, side), (width, height));
    summarise(width, height, spread, disagreement, maps.len())
}

/// Several models' probability maps of one photo (each at the photo's size), compared.
pub fn over_models(maps: &[Probability], threshold: f32) -> Result<Uncertainty, Error> {
    let first = maps
        .first()
        .ok_or_else(|| Error::BadArgument("no probability maps to compare".into()))?;
    if maps
        .iter()
        .any(|m| (m.width, m.height) != (first.width, first.height))
    {
        return Err(Error::BadArgument(
            "the probability maps to compare are of different sizes".into(),
        ));
    }
    let values: Vec<Vec<f32>> = maps.iter().map(|m| m.values.clone()).collect();
    let (spread, disagreement) = compare(&values, threshold);
    Ok(summarise(
        first.width,
        first.height,
        spread,
        disagreement,
        maps.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;

    use crate::model::PspNetConfig;

    /// The model's eight views of [`photo`] at 32x32, compared.
    fn views(model: &Model, device: &Device) -> Uncertainty {
        pollster::block_on(over_views(
            model,
            &photo(),
            32,
            InferenceMode::Accurate,
            0.5,
            device,
        ))
        .unwrap()
    }

    fn photo() -> RgbImage {
        RgbImage::from_fn(96, 64, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 3) as u8, 120])
        })
    }

    #[test]
    fn a_model_that_ignores_orientation_is_certain_everywhere() {
        // A PSPNet whose classifier ignores its features: every view gets the same map.
        let device = Device::flex();
        let mut m = PspNetConfig::new(8, 2, 4).init(&device);
        m.decoder.classifier.weight = Param::from_tensor(Tensor::zeros([1, 4, 1, 1], &device));
        m.decoder.classifier.bias = Some(Param::from_tensor(Tensor::full([1], 0.3, &device)));
        let model = Model::PspNet(m).valid();
        let u = views(&model, &device);
        assert_eq!((u.width, u.height, u.maps), (96, 64, 8));
        assert_eq!(u.spread.len(), 96 * 64);
        assert!(
            u.spread.iter().all(|&v| v.abs() < 1e-6),
            "max {:?}",
            u.spread.iter().cloned().fold(0.0, f32::max)
        );
        assert_eq!(u.disagreement, 0.0);
    }

    #[test]
    fn a_model_that_sees_orientation_spreads_and_the_numbers_agree() {
        let device = Device::flex();
        device.seed(3);
        let model = Model::init(crate::Architecture::UNet, crate::Preset::Web, &device).valid();
        let u = views(&model, &device);
        assert!(u.mean_spread > 0.0);
        assert!(u.spread.iter().all(|&v| (0.0..=0.5).contains(&v)));
        let mean = u.spread.iter().map(|&v| v as f64).sum::<f64>() / u.spread.len() as f64;
        assert!((mean - u.mean_spread).abs() < 1e-9);
    }

    #[test]
    fn models_that_disagree_on_a_quarter_of_the_photo_say_so() {
        let map = |f: &dyn Fn(usize) -> f32| Probability {
            width: 4,
            height: 4,
            values: (0..16).map(f).collect(),
        };
        let a = map(&|_| 0.9);
        let b = map(&|i| if i < 4 { 0.1 } else { 0.9 });
        let u = over_models(&[a.clone(), b], 0.5).unwrap();
        assert_eq!(u.disagreement, 0.25);
        assert!(
            (u.spread[0] - 0.4).abs() < 1e-6 && u.spread[5] == 0.0,
            "{:?}",
            u.spread
        );
        let same = over_models(&[a.clone(), a.clone(), a], 0.5).unwrap();
        assert_eq!((same.disagreement, same.mean_spread), (0.0, 0.0));
        let small = Probability {
            width: 2,
            height: 2,
            values: vec![0.0; 4],
        };
        assert!(over_models(&[map(&|_| 0.5), small], 0.5).is_err());
    }
}
