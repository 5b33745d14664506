//! The settings of a training run, shaped like Burn's `custom-training-loop`: one
//! [`TrainConfig`] holding the model's config and the optimiser's, with every default here (the
//! CLI, the page's fine-tuning and the tests only override).

use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Augmentation;
use crate::loss::LossKind;
use crate::{Architecture, Error, ModelConfig, Preset};

/// Settings of a training run. `TrainConfig::new(ModelConfig::new(arch))` is the report's run
/// for that model: Adam at 1e-3, batch 4, 20 epochs at 256x256, BCE for U-Net and PSPNet and
/// 0.2 Dice + 0.8 BCE for U-Net++.
#[derive(Config, Debug)]
pub struct TrainConfig {
    /// The network trained.
    pub model: ModelConfig,
    /// The optimiser and its learning-rate schedule.
    #[config(default = "OptimizerConfig::new()")]
    pub optimizer: OptimizerConfig,
    /// Epochs to train in total.
    #[config(default = 20)]
    pub epochs: usize,
    /// Images per step.
    #[config(default = 4)]
    pub batch_size: usize,
    /// Weight of the Dice term; the BCE term gets `1 - dice_weight`. `None` is the report's
    /// choice for the model: 0.2 for U-Net++, 0 (plain BCE) for U-Net and PSPNet.
    pub dice_weight: Option<f64>,
    /// Augmentation of training images; `None` trains on the images as they are.
    #[config(default = "Some(Augmentation::default())")]
    pub augmentation: Option<Augmentation>,
    /// Seed of the split, the shuffling and the augmentation.
    #[config(default = 0)]
    pub seed: u64,
    /// Input height and width (the report's, [`crate::rules::DEFAULT_INPUT_SIZE`]).
    #[config(default = "crate::rules::DEFAULT_INPUT_SIZE as usize")]
    pub size: usize,
    /// Fraction of ids held out for validation (see [`crate::data::validation_ids`]).
    #[config(default = 0.2)]
    pub val_fraction: f64,
}

/// The optimiser of a run: Adam, or AdamW when `weight_decay` is above 0.
#[derive(Config, Debug)]
pub struct OptimizerConfig {
    /// Peak learning rate (the report's 1e-3).
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// How the learning rate changes over the run.
    #[config(default = "Schedule::Constant")]
    pub schedule: Schedule,
    /// AdamW's decoupled weight decay; 0 trains with the report's plain Adam.
    #[config(default = 0.0)]
    pub weight_decay: f64,
    /// Adam's epsilon: PyTorch's, so that runs compare with the report's (Burn's is 1e-5).
    #[config(default = 1e-8)]
    pub epsilon: f32,
}

/// A learning-rate schedule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// The same rate throughout (the report's).
    #[default]
    Constant,
    /// A linear warm-up over the first epoch (at most a tenth of the run), then a cosine decay
    /// to 1% of the rate at the last step.
    Cosine,
}

impl std::str::FromStr for Schedule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "constant" => Ok(Schedule::Constant),
            "cosine" => Ok(Schedule::Cosine),
            _ => Err(Error::BadArgument(format!(
                "unknown learning-rate schedule '{s}': expected constant or cosine"
            ))),
        }
    }
}

impl OptimizerConfig {
    /// The optimiser these settings describe.
    pub fn init(&self) -> ModuleOptimizer {
        if self.weight_decay > 0.0 {
            AdamWConfig::new()
                .with_epsilon(self.epsilon)
                .with_weight_decay(self.weight_decay as f32)
                .init()
        } else {
            AdamConfig::new().with_epsilon(self.epsilon).init()
        }
    }
}

impl TrainConfig {
    /// The architecture trained.
    pub fn architecture(&self) -> Architecture {
        self.model.architecture
    }

    /// The learning rate of step `step` (from 0) of epoch `epoch` (from 1), in an epoch of
    /// `steps` steps.
    pub fn learning_rate_at(&self, epoch: usize, step: usize, steps: usize) -> f64 {
        let peak = self.optimizer.learning_rate;
        match self.optimizer.schedule {
            Schedule::Constant => peak,
            Schedule::Cosine => {
                let total = (self.epochs * steps).max(1) as f64;
                let t = ((epoch.max(1) - 1) * steps + step) as f64;
                let warmup = (steps as f64).min(total / 10.0).max(1.0);
                if t < warmup {
                    peak * (t + 1.0) / warmup
                } else {
                    let progress = ((t - warmup) / (total - warmup).max(1.0)).min(1.0);
                    let floor = 0.01 * peak;
                    floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
                }
            }
        }
    }

    /// The weight of the Dice term this run trains with.
    pub fn dice_weight(&self) -> f64 {
        self.dice_weight.unwrap_or(match self.model.architecture {
            Architecture::UNetPlusPlus => 0.2,
            Architecture::UNet | Architecture::PspNet => 0.0,
        })
    }

    /// The loss this configuration trains with.
    pub fn loss(&self) -> LossKind {
        let dice = self.dice_weight();
        if dice == 0.0 {
            LossKind::Bce
        } else {
            LossKind::Combined {
                dice,
                bce: 1.0 - dice,
            }
        }
    }

    /// Checks what a run cannot start with.
    pub fn validate(&self) -> Result<(), Error> {
        let lr = self.optimizer.learning_rate;
        if self.batch_size == 0 || self.epochs == 0 || lr.is_nan() || lr <= 0.0 {
            return Err(Error::BadArgument(
                "batch size and epochs must be at least 1 and the learning rate positive".into(),
            ));
        }
        Ok(())
    }

