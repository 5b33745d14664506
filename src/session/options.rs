//! The options of a segmentation, as the CLI and the JS API give them, with their defaults in
//! one place.

use crate::clean::{Lesions, Point, Rect};
use crate::{Error, InferenceMode};

/// How a photo becomes a mask: the options of the JS API's `segment` and the CLI's `segment`
/// and `eval`.
#[derive(Debug, Clone)]
pub struct SegmentOptions {
    /// U-Net++'s mode (the other models ignore it).
    pub mode: InferenceMode,
    /// Test-time augmentation, in every pass.
    pub tta: bool,
    /// Probability above which a pixel is lesion: where the lesions are cut apart.
    pub threshold: f32,
    /// One lesion cleaned, or every region as the model marks it ([`crate::clean`]).
    pub lesions: Lesions,
    /// A second pass on a crop around the kept lesion ([`super::refine`]).
    pub refine: bool,
    /// A box around the lesion in the photo's pixels: the model looks inside it only.
    pub prompt_box: Option<Rect>,
    /// Clicks on the photo: on the lesion or not ([`crate::clean::Point`]'s rule).
    pub points: Vec<Point>,
}

impl SegmentOptions {
    /// The defaults in `mode`: one lesion, refined, at the usual threshold (the model card
    /// measures each choice).
    pub fn new(mode: InferenceMode) -> Self {
        SegmentOptions {
            mode,
            tta: false,
            threshold: crate::rules::THRESHOLD,
            lesions: Lesions::One,
            refine: true,
            prompt_box: None,
            points: Vec::new(),
        }
    }
}

/// The JS API's segment options by their JS names (`lab.segment(photo, { mode, tta,
/// threshold, lesions, refine, box, points })`); absent ones take [`SegmentOptions::new`]'s defaults.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SegmentRequest {
    /// `accurate`, `fast` or `fast1`..`fast4`, as [`InferenceMode`] parses them.
    pub mode: Option<String>,
    /// Test-time augmentation.
    pub tta: bool,
    /// In [0, 1].
    pub threshold: Option<f32>,
    /// `one` or `all`.
    pub lesions: Option<String>,
    /// A second pass around the lesion.
    pub refine: Option<bool>,
    /// `{ x, y, width, height }` in the photo's pixels.
    #[serde(rename = "box")]
    pub prompt_box: Option<Rect>,
    /// `[{ x, y, label }]` in the photo's pixels, label 1 (lesion) or 0 (not lesion).
    pub points: Option<Vec<Point>>,
}

impl SegmentRequest {
    /// The options asked for, checked.
    pub fn options(&self) -> Result<SegmentOptions, Error> {
        let mode = match &self.mode {
            Some(m) => m.parse()?,
            None => InferenceMode::DEFAULT,
        };
        let defaults = SegmentOptions::new(mode);
        let threshold = crate::rules::threshold_or_default(self.threshold)?;
        Ok(SegmentOptions {
            tta: self.tta,
            threshold,
            lesions: match &self.lesions {
                Some(l) => l.parse()?,
                None => defaults.lesions,
            },
            refine: self.refine.unwrap_or(defaults.refine),
            prompt_box: self.prompt_box,
            points: self.points.clone().unwrap_or_default(),
            ..defaults
        })
    }
}
