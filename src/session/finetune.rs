//! Fine-tuning a session's model on the user's own pairs, through the crate's training loop.
//!
//! The caller drives it: add each pair's bytes ([`FineTune::add_pair`]), [`FineTune::start`],
//! then [`FineTune::run_epoch`] one epoch at a time, keeping [`FineTune::checkpoint`] and
//! [`FineTune::dataset_bytes`] in between (the page stores them in IndexedDB).

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::Session;
use crate::data::input_tensor;
use crate::data::{Dataset, Sample, Skipped, decode_pair, resized_sample, split_by_id};
use crate::predict::probability;
use crate::rules::{THRESHOLD, is_lesion};
use crate::train::{FineTuneSettings, Progress, TrainConfig, Trainer, evaluate};
use crate::{Error, InferenceMode, Model};

/// Scores of the starting weights, to compare the fine-tuned ones with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scores {
    /// Mean loss on (up to 64) training pairs.
    pub train_loss: f64,
    /// Mean loss on the validation pairs, if any.
    pub val_loss: Option<f64>,
    /// Mean per-image Jaccard on the validation pairs.
    #[serde(rename = "valIoU")]
    pub val_iou: Option<f64>,
    /// Mean per-image Dice on the validation pairs.
    pub val_dice: Option<f64>,
}

/// [`FineTune::start`]'s answer.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Started {
    /// Training pairs.
    pub train: usize,
    /// Validation pairs.
    pub val: usize,
    /// The starting weights' scores.
    pub before: Scores,
}

/// How [`FineTune::run_epoch`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochOutcome {
    /// An epoch finished and more remain.
    Epoch,
    /// The last epoch finished.
    Finished,
    /// The caller cancelled; the unfinished epoch is dropped.
    Cancelled,
}

impl EpochOutcome {
    /// `epoch`, `finished` or `cancelled`, as the JS API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            EpochOutcome::Epoch => "epoch",
            EpochOutcome::Finished => "finished",
            EpochOutcome::Cancelled => "cancelled",
        }
    }
}

/// A validation pair with the starting and the fine-tuned prediction ([`FineTune::preview`]);
/// every mask is 0/255, `size x size`.
#[derive(Debug, Clone)]
pub struct PreviewPair {
    /// The pair's id.
    pub id: String,
    /// Side of the square.
    pub size: u32,
    /// The photo as RGBA.
    pub rgba: Vec<u8>,
    /// The expert mask.
    pub truth: Vec<u8>,
    /// The starting weights' mask (none after a restore from a saved run).
    pub before: Option<Vec<u8>>,
    /// The fine-tuned weights' mask.
    pub after: Vec<u8>,
}

#[derive(Default)]
struct State {
    samples: Vec<Sample>,
    trainer: Option<Trainer>,
    train: Dataset,
    val: Dataset,
    start_model: Option<Model>,
    before: Option<Scores>,
}

/// A fine-tuning run of one session's model.
pub struct FineTune {
    session: Rc<Session>,
    config: TrainConfig,
    state: RefCell<State>,
}

/// Training pairs the starting loss is measured on: enough for a stable mean, few enough that a
/// large set does not wait minutes before its first step.
const BEFORE_TRAIN_PAIRS: usize = 64;

impl FineTune {
    /// A new run of `session`'s current model with `settings`, checked against
    /// [`crate::train::fine_tune_limits`].
    pub fn new(session: Rc<Session>, settings: &FineTuneSettings) -> Result<Self, Error> {
        let config = settings.to_config(session.architecture())?;
        Ok(FineTune {
            session,
            config,
            state: RefCell::default(),
        })
    }

    /// Restores a run from a checkpoint and its dataset bytes onto `session`'s device; `before`
    /// are the starting scores saved with it. The session's model is the starting model of the
    /// before/after comparison.
    pub fn restore(
        session: Rc<Session>,
        checkpoint: &[u8],
        dataset: &[u8],
        before: Option<Scores>,
    ) -> Result<Self, Error> {
        let trainer = Trainer::resume(checkpoint, "the saved run", session.device())?;
        let arch = session.architecture();
        if trainer.model().architecture() != arch {
            return Err(Error::BadArgument(format!(
                "the saved run trains {}, this session runs {}",
                trainer.model().architecture().display_name(),
                arch.display_name()
            )));
        }
        let data = Dataset::from_bytes(dataset, "the saved run's data")?;
        let config = trainer.config.clone();
        let (train, val) = split_by_id(data.samples, config.val_fraction, config.seed);
        let state = State {
            samples: Vec::new(),
            start_model: Some(session.model_for(None)?),
            before,
            trainer: Some(trainer),
            train,
            val,
        };
        Ok(FineTune {
            session,
            config,
            state: RefCell::new(state),
        })
    }

