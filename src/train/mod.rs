//! The training loop, the same natively and in the browser: Adam, the report's losses, deep
//! supervision, per-epoch validation, a stop on a non-finite loss that keeps the last good
//! weights, and checkpoints that resume. Shaped like Burn's `custom-training-loop`: the caller
//! owns the loop, `begin_epoch`, `step` for each batch, `end_epoch`, so that checkpoints, pause
//! and cancel happen between steps as ordinary control flow ([`Trainer::train_epoch`] is the
//! loop for callers with nothing to do between steps).
//!
//! It is `async` because reading a value back from WebGPU is; natively, drive it with
//! `pollster::block_on`.

use std::io::{Cursor, Read, Write};

mod config;
#[cfg(not(target_family = "wasm"))]
mod devices;
mod settings;

pub use config::{OptimizerConfig, Schedule, TrainConfig};
pub use settings::{FineTuneLimits, FineTuneSettings, fine_tune_limits};

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::activation::sigmoid;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, epoch_rng};
use crate::loss::LossKind;
use crate::metrics::{Confusion, MeanScores};
use crate::{Error, InferenceMode, Model};

/// Validation results of one epoch, in the JS API's names (`trainLoss`, `valIoU`, ...);
/// checkpoints written before also used the Rust names, which still read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's steps.
    #[serde(alias = "train_loss")]
    pub train_loss: f64,
    /// Mean validation loss (eval mode), if there is validation data.
    #[serde(alias = "val_loss")]
    pub val_loss: Option<f64>,
    /// Mean per-image Jaccard (IoU) on validation data at the training resolution.
    #[serde(rename = "valIoU", alias = "val_iou")]
    pub val_iou: Option<f64>,
    /// Mean per-image Dice on validation data at the training resolution.
    #[serde(alias = "val_dice")]
    pub val_dice: Option<f64>,
    /// Mean per-image thresholded Jaccard (ISIC 2018's ranking score) on validation data at the
    /// training resolution.
    #[serde(default, alias = "val_threshold_jaccard")]
    pub val_threshold_jaccard: Option<f64>,
}

/// What the training loop reports; in JS `{ kind: 'step' | 'validating' | 'epoch', ... }`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Progress {
    /// One optimisation step finished.
    Step {
        /// Epoch number, from 1.
        epoch: usize,
        /// Step within the epoch, from 1.
        step: usize,
        /// Steps in the epoch.
        steps: usize,
        /// This step's loss.
        loss: f64,
    },
    /// Validation of an epoch is running.
    Validating {
        /// Epoch number, from 1.
        epoch: usize,
    },
    /// An epoch finished and was validated.
    Epoch(EpochRecord),
}

/// Whether the loop goes on after a progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop before the next step; the model keeps the weights of the last finished step.
    Stop,
}

/// The error of a device failure during training, which keeps the weights from before the step.
fn device_failed(epoch: usize, message: impl std::fmt::Display) -> Error {
    Error::Device(format!(
        "the device failed at epoch {epoch}: {message}. The weights from before that step are kept; try a smaller batch or input size"
    ))
}

/// An epoch in progress ([`Trainer::begin_epoch`]): its batches and what its steps added up.
pub struct Epoch {
    /// Epoch number, from 1.
    pub number: usize,
    batches: Vec<Vec<usize>>,
    done: usize,
    loss_sum: f64,
    rng: SmallRng,
}

impl Epoch {
    /// Steps in the epoch.
    pub fn steps(&self) -> usize {
        self.batches.len()
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> usize {
        self.done
    }

    /// Whether every step is done ([`Trainer::end_epoch`] may follow).
    pub fn is_done(&self) -> bool {
        self.done == self.batches.len()
    }
}

/// A model being trained, its optimiser and history.
pub struct Trainer {
    model: Option<Model>,
    optim: ModuleOptimizer,
    /// Settings of the run.
    pub config: TrainConfig,
    /// Epochs finished.
    pub history: Vec<EpochRecord>,
    device: Device,
    /// Where each step's batch is spread: the main device first; empty for one.
    #[cfg(not(target_family = "wasm"))]
    devices: Vec<Device>,
}

const CHECKPOINT_MAGIC: &str = "lesionlab-checkpoint-1";

impl Trainer {
    /// Starts a run from `model` (fresh or pretrained); `device` must be an autodiff device.
    pub fn new(model: Model, config: TrainConfig, device: &Device) -> Result<Self, Error> {
        let arch = config.architecture();
        if arch != model.architecture() {
            return Err(Error::BadArgument(format!(
                "the settings are for {}, the model is {}",
                arch.display_name(),
                model.architecture().display_name()
            )));
        }
        config.validate()?;
        model.validate_input([1, 3, config.size, config.size])?;
        let inner = device.clone().without_autodiff();
        let device = inner.clone().autodiff();
        // `valid` then `train` gives fresh leaf parameters on the autodiff device, wherever the
        // model came from.
        let model = model.valid().to_device(&inner).train();
        let optim = config.optimizer.init();
        Ok(Self {
            model: Some(model),
            optim,
            config,
            history: Vec::new(),
            device,
            #[cfg(not(target_family = "wasm"))]
            devices: Vec::new(),
        })
    }

