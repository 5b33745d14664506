//! CAM and Grad-CAM for all three models, at any layer [`Model::layers`] lists.
//!
//! **CAM**, the report's formula: channel weights are the spatial mean of the model's output,
//! the map is the ReLU of the weighted sum of the layer's activations, min-max normalised. With
//! one output channel (lesion) there is a single weight, so this is the layer's activation sum
//! scaled by the image's mean logit: where the model's mean logit is negative the ReLU keeps
//! the *least* active regions. [`Method::Activation`] (the mean activation over channels,
//! normalised) is offered beside it, as it shows what the layer responds to whatever the sign.
//!
//! **Grad-CAM**: the activation is made a tracked leaf, the rest of the forward runs from it,
//! and the target's gradient with respect to it weighs the channels (spatial mean of the
//! gradient); the map is the ReLU of the weighted sum, normalised. Targets: one pixel's logit
//! (the report's default is the centre) or the whole predicted lesion, the sum of logits where
//! p > 0.5 (pytorch-grad-cam's `SemanticSegmentationTarget`), the default for users.
//!
//! Normalisation guards the report's division by `max - min`: a flat map gives zeros, never NaN.

use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::data::resize_map;
use crate::model::readback::read_floats;
use crate::model::{Recorded, Tap};
use crate::{Architecture, Error, InferenceMode, Model};

/// Which map to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The report's last-layer CAM (output-mean-weighted activation sum).
    Cam,
    /// Mean activation over the layer's channels.
    Activation,
    /// Gradient-weighted CAM.
    GradCam,
}

impl Method {
    /// Every method, in the page's order.
    pub const ALL: [Method; 3] = [Method::Activation, Method::Cam, Method::GradCam];

    /// The name the CLI and the JS API use.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Activation => "activation",
            Method::Cam => "cam",
            Method::GradCam => "gradcam",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "cam" => Ok(Method::Cam),
            "activation" | "activations" => Ok(Method::Activation),
            "gradcam" | "grad-cam" => Ok(Method::GradCam),
            _ => Err(Error::BadArgument(format!(
                "unknown method '{s}': expected cam, activation or gradcam"
            ))),
        }
    }
}

/// What Grad-CAM explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The sum of the logits of every pixel predicted lesion (p > 0.5); the single most
    /// confident pixel when none is.
    Lesion,
    /// The logit of one pixel of the model input, `(y, x)`.
    Pixel(usize, usize),
    /// The centre pixel of the model input (the report's default).
    Center,
}

impl std::str::FromStr for Target {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::BadArgument(format!(
                "unknown target '{s}': expected lesion, center or pixel:Y,X"
            ))
        };
        match s.to_ascii_lowercase().as_str() {
            "lesion" => Ok(Target::Lesion),
            "center" | "centre" => Ok(Target::Center),
            p => {
                let (y, x) = p
                    .strip_prefix("pixel:")
                    .and_then(|r| r.split_once(','))
                    .ok_or_else(bad)?;
                Ok(Target::Pixel(
                    y.trim().parse().map_err(|_| bad())?,
                    x.trim().parse().map_err(|_| bad())?,
                ))
            }
        }
    }
}

/// The layer `method` reads when none is given: the report's choices, kept beside each
/// network ([`crate::model::Network::default_layers`]).
pub fn default_layer(arch: Architecture, method: Method, mode: InferenceMode) -> &'static str {
    let layers = arch.default_layers(mode);
    match method {
        Method::GradCam => layers.gradient,
        Method::Cam | Method::Activation => layers.near_output,
    }
}

/// Min-max normalisation to [0, 1]; a flat map (range below 1e-12) becomes zeros.
pub fn normalize(values: &mut [f32]) {
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = hi - lo;
    // NaN ranges land here too.
    if range.is_nan() || range <= 1e-12 || !range.is_finite() {
        values.iter_mut().for_each(|v| *v = 0.0);
    } else {
        values.iter_mut().for_each(|v| *v = (*v - lo) / range);
    }
}

/// The report's CAM of each image before normalisation: `ReLU(w · Σ_c A_c)` with `w` the
/// spatial mean of the (one-channel) output.
///
/// The report's code pairs output channel `i`'s weight with activation channel `i`, which with
/// one output channel would read activation channel 0 alone; its text and this project's
/// specification weigh every activation channel by the output's mean, as done here.
///
/// # Shapes
/// - activations: `[batch, channels, h, w]`
/// - output: `[batch, 1, H, W]` (the model's logits)
/// - returns: `[batch, h, w]`
pub fn cam_from(activations: Tensor<4>, output: Tensor<4>) -> Tensor<3> {
    let [b, _, h, w] = activations.dims();
    let weight = output.mean_dim(3).mean_dim(2).reshape([b, 1, 1, 1]);
    relu(activations.sum_dim(1) * weight).reshape([b, h, w])
}