    /// The run's settings, in the JS API's names.
    pub fn settings(&self) -> FineTuneSettings {
        FineTuneSettings::of(&self.config)
    }

    /// Decodes one pair, checks it and keeps it resized; `Some` names the file left out and why.
    pub fn add_pair(
        &self,
        id: &str,
        image_name: &str,
        image: &[u8],
        mask_name: &str,
        mask: &[u8],
    ) -> Option<Skipped> {
        match decode_pair(image_name, image, mask_name, mask) {
            Ok((image, mask)) => {
                let sample = resized_sample(id, &image, &mask, self.config.size as u32);
                self.state.borrow_mut().samples.push(sample);
                None
            }
            Err(e) => Some(Skipped::because(&e)),
        }
    }

    /// Adds the pairs of [`FineTune::dataset_bytes`] (a saved run that had no checkpoint yet).
    pub fn add_dataset(&self, bytes: &[u8]) -> Result<(), Error> {
        let data = Dataset::from_bytes(bytes, "the saved run's data")?;
        self.state.borrow_mut().samples.extend(data.samples);
        Ok(())
    }

    /// Pairs kept so far.
    pub fn count(&self) -> usize {
        self.state.borrow().samples.len()
    }

    /// The prepared pairs as bytes, stored with the checkpoint so that a resumed run needs no
    /// file again. Empty once [`FineTune::start`] has taken the pairs.
    pub fn dataset_bytes(&self) -> Vec<u8> {
        Dataset {
            samples: self.state.borrow().samples.clone(),
        }
        .to_bytes()
    }

    /// Splits the pairs, scores the starting weights on the validation pairs and prepares the
    /// trainer.
    pub async fn start(&self) -> Result<Started, Error> {
        // The pairs move into the split: call `dataset_bytes` before `start`.
        let samples = std::mem::take(&mut self.state.borrow_mut().samples);
        if samples.is_empty() {
            return Err(Error::BadArgument(
                "no usable image/mask pair: nothing to train on".into(),
            ));
        }
        let (train, val) = split_by_id(samples, self.config.val_fraction, self.config.seed);
        if train.is_empty() {
            return Err(Error::BadArgument(
                "every pair went to validation: lower the validation fraction or add pairs".into(),
            ));
        }
        let device = self.session.device();
        let model = self.session.model_for(None)?;
        let before = score(&model, &train, &val, &self.config, device).await?;
        let trainer = Trainer::new(model.clone(), self.config.clone(), device)?;
        let started = Started {
            train: train.len(),
            val: val.len(),
            before,
        };
        let mut s = self.state.borrow_mut();
        s.train = train;
        s.val = val;
        s.start_model = Some(model);
        s.before = Some(before);
        s.trainer = Some(trainer);
        Ok(started)
    }

    /// Trains to the end of the current epoch. Each step, the validation and the finished
    /// epoch go to `on_progress` (true cancels); after each step `between_steps` is awaited
    /// (where the page's event loop runs, so pause and cancel arrive; true cancels). On a NaN
    /// loss or a device failure the error comes back and the weights of the last good step stay.
    pub async fn run_epoch(
        &self,
        on_progress: &mut dyn FnMut(&Progress) -> bool,
        between_steps: &mut impl AsyncFnMut() -> bool,
    ) -> Result<EpochOutcome, Error> {
        let (mut trainer, train, val) = {
            let mut s = self.state.borrow_mut();
            let trainer = s.trainer.take().ok_or_else(not_started)?;
            (
                trainer,
                std::mem::take(&mut s.train),
                std::mem::take(&mut s.val),
            )
        };
        let outcome = epoch(&mut trainer, &train, &val, on_progress, between_steps).await;
        let mut s = self.state.borrow_mut();
        s.trainer = Some(trainer);
        s.train = train;
        s.val = val;
        outcome
    }

    /// The epochs finished so far.
    pub fn history(&self) -> Vec<crate::train::EpochRecord> {
        let s = self.state.borrow();
        s.trainer
            .as_ref()
            .map(|t| t.history.clone())
            .unwrap_or_default()
    }

    /// The starting weights' scores, once known.
    pub fn before(&self) -> Option<Scores> {
        self.state.borrow().before
    }

    /// Everything to resume the run (weights, optimiser state, settings, history), as bytes.
    /// On WebGPU the parameters are read back asynchronously first.
    pub async fn checkpoint(&self) -> Result<Vec<u8>, Error> {
        let trainer = self
            .state
            .borrow_mut()
            .trainer
            .take()
            .ok_or_else(not_started)?;
        // Burn reads optimiser state synchronously only, which WebGPU forbids: there the
        // checkpoint keeps weights, settings and history, and Adam restarts on resume.
        let with_optimizer = self.session.backend().reads_synchronously();
        let bytes = trainer
            .checkpoint_async(
                &crate::model::readback::host(self.session.device()),
                with_optimizer,
            )
            .await;
        self.state.borrow_mut().trainer = Some(trainer);
        bytes
    }