    /// Spreads every step's batch over `devices` (data parallel, [`devices`]); the first must
    /// be the run's own device, and the batch must give each device an image.
    #[cfg(not(target_family = "wasm"))]
    pub fn spread_over(&mut self, devices: &[Device]) -> Result<(), Error> {
        let main = self.device.clone().without_autodiff();
        match devices.first() {
            Some(first) if first.clone().without_autodiff() == main => {}
            _ => {
                return Err(Error::BadArgument(
                    "the first of the devices must be the one the run is on".into(),
                ));
            }
        }
        if devices.len() > self.config.batch_size {
            return Err(Error::BadArgument(format!(
                "{} devices need a batch of at least {} images, not {}",
                devices.len(),
                devices.len(),
                self.config.batch_size
            )));
        }
        self.devices = devices.iter().map(|d| d.clone().autodiff()).collect();
        Ok(())
    }

    /// The model as it is now.
    pub fn model(&self) -> &Model {
        self.model
            .as_ref()
            .expect("the model is only taken during a step")
    }

    /// The number of finished epochs.
    pub fn epochs_done(&self) -> usize {
        self.history.len()
    }

    /// Whether every epoch of the run is done.
    pub fn is_finished(&self) -> bool {
        self.history.len() >= self.config.epochs
    }

    /// Starts the next epoch: the training pairs in the epoch's seeded order, in batches. An
    /// epoch left unfinished is simply dropped; the next `begin_epoch` starts it afresh.
    pub fn begin_epoch(&self, train: &Dataset) -> Result<Epoch, Error> {
        if train.is_empty() {
            return Err(Error::BadArgument("no training images".into()));
        }
        if self.is_finished() {
            return Err(Error::BadArgument(format!(
                "all {} epochs of the run are done",
                self.config.epochs
            )));
        }
        let number = self.history.len() + 1;
        let mut rng = epoch_rng(self.config.seed, number);
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        Ok(Epoch {
            number,
            batches: order
                .chunks(self.config.batch_size)
                .map(<[usize]>::to_vec)
                .collect(),
            done: 0,
            loss_sum: 0.0,
            rng,
        })
    }

