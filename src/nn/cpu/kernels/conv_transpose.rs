//! U-Net's upsampling, a 2x2 transposed convolution with stride 2, on the CPU. It is a 1x1
//! convolution to four times the output channels followed by a depth-to-space shuffle: output
//! pixel `(2i + a, 2j + c)` of channel `o` is channel `(o, a, c)` of the 1x1 result at `(i, j)`.
//! So the forward, the input gradient and the weight gradient are [`super::conv`]'s 1x1
//! kernels (plain GEMMs) around a shuffle, where Flex runs a direct kernel and Burn's generic
//! gradients.

use super::conv::{self, Geometry, Real};

/// Shapes of one 2x2, stride-2 transposed convolution.
#[derive(Debug, Clone, Copy)]
pub struct Up {
    /// Images.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Input height and width (the output is twice both).
    pub size: [usize; 2],
}

impl Up {
    fn pointwise(&self) -> Geometry {
        let [h, w] = self.size;
        Geometry {
            batch: self.batch,
            c_in: self.c_in,
            h,
            w,
            c_out: 4 * self.c_out,
            kernel: [1, 1],
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
        }
    }
}

/// The 1x1 weight `[4·c_out, c_in]` of a transposed-convolution weight `[c_in, c_out, 2, 2]`.
fn pointwise_weight<T: Real>(u: &Up, weight: &[T]) -> Vec<T> {
    let q = 4 * u.c_out;
    let mut out = vec![T::ZERO; q * u.c_in];
    for c in 0..u.c_in {
        for k in 0..q {
            out[k * u.c_in + c] = weight[c * q + k];
        }
    }
    out
}

/// Depth to space: `[b, (o, a, c), h, w]` to `[b, o, 2h, 2w]`, or the reverse with `back`.
fn shuffle<T: Real>(u: &Up, from: &[T], back: bool) -> Vec<T> {
    let [h, w] = u.size;
    let mut to = vec![T::ZERO; from.len()];
    for b in 0..u.batch {
        for o in 0..u.c_out {
            for a in 0..2 {
                for c in 0..2 {
                    let plane = ((b * u.c_out + o) * 4 + a * 2 + c) * h * w;
                    for i in 0..h {
                        let row = ((b * u.c_out + o) * 2 * h + 2 * i + a) * 2 * w;
                        for j in 0..w {
                            let (deep, wide) = (plane + i * w + j, row + 2 * j + c);
                            if back {
                                to[deep] = from[wide];
                            } else {
                                to[wide] = from[deep];
                            }
                        }
                    }
                }
            }
        }
    }
    to
}

/// The output `[batch, c_out, 2h, 2w]` from `x` (`[batch, c_in, h, w]`), the weight
/// (`[c_in, c_out, 2, 2]`) and the bias (`[c_out]`).
pub fn forward<T: Real>(u: &Up, x: &[T], weight: &[T], bias: &[T]) -> Vec<T> {
    let deep = conv::forward(&u.pointwise(), x, &pointwise_weight(u, weight), None, false);
    let mut y = shuffle(u, &deep, false);
    let plane = 4 * u.size[0] * u.size[1];
    for (i, chunk) in y.chunks_mut(plane).enumerate() {
        let b = bias[i % u.c_out];
        chunk.iter_mut().for_each(|v| *v = *v + b);
    }
    y
}

/// The input, weight and bias gradients from the output gradient `dy`.
pub fn backward<T: Real>(u: &Up, x: &[T], weight: &[T], dy: &[T]) -> (Vec<T>, Vec<T>, Vec<T>) {
    let g = u.pointwise();
    let deep = shuffle(u, dy, true);
    let dx = conv::input_grad(&g, &pointwise_weight(u, weight), &deep);
    let (dw_pointwise, _) = conv::weight_grad(&g, x, &deep);
    // Back from [4·c_out, c_in] to [c_in, c_out, 2, 2].
    let q = 4 * u.c_out;
    let mut dw = vec![T::ZERO; weight.len()];
    for k in 0..q {
        for c in 0..u.c_in {
            dw[c * q + k] = dw_pointwise[k * u.c_in + c];
        }
    }
    let plane = 4 * u.size[0] * u.size[1];
    let mut db = vec![T::ZERO; u.c_out];
    for (i, chunk) in dy.chunks(plane).enumerate() {
        db[i % u.c_out] = chunk.iter().fold(db[i % u.c_out], |s, &v| s + v);
    }
    (dx, dw, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: every input pixel spreads over a 2x2 block of the output.
    fn naive(u: &Up, x: &[f64], w: &[f64], bias: &[f64]) -> Vec<f64> {
        let [h, wd] = u.size;
        let mut y = vec![0.0; u.batch * u.c_out * 4 * h * wd];
        for b in 0..u.batch {
            for o in 0..u.c_out {
                for yy in 0..2 * h {
                    for xx in 0..2 * wd {
                        let mut s = bias[o];
                        for c in 0..u.c_in {
                            s += x[((b * u.c_in + c) * h + yy / 2) * wd + xx / 2]
                                * w[((c * u.c_out + o) * 2 + yy % 2) * 2 + xx % 2];
                        }
                        y[((b * u.c_out + o) * 2 * h + yy) * 2 * wd + xx] = s;
                    }
                }
            }
        }
        y
    }

    #[test]
    fn forward_and_gradients_match_the_definition() {
        let u = Up {
            batch: 2,
            c_in: 3,
            c_out: 4,
            size: [3, 5],
        };
        let f = |n: usize, k: usize| {
            (0..n)
                .map(|i| (((i * k) % 23) as f64 - 11.0) / 7.0)
                .collect::<Vec<_>>()
        };
        let (x, w, bias) = (f(2 * 3 * 15, 5), f(3 * 4 * 4, 7), f(4, 3));
        let y = forward(&u, &x, &w, &bias);
        for (a, b) in y.iter().zip(naive(&u, &x, &w, &bias)) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        // L = Σ y ⊙ r is linear in x, in w and in the bias: each gradient is L's change along a unit vector.
        let r = f(y.len(), 13);
        let loss = |x: &[f64], w: &[f64], bias: &[f64]| {
            naive(&u, x, w, bias)
                .iter()
                .zip(&r)
                .map(|(a, b)| a * b)
                .sum::<f64>()
        };
        let (dx, dw, db) = backward(&u, &x, &w, &r);
        let base = loss(&x, &w, &bias);
        let unit = |v: &[f64], i: usize| {
            let mut v = v.to_vec();
            v[i] += 1.0;
            v
        };
        for (i, &g) in dx.iter().enumerate() {
            assert!(
                (g - (loss(&unit(&x, i), &w, &bias) - base)).abs() < 1e-9,
                "dx[{i}]"
            );
        }
        for (i, &g) in dw.iter().enumerate() {
            assert!(
                (g - (loss(&x, &unit(&w, i), &bias) - base)).abs() < 1e-9,
                "dw[{i}]"
            );
        }
        for (i, &g) in db.iter().enumerate() {
            assert!(
                (g - (loss(&x, &w, &unit(&bias, i)) - base)).abs() < 1e-9,
                "db[{i}]"
            );
        }
    }
}