    /// Makes the session segment with the fine-tuned weights.
    pub fn apply(&self) -> Result<(), Error> {
        let s = self.state.borrow();
        let trainer = s.trainer.as_ref().ok_or_else(not_started)?;
        self.session.set_model(trainer.model().valid());
        Ok(())
    }

    /// Up to `n` validation pairs (training pairs when there are none) with the starting and
    /// the fine-tuned prediction.
    pub async fn preview(&self, n: usize) -> Result<Vec<PreviewPair>, Error> {
        let (samples, start, now) = {
            let s = self.state.borrow();
            let trainer = s.trainer.as_ref().ok_or_else(not_started)?;
            let source = if s.val.is_empty() { &s.train } else { &s.val };
            let samples: Vec<Sample> = source.samples.iter().take(n).cloned().collect();
            (samples, s.start_model.clone(), trainer.model().valid())
        };
        let device = self.session.device();
        let mut out = Vec::with_capacity(samples.len());
        for sample in samples {
            let size = sample.image.width();
            let mask_of = async |model: &Model| -> Result<Vec<u8>, Error> {
                let x = input_tensor(&sample.image, size, device);
                let p = probability(model, x, InferenceMode::DEFAULT, false).await?;
                Ok(p.iter()
                    .map(|&v| if is_lesion(v, THRESHOLD) { 255 } else { 0 })
                    .collect())
            };
            let before = match &start {
                Some(model) => Some(mask_of(model).await?),
                None => None,
            };
            let after = mask_of(&now).await?;
            out.push(PreviewPair {
                id: sample.id.clone(),
                size,
                rgba: sample
                    .image
                    .pixels()
                    .flat_map(|p| [p.0[0], p.0[1], p.0[2], 255])
                    .collect(),
                truth: sample
                    .mask
                    .pixels()
                    .map(|p| if p.0[0] > 0 { 255 } else { 0 })
                    .collect(),
                before,
                after,
            });
        }
        Ok(out)
    }
}

fn not_started() -> Error {
    Error::BadArgument("the run is not started (call start or restore)".into())
}

/// One epoch, step by step (see [`FineTune::run_epoch`]).
async fn epoch(
    trainer: &mut Trainer,
    train: &Dataset,
    val: &Dataset,
    on_progress: &mut dyn FnMut(&Progress) -> bool,
    between_steps: &mut impl AsyncFnMut() -> bool,
) -> Result<EpochOutcome, Error> {
    let mut epoch = trainer.begin_epoch(train)?;
    while !epoch.is_done() {
        let loss = trainer.step(&mut epoch, train).await?;
        let step = Progress::Step {
            epoch: epoch.number,
            step: epoch.steps_done(),
            steps: epoch.steps(),
            loss,
        };
        if on_progress(&step) || between_steps().await {
            return Ok(EpochOutcome::Cancelled);
        }
    }
    if on_progress(&Progress::Validating {
        epoch: epoch.number,
    }) {
        return Ok(EpochOutcome::Cancelled);
    }
    let record = trainer.end_epoch(epoch, val).await?;
    on_progress(&Progress::Epoch(record));
    Ok(if trainer.is_finished() {
        EpochOutcome::Finished
    } else {
        EpochOutcome::Epoch
    })
}

