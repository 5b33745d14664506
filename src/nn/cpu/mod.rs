//! LesionLab's CPU kernels as Burn operations: a backend extension (`#[backend_extension]`)
//! with a Flex implementation, and an `Autodiff<Flex>` implementation whose backward passes call
//! the gradient kernels. Three floors, as Burn's custom-kernel example has them: this trait,
//! its forward ([`forward`]) and backward ([`backward`]) implementations, and the kernels on plain
//! slices ([`kernels`]). [`super::conv`] and [`super::BatchNorm2d`] call these on Flex and
//! Burn's own operations elsewhere, so the models have one implementation for every backend.
//! Without the `flex` feature (a GPU-only build) only the plain kernels remain, and [`on_flex`]
//! never answers.
//!
//! With [`set_cpu_kernels`]`(false)` the same operations run Burn's own Flex kernels inside
//! (its convolution, its generic convolution gradients, its `batch_norm_train`): the "before" of
//! the benchmark, timed the same way.

use core::sync::atomic::{AtomicBool, Ordering};

#[cfg(feature = "flex")]
use burn::backend::ops::ConvOptions;
#[cfg(feature = "flex")]
use burn::backend::tensor::FloatTensor;
#[cfg(feature = "flex")]
use burn::backend::{Backend, ExtensionType, backend_extension};
use burn::prelude::*;

/// Runs `$body` with `T` the element type of `$tensor` (f32 or f64).
#[cfg(feature = "flex")]
macro_rules! typed {
    ($tensor:expr, $t:ident => $body:expr) => {
        match $tensor.dtype() {
            burn::backend::DType::F64 => {
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

#[cfg(feature = "flex")]
mod backward;
#[cfg(feature = "flex")]
mod forward;
pub mod kernels;
mod ops;

pub use ops::{OnFlex, on_flex};

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
    on_flex(device).is_some()
}

/// Batch normalisation's output and the batch statistics it used.
#[cfg(feature = "flex")]
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
#[cfg(feature = "flex")]
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
