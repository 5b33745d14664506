//! One photo made ready for a model once, then segmented and explained as often as asked: the
//! page's segment → mean activation or CAM → Grad-CAM sequence resizes and normalises the
//! photo once, and the segmenting forward pass, which keeps every layer's activation, also
//! serves CAM and the mean activation. Grad-CAM needs its own pass, with autodiff.

use std::cell::{Cell, RefCell};

use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use image::RgbImage;

use super::now_ms;
use super::options::SegmentOptions;
use super::refine::{
    BOX_MARGIN, CLICK_SIDE, CROP_SOURCE_SIDE, Crop, REFINE_MARGIN, check_box, with_clicks,
};
use crate::clean::{Map, Point, Rect, check_points};
use crate::data::{input_tensor, normalize_chw, resize_map, resize_rgb};
use crate::explain::{Heatmap, HeatmapRequest, Method, explain};
use crate::features::{FeatureMaps, feature_maps};
use crate::model::Recorded;
use crate::model::readback::read_floats;
use crate::photo_check::{PhotoCheck, check_photo};
use crate::predict::{probability, probability_views};
use crate::uncertainty::{Uncertainty, from_views};
use crate::{Error, InferenceMode, Model};

/// [`PreparedPhoto::segment_photo`]'s answer.
#[derive(Debug, Clone)]
pub struct PhotoSegmentation {
    /// The lesion probability of every pixel at the photo's size, row-major, cleaned.
    pub probability: Vec<f32>,
    /// The bounding box of the lesion kept (of all regions with [`crate::clean::Lesions::All`]), in the
    /// photo's pixels; `None` when nothing is lesion.
    pub lesion: Option<Rect>,
    /// The crop the second pass looked at, when there was one.
    pub refined: Option<Rect>,
    /// Milliseconds of the model passes.
    pub model_ms: f64,
}

/// A photo resized and normalised for a model of input side `size`, with what one forward
/// pass of the current weights left behind.
pub struct PreparedPhoto {
    width: u32,
    height: u32,
    input: Tensor<4>,
    /// The photo at most [`CROP_SOURCE_SIDE`] pixels long, for the crops of a closer look.
    crop_source: RgbImage,
    check: PhotoCheck,
    recorded: RefCell<Option<Recorded>>,
    passes: Cell<usize>,
}

impl PreparedPhoto {
    /// Squashes `photo` to `size x size` once: the model input and the dermoscopy check both
    /// start from it.
    pub fn new(photo: &RgbImage, size: u32, device: &Device) -> Self {
        let small = resize_rgb(photo, size);
        let input = Tensor::from_data(
            TensorData::new(normalize_chw(&small), [1, 3, size as usize, size as usize]),
            &device.clone().without_autodiff(),
        );
        let longest = photo.width().max(photo.height());
        let crop_source = if longest > CROP_SOURCE_SIDE {
            let s = CROP_SOURCE_SIDE as f32 / longest as f32;
            let (w, h) = (
                ((photo.width() as f32 * s).round() as u32).max(1),
                ((photo.height() as f32 * s).round() as u32).max(1),
            );
            image::imageops::resize(photo, w, h, image::imageops::FilterType::Triangle)
        } else {
            photo.clone()
        };
        PreparedPhoto {
            width: photo.width(),
            height: photo.height(),
            input,
            crop_source,
            check: check_photo(&small),
            recorded: RefCell::new(None),
            passes: Cell::new(0),
        }
    }

    /// The photo's own width and height.
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Whether the photo looks like dermoscopy ([`crate::photo_check`]).
    pub fn check(&self) -> &PhotoCheck {
        &self.check
    }

    /// Forward passes run so far (a TTA prediction counts as one, on a batch of eight).
    pub fn forward_passes(&self) -> usize {
        self.passes.get()
    }

    /// Forgets the recorded pass: call when the model's weights change.
    pub fn forget_pass(&self) {
        self.recorded.borrow_mut().take();
    }

