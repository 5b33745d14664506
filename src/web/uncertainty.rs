//! `compareMaps` in JS: several models' probability maps of one photo compared
//! ([`crate::uncertainty::over_models`]); one model's test-time views are `Session.uncertainty`.

use wasm_bindgen::prelude::*;

use crate::Error;

/// Several probability maps of one photo (each `width * height` values) compared, lesion above
/// `threshold` (the usual one when absent): resolves to
/// `{ width, height, spread: Float32Array, meanSpread, disagreement, maps }`.
#[wasm_bindgen(js_name = compareMaps)]
pub fn compare_maps(
    maps: Vec<js_sys::Float32Array>,
    width: u32,
    height: u32,
    threshold: Option<f32>,
) -> Result<JsValue, JsValue> {
    let maps: Vec<crate::predict::Probability> = maps
        .iter()
        .map(|m| crate::predict::Probability {
            width,
            height,
            values: m.to_vec(),
        })
        .collect();
    if maps
        .iter()
        .any(|m| m.values.len() != (width * height) as usize)
    {
        return Err(
            Error::BadArgument(format!("every map must hold {width}x{height} values")).into(),
        );
    }
    let threshold = crate::rules::threshold_or_default(threshold)?;
    let u = crate::uncertainty::over_models(&maps, threshold)?;
    let spread = js_sys::Float32Array::from(&u.spread[..]).into();
    super::to_js_with(&u, &[("spread", spread)])
}
