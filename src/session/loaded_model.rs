//! One loaded model on one device: segment and explain photos.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::prelude::*;
use image::RgbImage;
use serde::Serialize;

use super::now_ms;
use super::options::SegmentOptions;
use super::photo::PreparedPhoto;
pub use crate::backend::Backend;
use crate::clean::Rect;
use crate::data::decode_image;
use crate::explain::{HeatmapRequest, Method};
use crate::features::FeatureMaps;
use crate::photo_check::PhotoCheck;
use crate::rules::{DEFAULT_INPUT_SIZE, MAX_IMAGE_BYTES, is_lesion};
use crate::uncertainty::Uncertainty;
use crate::{Architecture, Error, InferenceMode, Model, weights};

/// A layer a prediction computes, with what it does.
#[derive(Debug, Clone, Serialize)]
pub struct Layer {
    /// Its name in [`Session::layers`].
    pub name: &'static str,
    /// One line on what the stage does.
    pub description: String,
}

/// [`Session::segment`]'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Segmentation {
    /// The lesion probability of every pixel, row-major at the photo's size (a typed array in
    /// JS, so not serialised).
    #[serde(skip)]
    pub probability: Vec<f32>,
    /// The mask: 255 where the probability is above the caller's threshold, else 0, row-major
    /// at the photo's size (a typed array in JS).
    #[serde(skip)]
    pub mask: Vec<u8>,
    /// Whether the photo looks like dermoscopy ([`crate::photo_check`]).
    pub check: PhotoCheck,
    /// The forward passes run on this photo so far.
    pub passes: usize,
    /// The bounding box of the lesion kept, in the photo's pixels (`null` when none).
    pub lesion: Option<Rect>,
    /// The crop a second pass looked at (refine or a box), `null` when there was none.
    pub refined: Option<Rect>,
    /// Where the time went.
    pub ms: Timings,
}

/// Milliseconds of the parts of a call.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timings {
    /// The model passes, at its input size.
    pub model: f64,
    /// Cleaning, cropping and scaling the answer to the photo's size.
    pub postprocess: f64,
}

/// One U-Net++ deep-supervision head's answer ([`Session::heads`]).
#[derive(Debug, Clone, Serialize)]
pub struct Head {
    /// 1 to 4: the head reading top-row node x0_`level`.
    pub level: u8,
    /// Milliseconds of the model for this head alone (fast mode `level`, which runs only the
    /// nodes the head needs).
    pub ms: f64,
    /// The lesion probability of every pixel, row-major at the photo's size (a typed array in
    /// JS).
    #[serde(skip)]
    pub probability: Vec<f32>,
}

/// [`Session::explain`]'s answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// Values in [0, 1], row-major at the photo's size (a typed array in JS).
    #[serde(skip)]
    pub heatmap: Vec<f32>,
    /// The layer read.
    pub layer: String,
    /// The model's mean output logit over the photo.
    pub mean_logit: f32,
    /// Why the map is blank, or `None`.
    pub blank_note: Option<String>,
    /// The forward passes run on this photo so far (CAM and the mean activation reuse the last
    /// segmenting pass).
    pub passes: usize,
}

/// A model ready to segment, on one device, holding the last photo it was given.
pub struct Session {
    model: RefCell<Model>,
    device: Device,
    backend: Backend,
    size: Cell<u32>,
    /// Whether the caller chose the input size (else the weights file's recorded one is used).
    size_chosen: bool,
    /// With a quick-start file's weights, the highest fast-mode level they run.
    quick_start_level: Cell<Option<u8>>,
    /// What the weights loaded last are called, for errors.
    source: RefCell<String>,
    /// The last photo given, by the key the caller gave it.
    photo: RefCell<Option<(String, Rc<PreparedPhoto>)>>,
}

