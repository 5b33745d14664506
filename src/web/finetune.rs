//! Fine-tuning a session's model on the user's own pairs, through the crate's training loop.
//!
//! The worker drives it: pair the file names ([`pair_names`]), add each pair's bytes
//! ([`FineTune::add_pair`]), [`FineTune::start`], then [`FineTune::run`] one epoch at a time,
//! storing [`FineTune::checkpoint`] and [`FineTune::dataset_bytes`] in IndexedDB in between.

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;
use js_sys::{Function, Object, Promise, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::epoch::run_epoch;
use super::session::{Inner, Session};
use super::{bad_argument, set, to_js};
use crate::data::{Dataset, Sample, decode_pair, pair_files, resized_sample, split_by_id};
use crate::rules::{FineTuneSettings, THRESHOLD};
use crate::segment::predict_input;
use crate::train::{TrainConfig, Trainer, evaluate};
use crate::{Error, InferenceMode, Model};

/// Pairs file names by ISIC id with the native loader's rules. Returns
/// `{ pairs: [[id, image, mask]], skipped: [{ file, reason }] }`.
#[wasm_bindgen(js_name = pairNames)]
pub fn pair_names(names: Vec<String>) -> Result<JsValue, JsValue> {
    let pairing = pair_files(&names);
    #[derive(Serialize)]
    struct Out<'a> {
        pairs: &'a [(String, String, String)],
        skipped: &'a [crate::data::Skipped],
    }
    to_js(&Out {
        pairs: &pairing.pairs,
        skipped: &pairing.skipped,
    })
}

/// Validation scores of the starting weights.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Scores {
    train_loss: f64,
    val_loss: Option<f64>,
    #[serde(rename = "valIoU")]
    val_iou: Option<f64>,
    val_dice: Option<f64>,
}

#[derive(Default)]
struct State {
    config: Option<TrainConfig>,
    samples: Vec<Sample>,
    trainer: Option<Trainer>,
    train: Dataset,
    val: Dataset,
    start_model: Option<Model>,
    before: Option<Scores>,
}

/// A fine-tuning run of one session's model.
#[wasm_bindgen]
pub struct FineTune {
    session: Rc<Inner>,
    state: Rc<RefCell<State>>,
}

impl FineTune {
    fn config(&self) -> Result<TrainConfig, JsValue> {
        self.state
            .borrow()
            .config
            .clone()
            .ok_or_else(|| bad_argument("no settings"))
    }
}

fn config_from(settings: &str, session: &Inner) -> Result<TrainConfig, Error> {
    let settings: FineTuneSettings = serde_json::from_str(settings)
        .map_err(|e| Error::BadArgument(format!("fine-tuning settings: {e}")))?;
    settings.to_config(session.model.borrow().architecture())
}

#[wasm_bindgen]
impl FineTune {
    /// A new run of `session`'s current model with `settings` (JSON: epochs, batchSize, lr,
    /// size, valFraction, augment, seed).
    #[wasm_bindgen(constructor)]
    pub fn new(session: &Session, settings: String) -> Result<FineTune, JsValue> {
        let inner = session.inner();
        let config = config_from(&settings, &inner)?;
        let state = State {
            config: Some(config),
            ..State::default()
        };
        Ok(FineTune {
            session: inner,
            state: Rc::new(RefCell::new(state)),
        })
    }

    /// Decodes one pair, checks it and keeps it resized. Returns `null`, or
    /// `{ file, reason }` when the pair is skipped.
    #[wasm_bindgen(js_name = addPair)]
    pub fn add_pair(
        &self,
        id: String,
        image_name: String,
        image: Vec<u8>,
        mask_name: String,
        mask: Vec<u8>,
    ) -> Result<JsValue, JsValue> {
        let size = self.config()?.size as u32;
        match decode_pair(&image_name, &image, &mask_name, &mask) {
            Ok((image, mask)) => {
                self.state
                    .borrow_mut()
                    .samples
                    .push(resized_sample(&id, &image, &mask, size));
                Ok(JsValue::NULL)
            }
            Err(e) => to_js(&crate::data::Skipped::because(&e)),
        }
    }

    /// Adds the pairs of [`FineTune::dataset_bytes`] (a saved run that had no checkpoint yet).
    #[wasm_bindgen(js_name = addDataset)]
    pub fn add_dataset(&self, bytes: Vec<u8>) -> Result<(), JsValue> {
        let data = Dataset::from_bytes(&bytes, "the saved run's data")?;
        self.state.borrow_mut().samples.extend(data.samples);
        Ok(())
    }