/// Grad-CAM from an activation and the gradient of the target with respect to it.
///
/// # Shapes
/// - activations, gradients: `[batch, channels, h, w]`
/// - returns: `[batch, h, w]` (not yet normalised)
pub fn gradcam_from(activations: Tensor<4>, gradients: Tensor<4>) -> Tensor<3> {
    let [b, _, h, w] = activations.dims();
    let alpha = gradients.mean_dim(3).mean_dim(2);
    relu((activations * alpha).sum_dim(1)).reshape([b, h, w])
}

/// A heatmap at the photo's size.
#[derive(Debug, Clone)]
pub struct Heatmap {
    /// The layer used.
    pub layer: String,
    /// The spatial mean of the model's output logit for this photo: the report's CAM weighs
    /// every channel by it, so where it is negative the CAM keeps only what the layer finds
    /// *least* lesion-like, and is often blank.
    pub mean_logit: f32,
    /// Width of the photo.
    pub width: u32,
    /// Height of the photo.
    pub height: u32,
    /// Row-major values in [0, 1].
    pub values: Vec<f32>,
}

impl Heatmap {
    /// Whether the map is zero everywhere (the ReLU removed everything, or the map was flat).
    pub fn is_blank(&self) -> bool {
        self.values.iter().all(|&v| v == 0.0)
    }

    /// Why a blank map is blank, in words for the page and the command line; `None` when the
    /// map shows something.
    pub fn blank_note(&self, method: Method) -> Option<String> {
        if !self.is_blank() {
            return None;
        }
        let layer = &self.layer;
        Some(match method {
            Method::Cam if self.mean_logit < 0.0 => format!(
                "The report's CAM is blank for this photo: it multiplies the layer's activations (never negative) by the \
                 model's mean output over the photo, which is negative here ({:.2}: the model scores most of the photo \
                 as skin), so the ReLU removes everything. The mean activation shows what layer {layer} responds to.",
                self.mean_logit
            ),
            Method::Cam | Method::Activation => {
                format!(
                    "The map is blank: layer {layer} responds the same everywhere on this photo."
                )
            }
            Method::GradCam => format!(
                "Grad-CAM is blank at layer {layer}: weighted by their gradients, the layer's channels add up to zero \
                 or less at every position, so nothing at this layer raises the lesion score by itself (Grad-CAM keeps \
                 only positive evidence). Try another layer."
            ),
        })
    }
}

/// What a heatmap is asked for.
#[derive(Debug, Clone, Copy)]
pub struct HeatmapRequest<'a> {
    /// CAM, the mean activation or Grad-CAM.
    pub method: Method,
    /// The layer, or the method's default ([`default_layer`]).
    pub layer: Option<&'a str>,
    /// What Grad-CAM explains.
    pub target: Target,
    /// U-Net++'s mode.
    pub mode: InferenceMode,
}

/// The layer a call reads: `layer`, checked to be one of the model's and computed in `mode`, or
/// the method's default ([`default_layer`]).
pub fn resolve_layer(
    model: &Model,
    layer: Option<&str>,
    method: Method,
    mode: InferenceMode,
) -> Result<&'static str, Error> {
    let arch = model.architecture();
    let Some(layer) = layer else {
        return Ok(default_layer(arch, method, mode));
    };
    let Some(&layer) = model.layers().iter().find(|&&l| l == layer) else {
        return Err(Error::BadArgument(format!(
            "{} has no layer '{layer}'; its layers are {}",
            arch.display_name(),
            model.layers().join(", ")
        )));
    };
    let computed = model.layers_in(mode);
    if !computed.contains(&layer) {
        return Err(mode_error(layer, mode, &computed));
    }
    Ok(layer)
}

