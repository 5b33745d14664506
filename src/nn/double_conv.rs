use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;

use super::{BatchNorm2d, BatchNorm2dConfig, conv_bn_relu};

/// Configuration of [`DoubleConv`].
#[derive(Config, Debug)]
pub struct DoubleConvConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Channels after the first convolution.
    pub mid_channels: usize,
    /// Output channels.
    pub out_channels: usize,
}

/// Two 3x3 convolutions (padding 1), each followed by batch norm and ReLU.
///
/// This is both U-Net's `DoubleConv` (mid = out) and U-Net++'s `VGGBlock`: the two are the same
/// computation under different PyTorch key names, which the weight loader maps.
#[derive(Module, Debug)]
pub struct DoubleConv {
    /// First convolution.
    pub conv1: Conv2d,
    /// Batch norm after the first convolution.
    pub bn1: BatchNorm2d,
    /// Second convolution.
    pub conv2: Conv2d,
    /// Batch norm after the second convolution.
    pub bn2: BatchNorm2d,
}

impl DoubleConvConfig {
    /// Same channels in the middle as out, as U-Net's `DoubleConv(i, o)`.
    pub fn same(in_channels: usize, out_channels: usize) -> Self {
        Self::new(in_channels, out_channels, out_channels)
    }

    /// Builds the block.
    pub fn init(&self, device: &Device) -> DoubleConv {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        DoubleConv {
            conv1: conv(self.in_channels, self.mid_channels),
            bn1: BatchNorm2dConfig::new(self.mid_channels).init(device),
            conv2: conv(self.mid_channels, self.out_channels),
            bn2: BatchNorm2dConfig::new(self.out_channels).init(device),
        }
    }
}

impl DoubleConv {
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = conv_bn_relu(&self.conv1, &self.bn1, x);
        conv_bn_relu(&self.conv2, &self.bn2, x)
    }
}