    /// The photo's mask as `options` ask: with a box, the model looks inside it only;
    /// otherwise a first pass on the whole photo (recorded for [`PreparedPhoto::explain`]
    /// without `tta`), its lesion kept and cleaned, then with `refine` a second pass on a crop
    /// around that lesion and the positive clicks, pasted back and cleaned the same way. Clicks
    /// apply to every pass ([`crate::clean::Point`]).
    pub async fn segment_photo(
        &self,
        model: &Model,
        options: &SegmentOptions,
    ) -> Result<PhotoSegmentation, Error> {
        let dims = self.dimensions();
        check_points(&options.points, dims)?;
        if let Some(b) = options.prompt_box {
            let b = check_box(&b, dims)?;
            return self
                .look_closer(model, Crop::around(&b, BOX_MARGIN, dims), options, Some(b))
                .await;
        }
        let start = now_ms();
        let mut values = self
            .segment_at_input(model, options.mode, options.tta)
            .await?;
        let model_ms = now_ms() - start;
        let side = self.input_side();
        let (sx, sy) = (side as f32 / dims.0 as f32, side as f32 / dims.1 as f32);
        let points: Vec<Point> = options
            .points
            .iter()
            .map(|p| p.mapped((0.0, 0.0), sx, sy))
            .collect();
        let kept = Map {
            values: &mut values,
            width: side,
            height: side,
        }
        .clean_with(
            options.lesions,
            options.threshold,
            (side as f32 / 2.0, side as f32 / 2.0),
            &points,
        );
        let lesion = kept.map(|r| r.scaled(1.0 / sx, 1.0 / sy));
        let click_side = CLICK_SIDE * dims.0.min(dims.1) as f32;
        if let (true, Some(region)) = (
            options.refine,
            with_clicks(lesion, &options.points, click_side),
        ) {
            let crop = Crop::around(&region, REFINE_MARGIN, dims);
            if !crop.covers_most_of(dims) {
                let mut closer = self.look_closer(model, crop, options, None).await?;
                closer.model_ms += model_ms;
                return Ok(closer);
            }
        }
        Ok(PhotoSegmentation {
            probability: self.to_photo_size(values),
            lesion,
            refined: None,
            model_ms,
        })
    }

    /// A pass on `crop` of the photo at the model's input size, kept to `within` (photo
    /// pixels) when given, cleaned about the crop's centre and pasted into an empty photo-size
    /// map.
    async fn look_closer(
        &self,
        model: &Model,
        crop: Crop,
        options: &SegmentOptions,
        within: Option<Rect>,
    ) -> Result<PhotoSegmentation, Error> {
        let side = self.input_side();
        let source = crop.scaled(
            self.crop_source.width() as f32 / self.width as f32,
            self.crop_source.dimensions(),
        );
        let pixels = image::imageops::crop_imm(
            &self.crop_source,
            source.x,
            source.y,
            source.width,
            source.height,
        )
        .to_image();
        let input = input_tensor(&pixels, side, &self.input.device());
        self.start_pass(model)?;
        let start = now_ms();
        let mut values = probability(model, input, options.mode, options.tta).await?;
        let model_ms = now_ms() - start;
        // Crop pixels to input pixels.
        let (sx, sy) = (
            side as f32 / crop.width as f32,
            side as f32 / crop.height as f32,
        );
        let to_input = |r: &Rect| Rect {
            x: (r.x - crop.x as f32) * sx,
            y: (r.y - crop.y as f32) * sy,
            width: r.width * sx,
            height: r.height * sy,
        };
        let mut map = Map {
            values: &mut values,
            width: side,
            height: side,
        };
        if let Some(b) = within {
            map.keep_inside(&to_input(&b));
        }
        let points: Vec<Point> = options
            .points
            .iter()
            .filter(|p| crop.rect().contains(p.x as u32, p.y as u32))
            .map(|p| p.mapped((crop.x as f32, crop.y as f32), sx, sy))
            .collect();
        let centre = within
            .map(|b| to_input(&b).centre())
            .unwrap_or((side as f32 / 2.0, side as f32 / 2.0));
        let kept = map.clean_with(options.lesions, options.threshold, centre, &points);
        let lesion = kept.map(|r| Rect {
            x: crop.x as f32 + r.x / sx,
            y: crop.y as f32 + r.y / sy,
            width: r.width / sx,
            height: r.height / sy,
        });
        let values = resize_map(values, (side, side), (crop.width, crop.height));
        let mut probability = vec![0.0; self.width as usize * self.height as usize];
        crop.paste(&values, &mut probability, self.width);
        Ok(PhotoSegmentation {
            probability,
            lesion,
            refined: Some(crop.rect()),
            model_ms,
        })
    }

