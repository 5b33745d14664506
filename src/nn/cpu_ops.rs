//! LesionLab's CPU kernels as Burn operations: a backend extension (`#[backend_extension]`)
//! with a Flex implementation, and an `Autodiff<Flex>` implementation whose backward passes call
//! the gradient kernels. [`super::conv`] and [`super::BatchNorm2d`] call these on Flex and
//! Burn's own operations elsewhere, so the models have one implementation for every backend.
//!
//! With [`set_cpu_kernels`]`(false)` the same operations run Burn's own Flex kernels inside
//! (its convolution, its generic convolution gradients, its `batch_norm_train`): the "before" of
//! the benchmark, timed the same way.

use core::sync::atomic::{AtomicBool, Ordering};

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::ops::{ActivationOps, ConvOptions, FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DType, DispatchDevice, ExtensionType, Flex, backend_extension};
use burn::prelude::*;
use burn::tensor::{Bytes, Element};

use super::batch_norm_cpu::{self, Planes};
use super::conv_cpu::{self, Geometry};
use super::conv_transpose_cpu::{self, Up};
use super::resize_cpu::{self, Resize};
use crate::profile::{self, Kind};

static KERNELS: AtomicBool = AtomicBool::new(true);

/// Chooses LesionLab's CPU kernels (the default) or Burn's own inside these operations: the
/// benchmark's reference, and tests that compare the two.
pub fn set_cpu_kernels(on: bool) {
    KERNELS.store(on, Ordering::Relaxed);
}

/// Whether LesionLab's CPU kernels are chosen (see [`set_cpu_kernels`]).
pub fn cpu_kernels() -> bool {
    KERNELS.load(Ordering::Relaxed)
}

/// Whether `device` is the CPU backend these operations are implemented for (Flex).
pub fn on_cpu(device: &Device) -> bool {
    matches!(
        device.clone().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    )
}

/// Batch normalisation's output and the batch statistics it used.
#[derive(ExtensionType)]
pub struct BatchNormOutput<B: Backend> {
    /// The normalised (and rectified, if asked) input.
    pub output: FloatTensor<B>,
    /// Per-channel batch mean.
    pub mean: FloatTensor<B>,
    /// Per-channel biased batch variance.
    pub variance: FloatTensor<B>,
}

/// Operations LesionLab implements itself for the CPU.
#[backend_extension(Flex, Autodiff)]
pub trait CpuOps: Backend {
    /// `conv2d(x, weight) + bias`, then ReLU when `relu` is set (one group, symmetric padding).
    fn lesion_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self>;

    /// Batch normalisation with the batch's own statistics, then ReLU when `relu` is set.
    fn lesion_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> BatchNormOutput<Self>;

    /// Bilinear resize of the last two axes to `size` (PyTorch's `align_corners`).
    fn lesion_resize_bilinear(
        x: FloatTensor<Self>,
        size: [usize; 2],
        align_corners: bool,
    ) -> FloatTensor<Self>;

    /// A 2x2 transposed convolution with stride 2 (U-Net's upsampling): weight
    /// `[in, out, 2, 2]`, bias `[out]`.
    fn lesion_conv_transpose2x2(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

fn flex<T: Element + bytemuck::Pod>(values: Vec<T>, shape: &[usize], dtype: DType) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(shape.to_vec())),
        dtype,
    )
}

fn geometry(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> Geometry {
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

fn planes(shape: &[usize]) -> Planes {
    Planes {
        batch: shape[0],
        channels: shape[1],
        pixels: shape[2..].iter().product(),
    }
}

/// Runs `$body` with `T` the element type of `$tensor` (f32 or f64).
macro_rules! typed {
    ($tensor:expr, $t:ident => $body:expr) => {
        match $tensor.dtype() {
            DType::F64 => {
                type $t = f64;
                $body
            }
            _ => {
                type $t = f32;
                $body
            }
        }
    };
}

fn conv_forward(
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
        let y = conv_cpu::forward(&g, x.storage::<T>(), weight.storage::<T>(), Some(bias.storage::<T>()), relu);
        flex(y, &[g.batch, g.c_out, oh, ow], x.dtype())
    })
}

