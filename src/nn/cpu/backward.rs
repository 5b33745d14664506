//! The `Autodiff<Flex>` implementation of [`super::CpuOps`]: each operation's forward from
//! [`super::forward`] and its backward pass calling the gradient kernels ([`super::kernels`]).

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, ConvOptions, ModuleOps};
use burn::backend::tensor::FloatTensor;

use super::forward::*;
use super::kernels::batch_norm as batch_norm_kernel;
use super::kernels::conv_transpose as conv_transpose_kernel;
use super::kernels::resize as resize_kernel;
use super::{BatchNormOutput, CpuOps, cpu_kernels};
use crate::nn::profile::{self, Kind};

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
            let (dx, dw, db) = conv_transpose_kernel::backward::<T>(&u, x.storage(), weight.storage(), grad.storage());
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
            let dx = typed!(grad, T => flex(resize_kernel::backward::<T>(&r, grad.storage()), &shape, grad.dtype()));
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
            let (dx, dg, db) = batch_norm_kernel::backward::<T>(
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
