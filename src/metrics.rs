//! The ISIC challenge's segmentation metrics, computed as its official scorer does: per image
//! from the confusion counts, then the plain mean over images.
//!
//! Ground-truth mask files are binarised with `value > 128`, model probabilities with
//! `p > 0.5`. The report's "mean IoU" is the mean [`ImageScores::jaccard`], its "mean Dice" the
//! mean [`ImageScores::dice`].

use serde::Serialize;

/// Value above which a ground-truth mask pixel counts as lesion.
pub const MASK_THRESHOLD: u8 = 128;

/// Jaccard below this scores 0 in the thresholded Jaccard (ISIC 2018's ranking metric).
pub const JACCARD_THRESHOLD: f64 = 0.65;

/// Pixel counts of one prediction against its ground truth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    /// Lesion predicted, lesion true.
    pub tp: u64,
    /// Background predicted, background true.
    pub tn: u64,
    /// Lesion predicted, background true.
    pub fp: u64,
    /// Background predicted, lesion true.
    pub fn_: u64,
}

impl Confusion {
    /// Counts from two binary masks of the same length.
    ///
    /// # Panics
    /// If the lengths differ: scoring masks of different sizes is a caller's bug.
    pub fn from_masks(prediction: &[bool], truth: &[bool]) -> Self {
        assert_eq!(
            prediction.len(),
            truth.len(),
            "prediction and truth masks differ in size"
        );
        let mut c = Confusion::default();
        for (&p, &t) in prediction.iter().zip(truth) {
            match (p, t) {
                (true, true) => c.tp += 1,
                (false, false) => c.tn += 1,
                (true, false) => c.fp += 1,
                (false, true) => c.fn_ += 1,
            }
        }
        c
    }

    /// The six ISIC scores, with the scorer's conventions for empty denominators.
    pub fn scores(&self) -> ImageScores {
        let (tp, tn, fp, fn_) = (
            self.tp as f64,
            self.tn as f64,
            self.fp as f64,
            self.fn_ as f64,
        );
        let ratio = |num: f64, den: f64| if den == 0.0 { 1.0 } else { num / den };
        let jaccard = ratio(tp, tp + fp + fn_);
        ImageScores {
            accuracy: ratio(tp + tn, tp + tn + fp + fn_),
            sensitivity: ratio(tp, tp + fn_),
            specificity: ratio(tn, tn + fp),
            jaccard,
            threshold_jaccard: if jaccard >= JACCARD_THRESHOLD {
                jaccard
            } else {
                0.0
            },
            dice: ratio(2.0 * tp, 2.0 * tp + fp + fn_),
        }
    }
}

/// The ISIC scores of one image, or their mean over images.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ImageScores {
    /// (TP + TN) / all pixels.
    pub accuracy: f64,
    /// TP / (TP + FN); 1 when the truth has no lesion pixel.
    pub sensitivity: f64,
    /// TN / (TN + FP); 1 when the truth has no background pixel.
    pub specificity: f64,
    /// TP / (TP + FP + FN) (IoU); 1 when both masks are empty.
    pub jaccard: f64,
    /// Jaccard, or 0 where it is below 0.65.
    pub threshold_jaccard: f64,
    /// 2TP / (2TP + FP + FN); 1 when both masks are empty.
    pub dice: f64,
}

/// Binarises an 8-bit mask file's pixels as the ISIC scorer does (`> 128`).
pub fn binarize_mask(pixels: &[u8]) -> Vec<bool> {
    pixels.iter().map(|&v| v > MASK_THRESHOLD).collect()
}

/// Binarises probabilities (`> threshold`; the scorer's outputs use 0.5).
pub fn binarize_probability(probability: &[f32], threshold: f32) -> Vec<bool> {
    probability.iter().map(|&p| p > threshold).collect()
}

/// Running plain mean of per-image scores, and the pixel counts of all images pooled.
#[derive(Debug, Clone, Default)]
pub struct MeanScores {
    sum: ImageScores,
    count: usize,
    pooled: Confusion,
    images: Vec<ImageScores>,
}

impl MeanScores {
    /// Adds one image's counts: its scores to the mean, its pixels to the pooled counts.
    pub fn add(&mut self, c: Confusion) {
        self.push(c.scores());
        let p = &mut self.pooled;
        (p.tp, p.tn, p.fp, p.fn_) = (p.tp + c.tp, p.tn + c.tn, p.fp + c.fp, p.fn_ + c.fn_);
    }

    /// The pixel counts of every image [`MeanScores::add`]ed, as if one image (dataset-level
    /// scores, where large photos weigh more).
    pub fn pooled(&self) -> Confusion {
        self.pooled
    }

    /// Adds one image's scores.
    pub fn push(&mut self, s: ImageScores) {
        let t = &mut self.sum;
        t.accuracy += s.accuracy;
        t.sensitivity += s.sensitivity;
        t.specificity += s.specificity;
        t.jaccard += s.jaccard;
        t.threshold_jaccard += s.threshold_jaccard;
        t.dice += s.dice;
        self.count += 1;
        self.images.push(s);
    }

    /// Every image's scores, in the order they were added.
    pub fn images(&self) -> &[ImageScores] {
        &self.images
    }