    fn input_side(&self) -> u32 {
        let [_, _, size, _] = self.input.dims();
        size as u32
    }

    /// The lesion probability of every pixel at the photo's size. Without `tta` the pass is
    /// recorded for [`PreparedPhoto::explain`].
    pub async fn segment(
        &self,
        model: &Model,
        mode: InferenceMode,
        tta: bool,
    ) -> Result<Vec<f32>, Error> {
        let values = self.segment_at_input(model, mode, tta).await?;
        Ok(self.to_photo_size(values))
    }

    /// [`PreparedPhoto::segment`] at the model's input size (`size * size` values), for callers
    /// that time the model apart from the resize back.
    pub async fn segment_at_input(
        &self,
        model: &Model,
        mode: InferenceMode,
        tta: bool,
    ) -> Result<Vec<f32>, Error> {
        self.start_pass(model)?;
        if tta {
            return probability(model, self.input.clone(), mode, true).await;
        }
        let recorded = model.record(self.input.clone(), mode);
        let values = read_floats(sigmoid(recorded.output.clone())).await?;
        *self.recorded.borrow_mut() = Some(recorded);
        Ok(values)
    }

    /// The recorded pass of the last segmentation, when `usable` and in `mode`; otherwise
    /// `None`, and the pass the caller then runs is counted.
    fn reuse_pass(&self, mode: InferenceMode, usable: bool) -> Option<Recorded> {
        let recorded = match &*self.recorded.borrow() {
            Some(r) if usable && r.mode == mode => Some(r.clone()),
            _ => None,
        };
        if recorded.is_none() {
            self.passes.set(self.passes.get() + 1);
        }
        recorded
    }

    /// Checks that `model` takes this input and counts the forward pass about to run.
    fn start_pass(&self, model: &Model) -> Result<(), Error> {
        let [_, _, size, _] = self.input.dims();
        model.validate_input([1, 3, size, size])?;
        self.passes.set(self.passes.get() + 1);
        Ok(())
    }

    /// The lesion probability at the model's input size, without keeping the pass for
    /// [`PreparedPhoto::explain`]: U-Net++'s heads one by one (fast modes) must not replace the
    /// segmenting pass that CAM reuses.
    pub async fn predict_at_input(
        &self,
        model: &Model,
        mode: InferenceMode,
    ) -> Result<Vec<f32>, Error> {
        self.start_pass(model)?;
        probability(model, self.input.clone(), mode, false).await
    }

    /// The feature maps of one layer ([`crate::features`]), from the pass of the last
    /// [`PreparedPhoto::segment`] in the same mode when there is one.
    pub async fn feature_maps(
        &self,
        model: &Model,
        layer: Option<&str>,
        count: usize,
        mode: InferenceMode,
    ) -> Result<FeatureMaps, Error> {
        let recorded = self.reuse_pass(mode, true);
        feature_maps(
            model,
            self.input.clone(),
            layer,
            count,
            mode,
            recorded.as_ref(),
        )
        .await
    }

    /// The model's maps of the eight test-time views, compared ([`crate::uncertainty`]), lesion
    /// above `threshold`.
    pub async fn uncertainty(
        &self,
        model: &Model,
        mode: InferenceMode,
        threshold: f32,
    ) -> Result<Uncertainty, Error> {
        self.start_pass(model)?;
        let [_, _, size, _] = self.input.dims();
        let maps = probability_views(model, self.input.clone(), mode).await?;
        Ok(from_views(&maps, size as u32, self.dimensions(), threshold))
    }

    /// Input-size values (row-major) resized to the photo's size.
    pub fn to_photo_size(&self, values: Vec<f32>) -> Vec<f32> {
        let [_, _, size, _] = self.input.dims();
        let side = size as u32;
        resize_map(values, (side, side), self.dimensions())
    }

