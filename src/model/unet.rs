//! U-Net (Ronneberger et al. 2015) as the report describes it, with its channel mismatches fixed.

use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::prelude::*;

use super::tap::{Tap, tap};
use super::{DefaultLayers, InferenceMode, KeyMap, Network, StoredTensors};
use crate::nn::{DoubleConv, DoubleConvConfig, conv_transpose2x2, conv2d};

/// Configuration of [`UNet`].
#[derive(Config, Debug)]
pub struct UNetConfig {
    /// Channels of the four encoder levels and the bottleneck, shallowest first.
    pub widths: [usize; 5],
    /// Input channels (3 for RGB photos).
    #[config(default = 3)]
    pub in_channels: usize,
}

impl UNetConfig {
    /// The report's widths 64..1024: 31,043,521 parameters, as PyTorch counts them.
    pub fn paper() -> Self {
        Self::new([64, 128, 256, 512, 1024])
    }

    /// Browser preset, widths 16..256 (1,944,049 parameters, 7.8 MB as f32): a sixteenth of the
    /// paper's compute, small enough to download and to fine-tune in a tab.
    pub fn web() -> Self {
        Self::new([16, 32, 64, 128, 256])
    }

    /// Builds the module.
    pub fn init(&self, device: &Device) -> UNet {
        let w = self.widths;
        let up = |i: usize, o: usize| {
            ConvTranspose2dConfig::new([i, o], [2, 2])
                .with_stride([2, 2])
                .init(device)
        };
        UNet {
            enc1: DoubleConvConfig::same(self.in_channels, w[0]).init(device),
            enc2: DoubleConvConfig::same(w[0], w[1]).init(device),
            enc3: DoubleConvConfig::same(w[1], w[2]).init(device),
            enc4: DoubleConvConfig::same(w[2], w[3]).init(device),
            bottleneck: DoubleConvConfig::same(w[3], w[4]).init(device),
            up4: up(w[4], w[3]),
            dec4: DoubleConvConfig::same(2 * w[3], w[3]).init(device),
            up3: up(w[3], w[2]),
            dec3: DoubleConvConfig::same(2 * w[2], w[2]).init(device),
            up2: up(w[2], w[1]),
            dec2: DoubleConvConfig::same(2 * w[1], w[1]).init(device),
            up1: up(w[1], w[0]),
            dec1: DoubleConvConfig::same(2 * w[0], w[0]).init(device),
            final_conv: Conv2dConfig::new([w[0], 1], [1, 1]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }
}

/// U-Net: four 2x2 max-pools (three in the encoder, one before the bottleneck), transposed 2x2
/// convolutions up, skips concatenated as `(skip, up)`, and a 1x1 convolution to one logit.
///
/// Height and width must be multiples of 16 (see [`super::assert_input_shape`]).
#[derive(Module, Debug)]
pub struct UNet {
    /// Encoder level 1 (full resolution).
    pub enc1: DoubleConv,
    /// Encoder level 2 (after a pool).
    pub enc2: DoubleConv,
    /// Encoder level 3.
    pub enc3: DoubleConv,
    /// Encoder level 4.
    pub enc4: DoubleConv,
    /// Bottleneck at 1/16 resolution.
    pub bottleneck: DoubleConv,
    /// Up-convolution from the bottleneck.
    pub up4: ConvTranspose2d,
    /// Decoder level 4.
    pub dec4: DoubleConv,
    /// Up-convolution to level 3.
    pub up3: ConvTranspose2d,
    /// Decoder level 3.
    pub dec3: DoubleConv,
    /// Up-convolution to level 2.
    pub up2: ConvTranspose2d,
    /// Decoder level 2.
    pub dec2: DoubleConv,
    /// Up-convolution to level 1.
    pub up1: ConvTranspose2d,
    /// Decoder level 1: the report's CAM layer.
    pub dec1: DoubleConv,
    /// 1x1 convolution to the lesion logit (`final` in PyTorch).
    pub final_conv: Conv2d,
    /// 2x2 max-pool, stride 2.
    pub pool: MaxPool2d,
}

impl UNet {
    /// Layers whose activations CAM and Grad-CAM can read, input side first.
    pub const LAYERS: [&'static str; 9] = [
        "enc1",
        "enc2",
        "enc3",
        "enc4",
        "bottleneck",
        "dec4",
        "dec3",
        "dec2",
        "dec1",
    ];

    /// What a layer does, in one line for people learning the network.
    pub fn describe(layer: &str) -> Option<&'static str> {
        Some(match layer {
            "enc1" => "Encoder, full resolution: edges, colours and fine texture.",
            "enc2" => "Encoder, 1/2 resolution: small patterns such as dots and network lines.",
            "enc3" => "Encoder, 1/4 resolution: larger patterns and blob shapes.",
            "enc4" => "Encoder, 1/8 resolution: parts of the lesion and its surroundings.",
            "bottleneck" => {
                "Bottleneck, 1/16 resolution: the most abstract, coarsest view of the whole photo."
            }
            "dec4" => {
                "Decoder, 1/8 resolution: upsamples the bottleneck and joins enc4 through a skip connection."
            }
            "dec3" => {
                "Decoder, 1/4 resolution: upsamples and joins enc3 through a skip connection."
            }
            "dec2" => {
                "Decoder, 1/2 resolution: upsamples and joins enc2 through a skip connection."
            }
            "dec1" => {
                "Decoder, full resolution: joins enc1; the last features before the 1x1 layer that scores each pixel."
            }
            _ => return None,
        })
    }

    /// Lesion logits.
    ///
    /// # Shapes
    /// - x: `[batch, 3, height, width]`, height and width multiples of 16
    /// - output: `[batch, 1, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_tapped(x, None)
    }