/// A heatmap of a prepared model input (`[1, 3, size, size]`, [`crate::data::input_tensor`])
/// at the photo's size `photo_size` (width, height). The model runs in its inference form;
/// Grad-CAM runs it on the same device with autodiff, in evaluation mode. `recorded`, a
/// [`Model::record`] of the same input in the same mode, serves CAM and the mean activation
/// without running the model again.
pub async fn explain(
    model: &Model,
    input: Tensor<4>,
    photo_size: (u32, u32),
    request: &HeatmapRequest<'_>,
    recorded: Option<&Recorded>,
) -> Result<Heatmap, Error> {
    let HeatmapRequest {
        method,
        layer,
        target,
        mode,
    } = *request;
    let layer = resolve_layer(model, layer, method, mode)?;
    // `resolve_layer` checked the mode computes the layer; a tap that is not hit says otherwise.
    let not_computed = || mode_error(layer, mode, &model.layers_in(mode));
    let [_, _, size, _] = input.dims();
    model.validate_input([1, 3, size, size])?;
    let mut captured: Option<Tensor<4>> = None;
    let (map, mean_logit) = match method {
        Method::Cam | Method::Activation => {
            let (a, output) = match recorded.filter(|r| r.mode == mode) {
                Some(r) => (r.layer(layer), r.output.clone()),
                None => {
                    let mut keep = |a: Tensor<4>| {
                        captured = Some(a.clone());
                        a
                    };
                    let mut tap = Tap::new(layer, &mut keep);
                    let output = model.valid().predict_tapped(input, mode, Some(&mut tap));
                    (captured.take(), output)
                }
            };
            let a = a.ok_or_else(not_computed)?;
            let mean_logit = output.clone().mean();
            let map = match method {
                Method::Cam => cam_from(a, output),
                _ => {
                    let [b, _, h, w] = a.dims();
                    a.mean_dim(1).reshape([b, h, w])
                }
            };
            (map, mean_logit)
        }
        Method::GradCam => {
            let ad = input.device().autodiff();
            // Evaluation mode (running batch-norm statistics) on an autodiff device: `valid`
            // clears the training flags, and parameters need no gradients.
            let model = model.valid().to_device(&ad).no_grad();
            let x = input.autodiff();
            let mut leaf = |a: Tensor<4>| {
                let a = a.detach().require_grad();
                captured = Some(a.clone());
                a
            };
            let mut tap = Tap::new(layer, &mut leaf);
            let logits = model.predict_tapped(x, mode, Some(&mut tap));
            let a = captured.take().ok_or_else(not_computed)?;
            let mean_logit = logits.clone().detach().mean();
            let objective = target_value(logits, target, size).await?;
            let grads = objective.backward();
            let g = a.grad(&grads).ok_or_else(|| {
                Error::BadArgument(format!("layer '{layer}' does not reach the output"))
            })?;
            (gradcam_from(a.detach(), g), mean_logit)
        }
    };
    let [_, h, w] = map.dims();
    let mut values = read_floats(map).await?;
    let mean_logit = read_floats(mean_logit).await?[0];
    normalize(&mut values);
    let (width, height) = photo_size;
    let mut values = resize_map(values, (w as u32, h as u32), (width, height));
    values.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    Ok(Heatmap {
        layer: layer.to_string(),
        mean_logit,
        width,
        height,
        values,
    })
}

fn mode_error(layer: &str, mode: InferenceMode, computed: &[&str]) -> Error {
    Error::BadArgument(format!(
        "layer '{layer}' is not computed in U-Net++ mode {mode}, which runs only {}; use one of those or the mode mean (every head)",
        computed.join(", ")
    ))
}

async fn target_value(logits: Tensor<4>, target: Target, size: usize) -> Result<Tensor<1>, Error> {
    let [_, _, h, w] = logits.dims();
    let pixel = |y: usize, x: usize| {
        logits
            .clone()
            .slice([0..1, 0..1, y..y + 1, x..x + 1])
            .reshape([1])
    };
    match target {
        Target::Center => Ok(pixel(h / 2, w / 2)),
        Target::Pixel(y, x) => {
            if y >= size || x >= size {
                return Err(Error::BadArgument(format!(
                    "target pixel ({y}, {x}) is outside the {size}x{size} model input"
                )));
            }
            Ok(pixel(y, x))
        }
        Target::Lesion => {
            let first = logits.clone().slice([0..1, 0..1, 0..h, 0..w]);
            let mask = first.clone().detach().greater_elem(0.0);
            let any = mask
                .clone()
                .any()
                .into_data_async()
                .await
                .map_err(|e| Error::Device(e.to_string()))?;
            if any.as_slice::<bool>().map(|s| s[0]).unwrap_or(false) {
                Ok(first.mask_fill(mask.bool_not(), 0.0).sum())
            } else {
                let flat = first.reshape([h * w]);
                let idx = flat.clone().detach().argmax(0);
                Ok(flat.select(0, idx))
            }
        }
    }
}

#[cfg(test)]
mod tests;