    /// One optimisation step on the epoch's next batch; returns its loss. On a non-finite loss
    /// or a device failure the model keeps the weights of before the step.
    pub async fn step(&mut self, epoch: &mut Epoch, train: &Dataset) -> Result<f64, Error> {
        let Some(batch) = epoch.batches.get(epoch.done) else {
            return Err(Error::BadArgument(format!(
                "epoch {} has no steps left",
                epoch.number
            )));
        };
        let aug = self
            .config
            .augmentation
            .as_ref()
            .map(|a| (a, &mut epoch.rng));
        let (x, y) = train.batch(batch, aug, &self.device);
        // The optimiser consumes the model and returns the updated one.
        let model = self.model.take().expect("model present between steps");
        #[cfg(not(target_family = "wasm"))]
        if self.devices.len() > 1 {
            let spread = devices::gradients(&model, self.config.loss(), x, y, &self.devices);
            return self.take_step(epoch, model, spread);
        }
        let loss = self.config.loss().loss(model.forward_heads(x), y);
        let value = match loss.clone().into_scalar_async::<f32>().await {
            Ok(v) => v as f64,
            Err(e) => {
                self.model = Some(model);
                return Err(device_failed(epoch.number, e));
            }
        };
        if !value.is_finite() {
            return self.take_step(epoch, model, Ok((value, GradientsParams::new())));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.take_step(epoch, model, Ok((value, grads)))
    }

    /// The optimiser's step with a batch's loss and gradients; on a failure or a non-finite
    /// loss, the model as it was.
    fn take_step(
        &mut self,
        epoch: &mut Epoch,
        model: Model,
        loss_and_grads: Result<(f64, GradientsParams), Error>,
    ) -> Result<f64, Error> {
        let (value, grads) = match loss_and_grads {
            Ok((value, _)) if !value.is_finite() => {
                self.model = Some(model);
                return Err(Error::NonFiniteLoss {
                    epoch: epoch.number,
                    step: epoch.done + 1,
                    value,
                });
            }
            Ok(ok) => ok,
            Err(e) => {
                self.model = Some(model);
                return Err(device_failed(epoch.number, e));
            }
        };
        let lr = self
            .config
            .learning_rate_at(epoch.number, epoch.done, epoch.steps());
        self.model = Some(self.optim.step(lr, model, grads));
        epoch.done += 1;
        epoch.loss_sum += value;
        Ok(value)
    }

    /// Validates on `val` (nothing when it is empty) and records the finished epoch.
    pub async fn end_epoch(&mut self, epoch: Epoch, val: &Dataset) -> Result<EpochRecord, Error> {
        if !epoch.is_done() {
            return Err(Error::BadArgument(format!(
                "epoch {} has {} of {} steps done",
                epoch.number,
                epoch.done,
                epoch.steps()
            )));
        }
        let (val_loss, scores) = if val.is_empty() {
            (None, None)
        } else {
            let batch = self.config.batch_size.max(4);
            let (l, s) = evaluate(self.model(), val, self.config.loss(), batch, &self.device)
                .await
                .map_err(|message| device_failed(epoch.number, message))?;
            (Some(l), s.mean())
        };
        let record = EpochRecord {
            epoch: epoch.number,
            train_loss: epoch.loss_sum / epoch.steps() as f64,
            val_loss,
            val_iou: scores.map(|s| s.jaccard),
            val_dice: scores.map(|s| s.dice),
            val_threshold_jaccard: scores.map(|s| s.threshold_jaccard),
        };
        self.history.push(record.clone());
        Ok(record)
    }

    /// One whole epoch, reporting each step and the validation to `progress`: the loop a
    /// caller with nothing to do between steps runs over until [`Trainer::is_finished`].
    /// `Ok(None)` when `progress` stopped it; the unfinished epoch is dropped.
    pub async fn train_epoch(
        &mut self,
        train: &Dataset,
        val: &Dataset,
        progress: &mut dyn FnMut(&Progress) -> Flow,
    ) -> Result<Option<EpochRecord>, Error> {
        let mut epoch = self.begin_epoch(train)?;
        while !epoch.is_done() {
            let loss = self.step(&mut epoch, train).await?;
            let report = Progress::Step {
                epoch: epoch.number,
                step: epoch.done,
                steps: epoch.steps(),
                loss,
            };
            if progress(&report) == Flow::Stop {
                return Ok(None);
            }
        }
        if progress(&Progress::Validating {
            epoch: epoch.number,
        }) == Flow::Stop
        {
            return Ok(None);
        }
        let record = self.end_epoch(epoch, val).await?;
        progress(&Progress::Epoch(record.clone()));
        Ok(Some(record))
    }

    /// Everything needed to resume: weights with their parameter ids, optimiser state, settings
    /// and history, as one zip archive.
    pub fn checkpoint(&self) -> Result<Vec<u8>, Error> {
        self.write_checkpoint(&self.model().valid(), true)
    }

    /// [`Trainer::checkpoint`] for devices that only read back asynchronously (WebGPU): the
    /// weights are read in one transaction onto `cpu`. Burn reads optimiser state synchronously
    /// only, so without `with_optimizer` Adam's moments are left out and start again on resume.
    pub async fn checkpoint_async(
        &self,
        cpu: &Device,
        with_optimizer: bool,
    ) -> Result<Vec<u8>, Error> {
        let cpu = crate::model::readback::copy_to(self.model(), cpu).await?;
        self.write_checkpoint(&cpu, with_optimizer)
    }

    fn write_checkpoint(&self, model: &Model, with_optimizer: bool) -> Result<Vec<u8>, Error> {
        let fail = |e: String| Error::Io {
            path: "the checkpoint".into(),
            message: format!("cannot be written: {e}"),
        };
        let weights = model
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| fail(e.to_string()))?;
        let state = serde_json::json!({
            "format": CHECKPOINT_MAGIC,
            "architecture": model.architecture().name(),
            "config": self.config,
            "history": self.history,
        });
        let mut files = vec![
            (
                "state.json",
                serde_json::to_vec_pretty(&state).expect("serialisable"),
            ),
            ("model.bpk", weights.to_vec()),
            ("weights.safetensors", crate::weights::save(model)?),
        ];
        if with_optimizer {
            files.push((
                "optimizer.bpk",
                self.optim
                    .into_bytes()
                    .map_err(|e| fail(e.to_string()))?
                    .to_vec(),
            ));
        }
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in files {
            zip.start_file(name, options)
                .map_err(|e| fail(e.to_string()))?;
            zip.write_all(&bytes).map_err(|e| fail(e.to_string()))?;
        }
        Ok(zip.finish().map_err(|e| fail(e.to_string()))?.into_inner())
    }

