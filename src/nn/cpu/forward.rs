//! The Flex implementation of [`super::CpuOps`]: tensors in, LesionLab's kernels
//! ([`super::kernels`]) on their values, tensors out.

use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::ops::{ActivationOps, ConvOptions, FloatTensorOps, ModuleOps};
use burn::backend::{DType, Flex};
use burn::prelude::*;
use burn::tensor::{Bytes, Element};

use super::kernels::batch_norm::{self as batch_norm_kernel, Planes};
use super::kernels::conv::{self as conv_kernel, Geometry};
use super::kernels::conv_transpose::{self as conv_transpose_kernel, Up};
use super::kernels::resize::{self as resize_kernel, Resize};
use super::{BatchNormOutput, CpuOps, cpu_kernels};
use crate::nn::profile::{self, Kind};

pub(super) fn flex<T: Element + bytemuck::Pod>(
    values: Vec<T>,
    shape: &[usize],
    dtype: DType,
) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(shape.to_vec())),
        dtype,
    )
}

pub(super) fn geometry(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> Geometry {
    Geometry {
        batch: x[0],
        c_in: x[1],
        h: x[2],
        w: x[3],
        c_out: weight[0],
        kernel: [weight[2], weight[3]],
        stride: options.stride,
        padding: options.padding_begin(),
        dilation: options.dilation,
    }
}

pub(super) fn planes(shape: &[usize]) -> Planes {
    Planes {
        batch: shape[0],
        channels: shape[1],
        pixels: shape[2..].iter().product(),
    }
}

pub(super) fn conv_forward(
    x: FlexTensor,
    weight: FlexTensor,
    bias: FlexTensor,
    options: &ConvOptions<2>,
    relu: bool,
) -> FlexTensor {
    let _timer = profile::time(Kind::ConvForward);
    if !cpu_kernels() {
        let y = Flex::conv2d(x, weight, Some(bias), options.clone());
        return if relu { Flex::relu(y) } else { y };
    }
    let (x, weight, bias) = (
        x.to_contiguous(),
        weight.to_contiguous(),
        bias.to_contiguous(),
    );
    let g = geometry(x.layout().shape(), weight.layout().shape(), options);
    let [oh, ow] = g.out();
    typed!(x, T => {
        let y = conv_kernel::forward(&g, x.storage::<T>(), weight.storage::<T>(), Some(bias.storage::<T>()), relu);
        flex(y, &[g.batch, g.c_out, oh, ow], x.dtype())
    })
}

/// Input (when asked for), weight and bias gradients of a convolution, from the gradient of
/// its output (after the fused ReLU's mask, if any).
pub(super) fn conv_backward(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    options: &ConvOptions<2>,
    input: bool,
) -> (Option<FlexTensor>, FlexTensor, FlexTensor) {
    if !cpu_kernels() {
        let dx = input.then(|| {
            let _timer = profile::time(Kind::ConvInputGrad);
            Flex::conv2d_x_backward(x.clone(), weight.clone(), grad.clone(), options.clone())
        });
        let _timer = profile::time(Kind::ConvWeightGrad);
        let dw =
            Flex::conv2d_weight_backward(x.clone(), weight.clone(), grad.clone(), options.clone());
        let db = Flex::float_sum_dim(
            Flex::float_sum_dim(Flex::float_sum_dim(grad.clone(), 3), 2),
            0,
        );
        let db = Flex::float_reshape(db, Shape::new([weight.layout().shape()[0]]));
        return (dx, dw, db);
    }
    let (x, weight, grad) = (
        x.to_contiguous(),
        weight.to_contiguous(),
        grad.to_contiguous(),
    );
    let g = geometry(x.layout().shape(), weight.layout().shape(), options);
    typed!(x, T => {
        let dx = input.then(|| {
            let _timer = profile::time(Kind::ConvInputGrad);
            flex(conv_kernel::input_grad(&g, weight.storage::<T>(), grad.storage::<T>()), x.layout().shape(), x.dtype())
        });
        let _timer = profile::time(Kind::ConvWeightGrad);
        let (dw, db) = conv_kernel::weight_grad(&g, x.storage::<T>(), grad.storage::<T>());
        (dx, flex(dw, weight.layout().shape(), x.dtype()), flex(db, &[g.c_out], x.dtype()))
    })
}

pub(super) fn batch_norm_forward(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    epsilon: f64,
    relu: bool,
) -> BatchNormOutput<Flex> {
    let _timer = profile::time(Kind::BatchNormForward);
    if !cpu_kernels() {
        let r = Flex::batch_norm_train(x, gamma, beta, epsilon);
        let output = if relu { Flex::relu(r.output) } else { r.output };
        return BatchNormOutput {
            output,
            mean: r.mean,
            variance: r.variance,
        };
    }
    let (x, gamma, beta) = (
        x.to_contiguous(),
        gamma.to_contiguous(),
        beta.to_contiguous(),
    );
    let shape = x.layout().shape().to_vec();
    typed!(x, T => {
        let (y, mean, var) = batch_norm_kernel::forward::<T>(planes(&shape), x.storage(), gamma.storage(), beta.storage(), epsilon, relu);
        BatchNormOutput { output: flex(y, &shape, x.dtype()), mean: flex(mean, &[shape[1]], x.dtype()), variance: flex(var, &[shape[1]], x.dtype()) }
    })
}

pub(super) fn resize_geometry(shape: &[usize], size: [usize; 2], align_corners: bool) -> Resize {
    Resize {
        planes: shape[0] * shape[1],
        input: [shape[2], shape[3]],
        output: size,
        align_corners,
    }
}

pub(super) fn resize_forward(x: FlexTensor, size: [usize; 2], align_corners: bool) -> FlexTensor {
    let _timer = profile::time(Kind::Resize);
    let x = x.to_contiguous();
    let shape = x.layout().shape().to_vec();
    let r = resize_geometry(&shape, size, align_corners);
    typed!(x, T => flex(resize_kernel::forward::<T>(&r, x.storage()), &[shape[0], shape[1], size[0], size[1]], x.dtype()))
}

pub(super) fn up_geometry(x: &[usize], weight: &[usize]) -> Up {
    Up {
        batch: x[0],
        c_in: x[1],
        c_out: weight[1],
        size: [x[2], x[3]],
    }
}

pub(super) fn up_forward(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
    let _timer = profile::time(Kind::ConvTranspose);
    let (x, weight, bias) = (
        x.to_contiguous(),
        weight.to_contiguous(),
        bias.to_contiguous(),
    );
    let u = up_geometry(x.layout().shape(), weight.layout().shape());
    typed!(x, T => {
        let y = conv_transpose_kernel::forward::<T>(&u, x.storage(), weight.storage(), bias.storage());
        flex(y, &[u.batch, u.c_out, 2 * u.size[0], 2 * u.size[1]], x.dtype())
    })
}

impl CpuOps for Flex {
    fn lesion_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FlexTensor {
        conv_forward(x, weight, bias, &options, relu)
    }

    fn lesion_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
        relu: bool,
    ) -> BatchNormOutput<Flex> {
        batch_norm_forward(x, gamma, beta, epsilon, relu)
    }

    fn lesion_resize_bilinear(x: FlexTensor, size: [usize; 2], align_corners: bool) -> FlexTensor {
        resize_forward(x, size, align_corners)
    }

    fn lesion_conv_transpose2x2(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        up_forward(x, weight, bias)
    }
}
