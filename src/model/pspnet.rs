//! PSPNet (Zhao et al. 2017) in the report's variant: a small stride-4 convolutional encoder
//! instead of a ResNet, the pyramid pooling module, and a convolutional decoder.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use burn::tensor::module::adaptive_avg_pool2d;

use super::tap::{Tap, tap};
use super::{DefaultLayers, InferenceMode, KeyMap, Network, StoredTensors};
use crate::nn::{BatchNorm2d, BatchNorm2dConfig, conv_bn_relu, conv2d, resize_bilinear};

/// Configuration of [`PspNet`].
#[derive(Config, Debug)]
pub struct PspNetConfig {
    /// Channels of the encoder output (the report's `backbone_features`); the first encoder
    /// convolution has half as many.
    pub backbone_features: usize,
    /// Channels of each pyramid stage.
    pub stage_channels: usize,
    /// Channels of the decoder's 3x3 convolution.
    pub decoder_channels: usize,
    /// Output sizes of the adaptive pools.
    #[config(default = "vec![1, 2, 3, 6]")]
    pub pool_sizes: Vec<usize>,
    /// Input channels (3 for RGB photos).
    #[config(default = 3)]
    pub in_channels: usize,
}

impl PspNetConfig {
    /// The report's model: 512 backbone features, stages of 512/4 = 128 channels, decoder 256
    /// (3,156,993 parameters).
    pub fn paper() -> Self {
        Self::new(512, 128, 256)
    }

    /// Browser preset: 256 backbone features, stages of 64, decoder 128 (792,065 parameters,
    /// 3.2 MB as f32). PSPNet's cost sits at 1/4 resolution, so it is already the fastest of the
    /// three; halving the widths keeps it so on a phone.
    pub fn web() -> Self {
        Self::new(256, 64, 128)
    }

    /// Builds the module.
    pub fn init(&self, device: &Device) -> PspNet {
        let f = self.backbone_features;
        let conv = |i: usize, o: usize, k: usize, stride: usize, pad: usize| {
            Conv2dConfig::new([i, o], [k, k])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(false)
                .init(device)
        };
        let bn = |c: usize| BatchNorm2dConfig::new(c).init(device);
        let stages = self
            .pool_sizes
            .iter()
            .map(|&size| PyramidStage {
                conv: conv(f, self.stage_channels, 1, 1, 0),
                bn: bn(self.stage_channels),
                size,
            })
            .collect();
        let concat = f + self.pool_sizes.len() * self.stage_channels;
        PspNet {
            encoder: Encoder {
                conv1: conv(self.in_channels, f / 2, 3, 2, 1),
                bn1: bn(f / 2),
                conv2: conv(f / 2, f, 3, 2, 1),
                bn2: bn(f),
            },
            ppm: PyramidPooling {
                stages,
                bottleneck: conv(concat, f, 1, 1, 0),
                bottleneck_bn: bn(f),
            },
            decoder: Decoder {
                conv: conv(f, self.decoder_channels, 3, 1, 1),
                bn: bn(self.decoder_channels),
                classifier: Conv2dConfig::new([self.decoder_channels, 1], [1, 1]).init(device),
            },
        }
    }
}

/// Two stride-2 3x3 convolutions with batch norm and ReLU: 1/4 resolution.
#[derive(Module, Debug)]
pub struct Encoder {
    /// First convolution, to `backbone_features / 2`.
    pub conv1: Conv2d,
    /// Its batch norm.
    pub bn1: BatchNorm2d,
    /// Second convolution, to `backbone_features`.
    pub conv2: Conv2d,
    /// Its batch norm.
    pub bn2: BatchNorm2d,
}

/// One pyramid level: adaptive average pool, 1x1 convolution, batch norm, ReLU.
#[derive(Module, Debug)]
pub struct PyramidStage {
    /// 1x1 convolution without bias.
    pub conv: Conv2d,
    /// Its batch norm.
    pub bn: BatchNorm2d,
    /// Output size of the adaptive pool.
    pub size: usize,
}