    /// The median of each score over the images added (the mean of the middle two for an even
    /// count), or `None` before the first: a typical photo's score, which a few failures do
    /// not pull down as they pull the mean.
    pub fn median(&self) -> Option<ImageScores> {
        let median = |f: fn(&ImageScores) -> f64| {
            let mut v: Vec<f64> = self.images.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            let n = v.len();
            (v[(n - 1) / 2] + v[n / 2]) / 2.0
        };
        (!self.images.is_empty()).then(|| ImageScores {
            accuracy: median(|s| s.accuracy),
            sensitivity: median(|s| s.sensitivity),
            specificity: median(|s| s.specificity),
            jaccard: median(|s| s.jaccard),
            threshold_jaccard: median(|s| s.threshold_jaccard),
            dice: median(|s| s.dice),
        })
    }

    /// Number of images added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The mean over the images added, or `None` before the first.
    pub fn mean(&self) -> Option<ImageScores> {
        if self.count == 0 {
            return None;
        }
        let n = self.count as f64;
        let s = self.sum;
        Some(ImageScores {
            accuracy: s.accuracy / n,
            sensitivity: s.sensitivity / n,
            specificity: s.specificity / n,
            jaccard: s.jaccard / n,
            threshold_jaccard: s.threshold_jaccard / n,
            dice: s.dice / n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> Vec<bool> {
        rows.iter()
            .flat_map(|r| r.chars().map(|c| c == '#'))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn median_is_the_middle_image_and_resists_a_failure() {
        let mut m = MeanScores::default();
        assert!(m.median().is_none());
        for j in [0.9, 0.8, 0.0, 0.85] {
            m.push(ImageScores {
                jaccard: j,
                ..Default::default()
            });
        }
        let median = m.median().unwrap().jaccard;
        assert!(close(median, 0.825), "{median}");
        assert!(m.mean().unwrap().jaccard < 0.65);
        assert_eq!(m.images().len(), 4);
    }

    #[test]
    fn hand_counted_overlap() {
        // 4x4 image. truth: 6 lesion pixels; prediction: 5, of which 4 overlap.
        let truth = mask(&["##..", "##..", "##..", "...."]);
        let pred = mask(&[".#..", "##..", "#.#.", "...."]);
        let c = Confusion::from_masks(&pred, &truth);
        assert_eq!(
            c,
            Confusion {
                tp: 4,
                tn: 9,
                fp: 1,
                fn_: 2
            }
        );
        let s = c.scores();
        assert!(close(s.accuracy, 13.0 / 16.0));
        assert!(close(s.sensitivity, 4.0 / 6.0));
        assert!(close(s.specificity, 9.0 / 10.0));
        assert!(close(s.jaccard, 4.0 / 7.0));
        assert!(close(s.threshold_jaccard, 0.0), "4/7 < 0.65 scores 0");
        assert!(close(s.dice, 8.0 / 11.0));
    }

    #[test]
    fn thresholded_jaccard_keeps_values_at_or_above_065() {
        let truth = mask(&["#####", "#####", "#####", "#####"]);
        let pred = mask(&["#####", "#####", "#####", "....."]);
        let s = Confusion::from_masks(&pred, &truth).scores();
        assert!(close(s.jaccard, 0.75) && close(s.threshold_jaccard, 0.75));
    }

    #[test]
    fn empty_truth_and_empty_prediction_score_perfectly() {
        let empty = mask(&["....", "...."]);
        let s = Confusion::from_masks(&empty, &empty).scores();
        assert_eq!(
            s,
            ImageScores {
                accuracy: 1.0,
                sensitivity: 1.0,
                specificity: 1.0,
                jaccard: 1.0,
                threshold_jaccard: 1.0,
                dice: 1.0
            }
        );
    }

    #[test]
    fn empty_truth_with_false_positives() {
        let truth = mask(&["....", "...."]);
        let pred = mask(&["#...", "...."]);
        let s = Confusion::from_masks(&pred, &truth).scores();
        assert!(
            close(s.sensitivity, 1.0),
            "no positive pixels: sensitivity 1"
        );
        assert!(close(s.specificity, 7.0 / 8.0));
        assert!(close(s.jaccard, 0.0) && close(s.dice, 0.0));
    }

    #[test]
    fn all_lesion_truth_has_specificity_one() {
        let truth = mask(&["####"]);
        let pred = mask(&["##.."]);
        let s = Confusion::from_masks(&pred, &truth).scores();
        assert!(
            close(s.specificity, 1.0),
            "no negative pixels: specificity 1"
        );
        assert!(close(s.sensitivity, 0.5) && close(s.jaccard, 0.5) && close(s.dice, 2.0 / 3.0));
    }

    #[test]
    fn binarisation_thresholds_are_strict() {
        assert_eq!(
            binarize_mask(&[0, 128, 129, 255]),
            vec![false, false, true, true]
        );
        assert_eq!(
            binarize_probability(&[0.49, 0.5, 0.51], 0.5),
            vec![false, false, true]
        );
    }

    #[test]
    fn mean_is_plain_over_images_not_pooled_pixels() {
        let mut m = MeanScores::default();
        assert!(m.mean().is_none());
        // A large perfect image and a small wrong one weigh the same.
        let big = mask(&["########"]);
        m.add(Confusion::from_masks(&big, &big));
        m.add(Confusion::from_masks(&mask(&["."]), &mask(&["#"])));
        let mean = m.mean().unwrap();
        assert_eq!(m.count(), 2);
        assert!(close(mean.jaccard, 0.5) && close(mean.dice, 0.5) && close(mean.accuracy, 0.5));
        // Pooled, the big image's 8 right pixels outweigh the small one's wrong pixel.
        let pooled = m.pooled();
        assert_eq!((pooled.tp, pooled.tn, pooled.fp, pooled.fn_), (8, 0, 0, 1));
        assert!(close(pooled.scores().jaccard, 8.0 / 9.0));
    }
}
