//! Batch normalisation (training mode, NCHW) with an optional ReLU, for the CPU: two passes
//! forward and two backward, where Burn's generic `batch_norm_train` records about twenty
//! (swapped-axis copies, separate reductions, broadcasts). Sums are accumulated in `f64`, as
//! PyTorch's CPU kernels do, so statistics over a quarter of a million pixels keep their digits.

use super::conv::Real;
use super::parallel;

/// Shape of a batch-normalised tensor: `[batch, channels, pixels per plane]`.
#[derive(Debug, Clone, Copy)]
pub struct Planes {
    /// Images.
    pub batch: usize,
    /// Channels.
    pub channels: usize,
    /// Pixels per channel plane.
    pub pixels: usize,
}

impl Planes {
    fn plane(&self, b: usize, c: usize) -> core::ops::Range<usize> {
        let start = (b * self.channels + c) * self.pixels;
        start..start + self.pixels
    }
}

/// The output (`gamma · (x - mean) / sqrt(var + eps) + beta`, then ReLU when asked) and the
/// batch mean and biased variance of every channel.
pub fn forward<T: Real>(
    p: Planes,
    x: &[T],
    gamma: &[T],
    beta: &[T],
    epsilon: f64,
    relu: bool,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let n = (p.batch * p.pixels) as f64;
    let stats: Vec<(f64, f64)> = parallel::map(p.channels, |c| {
        // One pass: Σx and Σx² in f64 (eight lanes, which the compiler vectorises); in f64 the
        // difference E[x²] - E[x]² keeps ample digits for activations of any sensible scale.
        let (mut sum, mut squares) = ([0.0f64; 8], [0.0f64; 8]);
        for b in 0..p.batch {
            let plane = &x[p.plane(b, c)];
            let mut chunks = plane.chunks_exact(8);
            for chunk in &mut chunks {
                for k in 0..8 {
                    let v = chunk[k].wide();
                    sum[k] += v;
                    squares[k] += v * v;
                }
            }
            for (k, v) in chunks.remainder().iter().enumerate() {
                sum[k] += v.wide();
                squares[k] += v.wide() * v.wide();
            }
        }
        let mean = sum.iter().sum::<f64>() / n;
        let var = (squares.iter().sum::<f64>() / n - mean * mean).max(0.0);
        (mean, var)
    });
    let mut y = vec![T::ZERO; x.len()];
    let planes: Vec<(usize, &mut [T])> = y.chunks_mut(p.pixels).enumerate().collect();
    let write = |(i, out): (usize, &mut [T])| {
        let c = i % p.channels;
        let (mean, var) = stats[c];
        let scale = gamma[c].wide() / (var + epsilon).sqrt();
        let (scale, shift) = (T::narrow(scale), T::narrow(beta[c].wide() - mean * scale));
        for (o, &v) in out.iter_mut().zip(&x[i * p.pixels..(i + 1) * p.pixels]) {
            let z = v * scale + shift;
            *o = if relu && z < T::ZERO { T::ZERO } else { z };
        }
    };
    parallel::for_each(planes, write);
    let mean = stats.iter().map(|s| T::narrow(s.0)).collect();
    let var = stats.iter().map(|s| T::narrow(s.1)).collect();
    (y, mean, var)
}