    /// A heatmap at the photo's size ([`crate::explain::explain`]). CAM and the mean activation
    /// reuse the pass of the last [`PreparedPhoto::segment`] in the same mode.
    pub async fn explain(
        &self,
        model: &Model,
        request: &HeatmapRequest<'_>,
    ) -> Result<Heatmap, Error> {
        // Grad-CAM needs a pass of its own, with autodiff.
        let recorded = self.reuse_pass(request.mode, request.method != Method::GradCam);
        explain(
            model,
            self.input.clone(),
            self.dimensions(),
            request,
            recorded.as_ref(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::Target;
    use crate::{Architecture, Preset};

    fn photo() -> RgbImage {
        RgbImage::from_fn(48, 40, |x, y| {
            image::Rgb([(x * 5) as u8, (y * 6) as u8, ((x + y) * 3) as u8])
        })
    }

    fn heatmap(method: Method) -> HeatmapRequest<'static> {
        HeatmapRequest {
            method,
            layer: None,
            target: Target::Lesion,
            mode: InferenceMode::MeanOfHeads,
        }
    }

    /// segment → CAM → mean activation → Grad-CAM: two passes.
    #[test]
    fn one_pass_serves_segment_cam_and_activation() {
        let device = Device::flex();
        let model = Model::init(Architecture::UNet, Preset::Web, &device).valid();
        let prepared = PreparedPhoto::new(&photo(), 32, &device);
        let p = pollster::block_on(prepared.segment(&model, InferenceMode::MeanOfHeads, false));
        assert_eq!(p.unwrap().len(), 48 * 40);
        for method in [Method::Cam, Method::Activation, Method::GradCam] {
            let map = pollster::block_on(prepared.explain(&model, &heatmap(method))).unwrap();
            assert_eq!(map.values.len(), 48 * 40, "{method:?}");
        }
        assert_eq!(prepared.forward_passes(), 2, "segment, then Grad-CAM");
    }

    #[test]
    fn new_weights_need_a_new_pass() {
        let device = Device::flex();
        let model = Model::init(Architecture::UNet, Preset::Web, &device).valid();
        let prepared = PreparedPhoto::new(&photo(), 32, &device);
        pollster::block_on(prepared.segment(&model, InferenceMode::MeanOfHeads, false)).unwrap();
        prepared.forget_pass();
        pollster::block_on(prepared.explain(&model, &heatmap(Method::Cam))).unwrap();
        assert_eq!(prepared.forward_passes(), 2);
    }

    #[test]
    fn a_model_that_ignores_orientation_is_certain_everywhere() {
        use burn::module::Param;
        // A PSPNet whose classifier ignores its features: every view gets the same map.
        let device = Device::flex();
        let mut m = crate::model::PspNetConfig::new(8, 2, 4).init(&device);
        m.decoder.classifier.weight = Param::from_tensor(Tensor::zeros([1, 4, 1, 1], &device));
        m.decoder.classifier.bias = Some(Param::from_tensor(Tensor::full([1], 0.3, &device)));
        let model = Model::PspNet(m).valid();
        let prepared = PreparedPhoto::new(&photo(), 32, &device);
        let u = pollster::block_on(prepared.uncertainty(&model, InferenceMode::DEFAULT, 0.5));
        let u = u.unwrap();
        assert_eq!((u.width, u.height, u.maps), (48, 40, 8));
        assert!(u.spread.iter().all(|&v| v.abs() < 1e-6));
        assert_eq!(u.disagreement, 0.0);
    }

    #[test]
    fn a_model_that_sees_orientation_spreads() {
        let device = Device::flex();
        device.seed(3);
        let model = Model::init(Architecture::UNet, Preset::Web, &device).valid();
        let prepared = PreparedPhoto::new(&photo(), 32, &device);
        let u = pollster::block_on(prepared.uncertainty(&model, InferenceMode::DEFAULT, 0.5));
        let u = u.unwrap();
        assert!(u.mean_spread > 0.0);
        assert!(u.spread.iter().all(|&v| (0.0..=0.5).contains(&v)));
    }
}
