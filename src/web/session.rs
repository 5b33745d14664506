//! One loaded model on one device: segment and explain photos.

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;
use image::RgbImage;
use js_sys::{Array, Float32Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{bad_argument, now, to_js, to_js_with};
use crate::explain::{Method, Target};
use crate::prepared::PreparedPhoto;
use crate::{Architecture, Error, InferenceMode, Model, weights};

/// Input size used when a weights file does not record one.
const DEFAULT_SIZE: u32 = 256;

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

pub(super) struct Inner {
    pub(super) model: RefCell<Model>,
    pub(super) device: Device,
    pub(super) backend: &'static str,
    pub(super) size: u32,
    /// The last photo given, by the key the worker gave it.
    photo: RefCell<Option<(String, Rc<PreparedPhoto>)>>,
}

impl Inner {
    /// Replaces the weights; what a pass of the old ones left behind is forgotten.
    pub(super) fn set_model(&self, model: Model) {
        *self.model.borrow_mut() = model;
        if let Some((_, photo)) = &*self.photo.borrow() {
            photo.forget_pass();
        }
    }

    fn photo(&self, key: &str) -> Result<Rc<PreparedPhoto>, Error> {
        match &*self.photo.borrow() {
            Some((k, photo)) if k == key => Ok(photo.clone()),
            _ => Err(Error::Internal(format!(
                "photo '{key}' was not given to this session (call setPhoto first)"
            ))),
        }
    }
}

/// A model ready to segment, on WebGPU or the CPU.
#[wasm_bindgen]
pub struct Session {
    inner: Rc<Inner>,
}

impl Session {
    pub(super) fn inner(&self) -> Rc<Inner> {
        self.inner.clone()
    }
}

#[wasm_bindgen]
impl Session {
    /// Loads `weights` (safetensors bytes; `source` names them in errors) for `model`
    /// (`unet`, `unetpp`, `pspnet`) on `backend` (`webgpu` or `cpu`). `size` overrides the
    /// input size the file records.
    pub async fn create(
        model: String,
        backend: String,
        weights: Vec<u8>,
        source: String,
        size: Option<u32>,
    ) -> Result<Session, JsValue> {
        let arch: Architecture = model.parse()?;
        let (device, backend) = match backend.as_str() {
            "cpu" => (Device::flex(), "cpu"),
            "webgpu" => (webgpu_device().await?, "webgpu"),
            other => {
                return Err(bad_argument(format!(
                    "unknown backend '{other}': expected webgpu or cpu"
                )));
            }
        };
        let size = match size {
            Some(s) => s,
            None => weights::input_size(&weights)
                .map(|s| s as u32)
                .unwrap_or(DEFAULT_SIZE),
        };
        crate::rules::check_input_size(arch, size as usize)?;
        let model = weights::load(weights, arch, &source, &device)?;
        Ok(Session {
            inner: Rc::new(Inner {
                model: RefCell::new(model),
                device,
                backend,
                size,
                photo: RefCell::new(None),
            }),
        })
    }

    /// `webgpu` or `cpu`: where the model runs.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.inner.backend.to_string()
    }

    /// The side of the square the model sees.
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> u32 {
        self.inner.size
    }

    /// `unet`, `unetpp` or `pspnet`.
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> String {
        self.inner.model.borrow().architecture().name().to_string()
    }

    /// The layers CAM and Grad-CAM can read.
    pub fn layers(&self) -> Array {
        self.inner
            .model
            .borrow()
            .layers()
            .iter()
            .map(|l| JsValue::from_str(l))
            .collect()
    }

    /// The layers a prediction in `mode` computes, input side first, each with what it does:
    /// `[{ name, description }]`. A U-Net++ fast mode runs only part of the network.
    #[wasm_bindgen(js_name = layersIn)]
    pub fn layers_in(&self, mode: String) -> Result<JsValue, JsValue> {
        #[derive(serde::Serialize)]
        struct Layer {
            name: &'static str,
            description: String,
        }
        let mode: InferenceMode = mode.parse()?;
        let model = self.inner.model.borrow();
        let layers: Vec<Layer> = model
            .layers_in(mode)
            .into_iter()
            .map(|name| Layer {
                name,
                description: model.describe_layer(name).unwrap_or_default(),
            })
            .collect();
        to_js(&layers)
    }

    /// The layer `explain` reads for `method` in `mode` when none is given.
    #[wasm_bindgen(js_name = defaultLayer)]
    pub fn default_layer(&self, method: String, mode: String) -> Result<String, JsValue> {
        let method: Method = method.parse()?;
        let mode: InferenceMode = mode.parse()?;
        Ok(
            crate::explain::default_layer(self.inner.model.borrow().architecture(), method, mode)
                .to_string(),
        )
    }

    /// Replaces the model's weights with a safetensors file, checked first (model, every
    /// tensor's name and shape): on an error the current weights stay.
    #[wasm_bindgen(js_name = loadWeights)]
    pub fn load_weights(&self, weights: Vec<u8>, source: String) -> Result<(), JsValue> {
        let arch = self.inner.model.borrow().architecture();
        let model = weights::load(weights, arch, &source, &self.inner.device)?;
        self.inner.set_model(model);
        Ok(())
    }

    /// The current weights as safetensors (float32, with the input size recorded), read back
    /// asynchronously. Resolves to a Uint8Array.
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let model = inner.model.borrow().clone();
            let cpu = crate::model::readback::copy_to(&model, &Device::flex()).await?;
            let bytes = weights::save_with_input_size(&cpu, Some(inner.size as usize))?;
            Ok(Uint8Array::from(&bytes[..]).into())
        })
    }

    /// Whether the photo of `key` is the one this session holds (then `setPhoto` is not needed).
    #[wasm_bindgen(js_name = hasPhoto)]
    pub fn has_photo(&self, key: String) -> bool {
        matches!(&*self.inner.photo.borrow(), Some((k, _)) if *k == key)
    }

    /// Makes an RGBA photo ready for the model (resized and normalised once) and keeps it under
    /// `key` for [`Session::segment`] and [`Session::explain`], in place of the one before.
    #[wasm_bindgen(js_name = setPhoto)]
    pub fn set_photo(
        &self,
        key: String,
        rgba: Vec<u8>,
        width: u32,
        height: u32,
    ) -> Result<(), JsValue> {
        let photo = rgb_from_rgba(rgba, width, height)?;
        let prepared = PreparedPhoto::new(&photo, self.inner.size, &self.inner.device);
        *self.inner.photo.borrow_mut() = Some((key, Rc::new(prepared)));
        Ok(())
    }

    /// The lesion probability of every pixel of the photo of `key`, at the photo's size.
    /// Resolves to `{ probability: Float32Array, check, ms: { model, postprocess }, passes }`,
    /// `check` saying whether the photo looks like dermoscopy ([`crate::photo_check`]), `passes`
    /// the forward passes run on this photo so far; `tta` averages over the eight orientations
    /// ([`crate::segment::predict_input`]).
    pub fn segment(&self, key: String, mode: String, tta: bool) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let mode: InferenceMode = mode.parse()?;
            let photo = inner.photo(&key)?;
            let model = inner.model.borrow().clone();
            let t1 = now();
            let values = photo.segment_at_input(&model, mode, tta).await?;
            let t2 = now();
            let values = photo.to_photo_size(values);
            let probability: JsValue = Float32Array::from(&values[..]).into();
            let result = SegmentResult {
                check: photo.check(),
                passes: photo.forward_passes(),
                ms: Timings {
                    model: t2 - t1,
                    postprocess: now() - t2,
                },
            };
            to_js_with(&result, &[("probability", probability)])
        })
    }

    /// A heatmap of the photo of `key` at the photo's size: `method` is `cam`, `activation` or
    /// `gradcam`; `layer` one of [`Session::layers`] (the method's default when absent);
    /// `target` `lesion`, `center` or `pixel:Y,X`. Resolves to `{ heatmap: Float32Array, layer,
    /// meanLogit, blankNote, passes }`: the model's mean output logit, why the map is blank (or
    /// null), and the forward passes run on this photo so far (CAM and the mean activation
    /// reuse the last segmenting pass).
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
            let method: Method = method.parse()?;
            let target: Target = target.parse()?;
            let mode: InferenceMode = mode.parse()?;
            let photo = inner.photo(&key)?;
            let model = inner.model.borrow().clone();
            let heatmap = photo
                .explain(&model, method, layer.as_deref(), target, mode)
                .await?;
            let result = ExplainResult {
                layer: &heatmap.layer,
                mean_logit: heatmap.mean_logit,
                blank_note: heatmap.blank_note(method),
                passes: photo.forward_passes(),
            };
            let array: JsValue = Float32Array::from(&heatmap.values[..]).into();
            to_js_with(&result, &[("heatmap", array)])
        })
    }
}

/// [`Session::segment`]'s answer, but its probabilities.
#[derive(serde::Serialize)]
struct SegmentResult<'a> {
    check: &'a crate::photo_check::PhotoCheck,
    passes: usize,
    ms: Timings,
}

/// Milliseconds of the parts of a call.
#[derive(serde::Serialize)]
struct Timings {
    model: f64,
    postprocess: f64,
}

/// [`Session::explain`]'s answer, but its heatmap.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ExplainResult<'a> {
    layer: &'a str,
    mean_logit: f32,
    blank_note: Option<String>,
    passes: usize,
}

/// RGB pixels from the browser's RGBA (alpha dropped, as the native decoder does).
fn rgb_from_rgba(rgba: Vec<u8>, width: u32, height: u32) -> Result<RgbImage, Error> {
    let expected = width as usize * height as usize * 4;
    if width == 0 || height == 0 || rgba.len() != expected {
        return Err(Error::BadArgument(format!(
            "image data of {} bytes does not match {width}x{height} RGBA",
            rgba.len()
        )));
    }
    let rgb = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Ok(RgbImage::from_raw(width, height, rgb).expect("length checked"))
}