/// The gradients of [`forward`] for input, gamma and beta, from the output gradient `dy`, the
/// input, the batch statistics forward returned and, with a ReLU, forward's output.
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Real>(
    p: Planes,
    x: &[T],
    output: Option<&[T]>,
    dy: &[T],
    gamma: &[T],
    mean: &[T],
    var: &[T],
    epsilon: f64,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let n = (p.batch * p.pixels) as f64;
    let grad = |b: usize, c: usize| {
        let range = p.plane(b, c);
        let mask = output.map(|y| &y[range.clone()]);
        (range, mask)
    };
    // Per channel: Σ dy and Σ dy · x̂ (dy after the ReLU's mask).
    let sums: Vec<(f64, f64)> = parallel::map(p.channels, |c| {
        let (m, inv) = (mean[c].wide(), 1.0 / (var[c].wide() + epsilon).sqrt());
        let mut s = (0.0, 0.0);
        for b in 0..p.batch {
            let (range, mask) = grad(b, c);
            for (k, (&g, &v)) in dy[range.clone()].iter().zip(&x[range]).enumerate() {
                if mask.is_some_and(|y| y[k] <= T::ZERO) {
                    continue;
                }
                let g = g.wide();
                s.0 += g;
                s.1 += g * (v.wide() - m) * inv;
            }
        }
        s
    });
    let mut dx = vec![T::ZERO; x.len()];
    let planes: Vec<(usize, &mut [T])> = dx.chunks_mut(p.pixels).enumerate().collect();
    let write = |(i, out): (usize, &mut [T])| {
        let (b, c) = (i / p.channels, i % p.channels);
        let (m, inv) = (mean[c].wide(), 1.0 / (var[c].wide() + epsilon).sqrt());
        let (mean_dy, mean_dy_xhat) = (sums[c].0 / n, sums[c].1 / n);
        let scale = gamma[c].wide() * inv;
        // dx = scale · (dy - mean_dy - x̂ · mean_dy_xhat), with x̂ = (x - m) · inv, as a·x + b·dy + c.
        let (a, k) = (T::narrow(-scale * mean_dy_xhat * inv), T::narrow(scale));
        let c0 = T::narrow(scale * (-mean_dy + mean_dy_xhat * inv * m));
        let (range, mask) = grad(b, c);
        for (j, ((o, &g), &v)) in out
            .iter_mut()
            .zip(&dy[range.clone()])
            .zip(&x[range])
            .enumerate()
        {
            let g = if mask.is_some_and(|y| y[j] <= T::ZERO) {
                T::ZERO
            } else {
                g
            };
            *o = a * v + k * g + c0;
        }
    };
    parallel::for_each(planes, write);
    let dgamma = sums.iter().map(|s| T::narrow(s.1)).collect();
    let dbeta = sums.iter().map(|s| T::narrow(s.0)).collect();
    (dx, dgamma, dbeta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) as f64 / (1u64 << 31) as f64) * 4.0 - 1.0
            })
            .collect()
    }

    /// `L = Σ r ⊙ relu?(bn(x))` computed directly, for finite differences.
    fn loss(p: Planes, x: &[f64], gamma: &[f64], beta: &[f64], r: &[f64], relu: bool) -> f64 {
        forward(p, x, gamma, beta, 1e-5, relu)
            .0
            .iter()
            .zip(r)
            .map(|(a, b)| a * b)
            .sum()
    }

    #[test]
    fn statistics_and_output_follow_the_definition() {
        let p = Planes {
            batch: 3,
            channels: 2,
            pixels: 5,
        };
        let x = values(30, 1);
        let (y, mean, var) = forward(p, &x, &[2.0, 0.5], &[0.1, -0.3], 1e-5, false);
        for c in 0..2 {
            let vals: Vec<f64> = (0..3)
                .flat_map(|b| x[(b * 2 + c) * 5..][..5].to_vec())
                .collect();
            let m = vals.iter().sum::<f64>() / 15.0;
            let v = vals.iter().map(|a| (a - m).powi(2)).sum::<f64>() / 15.0;
            assert!((mean[c] - m).abs() < 1e-12 && (var[c] - v).abs() < 1e-12);
            let first = (x[c * 5] - m) / (v + 1e-5).sqrt() * [2.0, 0.5][c] + [0.1, -0.3][c];
            assert!((y[c * 5] - first).abs() < 1e-12);
        }
    }

    #[test]
    fn gradients_match_finite_differences_with_and_without_relu() {
        let p = Planes {
            batch: 2,
            channels: 3,
            pixels: 7,
        };
        let x = values(42, 2);
        let gamma = vec![1.5, 0.7, -0.4];
        let beta = vec![0.2, -0.1, 0.05];
        let r = values(42, 3);
        for relu in [false, true] {
            let (y, mean, var) = forward(p, &x, &gamma, &beta, 1e-5, relu);
            let (dx, dgamma, dbeta) =
                backward(p, &x, relu.then_some(&y[..]), &r, &gamma, &mean, &var, 1e-5);
            let h = 1e-6;
            let check = |analytic: f64, plus: f64, minus: f64, what: &str| {
                let numeric = (plus - minus) / (2.0 * h);
                assert!(
                    (analytic - numeric).abs() < 1e-5 * (1.0 + numeric.abs()),
                    "{what} (relu {relu}): {analytic} vs {numeric}"
                );
            };
            for i in 0..x.len() {
                let (mut a, mut b) = (x.clone(), x.clone());
                a[i] += h;
                b[i] -= h;
                check(
                    dx[i],
                    loss(p, &a, &gamma, &beta, &r, relu),
                    loss(p, &b, &gamma, &beta, &r, relu),
                    &format!("dx[{i}]"),
                );
            }
            for c in 0..3 {
                let (mut a, mut b) = (gamma.clone(), gamma.clone());
                a[c] += h;
                b[c] -= h;
                check(
                    dgamma[c],
                    loss(p, &x, &a, &beta, &r, relu),
                    loss(p, &x, &b, &beta, &r, relu),
                    "dgamma",
                );
                let (mut a, mut b) = (beta.clone(), beta.clone());
                a[c] += h;
                b[c] -= h;
                check(
                    dbeta[c],
                    loss(p, &x, &gamma, &a, &r, relu),
                    loss(p, &x, &gamma, &b, &r, relu),
                    "dbeta",
                );
            }
        }
    }
}
