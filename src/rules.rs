//! Rules that several parts of the crate and the page share, each defined once here: a leaf
//! of constants and checks that imports nothing above the models. The page reads them (with
//! the rules of other modules) from `www/api/rules.js`, which the page rules module writes.

use crate::data::MAX_PIXELS;
use crate::{Architecture, Error};

/// A pixel is lesion when its probability is above this: the report's and the ISIC
/// challenge's rule, and the default of every threshold the user can move.
pub const THRESHOLD: f32 = 0.5;

/// The one rule that turns a probability into lesion or skin, with the threshold the user
/// chose ([`THRESHOLD`] unless moved): masks, cleaning, uncertainty and training's scores.
pub fn is_lesion(probability: f32, threshold: f32) -> bool {
    probability > threshold
}

/// The caller's threshold, or [`THRESHOLD`] when none is given; an error outside [0, 1].
pub fn threshold_or_default(threshold: Option<f32>) -> Result<f32, Error> {
    let threshold = threshold.unwrap_or(THRESHOLD);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(Error::BadArgument(format!(
            "threshold must be between 0 and 1, got {threshold}"
        )));
    }
    Ok(threshold)
}

/// The input side of a weights file that records none (the report's).
pub const DEFAULT_INPUT_SIZE: u32 = 256;

/// The smallest input side a model runs or is fine-tuned at.
pub const MIN_INPUT_SIZE: usize = 32;
/// The largest: 512 already needs about 2 GB for a fine-tuning step of U-Net++ at batch 4.
pub const MAX_INPUT_SIZE: usize = 512;

/// The largest file read as an image: 4 bytes per pixel of [`MAX_PIXELS`].
pub const MAX_IMAGE_BYTES: u64 = MAX_PIXELS * 4;

/// A mask covering more of the photo than this, on a photo that does not look like dermoscopy,
/// is most likely the skin itself (an arm, a hand, a face): the page says so and offers the box.
pub const LARGE_MASK_SHARE: f32 = 0.25;

/// The outline's bands are `max(1, longest side / OUTLINE_BAND_DIVISOR)` pixels wide.
pub const OUTLINE_BAND_DIVISOR: u32 = 300;

/// Checks that `arch` can run at `size x size`: within the limits, a multiple of what the
/// architecture's downsampling needs.
pub fn check_input_size(arch: Architecture, size: usize) -> Result<(), Error> {
    let multiple = arch.size_multiple();
    if !(MIN_INPUT_SIZE..=MAX_INPUT_SIZE).contains(&size) || !size.is_multiple_of(multiple) {
        return Err(Error::BadArgument(format!(
            "input size {size} is not supported for {}: use {MIN_INPUT_SIZE} to {MAX_INPUT_SIZE}, a multiple of {multiple}",
            arch.display_name()
        )));
    }
    Ok(())
}
