//! 2-D convolution for every model: LesionLab's CPU kernels on the Flex backend
//! ([`super::cpu`]), Burn's own convolution everywhere else (WebGPU, wgpu) and for options
//! the kernels do not cover. Modules keep Burn's `Conv2d` (its parameters, records and PyTorch
//! names); only the forward call differs, so one model implementation serves every backend.

use burn::backend::DType;
use burn::backend::ops::ConvOptions;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;

use super::BatchNorm2d;
use super::cpu::{OnFlex, cpu_kernels, on_cpu, on_flex};

/// `conv.forward(x)`, on LesionLab's kernels where they apply.
///
/// # Shapes
/// - x: `[batch, in_channels, height, width]`
/// - output: `[batch, out_channels, out_height, out_width]`
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    forward(conv, x, false)
}

/// `relu(conv.forward(x))` in one pass, on LesionLab's kernels where they apply.
///
/// # Shapes
/// - x: `[batch, in_channels, height, width]`
/// - output: `[batch, out_channels, out_height, out_width]`
pub fn conv2d_relu(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    forward(conv, x, true)
}

/// `relu(bn(conv(x)))`. Training on the CPU kernels, batch norm and ReLU are one pass; in
/// evaluation, batch norm is folded into the convolution's weight and bias (`w · s`,
/// `(b - mean) · s + beta`, with `s = gamma / sqrt(var + eps)`), so the forward is one
/// convolution with bias and ReLU.
///
/// # Shapes
/// - x: `[batch, in_channels, height, width]`
/// - output: `[batch, out_channels, out_height, out_width]`
pub fn conv_bn_relu(conv: &Conv2d, bn: &BatchNorm2d, x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    // Batch statistics whenever the convolution's output is tracked (its input or its weight),
    // as batch norm would decide from that output. The benchmark's reference runs the model as
    // it was before the fold: conv, then batch norm.
    let training =
        bn.uses_batch_statistics(&device) || bn.uses_batch_statistics(&conv.weight.device());
    if training || (on_cpu(&device) && !cpu_kernels()) {
        return bn.forward_relu(conv2d(conv, x));
    }
    let (scale, shift) = bn.scale_shift(&device);
    let weight = conv.weight.val().mul(scale.clone().reshape([-1, 1, 1, 1]));
    let bias = match &conv.bias {
        Some(b) => b.val().mul(scale).add(shift),
        None => shift,
    };
    conv2d_with(conv, x, weight, bias, true)
}

/// The convolution with `weight` and `bias` in place of the module's (for batch norm folded
/// into them), then a ReLU when `relu` is set.
///
/// # Shapes
/// - x: `[batch, in_channels, height, width]`
/// - weight: `[out_channels, in_channels, kh, kw]`, bias: `[out_channels]`
/// - output: `[batch, out_channels, out_height, out_width]`
pub fn conv2d_with(
    conv: &Conv2d,
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    relu: bool,
) -> Tensor<4> {
    let Some((flex, options)) = cpu_options(conv, &x) else {
        let options = burn_options(conv, &x);
        let y = burn::tensor::module::conv2d(x, weight, Some(bias), options);
        return if relu {
            burn::tensor::activation::relu(y)
        } else {
            y
        };
    };
    flex.conv2d(x, weight, bias, options, relu)
}

fn forward(conv: &Conv2d, x: Tensor<4>, relu: bool) -> Tensor<4> {
    let weight = conv.weight.val();
    let bias = match &conv.bias {
        Some(b) => b.val(),
        None => Tensor::zeros([weight.dims()[0]], &weight.device()),
    };
    conv2d_with(conv, x, weight, bias, relu)
}

/// Options for the CPU operation, or `None` where Burn's convolution runs instead: another
/// backend, grouped or asymmetrically padded convolutions, half precision.
fn cpu_options(conv: &Conv2d, x: &Tensor<4>) -> Option<(OnFlex, ConvOptions<2>)> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        _ => return None,
    };
    let supported = conv.groups == 1 && matches!(x.dtype(), DType::F32 | DType::F64);
    let flex = on_flex(&x.device()).filter(|_| supported)?;
    Some((
        flex,
        ConvOptions::new(conv.stride, padding, conv.dilation, 1),
    ))
}

/// The options `Conv2d::forward` computes, for Burn's convolution.
fn burn_options(conv: &Conv2d, x: &Tensor<4>) -> ConvOptions<2> {
    let [_, _, h, w] = x.dims();
    let pad = |size: usize, axis: usize| match conv.padding {
        PaddingConfig2d::Valid => (0, 0),
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)][axis],
        PaddingConfig2d::Same => {
            let out = size.div_ceil(conv.stride[axis]);
            let total = ((out.max(1) - 1) * conv.stride[axis] + conv.kernel_size[axis])
                .saturating_sub(size);
            (total / 2, total - total / 2)
        }
    };
    ConvOptions::new_with_padding(
        conv.stride,
        [pad(h, 0), pad(w, 1)],
        conv.dilation,
        conv.groups,
    )
}

/// `up.forward(x)` for U-Net's 2x2, stride-2 transposed convolutions, on LesionLab's kernels
/// where they apply (Burn's otherwise).
///
/// # Shapes
/// - x: `[batch, in_channels, height, width]`
/// - output: `[batch, out_channels, 2 · height, 2 · width]`
pub fn conv_transpose2x2(up: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let plain = up.kernel_size == [2, 2]
        && up.stride == [2, 2]
        && up.padding == [0, 0]
        && up.padding_out == [0, 0];
    let simple = plain
        && up.dilation == [1, 1]
        && up.groups == 1
        && matches!(x.dtype(), DType::F32 | DType::F64);
    let Some(flex) = on_flex(&x.device()).filter(|_| simple && cpu_kernels()) else {
        return up.forward(x);
    };
    let weight = up.weight.val();
    let bias = match &up.bias {
        Some(b) => b.val(),
        None => Tensor::zeros([weight.dims()[1]], &weight.device()),
    };
    flex.conv_transpose2x2(x, weight, bias)
}