/// The pyramid pooling module: the input concatenated with every stage upsampled back, then a
/// 1x1 bottleneck with batch norm and ReLU.
#[derive(Module, Debug)]
pub struct PyramidPooling {
    /// Stages for pool sizes 1, 2, 3 and 6.
    pub stages: Vec<PyramidStage>,
    /// 1x1 bottleneck convolution without bias.
    pub bottleneck: Conv2d,
    /// Its batch norm.
    pub bottleneck_bn: BatchNorm2d,
}

/// 3x3 convolution with batch norm and ReLU, then a 1x1 convolution to one logit.
#[derive(Module, Debug)]
pub struct Decoder {
    /// 3x3 convolution without bias.
    pub conv: Conv2d,
    /// Its batch norm.
    pub bn: BatchNorm2d,
    /// 1x1 convolution to the logit.
    pub classifier: Conv2d,
}

/// PSPNet for one-class segmentation. Any input size of at least 4x4 works: the logits are
/// resized back to the input size with bilinear interpolation (align_corners = false).
#[derive(Module, Debug)]
pub struct PspNet {
    /// Stride-4 encoder.
    pub encoder: Encoder,
    /// Pyramid pooling module: the default layer for CAM and Grad-CAM.
    pub ppm: PyramidPooling,
    /// Decoder at 1/4 resolution.
    pub decoder: Decoder,
}

impl PspNet {
    /// Lesion logits at the input's resolution.
    ///
    /// # Shapes
    /// - x: `[batch, 3, height, width]`
    /// - output: `[batch, 1, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_tapped(x, None)
    }

    /// Layers whose activations CAM and Grad-CAM can read: the encoder output, the pyramid
    /// pooling output, and the decoder's features before its classifier.
    pub const LAYERS: [&'static str; 3] = ["encoder", "ppm", "decoder"];

    /// What a layer does, in one line for people learning the network.
    pub fn describe(layer: &str) -> Option<&'static str> {
        Some(match layer {
            "encoder" => "Encoder, 1/4 resolution: local features of colour and texture.",
            "ppm" => {
                "Pyramid pooling, 1/4 resolution: each position joined with the average of the whole photo, halves, thirds and sixths (context)."
            }
            "decoder" => {
                "Decoder, 1/4 resolution: the last features before the 1x1 layer that scores each pixel, then upsampled to the photo."
            }
            _ => return None,
        })
    }

    /// [`PspNet::forward`] with a [`Tap`] on one of [`PspNet::LAYERS`].
    pub fn forward_tapped(&self, x: Tensor<4>, mut t: Option<&mut Tap<'_>>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let t = &mut t;
        let e = tap(t, "encoder", self.encoder.forward(x));
        let p = tap(t, "ppm", self.ppm.forward(e));
        let d = tap(t, "decoder", self.decoder.features(p));
        resize_bilinear(conv2d(&self.decoder.classifier, d), [h, w], false)
    }
}

impl Encoder {
    /// # Shapes
    /// - x: `[batch, 3, h, w]`
    /// - output: `[batch, backbone_features, ceil(h/4), ceil(w/4)]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = conv_bn_relu(&self.conv1, &self.bn1, x);
        conv_bn_relu(&self.conv2, &self.bn2, x)
    }
}

impl PyramidPooling {
    /// # Shapes
    /// - x: `[batch, c, h, w]`
    /// - output: `[batch, c, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let mut parts = vec![x.clone()];
        for stage in &self.stages {
            let y = adaptive_avg_pool2d(x.clone(), [stage.size, stage.size]);
            let y = conv_bn_relu(&stage.conv, &stage.bn, y);
            parts.push(resize_bilinear(y, [h, w], false));
        }
        let x = Tensor::cat(parts, 1);
        conv_bn_relu(&self.bottleneck, &self.bottleneck_bn, x)
    }
}

impl Decoder {
    /// # Shapes
    /// - x: `[batch, c, h, w]`
    /// - output: `[batch, 1, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        conv2d(&self.classifier, self.features(x))
    }

    /// The features the classifier reads.
    ///
    /// # Shapes
    /// - x: `[batch, c, h, w]`
    /// - output: `[batch, decoder_channels, h, w]`
    pub fn features(&self, x: Tensor<4>) -> Tensor<4> {
        conv_bn_relu(&self.conv, &self.bn, x)
    }
}

