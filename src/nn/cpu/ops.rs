//! The operations on tensors, for the layers of [`crate::nn`]: the one place that knows whether
//! Flex is built in. A GPU-only build (`--no-default-features --features wgpu`) has no Flex,
//! so there [`OnFlex`] has no value and the layers' CPU branches cannot be reached.

use burn::backend::ops::ConvOptions;
use burn::prelude::*;

#[cfg(feature = "flex")]
use burn::backend::{Dispatch, DispatchDevice};

#[cfg(feature = "flex")]
use super::CpuOps;

/// Proof that a device runs on Flex, where LesionLab's CPU operations apply; only [`on_flex`]
/// gives one.
#[cfg(feature = "flex")]
#[derive(Debug, Clone, Copy)]
pub struct OnFlex(());

/// Proof that a device runs on Flex; a build without Flex has none.
#[cfg(not(feature = "flex"))]
#[derive(Debug, Clone, Copy)]
pub enum OnFlex {}

/// [`OnFlex`] when `device` is Flex's (with or without autodiff), else `None`.
pub fn on_flex(device: &Device) -> Option<OnFlex> {
    #[cfg(feature = "flex")]
    {
        matches!(
            device.clone().inner().as_dispatch(),
            DispatchDevice::Flex(_)
        )
        .then_some(OnFlex(()))
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = device;
        None
    }
}

#[cfg(feature = "flex")]
impl OnFlex {
    /// `conv2d(x, weight) + bias`, then ReLU when `relu` is set.
    pub fn conv2d(
        self,
        x: Tensor<4>,
        weight: Tensor<4>,
        bias: Tensor<1>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> Tensor<4> {
        Tensor::from_dispatch(Dispatch::lesion_conv2d(
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
            options,
            relu,
        ))
    }

    /// Batch normalisation with the batch's statistics (and ReLU when `relu` is set): the
    /// output, the batch mean and the biased batch variance.
    pub fn batch_norm_train(
        self,
        x: Tensor<4>,
        gamma: Tensor<1>,
        beta: Tensor<1>,
        epsilon: f64,
        relu: bool,
    ) -> (Tensor<4>, Tensor<1>, Tensor<1>) {
        let out = Dispatch::lesion_batch_norm_train(
            x.into_dispatch(),
            gamma.into_dispatch(),
            beta.into_dispatch(),
            epsilon,
            relu,
        );
        (
            Tensor::from_dispatch(out.output),
            Tensor::from_dispatch(out.mean),
            Tensor::from_dispatch(out.variance),
        )
    }

    /// Bilinear resize of the last two axes to `size`.
    pub fn resize_bilinear(self, x: Tensor<4>, size: [usize; 2], align_corners: bool) -> Tensor<4> {
        Tensor::from_dispatch(Dispatch::lesion_resize_bilinear(
            x.into_dispatch(),
            size,
            align_corners,
        ))
    }

    /// U-Net's 2x2, stride-2 transposed convolution.
    pub fn conv_transpose2x2(self, x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>) -> Tensor<4> {
        Tensor::from_dispatch(Dispatch::lesion_conv_transpose2x2(
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
        ))
    }
}

#[cfg(not(feature = "flex"))]
impl OnFlex {
    /// See the Flex build's.
    pub fn conv2d(
        self,
        _: Tensor<4>,
        _: Tensor<4>,
        _: Tensor<1>,
        _: ConvOptions<2>,
        _: bool,
    ) -> Tensor<4> {
        match self {}
    }

    /// See the Flex build's.
    pub fn batch_norm_train(
        self,
        _: Tensor<4>,
        _: Tensor<1>,
        _: Tensor<1>,
        _: f64,
        _: bool,
    ) -> (Tensor<4>, Tensor<1>, Tensor<1>) {
        match self {}
    }

    /// See the Flex build's.
    pub fn resize_bilinear(self, _: Tensor<4>, _: [usize; 2], _: bool) -> Tensor<4> {
        match self {}
    }

    /// See the Flex build's.
    pub fn conv_transpose2x2(self, _: Tensor<4>, _: Tensor<4>, _: Tensor<1>) -> Tensor<4> {
        match self {}
    }
}
