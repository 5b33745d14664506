//! Bilinear resize written as two matrix products.
//!
//! Burn's `interpolate` has no bilinear backward on wgpu (it panics "not supported by JIT
//! backend"), so U-Net++ and PSPNet could not train on WebGPU with it. A bilinear resize is
//! linear and separable: `out = R_h · x · R_wᵀ` with one small interpolation matrix per axis.
//! Matrix products have a backward on every backend, and the result equals PyTorch's
//! `F.interpolate(mode="bilinear")` up to float rounding. On the CPU the same taps run as a
//! kernel of their own ([`super::cpu::kernels::resize`]), without the matrices' zeros.

use burn::prelude::*;

use super::cpu::kernels::resize::taps;
use super::cpu::{cpu_kernels, on_flex};

/// The `[out, input]` row-major matrix that resizes one axis of length `input` to `out`.
pub fn interpolation_matrix(out: usize, input: usize, align_corners: bool) -> Vec<f32> {
    let mut m = vec![0.0f32; out * input];
    for (o, (i0, i1, frac)) in taps(out, input, align_corners).into_iter().enumerate() {
        m[o * input + i0] += 1.0 - frac as f32;
        m[o * input + i1] += frac as f32;
    }
    m
}

/// Resizes the last two axes of `x` to `size` with bilinear interpolation.
///
/// `align_corners` has PyTorch's meaning (U-Net++ uses `true`, PSPNet `false`).
///
/// # Shapes
/// - x: `[batch, channels, height, width]`
/// - output: `[batch, channels, size[0], size[1]]`
pub fn resize_bilinear(x: Tensor<4>, size: [usize; 2], align_corners: bool) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    if [h, w] == size {
        return x;
    }
    let device = x.device();
    if let Some(flex) = on_flex(&device).filter(|_| cpu_kernels()) {
        return flex.resize_bilinear(x, size, align_corners);
    }
    let rows = interpolation_matrix(size[0], h, align_corners);
    let rows = Tensor::<2>::from_data(TensorData::new(rows, [size[0], h]), &device);
    let cols = interpolation_matrix(size[1], w, align_corners);
    let cols = Tensor::<2>::from_data(TensorData::new(cols, [size[1], w]), &device);
    let x = x.matmul(cols.transpose().unsqueeze::<4>());
    rows.unsqueeze::<4>().matmul(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use burn::tensor::module::interpolate;
    use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

    fn reference(x: Tensor<4>, size: [usize; 2], align_corners: bool) -> Tensor<4> {
        let options = InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_align_corners(align_corners)
            .with_output_size(size);
        interpolate(x, options)
    }

    fn max_abs(a: Tensor<4>, b: Tensor<4>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn rows_of_the_matrix_sum_to_one() {
        for &(o, i, ac) in &[
            (7, 3, true),
            (7, 3, false),
            (3, 7, false),
            (1, 5, true),
            (6, 1, false),
        ] {
            let m = interpolation_matrix(o, i, ac);
            for r in 0..o {
                let s: f32 = m[r * i..(r + 1) * i].iter().sum();
                assert!((s - 1.0).abs() < 1e-6, "row {r} of {o}x{i} sums to {s}");
            }
        }
    }

    #[test]
    fn matches_burn_interpolate_up_and_down() {
        let device = Device::flex();
        let x = Tensor::<4>::random([2, 3, 6, 9], Distribution::Normal(0.0, 1.0), &device);
        for size in [[12, 18], [16, 13], [3, 4], [1, 1], [48, 64]] {
            for ac in [true, false] {
                let err = max_abs(
                    resize_bilinear(x.clone(), size, ac),
                    reference(x.clone(), size, ac),
                );
                assert!(err < 1e-5, "size {size:?} align_corners {ac}: error {err}");
            }
        }
    }

    #[test]
    fn gradient_matches_burn_interpolate_backward() {
        // Flex implements bilinear backward, so it is the reference for our matrix form.
        let device = Device::flex().autodiff();
        let x0 = Tensor::<4>::random([2, 2, 5, 7], Distribution::Normal(0.0, 1.0), &device);
        let weights = Tensor::<4>::random([2, 2, 11, 6], Distribution::Normal(0.0, 1.0), &device);
        for ac in [true, false] {
            let x = x0.clone().detach().require_grad();
            let ours = (resize_bilinear(x.clone(), [11, 6], ac) * weights.clone()).sum();
            let g_ours = x.grad(&ours.backward()).unwrap();
            let x = x0.clone().detach().require_grad();
            let theirs = (reference(x.clone(), [11, 6], ac) * weights.clone()).sum();
            let g_theirs = x.grad(&theirs.backward()).unwrap();
            let err = (g_ours.clone() - g_theirs).abs().max().into_scalar::<f32>();
            let scale = g_ours.abs().max().into_scalar::<f32>();
            assert!(scale > 0.1, "gradient is degenerate");
            assert!(err < 1e-5, "align_corners {ac}: gradient error {err}");
        }
    }
}
