//! How sure is the model: where the lesion probability changes when the photo is only turned
//! or flipped (test-time views), or from one model to another, and the share of the photo where
//! they disagree about the mask. Teaching aids: a model can be sure and wrong.

use serde::Serialize;

use crate::Error;
use crate::data::resize_map;
use crate::predict::Probability;
use crate::rules::is_lesion;

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
            let above = maps.iter().filter(|m| is_lesion(m[i], threshold)).count();
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

/// Test-time views' maps (each `side * side`), compared at that size; the spread map resized to
/// the photo's `(width, height)`.
pub fn from_views(
    maps: &[Vec<f32>],
    side: u32,
    (width, height): (u32, u32),
    threshold: f32,
) -> Uncertainty {
    let (spread, disagreement) = compare(maps, threshold);
    let spread = resize_map(spread, (side, side), (width, height));
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

    #[test]
    fn views_that_agree_leave_no_spread() {
        let maps = vec![vec![0.3f32; 16]; 8];
        let u = from_views(&maps, 4, (12, 8), 0.5);
        assert_eq!((u.width, u.height, u.maps), (12, 8, 8));
        assert_eq!(u.spread.len(), 12 * 8);
        assert!(u.spread.iter().all(|&v| v == 0.0));
        assert_eq!((u.disagreement, u.mean_spread), (0.0, 0.0));
    }

    #[test]
    fn views_that_differ_spread_and_the_threshold_decides_the_disagreement() {
        let maps: Vec<Vec<f32>> = (0..8).map(|k| vec![0.2 + 0.03 * k as f32; 4]).collect();
        let u = from_views(&maps, 2, (2, 2), 0.5);
        assert!(u.mean_spread > 0.05 && u.spread.iter().all(|&v| (0.0..=0.5).contains(&v)));
        let mean = u.spread.iter().map(|&v| v as f64).sum::<f64>() / u.spread.len() as f64;
        assert!((mean - u.mean_spread).abs() < 1e-9);
        assert_eq!(u.disagreement, 0.0, "every view under 0.5");
        assert_eq!(from_views(&maps, 2, (2, 2), 0.3).disagreement, 1.0);
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
