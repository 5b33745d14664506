//! One fine-tuning epoch, step by step, as the worker drives it.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::to_js;
use crate::Error;
use crate::data::Dataset;
use crate::train::{Progress, Trainer};

/// One epoch, step by step: each step is reported to `on_progress` (a truthy answer cancels),
/// then `between_steps()` is awaited (the worker's event loop runs there, so pause and cancel
/// arrive; it resolves to true to cancel). Returns `'epoch'`, `'finished'` or `'cancelled'`.
pub(super) async fn run_epoch(
    trainer: &mut Trainer,
    train: &Dataset,
    val: &Dataset,
    on_progress: &Function,
    between_steps: &Function,
) -> Result<&'static str, Error> {
    let report = |p: &Progress| {
        on_progress
            .call1(&JsValue::NULL, &to_js(p).unwrap_or_else(|e| e))
            .map(|v| v.is_truthy())
            .unwrap_or(false)
    };
    let mut epoch = trainer.begin_epoch(train)?;
    while !epoch.is_done() {
        let loss = trainer.step(&mut epoch, train).await?;
        let step = Progress::Step {
            epoch: epoch.number,
            step: epoch.steps_done(),
            steps: epoch.steps(),
            loss,
        };
        if report(&step) || cancelled_between_steps(between_steps).await {
            return Ok("cancelled");
        }
    }
    if report(&Progress::Validating {
        epoch: epoch.number,
    }) {
        return Ok("cancelled");
    }
    let record = trainer.end_epoch(epoch, val).await?;
    report(&Progress::Epoch(record));
    Ok(if trainer.is_finished() {
        "finished"
    } else {
        "epoch"
    })
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