impl Session {
    /// Loads `weights` (safetensors bytes; `source` names them in errors) for `arch` on
    /// `device`, which is `backend`'s. `size` overrides the input size the file records. A
    /// quick-start file ([`weights::quick_start`]) makes a session that runs only its fast modes
    /// until [`Session::load_weights`] gives it the whole file.
    pub fn new(
        arch: Architecture,
        backend: Backend,
        device: Device,
        weights: Vec<u8>,
        source: &str,
        size: Option<u32>,
    ) -> Result<Self, Error> {
        let recorded = weights::input_size(&weights).map(|s| s as u32);
        // Loading checks the recorded size (naming the file); an override is the caller's.
        let (model, quick_start_level) =
            weights::load_allowing_quick_start(weights, arch, source, &device)?;
        let chosen = size.is_some();
        let size = size.or(recorded).unwrap_or(DEFAULT_INPUT_SIZE);
        crate::rules::check_input_size(arch, size as usize)?;
        Ok(Session {
            model: RefCell::new(model),
            device,
            backend,
            size: Cell::new(size),
            size_chosen: chosen,
            quick_start_level: Cell::new(quick_start_level),
            source: RefCell::new(source.to_string()),
            photo: RefCell::new(None),
        })
    }

    /// Where the model runs.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The device the model is on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The side of the square the model sees.
    pub fn input_size(&self) -> u32 {
        self.size.get()
    }

    /// The network.
    pub fn architecture(&self) -> Architecture {
        self.model.borrow().architecture()
    }

    /// The model as it is now (a cheap clone: tensors are shared); with a quick-start file's
    /// weights only part of it is loaded: see [`Session::model_for`].
    pub fn model(&self) -> Model {
        self.model.borrow().clone()
    }

    /// With a quick-start file's weights, the highest fast-mode level the session can run;
    /// `None` once it has a whole file.
    pub fn quick_start_level(&self) -> Option<u8> {
        self.quick_start_level.get()
    }

    /// The model, for running in `mode` (`None`: for everything, as training and exporting
    /// need); an error while the weights are a quick-start file's that cannot run it.
    pub fn model_for(&self, mode: Option<InferenceMode>) -> Result<Model, Error> {
        match (self.quick_start_level.get(), mode) {
            (Some(level), Some(InferenceMode::Head(l))) if l <= level => Ok(self.model()),
            (Some(level), _) => Err(Error::BadArgument(format!(
                "{} is a quick-start file: only U-Net++'s fast mode up to level {level} is loaded yet (load the whole weights file first)",
                self.source.borrow()
            ))),
            (None, _) => Ok(self.model()),
        }
    }

    /// Replaces the model; what a pass of the old one left behind is forgotten.
    pub fn set_model(&self, model: Model) {
        *self.model.borrow_mut() = model;
        if let Some((_, photo)) = &*self.photo.borrow() {
            photo.forget_pass();
        }
    }