    /// The config saved in a checkpoint: this shape, or the flat one of checkpoints written
    /// before it (`architecture`, `preset` and `learning_rate` beside the run's settings).
    pub fn from_saved(value: serde_json::Value) -> Result<Self, String> {
        if value.get("model").is_some() {
            return serde_json::from_value(value).map_err(|e| e.to_string());
        }
        let old: FlatConfig = serde_json::from_value(value).map_err(|e| e.to_string())?;
        let model = ModelConfig::new(old.architecture).with_preset(old.preset);
        Ok(TrainConfig::new(model)
            .with_optimizer(
                OptimizerConfig::new()
                    .with_learning_rate(old.learning_rate)
                    .with_schedule(old.schedule)
                    .with_weight_decay(old.weight_decay),
            )
            .with_epochs(old.epochs)
            .with_batch_size(old.batch_size)
            .with_dice_weight(Some(old.dice_weight))
            .with_augmentation(old.augmentation)
            .with_seed(old.seed)
            .with_size(old.size)
            .with_val_fraction(old.val_fraction))
    }
}

/// The settings as checkpoints written before [`TrainConfig`] held the model's and the
/// optimiser's configs stored them.
#[derive(Deserialize)]
struct FlatConfig {
    architecture: Architecture,
    preset: Preset,
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    dice_weight: f64,
    augmentation: Option<Augmentation>,
    seed: u64,
    size: usize,
    #[serde(default = "flat_val_fraction")]
    val_fraction: f64,
    #[serde(default)]
    schedule: Schedule,
    #[serde(default)]
    weight_decay: f64,
}

fn flat_val_fraction() -> f64 {
    0.2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_reports_run() {
        let unet = TrainConfig::new(ModelConfig::new(Architecture::UNet));
        assert_eq!(
            (unet.epochs, unet.batch_size, unet.size, unet.seed),
            (20, 4, 256, 0)
        );
        assert_eq!(unet.optimizer.learning_rate, 1e-3);
        assert_eq!(unet.model.preset, Preset::Web);
        assert!(matches!(unet.loss(), LossKind::Bce));
        let unetpp = TrainConfig::new(ModelConfig::new(Architecture::UNetPlusPlus));
        assert!(
            matches!(unetpp.loss(), LossKind::Combined { dice, .. } if dice == 0.2),
            "the report trains U-Net++ on 0.2 Dice + 0.8 BCE"
        );
        assert!(
            TrainConfig::new(ModelConfig::new(Architecture::UNet))
                .with_batch_size(0)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn saved_configs_round_trip_and_flat_ones_still_read() {
        let config = TrainConfig::new(ModelConfig::new(Architecture::PspNet))
            .with_optimizer(OptimizerConfig::new().with_schedule(Schedule::Cosine))
            .with_size(192);
        let json = serde_json::to_value(&config).unwrap();
        let back = TrainConfig::from_saved(json).unwrap();
        assert_eq!(back.to_string(), config.to_string());

        let flat = serde_json::json!({
            "architecture": "unetpp", "preset": "web", "epochs": 10, "batch_size": 8,
            "learning_rate": 0.001, "dice_weight": 0.2, "augmentation": null, "seed": 0,
            "size": 176, "val_fraction": 0.2, "schedule": "cosine", "weight_decay": 0.0
        });
        let old = TrainConfig::from_saved(flat).unwrap();
        assert_eq!(old.architecture(), Architecture::UNetPlusPlus);
        assert_eq!((old.epochs, old.batch_size, old.size), (10, 8, 176));
        assert_eq!(old.optimizer.schedule, Schedule::Cosine);
        assert_eq!(old.augmentation, None);
        assert_eq!(old.dice_weight(), 0.2);

        let broken = serde_json::json!({ "architecture": "resnet" });
        assert!(TrainConfig::from_saved(broken).is_err());
    }

    #[test]
    fn cosine_schedule_warms_up_peaks_and_decays_to_a_hundredth() {
        let mut config = TrainConfig::new(ModelConfig::new(Architecture::UNet));
        assert_eq!(
            config.learning_rate_at(3, 5, 100),
            1e-3,
            "constant by default"
        );
        config.optimizer.schedule = Schedule::Cosine;
        let rates: Vec<f64> = (1..=20)
            .flat_map(|e| (0..100).map(move |s| (e, s)))
            .map(|(e, s)| config.learning_rate_at(e, s, 100))
            .collect();
        assert!(
            (rates[0] - 1e-5).abs() < 1e-12,
            "the first step is a hundredth of the peak: {}",
            rates[0]
        );
        assert!(
            rates[..100].windows(2).all(|w| w[1] > w[0]),
            "rises through the first epoch"
        );
        assert!(
            (rates[99] - 1e-3).abs() < 1e-12 && (rates[100] - 1e-3).abs() < 1e-9,
            "peaks after the warm-up"
        );
        assert!(
            rates[100..].windows(2).all(|w| w[1] <= w[0]),
            "then only falls"
        );
        assert!(
            (rates[1999] - 1e-5).abs() < 1e-9,
            "ends at 1% of the peak: {}",
            rates[1999]
        );
        assert!(
            (rates[1050] - 0.505e-3).abs() < 1e-5,
            "halfway down at the midpoint: {}",
            rates[1050]
        );
    }
}