/// Input (when asked for), weight and bias gradients of a convolution, from the gradient of
/// its output (after the fused ReLU's mask, if any).
fn conv_backward(
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
            flex(conv_cpu::input_grad(&g, weight.storage::<T>(), grad.storage::<T>()), x.layout().shape(), x.dtype())
        });
        let _timer = profile::time(Kind::ConvWeightGrad);
        let (dw, db) = conv_cpu::weight_grad(&g, x.storage::<T>(), grad.storage::<T>());
        (dx, flex(dw, weight.layout().shape(), x.dtype()), flex(db, &[g.c_out], x.dtype()))
    })
}

fn batch_norm_forward(
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
        let (y, mean, var) = batch_norm_cpu::forward::<T>(planes(&shape), x.storage(), gamma.storage(), beta.storage(), epsilon, relu);
        BatchNormOutput { output: flex(y, &shape, x.dtype()), mean: flex(mean, &[shape[1]], x.dtype()), variance: flex(var, &[shape[1]], x.dtype()) }
    })
}

fn resize_geometry(shape: &[usize], size: [usize; 2], align_corners: bool) -> Resize {
    Resize {
        planes: shape[0] * shape[1],
        input: [shape[2], shape[3]],
        output: size,
        align_corners,
    }
}

fn resize_forward(x: FlexTensor, size: [usize; 2], align_corners: bool) -> FlexTensor {
    let _timer = profile::time(Kind::Resize);
    let x = x.to_contiguous();
    let shape = x.layout().shape().to_vec();
    let r = resize_geometry(&shape, size, align_corners);
    typed!(x, T => flex(resize_cpu::forward::<T>(&r, x.storage()), &[shape[0], shape[1], size[0], size[1]], x.dtype()))
}

fn up_geometry(x: &[usize], weight: &[usize]) -> Up {
    Up {
        batch: x[0],
        c_in: x[1],
        c_out: weight[1],
        size: [x[2], x[3]],
    }
}

fn up_forward(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
    let _timer = profile::time(Kind::ConvTranspose);
    let (x, weight, bias) = (
        x.to_contiguous(),
        weight.to_contiguous(),
        bias.to_contiguous(),
    );
    let u = up_geometry(x.layout().shape(), weight.layout().shape());
    typed!(x, T => {
        let y = conv_transpose_cpu::forward::<T>(&u, x.storage(), weight.storage(), bias.storage());
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

#[derive(Debug)]
struct UpBackward;

impl Backward<Flex, 3> for UpBackward {
    /// Input and weight.
    type State = (NodeId, NodeId);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let _timer = profile::time(Kind::ConvTranspose);
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let x = checkpointer
            .retrieve_node_output::<FlexTensor>(ops.state.0)
            .to_contiguous();
        let weight = checkpointer
            .retrieve_node_output::<FlexTensor>(ops.state.1)
            .to_contiguous();
        let u = up_geometry(x.layout().shape(), weight.layout().shape());
        let (dx, dw, db) = typed!(x, T => {
            let (dx, dw, db) = conv_transpose_cpu::backward::<T>(&u, x.storage(), weight.storage(), grad.storage());
            (flex(dx, x.layout().shape(), x.dtype()), flex(dw, weight.layout().shape(), x.dtype()), flex(db, &[u.c_out], x.dtype()))
        });
        for (node, g) in [(node_x, dx), (node_weight, dw), (node_bias, db)] {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

#[derive(Debug)]
struct ResizeBackward;

impl Backward<Flex, 1> for ResizeBackward {
    /// The input's shape, the output size and `align_corners`.
    type State = (Vec<usize>, [usize; 2], bool);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let _timer = profile::time(Kind::Resize);
        let [node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let (shape, size, align_corners) = ops.state;
        if let Some(node) = node {
            let r = resize_geometry(&shape, size, align_corners);
            let dx = typed!(grad, T => flex(resize_cpu::backward::<T>(&r, grad.storage()), &shape, grad.dtype()));
            grads.register::<Flex>(node.id, dx);
        }
    }
}

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    /// Input, weight, options, and the output when a ReLU was fused.
    type State = (NodeId, NodeId, ConvOptions<2>, Option<FlexTensor>);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let mut grad = grads.consume::<Flex>(&ops.node);
        let (x_state, weight_state, options, relu_output) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x_state);
        let weight: FlexTensor = checkpointer.retrieve_node_output(weight_state);
        if let Some(output) = relu_output {
            grad = Flex::relu_backward(output, grad);
        }
        let (dx, dw, db) = conv_backward(&x, &weight, &grad, &options, node_x.is_some());
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_weight {
            grads.register::<Flex>(node.id, dw);
        }
        if let Some(node) = node_bias {
            grads.register::<Flex>(node.id, db);
        }
    }
}

#[derive(Debug)]
struct BatchNormBackward;

impl Backward<Flex, 3> for BatchNormBackward {
    /// Input, gamma, batch mean and variance, epsilon, and the output when a ReLU was fused.
    type State = (
        NodeId,
        NodeId,
        FlexTensor,
        FlexTensor,
        f64,
        Option<FlexTensor>,
    );

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let _timer = profile::time(Kind::BatchNormBackward);
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let (x_state, gamma_state, mean, var, epsilon, output) = ops.state;
        let x = checkpointer
            .retrieve_node_output::<FlexTensor>(x_state)
            .to_contiguous();
        let gamma = checkpointer
            .retrieve_node_output::<FlexTensor>(gamma_state)
            .to_contiguous();
        let output = output.map(|o| o.to_contiguous());
        let shape = x.layout().shape().to_vec();
        let (dx, dgamma, dbeta) = if !cpu_kernels() {
            let grad = match output {
                Some(output) => Flex::relu_backward(output, grad),
                None => grad,
            };
            let r = Flex::batch_norm_train_backward(x, gamma, mean, var, epsilon, grad);
            (r.x_grad, r.gamma_grad, r.beta_grad)
        } else {
            typed!(x, T => {
            let (dx, dg, db) = batch_norm_cpu::backward::<T>(
                planes(&shape),
                x.storage(),
                output.as_ref().map(|o| o.storage::<T>()),
                grad.storage(),
                gamma.storage(),
                mean.storage(),
                var.storage(),
                epsilon,
            );
            (flex(dx, &shape, x.dtype()), flex(dg, &[shape[1]], x.dtype()), flex(db, &[shape[1]], x.dtype()))
            })
        };
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, dgamma);
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, dbeta);
        }
    }
}

