//! The JavaScript-facing API of the browser build, used by `www/worker.js` (the page never calls
//! it directly: `www/lesionlab.js` wraps the worker in the public JS API).
//!
//! Photos arrive as RGBA pixels decoded by the browser; results leave as typed arrays. Every
//! method that reads a tensor back is async, because WebGPU allows no synchronous readback.

mod epoch;
mod finetune;
mod session;

pub use finetune::{FineTune, pair_names};
pub use session::Session;

use wasm_bindgen::prelude::*;

use crate::{Error, ErrorKind};

/// Runs when the module is instantiated: panics go to the console *and* to the worker's
/// `globalThis.lesionlabPanic(message)`, which fails every pending call with the message
/// instead of leaving the page waiting for an answer that will never come.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let global = js_sys::global();
        if let Ok(report) = js_sys::Reflect::get(&global, &JsValue::from_str("lesionlabPanic"))
            && let Some(report) = report.dyn_ref::<js_sys::Function>()
        {
            let _ = report.call1(&global, &JsValue::from_str(&info.to_string()));
        }
    }));
}

/// Panics on purpose, so the browser tests can check that a panic reaches the page as an
/// error and that the next call works again.
#[wasm_bindgen(js_name = panicForTest)]
pub fn panic_for_test() {
    panic!("deliberate panic for the browser test");
}

/// Milliseconds from the page's clock (`performance.now()`, in windows and workers).
fn now() -> f64 {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| {
            let now = js_sys::Reflect::get(&p, &JsValue::from_str("now")).ok()?;
            now.dyn_ref::<js_sys::Function>()?.call0(&p).ok()?.as_f64()
        })
        .unwrap_or_else(js_sys::Date::now)
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| Error::Internal(format!("a result could not be encoded: {e}")).into())
}

/// `value` as a JS object with `arrays` added as typed arrays (serde would write plain arrays of
/// numbers, slow for a photo's millions of pixels).
fn to_js_with<T: serde::Serialize>(
    value: &T,
    arrays: &[(&str, JsValue)],
) -> Result<JsValue, JsValue> {
    let out = to_js(value)?;
    for (key, array) in arrays {
        js_sys::Reflect::set(&out, &JsValue::from_str(key), array)?;
    }
    Ok(out)
}

/// Errors cross into JS as `Error`s whose `name` (`WeightsError`, ...) and `kind` (`weights`,
/// ...) say what went wrong, so that the worker and the page decide by kind, never by message.
impl From<Error> for JsValue {
    fn from(e: Error) -> JsValue {
        let kind = e.kind();
        let error = js_sys::Error::new(&e.to_string());
        error.set_name(&kind.js_name());
        let _ = js_sys::Reflect::set(&error, &"kind".into(), &kind.as_str().into());
        error.into()
    }
}

/// The JS error for a bad argument (`kind` `bad-argument`).
fn bad_argument(message: impl Into<String>) -> JsValue {
    Error::BadArgument(message.into()).into()
}

/// Every error kind, for the page (`errorKinds()`): the names it may compare `error.kind` with.
#[wasm_bindgen(js_name = errorKinds)]
pub fn error_kinds() -> Vec<String> {
    ErrorKind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect()
}

fn set(target: &js_sys::Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(target, &JsValue::from_str(key), value).map(|_| ())
}
