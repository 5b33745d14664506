//! `Session` in JS: one loaded model on one device ([`crate::session::Session`]).

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;
use js_sys::{Float32Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{to_js, to_js_with};
use crate::explain::HeatmapRequest;
use crate::session::{self, Backend};
use crate::{Architecture, Error, InferenceMode};

thread_local! {
    // A wgpu runtime can be initialised once per page; later sessions reuse its device.
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

async fn webgpu_device() -> Result<Device, Error> {
    if let Some(device) = WEBGPU.with(|d| d.borrow().clone()) {
        return Ok(device);
    }
    #[cfg(feature = "webgpu")]
    {
        let device = Device::wgpu_options()
            .init_async()
            .await
            .map_err(|e| Error::Device(format!("WebGPU is not available: {e}")))?;
        WEBGPU.with(|d| *d.borrow_mut() = Some(device.clone()));
        Ok(device)
    }
    #[cfg(not(feature = "webgpu"))]
    Err(Error::Device("this build has no WebGPU backend".into()))
}

/// A model ready to segment, on WebGPU or the CPU.
#[wasm_bindgen]
pub struct Session {
    inner: Rc<session::Session>,
    /// Builds with `test-hooks`: the weights in use ask to panic at their first segmentation,
    /// so the browser tests can check what the page restarts with.
    #[cfg(feature = "test-hooks")]
    panic_on_use: std::cell::Cell<bool>,
}

/// Whether `weights` carry the test hook that panics at their first use.
#[cfg(feature = "test-hooks")]
fn panics_on_use(weights: &[u8]) -> bool {
    crate::weights::metadata(weights, crate::weights::TEST_PANIC_KEY).is_some_and(|v| v == "use")
}

impl Session {
    pub(super) fn inner(&self) -> Rc<session::Session> {
        self.inner.clone()
    }
}

#[wasm_bindgen]
impl Session {
    /// Loads `weights` (safetensors bytes; `source` names them in errors) for `model`
    /// (`unet`, `unetpp`, `pspnet`) on `backend` (`webgpu` or `cpu`). `size` overrides the
    /// input size the file records. A quick-start file (`unetpp.fast2.safetensors`) makes a
    /// session that runs only those fast modes (`fastOnly`).
    pub async fn create(
        model: String,
        backend: String,
        weights: Vec<u8>,
        source: String,
        size: Option<u32>,
    ) -> Result<Session, JsValue> {
        let arch: Architecture = model.parse()?;
        let backend: Backend = backend.parse()?;
        let device = match backend {
            Backend::Cpu => Device::flex(),
            Backend::WebGpu => webgpu_device().await?,
            Backend::Wgpu | Backend::Cuda => {
                return Err(Error::BadArgument(format!(
                    "the '{backend}' backend is the command line's: the page runs on webgpu or cpu"
                ))
                .into());
            }
        };
        #[cfg(feature = "test-hooks")]
        let panic_on_use = std::cell::Cell::new(panics_on_use(&weights));
        let inner = session::Session::new(arch, backend, device, weights, &source, size)?;
        Ok(Session {
            inner: Rc::new(inner),
            #[cfg(feature = "test-hooks")]
            panic_on_use,
        })
    }

    /// `webgpu` or `cpu`: where the model runs.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.inner.backend().as_str().to_string()
    }

    /// The side of the square the model sees.
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> u32 {
        self.inner.input_size()
    }

    /// With a quick-start file's weights, the highest U-Net++ fast-mode level the session can
    /// run (nothing else runs until `loadWeights` gives it the whole file); otherwise undefined.
    #[wasm_bindgen(getter, js_name = fastOnly)]
    pub fn quick_start_level(&self) -> Option<u8> {
        self.inner.quick_start_level()
    }

    /// `unet`, `unetpp` or `pspnet`.
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> String {
        self.inner.architecture().name().to_string()
    }

    /// The layers CAM and Grad-CAM can read.
    pub fn layers(&self) -> Vec<String> {
        self.inner.layers().iter().map(|l| l.to_string()).collect()
    }

    /// The layers a prediction in `mode` computes, input side first, each with what it does:
    /// `[{ name, description }]`.
    #[wasm_bindgen(js_name = layersIn)]
    pub fn layers_in(&self, mode: String) -> Result<JsValue, JsValue> {
        to_js(&self.inner.layers_in(mode.parse()?))
    }

    /// The layer `explain` reads for `method` in `mode` when none is given.
    #[wasm_bindgen(js_name = defaultLayer)]
    pub fn default_layer(&self, method: String, mode: String) -> Result<String, JsValue> {
        Ok(self
            .inner
            .default_layer(method.parse()?, mode.parse()?)
            .to_string())
    }

    /// Replaces the model's weights with a safetensors file, checked first: on an error the
    /// current weights stay.
    #[wasm_bindgen(js_name = loadWeights)]
    pub fn load_weights(&self, weights: Vec<u8>, source: String) -> Result<(), JsValue> {
        #[cfg(feature = "test-hooks")]
        let panic_on_use = panics_on_use(&weights);
        self.inner.load_weights(weights, &source)?;
        #[cfg(feature = "test-hooks")]
        self.panic_on_use.set(panic_on_use);
        Ok(())
    }

    /// The current weights as safetensors (float32, with the input size recorded). Resolves to
    /// a Uint8Array.
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let bytes = inner.export_weights().await?;
            Ok(Uint8Array::from(&bytes[..]).into())
        })
    }

    /// Whether the photo of `key` is the one this session holds (then `setPhoto` is not needed).
    #[wasm_bindgen(js_name = hasPhoto)]
    pub fn has_photo(&self, key: String) -> bool {
        self.inner.has_photo(&key)
    }

    /// Makes an RGBA photo ready for the model (resized and normalised once) and keeps it under
    /// `key` for `segment` and `explain`, in place of the one before.
    #[wasm_bindgen(js_name = setPhoto)]
    pub fn set_photo(
        &self,
        key: String,
        rgba: &[u8],
        width: u32,
        height: u32,
    ) -> Result<(), JsValue> {
        Ok(self.inner.set_photo(key, rgba, width, height)?)
    }

    /// `setPhoto` for a JPEG or PNG file's bytes (`name` names it in errors), decoded as the
    /// command line and fine-tuning decode files. Returns `[width, height]`.
    #[wasm_bindgen(js_name = setPhotoFile)]
    pub fn set_photo_file(
        &self,
        key: String,
        bytes: &[u8],
        name: String,
    ) -> Result<Vec<u32>, JsValue> {
        let (width, height) = self.inner.set_photo_file(key, bytes, &name)?;
        Ok(vec![width, height])
    }

    /// The mask of the photo of `key`: `options` are `{ mode, tta, threshold, lesions, refine,
    /// box }` ([`session::SegmentRequest`]). Resolves to `{ probability: Float32Array, check,
    /// lesion, refined, ms: { model, postprocess }, passes }` ([`session::Segmentation`]).
    pub fn segment(&self, key: String, options: JsValue) -> Promise {
        #[cfg(feature = "test-hooks")]
        if self.panic_on_use.get() {
            panic!("deliberate panic at the first use of these weights (test hook)");
        }
        let inner = self.inner.clone();
        future_to_promise(async move {
            let request: session::SegmentRequest = serde_wasm_bindgen::from_value(options)
                .map_err(|e| Error::BadArgument(format!("segment options: {e}")))?;
            let result = inner.segment(&key, &request.options()?).await?;
            let probability = Float32Array::from(&result.probability[..]).into();
            let mask = Uint8Array::from(&result.mask[..]).into();
            to_js_with(&result, &[("probability", probability), ("mask", mask)])
        })
    }

    /// Each U-Net++ deep-supervision head alone on the photo of `key`, shallowest first.
    /// Resolves to `[{ level, ms, probability: Float32Array }]` ([`session::Head`]).
    pub fn heads(&self, key: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let heads = inner.heads(&key).await?;
            let out = js_sys::Array::new();
            for head in &heads {
                let probability = Float32Array::from(&head.probability[..]).into();
                out.push(&to_js_with(head, &[("probability", probability)])?);
            }
            Ok(out.into())
        })
    }

    /// The `count` most active feature maps of `layer` (the mean activation's default layer
    /// when absent) for the photo of `key`. Resolves to `{ layer, description, shape: [C, H,
    /// W], channels: [{ index, mean, max, map: Float32Array }] }` ([`crate::features`]).
    #[wasm_bindgen(js_name = featureMaps)]
    pub fn feature_maps(
        &self,
        key: String,
        layer: Option<String>,
        count: u32,
        mode: String,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let mode: InferenceMode = mode.parse()?;
            let maps = inner
                .feature_maps(&key, layer.as_deref(), count as usize, mode)
                .await?;
            let out = to_js(&maps)?;
            let channels = js_sys::Reflect::get(&out, &"channels".into())?;
            for (i, channel) in maps.channels.iter().enumerate() {
                let js = js_sys::Reflect::get_u32(&channels, i as u32)?;
                js_sys::Reflect::set(&js, &"map".into(), &Float32Array::from(&channel.map[..]))?;
            }
            Ok(out)
        })
    }

    /// How sure the model is about the photo of `key` (its eight test-time views compared,
    /// lesion above `threshold`, the usual one when absent). Resolves to `{ width, height,
    /// spread: Float32Array, meanSpread, disagreement, maps }`.
    pub fn uncertainty(&self, key: String, mode: String, threshold: Option<f32>) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let mode: InferenceMode = mode.parse()?;
            let threshold = crate::rules::threshold_or_default(threshold)?;
            let u = inner.uncertainty(&key, mode, threshold).await?;
            let spread = Float32Array::from(&u.spread[..]).into();
            to_js_with(&u, &[("spread", spread)])
        })
    }

    /// A heatmap of the photo of `key` at the photo's size: `method` is `cam`, `activation` or
    /// `gradcam`; `layer` one of `layers()` (the method's default when absent); `target`
    /// `lesion`, `center` or `pixel:Y,X`. Resolves to `{ heatmap: Float32Array, layer,
    /// meanLogit, blankNote, passes }` ([`session::Explanation`]).
    pub fn explain(
        &self,
        key: String,
        method: String,
        layer: Option<String>,
        target: String,
        mode: String,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let request = HeatmapRequest {
                method: method.parse()?,
                layer: layer.as_deref(),
                target: target.parse()?,
                mode: mode.parse()?,
            };
            let result = inner.explain(&key, &request).await?;
            let heatmap = Float32Array::from(&result.heatmap[..]).into();
            to_js_with(&result, &[("heatmap", heatmap)])
        })
    }
}
