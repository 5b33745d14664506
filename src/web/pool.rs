//! The threaded module's pool of Web Workers (`wasm-bindgen-rayon`), and how a panic on one of
//! them reaches the page.
//!
//! The worker that calls into the module waits (blocked) while the pool runs a parallel kernel,
//! and a panic aborts the pool thread it happens on: the job never finishes and the calling
//! worker never wakes to report it. So a pool thread's panic hook posts the message on a
//! `BroadcastChannel` that the page itself listens to (`www/api/engine.js`), named by the page for
//! this worker alone; the page then replaces the worker, as after any panic.

use std::sync::OnceLock;

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;

pub use wasm_bindgen_rayon::init_thread_pool;

/// The page's channel for this worker's panics; the memory is shared, so every pool thread sees it.
static PANIC_CHANNEL: OnceLock<String> = OnceLock::new();

/// Names the channel that pool threads post their panic messages on (once per module).
#[wasm_bindgen(js_name = setPanicChannel)]
pub fn set_panic_channel(name: String) {
    let _ = PANIC_CHANNEL.set(name);
}

/// Posts `message` on the panic channel, if one was named.
pub(super) fn tell_page(message: &str) {
    let Some(name) = PANIC_CHANNEL.get() else {
        return;
    };
    let post = || -> Result<(), JsValue> {
        let global = js_sys::global();
        let class: Function = Reflect::get(&global, &"BroadcastChannel".into())?.dyn_into()?;
        let channel = Reflect::construct(&class, &Array::of1(&name.into()))?;
        let post: Function = Reflect::get(&channel, &"postMessage".into())?.dyn_into()?;
        post.call1(&channel, &message.into())?;
        Ok(())
    };
    let _ = post();
}

/// Panics on a pool thread, for the browser tests: the page must hear of it.
#[cfg(feature = "test-hooks")]
#[wasm_bindgen(js_name = panicOnPoolForTest)]
pub fn panic_on_pool_for_test() {
    use rayon::prelude::*;
    (0..64)
        .into_par_iter()
        .for_each(|_| panic!("deliberate panic on a pool thread"));
}
