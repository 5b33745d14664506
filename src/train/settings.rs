//! The settings of a fine-tuning run as the JS API names them, their limits and defaults,
//! all derived from [`TrainConfig`]'s defaults: one source of training defaults.

use serde::{Deserialize, Serialize};

use super::TrainConfig;
use crate::rules::{MAX_INPUT_SIZE, MIN_INPUT_SIZE, check_input_size};
use crate::{Architecture, Error, ModelConfig};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

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
