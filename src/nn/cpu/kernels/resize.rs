//! Bilinear resize on the CPU, forward and backward, straight from the two taps each output
//! coordinate reads. The portable form in [`super::resize_bilinear`] multiplies by dense
//! interpolation matrices, which on a CPU costs the full width (or height) per output value
//! where two taps would do: U-Net++'s ten 2x upsamplings made it a quarter of a training step.

use super::conv::Real;
use super::parallel;

/// For each output coordinate of an axis resized from `input` to `out`: its two source
/// coordinates and the second one's weight, with PyTorch's rule for `align_corners`.
pub fn taps(out: usize, input: usize, align_corners: bool) -> Vec<(usize, usize, f64)> {
    (0..out)
        .map(|o| {
            let src = if align_corners {
                if out > 1 {
                    o as f64 * (input as f64 - 1.0) / (out as f64 - 1.0)
                } else {
                    0.0
                }
            } else {
                // Half-pixel centres; PyTorch clamps negative source coordinates to 0.
                ((o as f64 + 0.5) * input as f64 / out as f64 - 0.5).max(0.0)
            };
            let i0 = (src.floor() as usize).min(input - 1);
            (i0, (i0 + 1).min(input - 1), src - i0 as f64)
        })
        .collect()
}

/// Planes of `[height, width]` resized to `[out_h, out_w]`.
#[derive(Debug, Clone, Copy)]
pub struct Resize {
    /// Planes (batch times channels).
    pub planes: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Output height and width.
    pub output: [usize; 2],
    /// PyTorch's `align_corners`.
    pub align_corners: bool,
}

/// Each output coordinate's first tap, second tap and the second tap's weight.
fn weights<T: Real>(out: usize, input: usize, align_corners: bool) -> Vec<(usize, usize, T, T)> {
    taps(out, input, align_corners)
        .into_iter()
        .map(|(i0, i1, f)| (i0, i1, T::narrow(1.0 - f), T::narrow(f)))
        .collect()
}

/// The resized planes.
pub fn forward<T: Real>(r: &Resize, x: &[T]) -> Vec<T> {
    let ([h, w], [oh, ow]) = (r.input, r.output);
    let (rows, cols) = (
        weights::<T>(oh, h, r.align_corners),
        weights::<T>(ow, w, r.align_corners),
    );
    let mut y = vec![T::ZERO; r.planes * oh * ow];
    parallel::for_chunks(&mut y, oh * ow, |p, out| {
        let src = &x[p * h * w..(p + 1) * h * w];
        // Each input row interpolated along the width once, then rows blended.
        let mut wide = vec![T::ZERO; h * ow];
        for (row, dst) in src.chunks(w).zip(wide.chunks_mut(ow)) {
            for (d, &(i0, i1, a, b)) in dst.iter_mut().zip(&cols) {
                *d = row[i0] * a + row[i1] * b;
            }
        }
        for (dst, &(i0, i1, a, b)) in out.chunks_mut(ow).zip(&rows) {
            let (r0, r1) = (&wide[i0 * ow..(i0 + 1) * ow], &wide[i1 * ow..(i1 + 1) * ow]);
            for ((d, &u), &v) in dst.iter_mut().zip(r0).zip(r1) {
                *d = u * a + v * b;
            }
        }
    });
    y
}

/// The gradient of the input planes from that of the output: the transpose of [`forward`].
pub fn backward<T: Real>(r: &Resize, dy: &[T]) -> Vec<T> {
    let ([h, w], [oh, ow]) = (r.input, r.output);
    let (rows, cols) = (
        weights::<T>(oh, h, r.align_corners),
        weights::<T>(ow, w, r.align_corners),
    );
    let mut dx = vec![T::ZERO; r.planes * h * w];
    parallel::for_chunks(&mut dx, h * w, |p, out| {
        let grad = &dy[p * oh * ow..(p + 1) * oh * ow];
        let mut wide = vec![T::ZERO; h * ow];
        for (src, &(i0, i1, a, b)) in grad.chunks(ow).zip(&rows) {
            for (k, &g) in src.iter().enumerate() {
                wide[i0 * ow + k] = wide[i0 * ow + k] + g * a;
                wide[i1 * ow + k] = wide[i1 * ow + k] + g * b;
            }
        }
        for (row, dst) in wide.chunks(ow).zip(out.chunks_mut(w)) {
            for (&g, &(i0, i1, a, b)) in row.iter().zip(&cols) {
                dst[i0] = dst[i0] + g * a;
                dst[i1] = dst[i1] + g * b;
            }
        }
    });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::interpolation_matrix;

    /// `R_h · x · R_wᵀ` with the portable path's matrices.
    fn dense(r: &Resize, x: &[f64]) -> Vec<f64> {
        let ([h, w], [oh, ow]) = (r.input, r.output);
        let (rh, rw) = (
            interpolation_matrix(oh, h, r.align_corners),
            interpolation_matrix(ow, w, r.align_corners),
        );
        let mut y = vec![0.0; r.planes * oh * ow];
        for p in 0..r.planes {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = 0.0;
                    for iy in 0..h {
                        for ix in 0..w {
                            s += rh[oy * h + iy] as f64
                                * rw[ox * w + ix] as f64
                                * x[(p * h + iy) * w + ix];
                        }
                    }
                    y[(p * oh + oy) * ow + ox] = s;
                }
            }
        }
        y
    }

    #[test]
    fn forward_equals_the_matrix_form_and_backward_is_its_transpose() {
        for (input, output, align) in [
            ([4, 6], [8, 12], true),
            ([3, 5], [7, 9], false),
            ([6, 6], [2, 3], false),
            ([1, 1], [4, 4], false),
        ] {
            let r = Resize {
                planes: 3,
                input,
                output,
                align_corners: align,
            };
            let n = 3 * input[0] * input[1];
            let x: Vec<f64> = (0..n).map(|i| ((i * 37 % 17) as f64) - 8.0).collect();
            let y = forward(&r, &x);
            for (a, b) in y.iter().zip(dense(&r, &x)) {
                assert!(
                    (a - b).abs() < 1e-5 * (1.0 + b.abs()),
                    "{input:?}->{output:?}: {a} vs {b}"
                );
            }
            // <forward(x), g> = <x, backward(g)> for any g.
            let g: Vec<f64> = (0..y.len()).map(|i| ((i * 13 % 11) as f64) - 5.0).collect();
            let dx = backward(&r, &g);
            let lhs: f64 = y.iter().zip(&g).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
            assert!(
                (lhs - rhs).abs() < 1e-9 * (1.0 + lhs.abs()),
                "{lhs} vs {rhs}"
            );
        }
    }
}
