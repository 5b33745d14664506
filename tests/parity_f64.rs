//! The training-step parity run in float64, in its own test binary: configuring the Flex
//! device's float type is process-wide, and the other parity tests run in float32.

mod common;

use burn::prelude::*;
use burn::tensor::FloatDType;
use common::*;

/// In float64 our gradients agree with PyTorch's float32 ones to about 4e-6: the model, loss
/// and optimiser compute the same function.
#[test]
fn train_step_matches_in_float64() {
    let mut device = Device::flex().autodiff();
    device.configure(FloatDType::F64).unwrap();
    train_step_parity(
        &device,
        true,
        StepTolerance {
            gradient: 1e-4,
            adam_step: Some(0.02),
        },
    );
}