async fn score(
    model: &Model,
    train: &Dataset,
    val: &Dataset,
    config: &TrainConfig,
    device: &Device,
) -> Result<Scores, Error> {
    let loss = config.loss();
    let batch = config.batch_size.max(4);
    let head = Dataset {
        samples: train
            .samples
            .iter()
            .take(BEFORE_TRAIN_PAIRS)
            .cloned()
            .collect(),
    };
    let (train_loss, _) = evaluate(model, &head, loss, batch, device)
        .await
        .map_err(Error::Device)?;
    let (val_loss, val_scores) = if val.is_empty() {
        (None, None)
    } else {
        let (l, s) = evaluate(model, val, loss, batch, device)
            .await
            .map_err(Error::Device)?;
        (Some(l), s.mean())
    };
    Ok(Scores {
        train_loss,
        val_loss,
        val_iou: val_scores.map(|s| s.jaccard),
        val_dice: val_scores.map(|s| s.dice),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Architecture;
    use crate::session::Backend;

    const FIXTURE: &str = "tests/data/isic-fixture";

    /// A session of a narrow, freshly initialised U-Net (no test depends on the shipped weights).
    fn session() -> Rc<Session> {
        let device = Device::flex();
        let model = crate::model::UNetConfig::new([4, 4, 8, 8, 8]).init(&device);
        let bytes = crate::weights::save(&Model::UNet(model)).unwrap();
        let s = Session::new(
            Architecture::UNet,
            Backend::Cpu,
            Device::flex(),
            bytes,
            "unet",
            None,
        );
        Rc::new(s.unwrap())
    }

    fn add_fixture(ft: &FineTune, n: usize) {
        let read =
            |dir: &str, name: &str| std::fs::read(format!("{FIXTURE}/{dir}/{name}")).unwrap();
        for id in ["0000122", "0000123", "0000124", "0000125", "0000126"]
            .iter()
            .take(n)
        {
            let (image, mask) = (
                format!("ISIC_{id}.jpg"),
                format!("ISIC_{id}_segmentation.png"),
            );
            let skipped = ft.add_pair(
                &format!("ISIC_{id}"),
                &image,
                &read("ISIC2018_Task1-2_Training_Input", &image),
                &mask,
                &read("ISIC2018_Task1_Training_GroundTruth", &mask),
            );
            assert!(skipped.is_none(), "{skipped:?}");
        }
    }

    #[test]
    fn settings_are_checked_and_bad_pairs_are_named() {
        let s = session();
        let bad = FineTuneSettings {
            epochs: 0,
            ..FineTuneSettings::default()
        };
        let e = FineTune::new(s.clone(), &bad).err().unwrap();
        assert!(e.to_string().contains("epochs"), "{e}");
        let ft = FineTune::new(s, &FineTuneSettings::default()).unwrap();
        assert_eq!(ft.settings(), FineTuneSettings::default());
        let skipped = ft.add_pair("x", "x.jpg", b"not a jpeg", "x_mask.png", b"nor a png");
        assert_eq!(skipped.unwrap().file, "x.jpg");
        assert_eq!(ft.count(), 0);
        assert!(
            pollster::block_on(ft.start()).is_err(),
            "nothing to train on"
        );
        assert!(ft.apply().is_err(), "not started");
    }

    #[test]
    fn an_epoch_runs_cancels_checkpoints_and_restores() {
        let s = session();
        let settings = FineTuneSettings {
            epochs: 2,
            batch_size: 2,
            size: 64,
            val_fraction: 0.4,
            ..FineTuneSettings::default()
        };
        let ft = FineTune::new(s.clone(), &settings).unwrap();
        add_fixture(&ft, 5);
        assert_eq!(ft.count(), 5);
        let dataset = ft.dataset_bytes();
        let started = pollster::block_on(ft.start()).unwrap();
        assert_eq!(started.train + started.val, 5);
        assert!(started.before.val_iou.is_some() && ft.before() == Some(started.before));

        // Cancelled after the first step: nothing recorded.
        let mut steps = 0;
        let mut cancel = async || true;
        let outcome = pollster::block_on(ft.run_epoch(
            &mut |p| {
                steps += matches!(p, Progress::Step { .. }) as usize;
                false
            },
            &mut cancel,
        ));
        assert_eq!((outcome.unwrap(), steps), (EpochOutcome::Cancelled, 1));
        assert!(ft.history().is_empty());

        let mut kinds = Vec::new();
        let mut go_on = async || false;
        let outcome = pollster::block_on(ft.run_epoch(
            &mut |p| {
                kinds.push(serde_json::to_value(p).unwrap()["kind"].clone());
                false
            },
            &mut go_on,
        ));
        assert_eq!(outcome.unwrap(), EpochOutcome::Epoch);
        assert_eq!(kinds.last().unwrap(), "epoch");
        assert_eq!(ft.history().len(), 1);

        let preview = pollster::block_on(ft.preview(2)).unwrap();
        assert_eq!(preview.len(), 2);
        assert!(preview.iter().all(|p| p.rgba.len() == 64 * 64 * 4
            && p.after.len() == 64 * 64
            && p.before.is_some()));

        let checkpoint = pollster::block_on(ft.checkpoint()).unwrap();
        let back = FineTune::restore(s.clone(), &checkpoint, &dataset, ft.before()).unwrap();
        assert_eq!(back.settings(), settings);
        let (a, b) = (&back.history()[0], &ft.history()[0]);
        assert!(a.epoch == b.epoch && (a.train_loss - b.train_loss).abs() < 1e-12);
        let outcome = pollster::block_on(back.run_epoch(&mut |_| false, &mut go_on));
        assert_eq!(outcome.unwrap(), EpochOutcome::Finished);
        back.apply().unwrap();
    }
}