    /// Pairs kept so far.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> u32 {
        self.state.borrow().samples.len() as u32
    }

    /// The prepared pairs as bytes, stored with the checkpoint so that a resumed run needs no
    /// file again. Empty once [`FineTune::start`] has taken the pairs.
    #[wasm_bindgen(js_name = datasetBytes)]
    pub fn dataset_bytes(&self) -> Vec<u8> {
        Dataset {
            samples: self.state.borrow().samples.clone(),
        }
        .to_bytes()
    }

    /// The settings as the crate stores them (JSON).
    #[wasm_bindgen(getter)]
    pub fn settings(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.config()?).map_err(|e| bad_argument(e.to_string()))
    }

    /// Splits the pairs, scores the starting weights on the validation pairs and prepares the
    /// trainer. Resolves to `{ train, val, before: { trainLoss, valLoss, valIoU, valDice } }`.
    pub fn start(&self) -> Promise {
        let (session, state) = (self.session.clone(), self.state.clone());
        future_to_promise(async move {
            let config = state
                .borrow()
                .config
                .clone()
                .ok_or_else(|| bad_argument("no settings"))?;
            // The pairs move into the split: call `dataset_bytes` before `start`.
            let samples = std::mem::take(&mut state.borrow_mut().samples);
            if samples.is_empty() {
                return Err(bad_argument(
                    "no usable image/mask pair: nothing to train on",
                ));
            }
            let (train, val) = split_by_id(samples, config.val_fraction, config.seed);
            if train.is_empty() {
                return Err(bad_argument(
                    "every pair went to validation: lower the validation fraction or add pairs",
                ));
            }
            let model = session.model.borrow().clone();
            let before = score(&model, &train, &val, &config, &session.device).await?;
            let trainer = Trainer::new(model.clone(), config, &session.device)?;
            let out = Object::new();
            set(&out, "train", &JsValue::from(train.len() as u32))?;
            set(&out, "val", &JsValue::from(val.len() as u32))?;
            set(&out, "before", &to_js(&before)?)?;
            let mut s = state.borrow_mut();
            s.train = train;
            s.val = val;
            s.start_model = Some(model);
            s.before = Some(before);
            s.trainer = Some(trainer);
            Ok(out.into())
        })
    }

    /// Restores a run from a checkpoint and its dataset bytes, onto `session`'s device.
    /// `before` is the JSON of the starting scores saved with it. The session's model is the
    /// starting model of the before/after comparison.
    pub fn restore(
        session: &Session,
        checkpoint: Vec<u8>,
        dataset: Vec<u8>,
        before: String,
    ) -> Result<FineTune, JsValue> {
        let inner = session.inner();
        let trainer = Trainer::resume(&checkpoint, "the saved run", &inner.device)?;
        if trainer.model().architecture() != inner.model.borrow().architecture() {
            return Err(bad_argument(format!(
                "the saved run trains {}, this session runs {}",
                trainer.model().architecture().display_name(),
                inner.model.borrow().architecture().display_name()
            )));
        }
        let data = Dataset::from_bytes(&dataset, "the saved run's data")?;
        let config = trainer.config.clone();
        let (train, val) = split_by_id(data.samples, config.val_fraction, config.seed);
        let state = State {
            config: Some(config),
            samples: Vec::new(),
            start_model: Some(inner.model.borrow().clone()),
            before: serde_json::from_str(&before).ok(),
            trainer: Some(trainer),
            train,
            val,
        };
        Ok(FineTune {
            session: inner,
            state: Rc::new(RefCell::new(state)),
        })
    }

    /// Trains to the end of the current epoch. `on_progress(p)` gets
    /// `{ kind: 'step', epoch, step, steps, loss }`, `{ kind: 'validating', epoch }` and
    /// `{ kind: 'epoch', epoch, trainLoss, valLoss, valIoU, valDice }`; a truthy return cancels.
    /// `between_steps()` returns a Promise of a boolean (true cancels): the worker pauses there.
    /// Resolves to `'epoch'`, `'finished'` or `'cancelled'`; rejects with the reason of a NaN
    /// loss or a device failure, the weights of the last good step kept.
    pub fn run(&self, on_progress: Function, between_steps: Function) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let (mut trainer, train, val) = {
                let mut s = state.borrow_mut();
                let trainer = s.trainer.take().ok_or_else(|| {
                    bad_argument("the run is not started (call start or restore)")
                })?;
                (
                    trainer,
                    std::mem::take(&mut s.train),
                    std::mem::take(&mut s.val),
                )
            };
            let result = run_epoch(&mut trainer, &train, &val, &on_progress, &between_steps).await;
            {
                let mut s = state.borrow_mut();
                s.trainer = Some(trainer);
                s.train = train;
                s.val = val;
            }
            Ok(JsValue::from_str(result?))
        })
    }

    /// The epochs finished so far: `[{ epoch, trainLoss, valLoss, valIoU, valDice }]`.
    pub fn history(&self) -> Result<JsValue, JsValue> {
        let s = self.state.borrow();
        to_js(
            &s.trainer
                .as_ref()
                .map(|t| t.history.clone())
                .unwrap_or_default(),
        )
    }

    /// The starting weights' scores (`{ trainLoss, valLoss, valIoU, valDice }`), or null.
    #[wasm_bindgen(getter)]
    pub fn before(&self) -> Result<JsValue, JsValue> {
        match self.state.borrow().before {
            Some(b) => to_js(&b),
            None => Ok(JsValue::NULL),
        }
    }

    /// Everything to resume the run (weights, optimiser state, settings, history), as bytes.
    /// On WebGPU the parameters are read back asynchronously first.
    pub fn checkpoint(&self) -> Promise {
        let (session, state) = (self.session.clone(), self.state.clone());
        future_to_promise(async move {
            let trainer = state
                .borrow_mut()
                .trainer
                .take()
                .ok_or_else(|| bad_argument("the run is not started"))?;
            // Burn reads optimiser state synchronously only, which WebGPU forbids: there the
            // checkpoint keeps weights, settings and history, and Adam restarts on resume.
            let bytes = trainer
                .checkpoint_async(&Device::flex(), session.backend == "cpu")
                .await;
            state.borrow_mut().trainer = Some(trainer);
            Ok(Uint8Array::from(&bytes?[..]).into())
        })
    }

    /// Makes the session segment with the fine-tuned weights.
    pub fn apply(&self) -> Result<(), JsValue> {
        let s = self.state.borrow();
        let trainer = s
            .trainer
            .as_ref()
            .ok_or_else(|| bad_argument("the run is not started"))?;
        self.session.set_model(trainer.model().valid());
        Ok(())
    }

    /// Up to `n` validation pairs with the starting and the fine-tuned prediction:
    /// `[{ id, size, rgba, truth, before, after }]` (masks 0/255, `size x size`).
    pub fn preview(&self, n: u32) -> Promise {
        let (session, state) = (self.session.clone(), self.state.clone());
        future_to_promise(async move {
            let (samples, start, now) = {
                let s = state.borrow();
                let trainer = s
                    .trainer
                    .as_ref()
                    .ok_or_else(|| bad_argument("the run is not started"))?;
                let source = if s.val.is_empty() { &s.train } else { &s.val };
                let samples: Vec<Sample> =
                    source.samples.iter().take(n as usize).cloned().collect();
                (samples, s.start_model.clone(), trainer.model().valid())
            };
            let out = js_sys::Array::new();
            for sample in samples {
                let size = sample.image.width();
                let item = Object::new();
                set(&item, "id", &JsValue::from_str(&sample.id))?;
                set(&item, "size", &JsValue::from(size))?;
                let rgba: Vec<u8> = sample
                    .image
                    .pixels()
                    .flat_map(|p| [p.0[0], p.0[1], p.0[2], 255])
                    .collect();
                set(&item, "rgba", &Uint8Array::from(&rgba[..]))?;
                let truth: Vec<u8> = sample
                    .mask
                    .pixels()
                    .map(|p| if p.0[0] > 0 { 255 } else { 0 })
                    .collect();
                set(&item, "truth", &Uint8Array::from(&truth[..]))?;
                for (key, model) in [("before", start.as_ref()), ("after", Some(&now))] {
                    let Some(model) = model else { continue };
                    let x = crate::segment::input_tensor(&sample.image, size, &session.device);
                    let p = predict_input(model, x, InferenceMode::Accurate, false).await?;
                    let mask: Vec<u8> = p
                        .iter()
                        .map(|&v| if v > THRESHOLD { 255 } else { 0 })
                        .collect();
                    set(&item, key, &Uint8Array::from(&mask[..]))?;
                }
                out.push(&item);
            }
            Ok(out.into())
        })
    }
}

/// Training pairs the starting loss is measured on: enough for a stable mean, few enough that a
/// large set does not wait minutes before its first step.
const BEFORE_TRAIN_PAIRS: usize = 64;

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
        .map_err(Error::BadArgument)?;
    let (val_loss, val_scores) = if val.is_empty() {
        (None, None)
    } else {
        let (l, s) = evaluate(model, val, loss, batch, device)
            .await
            .map_err(Error::BadArgument)?;
        (Some(l), s.mean())
    };
    Ok(Scores {
        train_loss,
        val_loss,
        val_iou: val_scores.map(|s| s.jaccard),
        val_dice: val_scores.map(|s| s.dice),
    })
}