    /// The layers CAM and Grad-CAM can read.
    pub fn layers(&self) -> &'static [&'static str] {
        self.model.borrow().layers()
    }

    /// The layers a prediction in `mode` computes, input side first (a U-Net++ fast mode runs
    /// only part of the network).
    pub fn layers_in(&self, mode: InferenceMode) -> Vec<Layer> {
        let model = self.model.borrow();
        model
            .layers_in(mode)
            .into_iter()
            .map(|name| Layer {
                name,
                description: model.describe_layer(name).unwrap_or_default(),
            })
            .collect()
    }

    /// The layer [`Session::explain`] reads for `method` in `mode` when none is given.
    pub fn default_layer(&self, method: Method, mode: InferenceMode) -> &'static str {
        crate::explain::default_layer(self.architecture(), method, mode)
    }

    /// Replaces the weights with a safetensors file, checked first (model, every tensor's name
    /// and shape): on an error the current weights stay. The input size stays, except after a
    /// quick-start file, whose recorded size is its fast mode's: the whole file's then applies
    /// (unless the caller chose one), and the photo held is prepared again at that size.
    pub fn load_weights(&self, weights: Vec<u8>, source: &str) -> Result<(), Error> {
        let recorded = weights::input_size(&weights).map(|s| s as u32);
        let model = weights::load(weights, self.architecture(), source, &self.device)?;
        let size = match (self.quick_start_level.get(), self.size_chosen) {
            (Some(_), false) => recorded.unwrap_or(DEFAULT_INPUT_SIZE),
            _ => self.input_size(),
        };
        crate::rules::check_input_size(self.architecture(), size as usize)?;
        if size != self.input_size() {
            self.size.set(size);
            *self.photo.borrow_mut() = None;
        }
        self.set_model(model);
        self.quick_start_level.set(None);
        *self.source.borrow_mut() = source.to_string();
        Ok(())
    }

    /// The current weights as safetensors (float32, with the input size recorded), read back
    /// asynchronously (WebGPU allows nothing else).
    pub async fn export_weights(&self) -> Result<Vec<u8>, Error> {
        let model = self.model_for(None)?;
        let host = crate::model::readback::host(&self.device);
        let cpu = crate::model::readback::copy_to(&model, &host).await?;
        weights::save_with_input_size(&cpu, Some(self.input_size() as usize))
    }

    /// Whether the photo of `key` is the one this session holds.
    pub fn has_photo(&self, key: &str) -> bool {
        matches!(&*self.photo.borrow(), Some((k, _)) if k == key)
    }

    /// Makes an RGBA photo ready for the model (resized and normalised once) and keeps it under
    /// `key` for [`Session::segment`] and [`Session::explain`], in place of the one before.
    pub fn set_photo(
        &self,
        key: String,
        rgba: &[u8],
        width: u32,
        height: u32,
    ) -> Result<(), Error> {
        self.hold(key, &rgb_from_rgba(rgba, width, height)?);
        Ok(())
    }

    /// Resizes and normalises `photo` once and keeps it under `key`, in place of the one before.
    /// `set_photo` for a decoded photo.
    pub fn set_photo_image(&self, key: String, photo: &RgbImage) {
        self.hold(key, photo);
    }

    fn hold(&self, key: String, photo: &RgbImage) {
        let prepared = PreparedPhoto::new(photo, self.input_size(), &self.device);
        *self.photo.borrow_mut() = Some((key, Rc::new(prepared)));
    }

    /// [`Session::set_photo`] for an encoded photo (JPEG or PNG bytes; `name` names it in
    /// errors), decoded as the command line and fine-tuning decode it ([`decode_image`]: strict,
    /// upright per its EXIF orientation). Returns its width and height.
    pub fn set_photo_file(
        &self,
        key: String,
        bytes: &[u8],
        name: &str,
    ) -> Result<(u32, u32), Error> {
        if bytes.len() as u64 > MAX_IMAGE_BYTES {
            return Err(Error::TooLarge {
                file: name.into(),
                message: format!(
                    "{} MB is too large for a photo (the limit is {} MB)",
                    bytes.len() / 1_000_000,
                    MAX_IMAGE_BYTES / 1_000_000
                ),
            });
        }
        let photo = decode_image(bytes, name)?;
        self.hold(key, &photo);
        Ok(photo.dimensions())
    }

    fn photo(&self, key: &str) -> Result<Rc<PreparedPhoto>, Error> {
        match &*self.photo.borrow() {
            Some((k, photo)) if k == key => Ok(photo.clone()),
            _ => Err(Error::BadArgument(format!(
                "photo '{key}' was not given to this session (call setPhoto first)"
            ))),
        }
    }

    /// The mask of the photo of `key` as `options` ask ([`PreparedPhoto::segment_photo`]): the
    /// lesion probability of every pixel at the photo's size, cleaned, with the kept lesion's
    /// box and the crop of the second pass.
    pub async fn segment(
        &self,
        key: &str,
        options: &SegmentOptions,
    ) -> Result<Segmentation, Error> {
        let photo = self.photo(key)?;
        let model = self.model_for(Some(options.mode))?;
        let start = now_ms();
        let result = photo.segment_photo(&model, options).await?;
        let mask = result
            .probability
            .iter()
            .map(|&p| {
                if is_lesion(p, options.threshold) {
                    255
                } else {
                    0
                }
            })
            .collect();
        Ok(Segmentation {
            probability: result.probability,
            mask,
            check: photo.check().clone(),
            passes: photo.forward_passes(),
            lesion: result.lesion,
            refined: result.refined,
            ms: Timings {
                model: result.model_ms,
                postprocess: now_ms() - start - result.model_ms,
            },
        })
    }

    pub async fn heads(&self, key: &str) -> Result<Vec<Head>, Error> {
        let photo = self.photo(key)?;
        let model = self.model_for(None)?;
        let count = model.head_count();
        if count < 2 {
            return Err(Error::BadArgument(format!(
                "{} has a single output: only U-Net++ trained with deep supervision has heads to show",
                model.architecture().display_name()
            )));
        }
        let mut heads = Vec::with_capacity(count);
        for level in 1..=count as u8 {
            let t0 = now_ms();
            let values = photo
                .predict_at_input(&model, InferenceMode::Head(level))
                .await?;
            let ms = now_ms() - t0;
            heads.push(Head {
                level,
                ms,
                probability: photo.to_photo_size(values),
            });
        }
        Ok(heads)
    }

    /// The `count` most active feature maps of `layer` (the mean activation's default layer
    /// when `None`) for the photo of `key` ([`crate::features`]); the last segmenting pass in
    /// the same mode serves them.
    pub async fn feature_maps(
        &self,
        key: &str,
        layer: Option<&str>,
        count: usize,
        mode: InferenceMode,
    ) -> Result<FeatureMaps, Error> {
        let photo = self.photo(key)?;
        photo
            .feature_maps(&self.model_for(Some(mode))?, layer, count, mode)
            .await
    }

    /// How sure the model is about the photo of `key`: its eight test-time views compared
    /// ([`crate::uncertainty`]), lesion above `threshold`.
    pub async fn uncertainty(
        &self,
        key: &str,
        mode: InferenceMode,
        threshold: f32,
    ) -> Result<Uncertainty, Error> {
        let photo = self.photo(key)?;
        photo
            .uncertainty(&self.model_for(Some(mode))?, mode, threshold)
            .await
    }

    /// A heatmap of the photo of `key` at the photo's size: `layer` one of
    /// [`Session::layers`] (the method's default when `None`).
    pub async fn explain(
        &self,
        key: &str,
        request: &HeatmapRequest<'_>,
    ) -> Result<Explanation, Error> {
        let photo = self.photo(key)?;
        let model = self.model_for(Some(request.mode))?;
        let heatmap = photo.explain(&model, request).await?;
        Ok(Explanation {
            blank_note: heatmap.blank_note(request.method),
            heatmap: heatmap.values,
            layer: heatmap.layer,
            mean_logit: heatmap.mean_logit,
            passes: photo.forward_passes(),
        })
    }
}