    /// [`UNet::forward`] with a [`Tap`] on one of [`UNet::LAYERS`].
    ///
    /// # Shapes
    /// - x: `[batch, 3, height, width]`
    /// - output: `[batch, 1, height, width]`
    pub fn forward_tapped(&self, x: Tensor<4>, mut t: Option<&mut Tap<'_>>) -> Tensor<4> {
        super::assert_input_shape("U-Net", &x.dims(), Self::SIZE_MULTIPLE);
        let t = &mut t;
        let s1 = tap(t, "enc1", self.enc1.forward(x));
        let s2 = tap(t, "enc2", self.enc2.forward(self.pool.forward(s1.clone())));
        let s3 = tap(t, "enc3", self.enc3.forward(self.pool.forward(s2.clone())));
        let s4 = tap(t, "enc4", self.enc4.forward(self.pool.forward(s3.clone())));
        let b = tap(
            t,
            "bottleneck",
            self.bottleneck.forward(self.pool.forward(s4.clone())),
        );
        let d4 = tap(
            t,
            "dec4",
            self.dec4
                .forward(Tensor::cat(vec![s4, conv_transpose2x2(&self.up4, b)], 1)),
        );
        let d3 = tap(
            t,
            "dec3",
            self.dec3
                .forward(Tensor::cat(vec![s3, conv_transpose2x2(&self.up3, d4)], 1)),
        );
        let d2 = tap(
            t,
            "dec2",
            self.dec2
                .forward(Tensor::cat(vec![s2, conv_transpose2x2(&self.up2, d3)], 1)),
        );
        let d1 = tap(
            t,
            "dec1",
            self.dec1
                .forward(Tensor::cat(vec![s1, conv_transpose2x2(&self.up1, d2)], 1)),
        );
        conv2d(&self.final_conv, d1)
    }
}

/// PyTorch's `Sequential(MaxPool2d, DoubleConv)` levels hold their convolutions one index
/// deeper, and `DoubleConv`'s `Sequential` numbers its layers.
const UNET_KEYS: KeyMap = KeyMap {
    prefixes: &[
        ("enc2.1.", "enc2."),
        ("enc3.1.", "enc3."),
        ("enc4.1.", "enc4."),
        ("bottleneck.1.", "bottleneck."),
        ("final.", "final_conv."),
    ],
    infixes: &[
        (".net.0.", ".conv1."),
        (".net.1.", ".bn1."),
        (".net.3.", ".conv2."),
        (".net.4.", ".bn2."),
    ],
};

impl Network for UNet {
    /// Four 2x2 poolings.
    const SIZE_MULTIPLE: usize = 16;

    fn key_map(&self) -> KeyMap {
        UNET_KEYS
    }

    fn torch_to_burn(torch: &str) -> String {
        UNET_KEYS.to_burn(torch)
    }

    fn recognises(stored: &StoredTensors) -> bool {
        stored.has("enc1.net.0.weight")
    }

    fn from_stored(stored: &StoredTensors, device: &Device) -> Result<Self, String> {
        let widths = stored.widths([
            "enc1.net.0.weight",
            "enc2.1.net.0.weight",
            "enc3.1.net.0.weight",
            "enc4.1.net.0.weight",
            "bottleneck.1.net.0.weight",
        ])?;
        Ok(UNetConfig::new(widths)
            .with_in_channels(stored.dim("enc1.net.0.weight", 1)?)
            .init(device))
    }

    fn layers() -> &'static [&'static str] {
        &Self::LAYERS
    }

    fn describe(layer: &str) -> Option<String> {
        UNet::describe(layer).map(str::to_string)
    }

    /// The report's: the last decoder block for CAM, the bottleneck for Grad-CAM.
    fn default_layers(_: InferenceMode) -> DefaultLayers {
        DefaultLayers {
            near_output: "dec1",
            gradient: "bottleneck",
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
        let model = Model::UNet(UNetConfig::paper().init(&Device::flex()));
        assert_eq!(model.trainable_params(), 31_043_521);
    }

    #[test]
    fn web_preset_is_small_and_keeps_the_input_size() {
        let device = Device::flex();
        let unet = UNetConfig::web().init(&device);
        let x = Tensor::<4>::random([2, 3, 32, 48], Distribution::Normal(0.0, 1.0), &device);
        let mut seen = vec![];
        let mut read = |a: Tensor<4>| {
            seen.push(a.dims());
            a
        };
        let mut t = Tap::new("bottleneck", &mut read);
        let logits = unet.valid().forward_tapped(x, Some(&mut t));
        assert!(t.hit());
        assert_eq!(logits.dims(), [2, 1, 32, 48]);
        assert_eq!(seen, vec![[2, 256, 2, 3]]);
        assert_eq!(Model::UNet(unet).trainable_params(), 1_944_049);
    }

    #[test]
    #[should_panic(
        expected = "U-Net needs an input height and width that are multiples of 16, got 40x48"
    )]
    fn rejects_sizes_that_are_not_multiples_of_16() {
        let device = Device::flex();
        let x = Tensor::<4>::zeros([1, 3, 40, 48], &device);
        UNetConfig::new([2, 2, 2, 2, 2]).init(&device).forward(x);
    }
}