impl<C: CheckpointStrategy> CpuOps for Autodiff<Flex, C> {
    fn lesion_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let run = || {
            conv_forward(
                x.primitive().clone(),
                weight.primitive().clone(),
                bias.primitive().clone(),
                &options,
                relu,
            )
        };
        match ConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let y = run();
                let relu_output = relu.then(|| y.clone());
                prep.finish((x_state, weight_state, options.clone(), relu_output), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(run()),
        }
    }

    fn lesion_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> BatchNormOutput<Self> {
        let run = || {
            batch_norm_forward(
                x.primitive().clone(),
                gamma.primitive().clone(),
                beta.primitive().clone(),
                epsilon,
                relu,
            )
        };
        let (output, mean, variance) = match BatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let gamma_state = prep.checkpoint(&gamma);
                let r = run();
                let output = relu.then(|| r.output.clone());
                let state = (
                    x_state,
                    gamma_state,
                    r.mean.clone(),
                    r.variance.clone(),
                    epsilon,
                    output,
                );
                (prep.finish(state, r.output), r.mean, r.variance)
            }
            OpsKind::UnTracked(prep) => {
                let r = run();
                (prep.finish(r.output), r.mean, r.variance)
            }
        };
        // The statistics feed the running averages, never the gradient.
        BatchNormOutput {
            output,
            mean: <FloatTensor<Self>>::new(mean),
            variance: <FloatTensor<Self>>::new(variance),
        }
    }

    fn lesion_conv_transpose2x2(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let run = || {
            up_forward(
                x.primitive().clone(),
                weight.primitive().clone(),
                bias.primitive().clone(),
            )
        };
        match UpBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&weight));
                prep.finish(state, run())
            }
            OpsKind::UnTracked(prep) => prep.finish(run()),
        }
    }

    fn lesion_resize_bilinear(
        x: FloatTensor<Self>,
        size: [usize; 2],
        align_corners: bool,
    ) -> FloatTensor<Self> {
        let shape = x.primitive().layout().shape().to_vec();
        let y = resize_forward(x.primitive().clone(), size, align_corners);
        match ResizeBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((shape, size, align_corners), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
