//! The JavaScript-facing API of the browser build, used by `www/worker/worker.js` (the page never calls
//! it directly: `www/api/lesionlab.js` wraps the worker in the public JS API).
//!
//! A thin layer over [`crate::session`], which does the work and is tested natively: here strings
//! become enums, JS objects become serde structs (`serde-wasm-bindgen`), results become JS
//! objects with typed arrays, and errors become JS `Error`s with a `kind`. Every method that
//! reads a tensor back returns a Promise, because WebGPU allows no synchronous readback.

mod describe;
mod evaluate;
mod finetune;
#[cfg(feature = "threads")]
mod pool;
mod session;
mod uncertainty;

pub use describe::{describe_lesion, describe_lesion_file};
pub use evaluate::Evaluation;
pub use finetune::{FineTune, pair_names};
pub use session::Session;
pub use uncertainty::compare_maps;

use wasm_bindgen::prelude::*;

use crate::{Error, ErrorKind};

/// Runs when the module is instantiated: panics go to the console *and* to the worker's
/// `globalThis.lesionlabPanic(message)`, which fails every pending call with the message
/// instead of leaving the page waiting for an answer that will never come. A panic on a pool
/// thread of the threaded module, where that function does not exist, goes to the page
/// ([`pool`]).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = info.to_string();
        let global = js_sys::global();
        if let Ok(report) = js_sys::Reflect::get(&global, &JsValue::from_str("lesionlabPanic"))
            && let Some(report) = report.dyn_ref::<js_sys::Function>()
        {
            let _ = report.call1(&global, &JsValue::from_str(&message));
        } else {
            #[cfg(feature = "threads")]
            pool::tell_page(&message);
        }
    }));
}

/// Panics on purpose, so the browser tests can check that a panic reaches the page as an
/// error and that the next call works again. Only in builds with the `test-hooks` feature,
/// which the test run's page has and the served page does not.
#[cfg(feature = "test-hooks")]
#[wasm_bindgen(js_name = panicForTest)]
pub fn panic_for_test() {
    panic!("deliberate panic for the browser test");
}

/// `initThreadPool(threads)` starts the threaded module's pool of Web Workers (a Promise); the
/// worker calls it once, before the first session.
#[cfg(feature = "threads")]
pub use pool::init_thread_pool;

/// The threads this module computes on: the pool's size in the threaded module, 1 otherwise.
#[wasm_bindgen(js_name = threadCount)]
pub fn thread_count() -> usize {
    crate::nn::cpu::kernels::parallel::threads()
}

fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
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

/// A JS object as `T`; `what` names it in the error.
fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| Error::BadArgument(format!("{what}: {e}")).into())
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

/// Every error kind, for the page (`errorKinds()`): the names it may compare `error.kind` with.
#[wasm_bindgen(js_name = errorKinds)]
pub fn error_kinds() -> Vec<String> {
    ErrorKind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect()
}
