//! `FineTune` in JS: fine-tuning a session's model ([`crate::session::FineTune`]).
//!
//! The worker drives it: pair the file names ([`pair_names`]), add each pair's bytes
//! (`addPair`), `start`, then `run` one epoch at a time, storing `checkpoint()` and
//! `datasetBytes()` in IndexedDB in between.

use std::rc::Rc;

use js_sys::{Function, Promise, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use super::session::Session;
use super::{from_js, to_js, to_js_with};
use crate::data::pair_files;
use crate::session::{self, Scores};
use crate::train::FineTuneSettings;
use crate::train::Progress;

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

/// A fine-tuning run of one session's model.
#[wasm_bindgen]
pub struct FineTune {
    inner: Rc<session::FineTune>,
}

#[wasm_bindgen]
impl FineTune {
    /// A new run of `session`'s current model with `settings` (`{ epochs, batchSize, lr, size,
    /// valFraction, augment, seed }`, absent ones the defaults of `FINE_TUNE_DEFAULTS`).
    #[wasm_bindgen(constructor)]
    pub fn new(session: &Session, settings: JsValue) -> Result<FineTune, JsValue> {
        let settings: FineTuneSettings = from_js(settings, "fine-tuning settings")?;
        let inner = session::FineTune::new(session.inner(), &settings)?;
        Ok(FineTune {
            inner: Rc::new(inner),
        })
    }

    /// Restores a run from a checkpoint and its dataset bytes, onto `session`'s device;
    /// `before` is the starting scores saved with it (or null). The session's model is the
    /// starting model of the before/after comparison.
    pub fn restore(
        session: &Session,
        checkpoint: &[u8],
        dataset: &[u8],
        before: JsValue,
    ) -> Result<FineTune, JsValue> {
        let before: Option<Scores> = from_js(before, "the saved run's starting scores")?;
        let inner = session::FineTune::restore(session.inner(), checkpoint, dataset, before)?;
        Ok(FineTune {
            inner: Rc::new(inner),
        })
    }

    /// The run's settings: `{ epochs, batchSize, lr, size, valFraction, augment, seed }`.
    #[wasm_bindgen(getter)]
    pub fn settings(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.settings())
    }

    /// Decodes one pair, checks it and keeps it resized. Returns `null`, or `{ file, reason }`
    /// when the pair is skipped.
    #[wasm_bindgen(js_name = addPair)]
    pub fn add_pair(
        &self,
        id: String,
        image_name: String,
        image: &[u8],
        mask_name: String,
        mask: &[u8],
    ) -> Result<JsValue, JsValue> {
        match self
            .inner
            .add_pair(&id, &image_name, image, &mask_name, mask)
        {
            Some(skipped) => to_js(&skipped),
            None => Ok(JsValue::NULL),
        }
    }

    /// Adds the pairs of `datasetBytes()` (a saved run that had no checkpoint yet).
    #[wasm_bindgen(js_name = addDataset)]
    pub fn add_dataset(&self, bytes: &[u8]) -> Result<(), JsValue> {
        Ok(self.inner.add_dataset(bytes)?)
    }

    /// Pairs kept so far.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> u32 {
        self.inner.count() as u32
    }

    /// The prepared pairs as bytes, stored with the checkpoint so that a resumed run needs no
    /// file again. Empty once `start` has taken the pairs.
    #[wasm_bindgen(js_name = datasetBytes)]
    pub fn dataset_bytes(&self) -> Vec<u8> {
        self.inner.dataset_bytes()
    }

    /// Splits the pairs, scores the starting weights on the validation pairs and prepares the
    /// trainer. Resolves to `{ train, val, before: { trainLoss, valLoss, valIoU, valDice } }`.
    pub fn start(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { to_js(&inner.start().await?) })
    }

    /// Trains to the end of the current epoch. `on_progress(p)` gets
    /// `{ kind: 'step', epoch, step, steps, loss }`, `{ kind: 'validating', epoch }` and
    /// `{ kind: 'epoch', epoch, trainLoss, valLoss, valIoU, valDice }`; a truthy return cancels.
    /// `between_steps()` returns a Promise of a boolean (true cancels): the worker pauses there.
    /// Resolves to `'epoch'`, `'finished'` or `'cancelled'`; rejects with the reason of a NaN
    /// loss or a device failure, the weights of the last good step kept.
    pub fn run(&self, on_progress: Function, between_steps: Function) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let mut report = |p: &Progress| {
                on_progress
                    .call1(&JsValue::NULL, &to_js(p).unwrap_or_else(|e| e))
                    .map(|v| v.is_truthy())
                    .unwrap_or(false)
            };
            let mut between = async || cancelled_between_steps(&between_steps).await;
            let outcome = inner.run_epoch(&mut report, &mut between).await?;
            Ok(JsValue::from_str(outcome.as_str()))
        })
    }

    /// The epochs finished so far: `[{ epoch, trainLoss, valLoss, valIoU, valDice }]`.
    pub fn history(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.history())
    }

    /// The starting weights' scores (`{ trainLoss, valLoss, valIoU, valDice }`), or null.
    #[wasm_bindgen(getter)]
    pub fn before(&self) -> Result<JsValue, JsValue> {
        match self.inner.before() {
            Some(b) => to_js(&b),
            None => Ok(JsValue::NULL),
        }
    }

    /// Everything to resume the run (weights, optimiser state, settings, history), as bytes.
    /// On WebGPU the parameters are read back asynchronously first.
    pub fn checkpoint(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let bytes = inner.checkpoint().await?;
            Ok(Uint8Array::from(&bytes[..]).into())
        })
    }

    /// Makes the session segment with the fine-tuned weights.
    pub fn apply(&self) -> Result<(), JsValue> {
        Ok(self.inner.apply()?)
    }

    /// Up to `n` validation pairs with the starting and the fine-tuned prediction:
    /// `[{ id, size, rgba, truth, before, after }]` (masks 0/255, `size x size`).
    pub fn preview(&self, n: u32) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            #[derive(Serialize)]
            struct Item<'a> {
                id: &'a str,
                size: u32,
            }
            let out = js_sys::Array::new();
            for pair in inner.preview(n as usize).await? {
                let bytes = |b: &[u8]| JsValue::from(Uint8Array::from(b));
                let before = pair.before.as_deref().map_or(JsValue::NULL, bytes);
                let item = to_js_with(
                    &Item {
                        id: &pair.id,
                        size: pair.size,
                    },
                    &[
                        ("rgba", bytes(&pair.rgba)),
                        ("truth", bytes(&pair.truth)),
                        ("before", before),
                        ("after", bytes(&pair.after)),
                    ],
                )?;
                out.push(&item);
            }
            Ok(out.into())
        })
    }
}

/// Awaits the worker's `between_steps()`; true when it asks to cancel (or fails).
async fn cancelled_between_steps(between_steps: &Function) -> bool {
    match between_steps.call0(&JsValue::NULL) {
        Ok(p) => JsFuture::from(Promise::resolve(&p))
            .await
            .map(|v| v.is_truthy())
            .unwrap_or(true),
        Err(_) => true,
    }
}
