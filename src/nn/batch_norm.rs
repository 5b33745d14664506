use burn::module::{Flag, Param, RunningState};
use burn::nn::Initializer;
use burn::prelude::*;

use super::cpu::on_flex;

/// Configuration of [`BatchNorm2d`].
#[derive(Config, Debug)]
pub struct BatchNorm2dConfig {
    /// Number of channels normalised.
    pub num_features: usize,
    /// Added to the variance for numerical stability (PyTorch's default).
    #[config(default = 1e-5)]
    pub epsilon: f64,
    /// Weight of the current batch in the running statistics (PyTorch's default).
    #[config(default = 0.1)]
    pub momentum: f64,
}

/// Batch normalisation with PyTorch's exact semantics and `state_dict` names.
///
/// Burn's own `BatchNorm` feeds the *biased* batch variance into its running variance, PyTorch
/// the unbiased one; after one training step the running statistics would differ from a PyTorch
/// model's, so weights trained here would not evaluate identically there. The fields are named
/// `weight`/`bias` so safetensors keys match PyTorch without an adapter.
#[derive(Module, Debug)]
pub struct BatchNorm2d {
    /// Scale (gamma).
    pub weight: Param<Tensor<1>>,
    /// Shift (beta).
    pub bias: Param<Tensor<1>>,
    /// Running mean used in evaluation.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running unbiased variance used in evaluation.
    pub running_var: RunningState<Tensor<1>>,
    /// Whether batch statistics are used on an autodiff device; `freeze` and `valid` clear it.
    pub training: Param<Flag>,
    /// See [`BatchNorm2dConfig::momentum`].
    pub momentum: f64,
    /// See [`BatchNorm2dConfig::epsilon`].
    pub epsilon: f64,
}

impl BatchNorm2dConfig {
    /// Builds the layer with weight 1, bias 0, running mean 0 and running variance 1.
    pub fn init(&self, device: &Device) -> BatchNorm2d {
        let n = self.num_features;
        BatchNorm2d {
            weight: Initializer::Ones.init([n], device),
            bias: Initializer::Zeros.init([n], device),
            running_mean: RunningState::new(Tensor::zeros([n], device)),
            running_var: RunningState::new(Tensor::ones([n], device)),
            training: Param::from_bool(true),
            momentum: self.momentum,
            epsilon: self.epsilon,
        }
    }
}

impl BatchNorm2d {
    /// Normalises with batch statistics on an autodiff device (updating the running
    /// statistics), with the running statistics otherwise.
    ///
    /// # Shapes
    /// - input: `[batch, channels, height, width]`
    /// - output: same as input
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.normalize(input, false)
    }

    /// `relu(self.forward(input))`, in one pass on LesionLab's CPU kernels.
    ///
    /// # Shapes
    /// - input: `[batch, channels, height, width]`
    /// - output: same as input
    pub fn forward_relu(&self, input: Tensor<4>) -> Tensor<4> {
        self.normalize(input, true)
    }

    /// Whether this layer normalises with batch statistics: training, on an autodiff device.
    pub fn uses_batch_statistics(&self, device: &Device) -> bool {
        device.is_autodiff() && self.training.is_enabled()
    }

    /// The scale and shift that evaluation-mode normalisation applies per channel:
    /// `y = x · scale + shift`, for folding into the preceding convolution.
    ///
    /// # Shapes
    /// - returns: `[channels]` each
    pub fn scale_shift(&self, device: &Device) -> (Tensor<1>, Tensor<1>) {
        let var = self.running_var.value().to_device(device);
        let mean = self.running_mean.value().to_device(device);
        let scale = self.weight.val().div(var.add_scalar(self.epsilon).sqrt());
        let shift = self.bias.val().sub(mean.mul(scale.clone()));
        (scale, shift)
    }

    fn normalize(&self, input: Tensor<4>, relu: bool) -> Tensor<4> {
        if self.uses_batch_statistics(&input.device()) {
            self.forward_train(input, relu)
        } else {
            let out = self.forward_eval(input);
            if relu {
                burn::tensor::activation::relu(out)
            } else {
                out
            }
        }
    }

    fn forward_eval(&self, input: Tensor<4>) -> Tensor<4> {
        let device = input.device();
        burn::tensor::module::batch_norm(
            input,
            self.weight.val(),
            self.bias.val(),
            self.running_mean.value().to_device(&device),
            self.running_var.value().to_device(&device),
            self.epsilon,
        )
    }

    fn forward_train(&self, input: Tensor<4>, relu: bool) -> Tensor<4> {
        let [b, _, h, w] = input.dims();
        let count = (b * h * w) as f64;
        let device = input.device();
        let (output, mean, variance) = if let Some(flex) = on_flex(&device) {
            flex.batch_norm_train(
                input,
                self.weight.val(),
                self.bias.val(),
                self.epsilon,
                relu,
            )
        } else {
            let out = burn::tensor::module::batch_norm_train(
                input,
                self.weight.val(),
                self.bias.val(),
                self.epsilon,
            );
            let output = if relu {
                burn::tensor::activation::relu(out.output)
            } else {
                out.output
            };
            (output, out.mean, out.variance)
        };
        let unbiased = if count > 1.0 {
            count / (count - 1.0)
        } else {
            1.0
        };
        let m = self.momentum;
        let mean = self
            .running_mean
            .value_sync()
            .to_device(&device)
            .mul_scalar(1.0 - m)
            .add(mean.detach().mul_scalar(m));
        let var = self
            .running_var
            .value_sync()
            .to_device(&device)
            .mul_scalar(1.0 - m)
            .add(variance.detach().mul_scalar(m * unbiased));
        self.running_mean.update(mean.detach());
        self.running_var.update(var.detach());
        output
    }
}