/// The report's `Sequential`s number their layers where this file names them.
const PSPNET_KEYS: KeyMap = KeyMap {
    prefixes: &[
        ("encoder.0.", "encoder.conv1."),
        ("encoder.1.", "encoder.bn1."),
        ("encoder.3.", "encoder.conv2."),
        ("encoder.4.", "encoder.bn2."),
        ("ppm.stages.0.1.", "ppm.stages.0.conv."),
        ("ppm.stages.0.2.", "ppm.stages.0.bn."),
        ("ppm.stages.1.1.", "ppm.stages.1.conv."),
        ("ppm.stages.1.2.", "ppm.stages.1.bn."),
        ("ppm.stages.2.1.", "ppm.stages.2.conv."),
        ("ppm.stages.2.2.", "ppm.stages.2.bn."),
        ("ppm.stages.3.1.", "ppm.stages.3.conv."),
        ("ppm.stages.3.2.", "ppm.stages.3.bn."),
        ("ppm.bottleneck.0.", "ppm.bottleneck."),
        ("ppm.bottleneck.1.", "ppm.bottleneck_bn."),
        ("decoder.0.", "decoder.conv."),
        ("decoder.1.", "decoder.bn."),
        ("decoder.3.", "decoder.classifier."),
    ],
    infixes: &[],
};

/// The pyramid's pool sizes, the report's.
const POOL_SIZES: [usize; 4] = [1, 2, 3, 6];

impl Network for PspNet {
    /// Any size: the pyramid pools adapt and the output is resized to the input.
    const SIZE_MULTIPLE: usize = 1;

    fn key_map(&self) -> KeyMap {
        PSPNET_KEYS
    }

    fn torch_to_burn(torch: &str) -> String {
        PSPNET_KEYS.to_burn(torch)
    }

    fn recognises(stored: &StoredTensors) -> bool {
        stored.has("encoder.0.weight") && stored.has("ppm.bottleneck.0.weight")
    }

    fn from_stored(stored: &StoredTensors, device: &Device) -> Result<Self, String> {
        let stages = (0..)
            .take_while(|i| stored.has(&format!("ppm.stages.{i}.1.weight")))
            .count();
        if stages != POOL_SIZES.len() {
            return Err(format!(
                "a PSPNet here has 4 pyramid stages (1, 2, 3, 6), the file has {stages}"
            ));
        }
        Ok(PspNetConfig::new(
            stored.dim("encoder.3.weight", 0)?,
            stored.dim("ppm.stages.0.1.weight", 0)?,
            stored.dim("decoder.0.weight", 0)?,
        )
        .with_pool_sizes(POOL_SIZES.to_vec())
        .with_in_channels(stored.dim("encoder.0.weight", 1)?)
        .init(device))
    }

    fn layers() -> &'static [&'static str] {
        &Self::LAYERS
    }

    fn describe(layer: &str) -> Option<String> {
        PspNet::describe(layer).map(str::to_string)
    }

    /// The decoder's features for CAM, the pyramid pooling output for Grad-CAM.
    fn default_layers(_: InferenceMode) -> DefaultLayers {
        DefaultLayers {
            near_output: "decoder",
            gradient: "ppm",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;
    use burn::tensor::Distribution;

    #[test]
    fn paper_preset_has_pytorchs_parameter_count() {
        assert_eq!(
            Model::PspNet(PspNetConfig::paper().init(&Device::flex())).trainable_params(),
            3_156_993
        );
    }

    #[test]
    fn web_preset_size() {
        assert_eq!(
            Model::PspNet(PspNetConfig::web().init(&Device::flex())).trainable_params(),
            792_065
        );
    }

    #[test]
    fn any_input_size_gives_logits_of_that_size() {
        let device = Device::flex();
        let model = PspNetConfig::new(8, 2, 4).init(&device).valid();
        for [h, w] in [[37, 50], [16, 16], [5, 7]] {
            let x = Tensor::<4>::random([1, 3, h, w], Distribution::Normal(0.0, 1.0), &device);
            assert_eq!(model.forward(x).dims(), [1, 1, h, w]);
        }
    }
}