/// RGB pixels from the browser's RGBA (alpha dropped, as the native decoder does).
fn rgb_from_rgba(rgba: &[u8], width: u32, height: u32) -> Result<RgbImage, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::explain::Target;
    use crate::model::{NestedUNetConfig, PspNetConfig, UNetConfig};

    /// A weights file of a narrow, freshly initialised `arch`, recording input size `recorded`:
    /// made here, so no test depends on the shipped weights.
    fn tiny_file(arch: Architecture, recorded: Option<usize>) -> Vec<u8> {
        let device = Device::flex();
        device.seed(7);
        let model = match arch {
            Architecture::UNet => Model::UNet(UNetConfig::new([4, 4, 8, 8, 8]).init(&device)),
            Architecture::UNetPlusPlus => {
                Model::NestedUNet(NestedUNetConfig::new([4, 4, 8, 8, 8]).init(&device))
            }
            Architecture::PspNet => Model::PspNet(PspNetConfig::new(8, 2, 4).init(&device)),
        };
        weights::save_with_input_size(&model, recorded).unwrap()
    }

    /// A CPU session of `bytes`, a file of `arch`.
    fn open_bytes(arch: Architecture, bytes: Vec<u8>, size: Option<u32>) -> Session {
        Session::new(arch, Backend::Cpu, Device::flex(), bytes, "tiny", size).unwrap()
    }

    /// A CPU session of a tiny `arch` whose file records input size 96.
    fn open(arch: Architecture, size: Option<u32>) -> Session {
        open_bytes(arch, tiny_file(arch, Some(96)), size)
    }

    fn heatmap(method: Method, mode: InferenceMode) -> HeatmapRequest<'static> {
        HeatmapRequest {
            method,
            layer: None,
            target: Target::Lesion,
            mode,
        }
    }

    /// The first pass alone, as the model gives it: no cleaning, no second pass.
    fn plain(mode: InferenceMode) -> SegmentOptions {
        SegmentOptions {
            lesions: crate::clean::Lesions::All,
            refine: false,
            ..SegmentOptions::new(mode)
        }
    }

    fn session(size: Option<u32>) -> Session {
        open(Architecture::UNet, size)
    }

    /// A 40x30 RGBA photo: a dark disc on skin tones.
    fn photo() -> Vec<u8> {
        let (w, h) = (40, 30);
        (0..w * h)
            .flat_map(|i| {
                let (x, y) = ((i % w) as f32 - 20.0, (i / w) as f32 - 15.0);
                if x * x + y * y < 64.0 {
                    [90, 50, 40, 255]
                } else {
                    [220, 170, 150, 255]
                }
            })
            .collect()
    }

    /// A session of a PSPNet that predicts `logit` everywhere, at input size 32.
    fn constant(logit: f32) -> Session {
        use burn::module::Param;
        let device = Device::flex();
        let mut m = crate::model::PspNetConfig::new(8, 2, 4).init(&device);
        m.decoder.classifier.weight = Param::from_tensor(Tensor::zeros([1, 4, 1, 1], &device));
        m.decoder.classifier.bias = Some(Param::from_tensor(Tensor::full([1], logit, &device)));
        let bytes = weights::save(&Model::PspNet(m)).unwrap();
        Session::new(
            Architecture::PspNet,
            Backend::Cpu,
            device,
            bytes,
            "constant",
            Some(32),
        )
        .unwrap()
    }

    #[test]
    fn a_box_keeps_the_mask_inside_it_at_the_photos_size() {
        let s = constant(10.0);
        s.set_photo("a".into(), &photo(), 40, 30).unwrap();
        let b = Rect {
            x: 10.0,
            y: 5.0,
            width: 16.0,
            height: 12.0,
        };
        let options = SegmentOptions {
            prompt_box: Some(b),
            ..SegmentOptions::new(InferenceMode::DEFAULT)
        };
        let seg = pollster::block_on(s.segment("a", &options)).unwrap();
        assert_eq!(seg.probability.len(), 40 * 30);
        // Away from the box's edge (the bilinear scaling softens one pixel), lesion exactly inside.
        for (i, p) in seg.probability.iter().enumerate() {
            let (x, y) = ((i % 40) as f32 + 0.5, (i / 40) as f32 + 0.5);
            let inside = x > b.x + 1.0
                && y > b.y + 1.0
                && x < b.x + b.width - 1.0
                && y < b.y + b.height - 1.0;
            let outside = x < b.x - 1.0
                || y < b.y - 1.0
                || x > b.x + b.width + 1.0
                || y > b.y + b.height + 1.0;
            assert!(!inside || *p > 0.5, "{x},{y} inside: {p}");
            assert!(!outside || *p == 0.0, "{x},{y} outside: {p}");
        }
        let kept = seg.lesion.unwrap();
        assert!(
            (kept.x - b.x).abs() <= 1.5 && (kept.width - b.width).abs() <= 3.0,
            "{kept:?}"
        );
        assert!(seg.refined.is_some(), "the box is a crop");
        // A box off the photo names it.
        let off = SegmentOptions {
            prompt_box: Some(Rect { x: 50.0, ..b }),
            ..options
        };
        let e = pollster::block_on(s.segment("a", &off))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("40x30 photo"), "{e}");
    }

    #[test]
    fn refine_is_skipped_when_the_lesion_fills_the_photo() {
        let s = constant(10.0);
        s.set_photo("a".into(), &photo(), 40, 30).unwrap();
        let seg = pollster::block_on(s.segment("a", &SegmentOptions::new(InferenceMode::DEFAULT)))
            .unwrap();
        assert!(
            seg.refined.is_none(),
            "a crop around everything is no closer look"
        );
        assert_eq!(seg.passes, 1);
        assert!(seg.probability.iter().all(|&p| p > 0.5));
        let none = constant(-10.0);
        none.set_photo("a".into(), &photo(), 40, 30).unwrap();
        let seg =
            pollster::block_on(none.segment("a", &SegmentOptions::new(InferenceMode::DEFAULT)))
                .unwrap();
        assert!(seg.lesion.is_none() && seg.refined.is_none());
    }

    #[test]
    fn segments_and_explains_one_photo_with_two_passes() {
        let s = session(Some(64));
        assert_eq!((s.input_size(), s.backend().as_str()), (64, "cpu"));
        assert!(!s.has_photo("a"));
        s.set_photo("a".into(), &photo(), 40, 30).unwrap();
        assert!(s.has_photo("a") && !s.has_photo("b"));
        let mode = InferenceMode::MeanOfHeads;
        let seg = pollster::block_on(s.segment("a", &plain(mode))).unwrap();
        assert_eq!(seg.probability.len(), 40 * 30);
        assert!(seg.probability.iter().all(|p| (0.0..=1.0).contains(p)));
        assert_eq!(seg.passes, 1);
        let cam = pollster::block_on(s.explain("a", &heatmap(Method::Cam, mode)));
        let cam = cam.unwrap();
        assert_eq!(
            (cam.heatmap.len(), cam.passes),
            (40 * 30, 1),
            "CAM reuses the segmenting pass"
        );
        assert_eq!(cam.layer, s.default_layer(Method::Cam, mode));
        let grad = pollster::block_on(s.explain("a", &heatmap(Method::GradCam, mode)));
        assert_eq!(grad.unwrap().passes, 2, "Grad-CAM needs its own pass");
        let json = serde_json::to_value(&seg).unwrap();
        assert!(json.get("probability").is_none() && json["ms"]["model"].is_number());
    }

    /// Head L is fast mode L, and the accurate mode is the mean of the heads' logits.
    #[test]
    fn unetpp_heads_are_the_accurate_modes_parts() {
        let s = open(Architecture::UNetPlusPlus, Some(64));
        s.set_photo("a".into(), &photo(), 40, 30).unwrap();
        let seg = |mode| pollster::block_on(s.segment("a", &plain(mode))).unwrap();
        let accurate = seg(InferenceMode::MeanOfHeads);
        let heads = pollster::block_on(s.heads("a")).unwrap();
        assert_eq!(
            heads.iter().map(|h| h.level).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        for h in &heads {
            let fast = seg(InferenceMode::Head(h.level));
            assert_eq!(h.probability, fast.probability, "head {}", h.level);
            assert!(h.ms >= 0.0);
        }
        // Photo-size maps are resized from the input size, so compare at the model's input:
        // the mean of the heads' logits is the accurate logit.
        let prepared = s.photo("a").unwrap();
        let model = s.model();
        let at = |mode| pollster::block_on(prepared.predict_at_input(&model, mode)).unwrap();
        let logit = |p: f32| (p as f64 / (1.0 - p as f64)).ln();
        let all = at(InferenceMode::MeanOfHeads);
        let parts: Vec<Vec<f32>> = (1..=4).map(|l| at(InferenceMode::Head(l))).collect();
        let mut checked = 0;
        for (i, &p) in all.iter().enumerate() {
            if parts.iter().all(|h| (0.001..0.999).contains(&h[i])) {
                let mean = parts.iter().map(|h| logit(h[i])).sum::<f64>() / 4.0;
                assert!(
                    (mean - logit(p)).abs() < 1e-3,
                    "pixel {i}: {mean} vs {}",
                    logit(p)
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} pixels away from 0 and 1");
        assert!(accurate.probability.len() == 40 * 30);
        let unet = session(Some(64));
        unet.set_photo("a".into(), &photo(), 40, 30).unwrap();
        let e = pollster::block_on(unet.heads("a")).unwrap_err();
        assert!(e.to_string().contains("single output"), "{e}");
    }

    #[test]
    fn feature_maps_reuse_the_segmenting_pass() {
        let s = session(Some(64));
        s.set_photo("a".into(), &photo(), 40, 30).unwrap();
        let mode = InferenceMode::MeanOfHeads;
        pollster::block_on(s.segment("a", &plain(mode))).unwrap();
        let maps = pollster::block_on(s.feature_maps("a", Some("bottleneck"), 5, mode)).unwrap();
        assert_eq!(maps.layer, "bottleneck");
        assert_eq!(maps.shape[1..], [4, 4], "1/16 of the 64-pixel input");
        assert_eq!(maps.channels.len(), 5);
        let passes = pollster::block_on(s.segment("a", &plain(mode)))
            .unwrap()
            .passes;
        assert_eq!(passes, 2, "the feature maps ran no pass of their own");
        let default = pollster::block_on(s.feature_maps("a", None, 1, mode)).unwrap();
        assert_eq!(default.layer, s.default_layer(Method::Activation, mode));
    }

    #[test]
    fn bad_pixels_and_an_unknown_photo_are_bad_arguments() {
        let s = session(None);
        let e = s.set_photo("a".into(), &[0; 10], 40, 30).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::BadArgument);
        let e = pollster::block_on(s.segment("missing", &plain(InferenceMode::MeanOfHeads)));
        let e = e.unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::BadArgument);
        assert!(e.to_string().contains("setPhoto"), "{e}");
        assert!("gpu".parse::<Backend>().is_err());
    }

    #[test]
    fn another_models_weights_are_refused_and_the_model_stays() {
        let s = session(None);
        let pspnet = tiny_file(Architecture::PspNet, None);
        let e = s.load_weights(pspnet, "pspnet.safetensors").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Weights);
        assert_eq!(s.architecture(), Architecture::UNet);
    }

    #[test]
    fn exported_weights_record_the_input_size_and_load_again() {
        let s = session(None);
        assert_eq!(s.input_size(), 96, "the file records its input size");
        let exported = pollster::block_on(s.export_weights()).unwrap();
        assert_eq!(weights::input_size(&exported), Some(96));
        s.load_weights(exported, "exported").unwrap();
        assert!(!s.layers_in(InferenceMode::MeanOfHeads).is_empty());
    }

    #[test]
    fn a_photo_file_that_cannot_be_read_leaves_the_photo_held() {
        let s = session(None);
        let photo = "tests/data/isic-fixture/ISIC2018_Task1-2_Training_Input/ISIC_0000125.jpg";
        let jpeg = std::fs::read(photo).unwrap();
        assert!(s.set_photo_file("j".into(), &jpeg, "a.jpg").is_ok() && s.has_photo("j"));
        let e = s.set_photo_file("k".into(), &jpeg[..jpeg.len() / 2], "cut.jpg");
        assert_eq!(e.unwrap_err().kind(), crate::ErrorKind::UnreadableImage);
        assert!(s.has_photo("j"), "a bad photo leaves the one held");
    }

    #[test]
    fn a_quick_start_session_runs_its_fast_modes_until_the_whole_file_comes() {
        let whole = tiny_file(Architecture::UNetPlusPlus, Some(96));
        let quick = weights::quick_start::cut(&whole, 2, Some(64)).unwrap();
        let s = open_bytes(Architecture::UNetPlusPlus, quick, None);
        assert_eq!(s.quick_start_level(), Some(2));
        assert_eq!(s.input_size(), 64, "the quick look's own input size");
        s.set_photo("a".into(), &photo(), 40, 30).unwrap();
        let fast = pollster::block_on(s.segment("a", &plain(InferenceMode::Head(2)))).unwrap();
        for refused in [
            pollster::block_on(s.segment("a", &plain(InferenceMode::MeanOfHeads))).err(),
            pollster::block_on(s.segment("a", &plain(InferenceMode::Head(3)))).err(),
            pollster::block_on(s.heads("a")).err(),
            pollster::block_on(s.export_weights()).err(),
        ] {
            let e = refused.expect("needs the whole weights").to_string();
            assert!(e.contains("up to level 2"), "{e}");
        }
        let whole_size = weights::input_size(&whole).unwrap() as u32;
        s.load_weights(whole.clone(), "unetpp.safetensors").unwrap();
        assert_eq!(s.quick_start_level(), None);
        assert_eq!(
            s.input_size(),
            whole_size,
            "the whole file's input size applies"
        );
        assert!(
            !s.has_photo("a"),
            "the photo is prepared again at the new size"
        );
        s.set_photo("a".into(), &photo(), 40, 30).unwrap();
        assert!(pollster::block_on(s.segment("a", &plain(InferenceMode::MeanOfHeads))).is_ok());
        // The quick-start file's level-2 weights are the whole file's: at the same size, the
        // same answer.
        let small = open_bytes(Architecture::UNetPlusPlus, whole, Some(64));
        small.set_photo("a".into(), &photo(), 40, 30).unwrap();
        let again = pollster::block_on(small.segment("a", &plain(InferenceMode::Head(2)))).unwrap();
        assert_eq!(fast.probability, again.probability);
    }
}
