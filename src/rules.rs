//! Rules the crate and the page share, defined once here. The page reads them from
//! `www/rules.js`, which is generated from this module: `cargo test` fails when the file is
//! out of date, and `LESIONLAB_WRITE_RULES=1 cargo test --lib rules` rewrites it.

use serde::{Deserialize, Serialize};

use crate::data::{MASK_SUFFIXES, MAX_PIXELS};
use crate::segment::{FILL, OUTLINE_DARK, OUTLINE_LIGHT};
use crate::train::TrainConfig;
use crate::{Architecture, Error, ErrorKind, ModelConfig};

/// A pixel is lesion when its probability is above this: the report's and the ISIC
/// challenge's rule, and the default of every threshold the user can move.
pub const THRESHOLD: f32 = 0.5;

/// The smallest input side a model runs or is fine-tuned at.
pub const MIN_INPUT_SIZE: usize = 32;
/// The largest: 512 already needs about 2 GB for a fine-tuning step of U-Net++ at batch 4.
pub const MAX_INPUT_SIZE: usize = 512;

/// The largest file read as an image: 4 bytes per pixel of [`MAX_PIXELS`].
pub const MAX_IMAGE_BYTES: u64 = MAX_PIXELS * 4;

/// The U-Net++ fast-mode level of the shipped quick-start file, which the page loads first
/// and shows its first mask from: level 2 holds 6% of the whole file's bytes; level 1 is much
/// rougher and level 3 needs four times the bytes (scores in `weights/README.md`).
pub const QUICK_START_LEVEL: u8 = 2;

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

/// Settings of a fine-tuning run in the page, in the JS API's names; absent fields take the
/// defaults of [`FineTuneSettings::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct FineTuneSettings {
    /// Passes over the training pairs.
    pub epochs: usize,
    /// Pairs per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Side of the square the pairs are resized to.
    pub size: usize,
    /// Share of the pairs held out for validation.
    pub val_fraction: f64,
    /// Flips, quarter turns and mild colour jitter.
    pub augment: bool,
    /// Seed of the split, the shuffling and the augmentation.
    pub seed: u64,
}

impl Default for FineTuneSettings {
    /// The JS API's defaults (`lab.finetune(files, options)`): a training run's defaults
    /// ([`TrainConfig`]), but one epoch, so that a first try finishes in minutes.
    fn default() -> Self {
        let run = TrainConfig::new(ModelConfig::new(Architecture::UNet));
        FineTuneSettings {
            epochs: 1,
            ..FineTuneSettings::of(&run)
        }
    }
}

/// The inclusive range each numeric fine-tuning setting must lie in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FineTuneLimits {
    /// Epochs.
    pub epochs: [f64; 2],
    /// Batch size.
    pub batch_size: [f64; 2],
    /// Learning rate.
    pub lr: [f64; 2],
    /// Input size (also a multiple of the model's `sizeMultiple`).
    pub size: [f64; 2],
    /// Validation share.
    pub val_fraction: [f64; 2],
}

/// The limits of [`FineTuneSettings`].
pub fn fine_tune_limits() -> FineTuneLimits {
    FineTuneLimits {
        epochs: [1.0, 500.0],
        batch_size: [1.0, 64.0],
        lr: [1e-6, 0.5],
        size: [MIN_INPUT_SIZE as f64, MAX_INPUT_SIZE as f64],
        val_fraction: [0.0, 0.9],
    }
}

impl FineTuneSettings {
    /// What the page's fine-tuning form starts with: from shipped weights, a few epochs at a
    /// gentler rate and the shipped models' input size.
    pub fn page_form() -> Self {
        FineTuneSettings {
            epochs: 3,
            lr: 3e-4,
            size: 128,
            ..Self::default()
        }
    }

    /// Checks the settings against [`fine_tune_limits`] and makes the training config of a
    /// run of `arch`.
    pub fn to_config(&self, arch: Architecture) -> Result<TrainConfig, Error> {
        let limits = fine_tune_limits();
        let checks = [
            ("epochs", self.epochs as f64, limits.epochs),
            ("batchSize", self.batch_size as f64, limits.batch_size),
            ("lr", self.lr, limits.lr),
            ("valFraction", self.val_fraction, limits.val_fraction),
        ];
        for (name, value, [lo, hi]) in checks {
            if !(lo..=hi).contains(&value) {
                return Err(Error::BadArgument(format!(
                    "fine-tuning setting {name} is {value}: use {lo} to {hi}"
                )));
            }
        }
        check_input_size(arch, self.size)?;
        let defaults = TrainConfig::new(ModelConfig::new(arch));
        let optimizer = defaults.optimizer.clone().with_learning_rate(self.lr);
        Ok(defaults
            .with_optimizer(optimizer)
            .with_epochs(self.epochs)
            .with_batch_size(self.batch_size)
            .with_size(self.size)
            .with_val_fraction(self.val_fraction)
            .with_augmentation(self.augment.then(crate::data::Augmentation::default))
            .with_seed(self.seed))
    }

    /// The settings of a run of `config` (a restored checkpoint's), in the JS API's names.
    pub fn of(config: &TrainConfig) -> Self {
        FineTuneSettings {
            epochs: config.epochs,
            batch_size: config.batch_size,
            lr: config.optimizer.learning_rate,
            size: config.size,
            val_fraction: config.val_fraction,
            augment: config.augmentation.is_some(),
            seed: config.seed,
        }
    }
}

