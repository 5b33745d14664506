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
use super::refine::{BOX_MARGIN, CROP_SOURCE_SIDE, Crop, REFINE_MARGIN, check_box};
use crate::clean::{Map, Rect};
use crate::data::{normalize_chw, resize_rgb};
use crate::explain::{Heatmap, Method, Recorded, Target, explain_input, record};
use crate::model::readback::read_floats;
use crate::photo_check::{PhotoCheck, check_photo};
use crate::segment::{predict_input, resize_probability};
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
    recorded: RefCell<Option<(InferenceMode, Recorded)>>,
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
    /// around that lesion, pasted back and cleaned the same way.
    pub async fn segment_photo(
        &self,
        model: &Model,
        options: &SegmentOptions,
    ) -> Result<PhotoSegmentation, Error> {
        let dims = self.dimensions();
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
        let kept = Map {
            values: &mut values,
            width: side,
            height: side,
        }
        .clean(
            options.lesions,
            options.threshold,
            (side as f32 / 2.0, side as f32 / 2.0),
        );
        let lesion =
            kept.map(|r| r.scaled(dims.0 as f32 / side as f32, dims.1 as f32 / side as f32));
        if let (true, Some(region)) = (options.refine, lesion) {
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
        let input = Tensor::from_data(
            TensorData::new(
                normalize_chw(&resize_rgb(&pixels, side)),
                [1, 3, side as usize, side as usize],
            ),
            &self.input.device(),
        );
        self.start_pass(model)?;
        let start = now_ms();
        let mut values = predict_input(model, input, options.mode, options.tta).await?;
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
        let centre = within
            .map(|b| to_input(&b).centre())
            .unwrap_or((side as f32 / 2.0, side as f32 / 2.0));
        let kept = map.clean(options.lesions, options.threshold, centre);
        let lesion = kept.map(|r| Rect {
            x: crop.x as f32 + r.x / sx,
            y: crop.y as f32 + r.y / sy,
            width: r.width / sx,
            height: r.height / sy,
        });
        let values = resize_probability(values, (side, side), (crop.width, crop.height));
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
            return predict_input(model, self.input.clone(), mode, true).await;
        }
        let recorded = record(model, self.input.clone(), mode);
        let values = read_floats(sigmoid(recorded.output.clone())).await?;
        *self.recorded.borrow_mut() = Some((mode, recorded));
        Ok(values)
    }

    /// The recorded pass of the last segmentation, when `usable` and in `mode`; otherwise
    /// `None`, and the pass the caller then runs is counted.
    fn reuse_pass(&self, mode: InferenceMode, usable: bool) -> Option<Recorded> {
        let recorded = match &*self.recorded.borrow() {
            Some((m, r)) if usable && *m == mode => Some(r.clone()),
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
        predict_input(model, self.input.clone(), mode, false).await
    }

    /// The feature maps of one layer ([`crate::features`]), from the pass of the last
    /// [`PreparedPhoto::segment`] in the same mode when there is one.
    pub async fn feature_maps(
        &self,
        model: &Model,
        layer: Option<&str>,
        count: usize,
        mode: InferenceMode,
    ) -> Result<crate::features::FeatureMaps, Error> {
        let recorded = self.reuse_pass(mode, true);
        crate::features::feature_maps_input(
            model,
            self.input.clone(),
            layer,
            count,
            mode,
            recorded.as_ref(),
        )
        .await
    }

    /// The model's maps of the eight test-time views, compared ([`crate::uncertainty`]).
    pub async fn uncertainty(
        &self,
        model: &Model,
        mode: InferenceMode,
        threshold: f32,
    ) -> Result<crate::uncertainty::Uncertainty, Error> {
        self.start_pass(model)?;
        let [_, _, size, _] = self.input.dims();
        let maps = crate::segment::predict_views(model, self.input.clone(), mode).await?;
        Ok(crate::uncertainty::from_views(
            &maps,
            size as u32,
            self.dimensions(),
            threshold,
        ))
    }

    /// Input-size values (row-major) resized to the photo's size.
    pub fn to_photo_size(&self, values: Vec<f32>) -> Vec<f32> {
        let [_, _, size, _] = self.input.dims();
        let side = size as u32;
        resize_probability(values, (side, side), self.dimensions())
    }

    /// A heatmap at the photo's size ([`crate::explain::explain`]). CAM and the mean activation
    /// reuse the pass of the last [`PreparedPhoto::segment`] in the same mode.
    pub async fn explain(
        &self,
        model: &Model,
        method: Method,
        layer: Option<&str>,
        target: Target,
        mode: InferenceMode,
    ) -> Result<Heatmap, Error> {
        // Grad-CAM needs a pass of its own, with autodiff.
        let recorded = self.reuse_pass(mode, method != Method::GradCam);
        let input = self.input.clone();
        let size = self.dimensions();
        explain_input(
            model,
            input,
            size,
            method,
            layer,
            target,
            mode,
            recorded.as_ref(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::explain;
    use crate::{Architecture, Preset};

    fn photo() -> RgbImage {
        RgbImage::from_fn(48, 40, |x, y| {
            image::Rgb([(x * 5) as u8, (y * 6) as u8, ((x + y) * 3) as u8])
        })
    }

    /// segment → CAM → mean activation → Grad-CAM: two passes, and the same maps as the
    /// one-call functions, which run a pass each.
    #[test]
    fn one_pass_serves_segment_cam_and_activation() {
        let device = Device::flex();
        let model = Model::init(Architecture::UNet, Preset::Web, &device).valid();
        let photo = photo();
        let prepared = PreparedPhoto::new(&photo, 32, &device);
        let mode = InferenceMode::Accurate;
        let p = pollster::block_on(prepared.segment(&model, mode, false)).unwrap();
        let direct = pollster::block_on(crate::segment::predict(
            &model, &photo, 32, mode, false, &device,
        ))
        .unwrap();
        assert_eq!(p.len(), 48 * 40);
        let diff = p
            .iter()
            .zip(&direct.values)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(diff < 1e-5, "{diff}");
        for method in [Method::Cam, Method::Activation, Method::GradCam] {
            let a =
                pollster::block_on(prepared.explain(&model, method, None, Target::Lesion, mode))
                    .unwrap();
            let b = pollster::block_on(explain(
                &model,
                &photo,
                32,
                method,
                None,
                Target::Lesion,
                mode,
                &device,
            ))
            .unwrap();
            let diff = a
                .values
                .iter()
                .zip(&b.values)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(diff < 1e-4, "{method:?}: {diff}");
            assert_eq!(a.layer, b.layer);
        }
        assert_eq!(prepared.forward_passes(), 2, "segment, then Grad-CAM");
        prepared.forget_pass();
        pollster::block_on(prepared.explain(&model, Method::Cam, None, Target::Lesion, mode))
            .unwrap();
        assert_eq!(prepared.forward_passes(), 3, "new weights need a new pass");
    }
}