    /// Restores a run from [`Trainer::checkpoint`] bytes onto `device`.
    pub fn resume(bytes: &[u8], source: &str, device: &Device) -> Result<Self, Error> {
        let bad = |m: String| Error::UnsupportedFormat {
            file: source.into(),
            message: m,
        };
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| bad(format!("not a LesionLab checkpoint ({e})")))?;
        let mut read = |name: &str| -> Result<Vec<u8>, Error> {
            let mut f = zip
                .by_name(name)
                .map_err(|_| bad(format!("not a LesionLab checkpoint (no {name})")))?;
            let mut out = Vec::new();
            f.read_to_end(&mut out).map_err(|e| bad(e.to_string()))?;
            Ok(out)
        };
        let state: serde_json::Value =
            serde_json::from_slice(&read("state.json")?).map_err(|e| bad(e.to_string()))?;
        if state["format"] != CHECKPOINT_MAGIC {
            return Err(bad("not a LesionLab checkpoint".into()));
        }
        let config = TrainConfig::from_saved(state["config"].clone()).map_err(bad)?;
        let history: Vec<EpochRecord> =
            serde_json::from_value(state["history"].clone()).map_err(|e| bad(e.to_string()))?;
        let arch = config.architecture();
        let inner = device.clone().without_autodiff();
        let device = inner.clone().autodiff();
        // Widths come from the weights; the record then restores values and parameter ids, which
        // the optimiser state is keyed by.
        let template = crate::weights::load(read("weights.safetensors")?, arch, source, &inner)?;
        let record =
            ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(read("model.bpk")?))
                .map_err(|e| bad(e.to_string()))?;
        // The record's tensors come back on Burn's default device: the model is moved to the
        // run's own (ids kept) before it trains.
        let model = template
            .try_load_record(record)
            .map_err(|e| bad(e.to_string()))?
            .to_device(&inner);
        // A checkpoint written from WebGPU may hold no optimiser state (see `checkpoint_async`).
        let optim = match read("optimizer.bpk") {
            Ok(bytes) => config
                .optimizer
                .init()
                .from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
                .map_err(|e| bad(e.to_string()))?,
            Err(_) => config.optimizer.init(),
        };
        Ok(Self {
            model: Some(model.train()),
            optim,
            config,
            history,
            device,
            #[cfg(not(target_family = "wasm"))]
            devices: Vec::new(),
        })
    }
}

/// Mean loss (eval mode) and per-image ISIC scores at the data's resolution, of the
/// prediction in the default mode ([`InferenceMode::DEFAULT`]: U-Net++'s deepest head), the
/// one the CLI and the page show.
pub async fn evaluate(
    model: &Model,
    data: &Dataset,
    loss: LossKind,
    batch_size: usize,
    device: &Device,
) -> Result<(f64, MeanScores), String> {
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let mut scores = MeanScores::default();
    let mut total = 0.0;
    let indices: Vec<usize> = (0..data.len()).collect();
    for batch in indices.chunks(batch_size.max(1)) {
        let (x, y) = data.batch(batch, None, &device);
        let heads = model.forward_heads(x);
        let prob = sigmoid(InferenceMode::DEFAULT.from_heads(heads.clone()));
        total += loss
            .loss(heads, y.clone())
            .into_scalar_async::<f32>()
            .await
            .map_err(|e| e.to_string())? as f64
            * batch.len() as f64;
        let p = prob
            .into_data_async()
            .await
            .map_err(|e| e.to_string())?
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let t = y
            .into_data_async()
            .await
            .map_err(|e| e.to_string())?
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let per = p.len() / batch.len();
        for i in 0..batch.len() {
            let pred: Vec<bool> = p[i * per..(i + 1) * per]
                .iter()
                .map(|&v| crate::rules::is_lesion(v, crate::rules::THRESHOLD))
                .collect();
            let truth: Vec<bool> = t[i * per..(i + 1) * per].iter().map(|&v| v > 0.5).collect();
            scores.add(Confusion::from_masks(&pred, &truth));
        }
    }
    Ok((total / data.len().max(1) as f64, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_records_read_in_both_names_and_write_in_the_js_ones() {
        let old = r#"{"epoch":2,"train_loss":0.5,"val_loss":0.4,"val_iou":0.7,"val_dice":0.8}"#;
        let r: EpochRecord = serde_json::from_str(old).unwrap();
        assert_eq!(
            (r.epoch, r.val_iou, r.val_threshold_jaccard),
            (2, Some(0.7), None)
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.contains(r#""trainLoss":0.5"#) && json.contains(r#""valIoU":0.7"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<EpochRecord>(&json).unwrap(), r);
        let step = Progress::Step {
            epoch: 1,
            step: 2,
            steps: 3,
            loss: 0.25,
        };
        let json = serde_json::to_string(&step).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"step","epoch":1,"step":2,"steps":3,"loss":0.25}"#
        );
        let epoch = serde_json::to_string(&Progress::Epoch(r)).unwrap();
        assert!(
            epoch.starts_with(r#"{"kind":"epoch","epoch":2,"trainLoss""#),
            "{epoch}"
        );
    }
}