/// The page's `www/rules.js`: every rule above as an ES module of constants.
pub fn rules_js() -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Model {
        id: &'static str,
        name: &'static str,
        size_multiple: usize,
        quick_start: Option<serde_json::Value>,
    }
    let models: Vec<Model> = Architecture::ALL
        .iter()
        .map(|&a| Model {
            id: a.name(),
            name: a.display_name(),
            size_multiple: a.size_multiple(),
            quick_start: (a == Architecture::UNetPlusPlus).then(|| {
                serde_json::json!({
                    "level": QUICK_START_LEVEL,
                    "file": crate::weights::fast_only::file_name(a.name(), QUICK_START_LEVEL),
                })
            }),
        })
        .collect();
    let overlay = serde_json::json!({
        "outlineDark": OUTLINE_DARK,
        "outlineLight": OUTLINE_LIGHT,
        "fill": FILL,
        "truth": [[255, 255, 255], [0, 0, 0]],
        "bandDivisor": OUTLINE_BAND_DIVISOR,
    });
    let turbo: Vec<[u8; 3]> = (0..256)
        .map(|i| crate::explain::turbo(i as f32 / 255.0))
        .collect();
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    let entries: Vec<(&str, &str, serde_json::Value)> = vec![
        (
            "THRESHOLD",
            "Lesion where the probability is above this.",
            serde_json::json!(THRESHOLD),
        ),
        (
            "LARGE_MASK_SHARE",
            "A mask covering more of a photo that does not look like dermoscopy is most likely the skin itself: the page offers the box.",
            serde_json::json!(LARGE_MASK_SHARE),
        ),
        (
            "DEFAULT_MODE",
            "The mode of a call that names none: U-Net++'s deepest head alone (fast mode level 4), which scores best; other models have one head.",
            serde_json::json!(crate::InferenceMode::DEFAULT.to_string()),
        ),
        (
            "INPUT_SIZE",
            "Input sides a model runs or is fine-tuned at.",
            serde_json::json!({ "min": MIN_INPUT_SIZE, "max": MAX_INPUT_SIZE }),
        ),
        (
            "MAX_PIXELS",
            "The largest photo, in pixels.",
            serde_json::json!(MAX_PIXELS),
        ),
        (
            "MAX_IMAGE_BYTES",
            "The largest file read as an image.",
            serde_json::json!(MAX_IMAGE_BYTES),
        ),
        (
            "MODELS",
            "The models: id, display name, what the input side must be a multiple of, and the quick-start file shipped beside the whole weights (`null` for none).",
            serde_json::json!(models),
        ),
        (
            "FINE_TUNE_DEFAULTS",
            "The JS API's fine-tuning defaults.",
            serde_json::json!(FineTuneSettings::default()),
        ),
        (
            "FINE_TUNE_FORM",
            "What the page's fine-tuning form starts with.",
            serde_json::json!(FineTuneSettings::page_form()),
        ),
        (
            "FINE_TUNE_LIMITS",
            "Inclusive [min, max] of each numeric fine-tuning setting.",
            serde_json::json!(fine_tune_limits()),
        ),
        (
            "FEATURE_MAPS",
            "How many feature maps the layer explorer shows when not told.",
            serde_json::json!(crate::features::DEFAULT_COUNT),
        ),
        (
            "MASK_SUFFIXES",
            "A PNG named NAME + one of these is the mask of photo NAME.",
            serde_json::json!(MASK_SUFFIXES),
        ),
        (
            "ISIC_ID",
            "An ISIC id is a file stem matching this (any case).",
            serde_json::json!(crate::data::ISIC_ID),
        ),
        (
            "OVERLAY",
            "Mask overlay colours (RGB) and outline band width.",
            overlay,
        ),
        (
            "TURBO",
            "The Turbo colour map, 256 RGB entries from 0 to 1.",
            serde_json::json!(turbo),
        ),
        (
            "ERROR_KINDS",
            "The kinds an error's `kind` can be.",
            serde_json::json!(kinds),
        ),
    ];
    let mut out = String::from(
        "// Generated from src/rules.rs (LESIONLAB_WRITE_RULES=1 cargo test --lib rules): do not edit.\n\
         // The rules the crate and the page share, defined once in Rust.\n",
    );
    for (name, doc, value) in entries {
        out.push_str(&format!("\n/** {doc} */\nexport const {name} = {value};\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn www_rules_js_is_generated_from_this_module() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/rules.js");
        let fresh = rules_js();
        if std::env::var_os("LESIONLAB_WRITE_RULES").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == fresh,
            "www/rules.js is out of date: run LESIONLAB_WRITE_RULES=1 cargo test --lib rules"
        );
    }

    #[test]
    fn settings_take_defaults_and_are_checked() {
        let s: FineTuneSettings = serde_json::from_str(r#"{"epochs": 2}"#).unwrap();
        assert_eq!(
            s,
            FineTuneSettings {
                epochs: 2,
                ..Default::default()
            }
        );
        assert!(serde_json::from_str::<FineTuneSettings>(r#"{"epoch": 2}"#).is_err());
        let config = FineTuneSettings::page_form()
            .to_config(Architecture::UNet)
            .unwrap();
        assert_eq!((config.epochs, config.size), (3, 128));
        let changed = |change: fn(&mut FineTuneSettings)| {
            let mut s = FineTuneSettings::default();
            change(&mut s);
            s
        };
        for bad in [
            changed(|s| s.size = 1024),
            changed(|s| s.size = 100),
            changed(|s| s.lr = 0.0),
            changed(|s| s.val_fraction = 0.95),
            changed(|s| s.batch_size = 0),
        ] {
            let err = bad.to_config(Architecture::UNetPlusPlus).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadArgument, "{err}");
        }
    }
}
