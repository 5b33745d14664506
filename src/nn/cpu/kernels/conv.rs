//! Convolution kernels for the CPU: forward, input gradient and weight gradient of a 2-D
//! convolution (NCHW, one group), each as matrix products over im2col tiles with the `gemm`
//! crate (the one Flex uses), on `f32` and `f64`.
//!
//! Burn 0.22's Flex backend converts every input to NHWC before its forward GEMM and has no
//! convolution backward of its own: Burn's generic fallback computes the weight gradient as a
//! convolution whose "channels" are the batch, which for a batch of 4 and 16 channels lands in a
//! slow direct kernel (the profile in the README). Here each is one GEMM per tile:
//!
//! - forward:        `y[b][:, tile] = W[Cout, K] · col(x[b])[K, tile] + bias`
//! - weight grad:    `dW[Cout, K] = Σ_b Σ_tiles dy[b][:, tile] · col(x[b])[K, tile]ᵀ`
//! - input grad:     `dcol[K, tile] = Wᵀ · dy[b][:, tile]`, scattered back into `dx[b]` (col2im)
//!
//! with `K = Cin·kh·kw` and tiles of output pixels small enough for the column matrix to stay in
//! cache. A 1x1 convolution with stride 1 and no padding needs no im2col: `x[b]` is already the
//! column matrix. Work is split over images and tiles (forward, weight gradient) or over images
//! and input channels (input gradient, so that no two workers scatter into the same plane).

use core::ops::{Add, Mul};

use super::parallel;

/// The element types the CPU kernels run on (`f32`, `f64`).
pub trait Real:
    bytemuck::Pod + Default + PartialOrd + Send + Sync + Add<Output = Self> + Mul<Output = Self>
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// This value as `f64`, where sums are kept.
    fn wide(self) -> f64;
    /// The nearest value to an `f64`.
    fn narrow(v: f64) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn wide(self) -> f64 {
        self as f64
    }
    fn narrow(v: f64) -> Self {
        v as f32
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn wide(self) -> f64 {
        self
    }
    fn narrow(v: f64) -> Self {
        v
    }
}

/// Shapes and options of one convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Zero padding before and after, along height and width (PyTorch's symmetric padding).
    pub padding: [usize; 2],
    /// Dilation along height and width.
    pub dilation: [usize; 2],
}

impl Geometry {
    /// Output height and width.
    pub fn out(&self) -> [usize; 2] {
        let size = |i: usize, axis: usize| {
            let span = self.dilation[axis] * (self.kernel[axis] - 1) + 1;
            (i + 2 * self.padding[axis]).saturating_sub(span) / self.stride[axis] + 1
        };
        [size(self.h, 0), size(self.w, 1)]
    }

    /// Rows of the column matrix: `Cin · kh · kw`.
    fn k(&self) -> usize {
        self.c_in * self.kernel[0] * self.kernel[1]
    }

    fn out_pixels(&self) -> usize {
        let [oh, ow] = self.out();
        oh * ow
    }

    /// A 1x1 convolution that reads every input pixel once: its column matrix is the input.
    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.padding == [0, 0]
    }

    /// Output pixels per tile: the column matrix of a tile holds about 128K elements (512 KB in
    /// `f32`), which stays in a core's L2 cache.
    fn tile(&self) -> usize {
        let n = self.out_pixels();
        (131_072 / self.k().max(1)).clamp(64, n.max(64)).min(n)
    }

    fn tiles(&self) -> impl Iterator<Item = (usize, usize)> + Clone {
        let (n, t) = (self.out_pixels(), self.tile());
        (0..n.div_ceil(t)).map(move |i| (i * t, ((i + 1) * t).min(n)))
    }
}

/// The output columns `ox` whose input column `ox·stride + offset` lies inside `0..width`, as a
/// range, for a kernel tap at `offset = j·dilation - padding`.
fn inside(ow: usize, stride: usize, offset: isize, width: usize) -> (usize, usize) {
    let first = if offset >= 0 { 0 } else { (-offset) as usize }.div_ceil(stride);
    let end = if (width as isize) <= offset {
        0
    } else {
        (width as isize - offset) as usize
    }
    .div_ceil(stride);
    (first.min(ow), end.min(ow).max(first.min(ow)))
}

/// Calls `each(row, oy, ox0, ox1, p)` for every (kernel row `(c, i, j)`, stretch of one output
/// row `oy` from `ox0` to `ox1`) covering output pixels `p0..p1`; `p` is the stretch's first pixel.
fn stretches(
    g: &Geometry,
    p0: usize,
    p1: usize,
    c0: usize,
    c1: usize,
    mut each: impl FnMut(usize, usize, usize, usize, usize),
) {
    let [_, ow] = g.out();
    let [kh, kw] = g.kernel;
    for c in c0..c1 {
        for i in 0..kh {
            for j in 0..kw {
                let row = ((c - c0) * kh + i) * kw + j;
                let mut p = p0;
                while p < p1 {
                    let (oy, ox0) = (p / ow, p % ow);
                    let ox1 = ow.min(ox0 + (p1 - p));
                    each(row, oy, ox0, ox1, p);
                    p += ox1 - ox0;
                }
            }
        }
    }
}

/// Writes the column matrix of output pixels `p0..p1` of one image: row `(c, i, j)` holds the
/// input pixel that kernel tap `(i, j)` of channel `c` reads for each output pixel, zero where it
/// falls in the padding. `col` is `[K, p1 - p0]`, row-major.
fn im2col<T: Real>(g: &Geometry, x: &[T], p0: usize, p1: usize, col: &mut [T]) {
    let n = p1 - p0;
    let [kh, kw] = g.kernel;
    let ([sh, sw], [ph, pw], [dh, dw]) = (g.stride, g.padding, g.dilation);
    let [_, ow] = g.out();
    stretches(g, p0, p1, 0, g.c_in, |row, oy, ox0, ox1, p| {
        let (c, i, j) = (row / (kh * kw), row / kw % kh, row % kw);
        let dst = &mut col[row * n + (p - p0)..][..ox1 - ox0];
        let iy = (oy * sh + i * dh) as isize - ph as isize;
        if iy < 0 || iy >= g.h as isize {
            dst.fill(T::ZERO);
            return;
        }
        let src = &x[(c * g.h + iy as usize) * g.w..][..g.w];
        let offset = (j * dw) as isize - pw as isize;
        let (a, b) = inside(ow, sw, offset, g.w);
        let (a, b) = (a.clamp(ox0, ox1), b.clamp(ox0, ox1));
        dst[..a - ox0].fill(T::ZERO);
        dst[b - ox0..].fill(T::ZERO);
        let first = (a as isize * sw as isize + offset) as usize;
        if sw == 1 {
            dst[a - ox0..b - ox0].copy_from_slice(&src[first..first + (b - a)]);
        } else {
            for (k, d) in dst[a - ox0..b - ox0].iter_mut().enumerate() {
                *d = src[first + k * sw];
            }
        }
    });
}

/// Adds the column matrix of output pixels `p0..p1` back into one image's input gradient: the
/// transpose of [`im2col`], for channels `c0..c1` only (`col` holds their rows, `dx` their planes).
#[allow(clippy::too_many_arguments)]
fn col2im<T: Real>(
    g: &Geometry,
    col: &[T],
    p0: usize,
    p1: usize,
    c0: usize,
    c1: usize,
    dx: &mut [T],
) {
    let n = p1 - p0;
    let [kh, kw] = g.kernel;
    let ([sh, sw], [ph, pw], [dh, dw]) = (g.stride, g.padding, g.dilation);
    let [_, ow] = g.out();
    stretches(g, p0, p1, c0, c1, |row, oy, ox0, ox1, p| {
        let (c, i, j) = (row / (kh * kw), row / kw % kh, row % kw);
        let iy = (oy * sh + i * dh) as isize - ph as isize;
        if iy < 0 || iy >= g.h as isize {
            return;
        }
        let src = &col[row * n + (p - p0)..][..ox1 - ox0];
        let plane = &mut dx[(c * g.h + iy as usize) * g.w..][..g.w];
        let offset = (j * dw) as isize - pw as isize;
        let (a, b) = inside(ow, sw, offset, g.w);
        let (a, b) = (a.clamp(ox0, ox1), b.clamp(ox0, ox1));
        let first = (a as isize * sw as isize + offset) as usize;
        let src = &src[a - ox0..b - ox0];
        if sw == 1 {
            for (d, &v) in plane[first..first + src.len()].iter_mut().zip(src) {
                *d = *d + v;
            }
        } else {
            for (k, &v) in src.iter().enumerate() {
                plane[first + k * sw] = plane[first + k * sw] + v;
            }
        }
    });
}

/// `dst[m, n] (+)= lhs[m, k] · rhs[k, n]`, each matrix given by its row and column strides.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul<T: Real>(
    [m, n, k]: [usize; 3],
    dst: *mut T,
    [dst_rs, dst_cs]: [isize; 2],
    accumulate: bool,
    lhs: *const T,
    [lhs_rs, lhs_cs]: [isize; 2],
    rhs: *const T,
    [rhs_rs, rhs_cs]: [isize; 2],
) {
    // SAFETY: the callers pass pointers and strides that stay inside their buffers for an
    // m x n destination and m x k, k x n operands; gemm reads only those elements.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            dst_cs,
            dst_rs,
            accumulate,
            lhs,
            lhs_cs,
            lhs_rs,
            rhs,
            rhs_cs,
            rhs_rs,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// A raw pointer that workers write disjoint parts of.
#[derive(Clone, Copy)]
struct Shared<T>(*mut T);
// SAFETY: every use writes ranges no other worker touches (disjoint tiles or channel planes).
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The pointer. A method, so that closures capture the `Send` wrapper rather than its
    /// field (closures capture only the fields they name).
    fn get(self) -> *mut T {
        self.0
    }
}

std::thread_local! {
    static SCRATCH: core::cell::RefCell<Vec<u64>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on a buffer of `len` elements kept per thread, which `f` overwrites entirely: a
/// column matrix is hundreds of kilobytes, and allocating one per tile would cost a fresh mapping
/// and page faults each time.
fn with_scratch<T: Real, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    SCRATCH.with(|cell| {
        let mut words = cell.borrow_mut();
        let needed = (len * core::mem::size_of::<T>()).div_ceil(8);
        if words.len() < needed {
            words.resize(needed, 0);
        }
        f(&mut bytemuck::cast_slice_mut(&mut words[..needed])[..len])
    })
}

/// The forward pass: `[batch, c_out, oh, ow]` from `x` (`[batch, c_in, h, w]`), `weight`
/// (`[c_out, c_in, kh, kw]`) and an optional bias (`[c_out]`); with `relu`, negative outputs
/// become zero in the same pass.
pub fn forward<T: Real>(
    g: &Geometry,
    x: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    relu: bool,
) -> Vec<T> {
    let (k, n) = (g.k(), g.out_pixels());
    let mut y = vec![T::ZERO; g.batch * g.c_out * n];
    let out = Shared(y.as_mut_ptr());
    let items: Vec<(usize, (usize, usize))> = (0..g.batch)
        .flat_map(|b| g.tiles().map(move |t| (b, t)))
        .collect();
    parallel::for_each(items, |(b, (p0, p1))| {
        let image = &x[b * g.c_in * g.h * g.w..(b + 1) * g.c_in * g.h * g.w];
        let t = p1 - p0;
        // SAFETY: this item owns columns p0..p1 of image b's output rows.
        let dst = unsafe { out.get().add(b * g.c_out * n + p0) };
        if let Some(bias) = bias {
            for (c, &v) in bias.iter().enumerate() {
                unsafe { core::slice::from_raw_parts_mut(dst.add(c * n), t) }.fill(v);
            }
        }
        // yᵀ[t, c_out] = colᵀ[t, k] · Wᵀ[k, c_out]: the pixels are the GEMM's long side, so its
        // register tiles fill up even where a layer has only 16 channels.
        let product = |col: *const T, col_rs: usize| {
            // SAFETY: dst holds t pixels of c_out channels (channel stride n); col is k rows of
            // t pixels (row stride col_rs); weight is c_out x k.
            unsafe {
                matmul(
                    [t, g.c_out, k],
                    dst,
                    [1, n as isize],
                    bias.is_some(),
                    col,
                    [1, col_rs as isize],
                    weight.as_ptr(),
                    [1, k as isize],
                )
            }
        };
        if g.is_pointwise() {
            product(image[p0..].as_ptr(), n);
        } else {
            with_scratch(k * t, |col| {
                im2col(g, image, p0, p1, col);
                product(col.as_ptr(), t);
            });
        }
        if relu {
            for c in 0..g.c_out {
                for v in unsafe { core::slice::from_raw_parts_mut(dst.add(c * n), t) } {
                    if *v < T::ZERO {
                        *v = T::ZERO;
                    }
                }
            }
        }
    });
    y
}

/// The weight and bias gradients, `[c_out, c_in, kh, kw]` and `[c_out]`, from the input `x` and
/// the output gradient `dy` (`[batch, c_out, oh, ow]`).
pub fn weight_grad<T: Real>(g: &Geometry, x: &[T], dy: &[T]) -> (Vec<T>, Vec<T>) {
    let (k, n) = (g.k(), g.out_pixels());
    let items: Vec<(usize, (usize, usize))> = (0..g.batch)
        .flat_map(|b| g.tiles().map(move |t| (b, t)))
        .collect();
    let partial = |(b, (p0, p1)): (usize, (usize, usize)), dw: &mut Vec<T>| {
        let image = &x[b * g.c_in * g.h * g.w..(b + 1) * g.c_in * g.h * g.w];
        let grad = &dy[b * g.c_out * n..(b + 1) * g.c_out * n];
        let t = p1 - p0;
        // dWᵀ[k, c_out] += col[k, t] · dyᵀ[t, c_out] (k, the long side, first).
        let mut product = |col: *const T, col_rs: usize| unsafe {
            matmul(
                [k, g.c_out, t],
                dw.as_mut_ptr(),
                [1, k as isize],
                true,
                col,
                [col_rs as isize, 1],
                grad[p0..].as_ptr(),
                [1, n as isize],
            )
        };
        if g.is_pointwise() {
            product(image[p0..].as_ptr(), n);
        } else {
            with_scratch(k * t, |col| {
                im2col(g, image, p0, p1, col);
                product(col.as_ptr(), t);
            });
        }
    };
    let zeros = || vec![T::ZERO; g.c_out * k];
    let dw = parallel::fold(
        items,
        zeros,
        |mut dw, item| {
            partial(item, &mut dw);
            dw
        },
        |mut a, b| {
            a.iter_mut().zip(b).for_each(|(a, b)| *a = *a + b);
            a
        },
    );
    let mut db = vec![T::ZERO; g.c_out];
    for b in 0..g.batch {
        for (c, sum) in db.iter_mut().enumerate() {
            *sum = dy[(b * g.c_out + c) * n..][..n]
                .iter()
                .fold(*sum, |s, &v| s + v);
        }
    }
    (dw, db)
}

/// The input gradient, `[batch, c_in, h, w]`, from the weight and the output gradient.
///
/// With stride 1 this is itself a convolution, of `dy` with the kernel flipped and its channel
/// axes swapped, padded by `dilation · (k - 1) - padding`: the forward kernel runs it without
/// any scatter. Strided convolutions scatter their column matrix back (col2im).
pub fn input_grad<T: Real>(g: &Geometry, weight: &[T], dy: &[T]) -> Vec<T> {
    let [kh, kw] = g.kernel;
    let span = [g.dilation[0] * (kh - 1), g.dilation[1] * (kw - 1)];
    if g.stride == [1, 1] && g.padding[0] <= span[0] && g.padding[1] <= span[1] {
        let [oh, ow] = g.out();
        let mut flipped = vec![T::ZERO; weight.len()];
        for o in 0..g.c_out {
            for c in 0..g.c_in {
                for i in 0..kh {
                    for j in 0..kw {
                        flipped[((c * g.c_out + o) * kh + kh - 1 - i) * kw + kw - 1 - j] =
                            weight[((o * g.c_in + c) * kh + i) * kw + j];
                    }
                }
            }
        }
        let transposed = Geometry {
            c_in: g.c_out,
            h: oh,
            w: ow,
            c_out: g.c_in,
            padding: [span[0] - g.padding[0], span[1] - g.padding[1]],
            ..*g
        };
        return forward(&transposed, dy, &flipped, None, false);
    }
    scatter_input_grad(g, weight, dy)
}

/// [`input_grad`] for any stride: `dcol = Wᵀ · dy` per tile, added back into the input (col2im).
fn scatter_input_grad<T: Real>(g: &Geometry, weight: &[T], dy: &[T]) -> Vec<T> {
    let (k, n) = (g.k(), g.out_pixels());
    let kk = g.kernel[0] * g.kernel[1];
    let plane = g.h * g.w;
    let mut dx = vec![T::ZERO; g.batch * g.c_in * plane];
    let out = Shared(dx.as_mut_ptr());
    // Channel groups small enough that every image has work for each thread.
    let groups = if g.batch >= 4 { 1 } else { 4.min(g.c_in) };
    let per = g.c_in.div_ceil(groups);
    let items: Vec<(usize, usize)> = (0..g.batch)
        .flat_map(|b| (0..g.c_in).step_by(per).map(move |c0| (b, c0)))
        .collect();
    parallel::for_each(items, |(b, c0)| {
        let c1 = (c0 + per).min(g.c_in);
        let rows = (c1 - c0) * kk;
        let grad = &dy[b * g.c_out * n..(b + 1) * g.c_out * n];
        // SAFETY: this item owns planes c0..c1 of image b.
        let dst = unsafe {
            core::slice::from_raw_parts_mut(
                out.get().add((b * g.c_in + c0) * plane),
                (c1 - c0) * plane,
            )
        };
        // Wᵀ restricted to these channels' rows: element (r, o) is weight[o, c0·kk + r].
        let lhs = weight[c0 * kk..].as_ptr();
        if g.is_pointwise() {
            unsafe {
                matmul(
                    [rows, n, g.c_out],
                    dst.as_mut_ptr(),
                    [n as isize, 1],
                    false,
                    lhs,
                    [1, k as isize],
                    grad.as_ptr(),
                    [n as isize, 1],
                )
            };
            return;
        }
        for (p0, p1) in g.tiles() {
            let t = p1 - p0;
            with_scratch(rows * t, |col: &mut [T]| {
                unsafe {
                    matmul(
                        [rows, t, g.c_out],
                        col.as_mut_ptr(),
                        [t as isize, 1],
                        false,
                        lhs,
                        [1, k as isize],
                        grad[p0..].as_ptr(),
                        [n as isize, 1],
                    )
                };
                col2im(g, col, p0, p1, c0, c1, dst);
            });
        }
    });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, in six loops.
    fn naive(g: &Geometry, x: &[f64], w: &[f64], bias: &[f64]) -> Vec<f64> {
        let [oh, ow] = g.out();
        let [kh, kw] = g.kernel;
        let mut y = vec![0.0; g.batch * g.c_out * oh * ow];
        for b in 0..g.batch {
            for o in 0..g.c_out {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut s = bias[o];
                        for c in 0..g.c_in {
                            for i in 0..kh {
                                for j in 0..kw {
                                    let iy = (oy * g.stride[0] + i * g.dilation[0]) as isize
                                        - g.padding[0] as isize;
                                    let ix = (ox * g.stride[1] + j * g.dilation[1]) as isize
                                        - g.padding[1] as isize;
                                    if iy >= 0
                                        && ix >= 0
                                        && (iy as usize) < g.h
                                        && (ix as usize) < g.w
                                    {
                                        s += x[((b * g.c_in + c) * g.h + iy as usize) * g.w
                                            + ix as usize]
                                            * w[((o * g.c_in + c) * kh + i) * kw + j];
                                    }
                                }
                            }
                        }
                        y[((b * g.c_out + o) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        y
    }

    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5
            })
            .collect()
    }

    fn geometries() -> Vec<Geometry> {
        let g = |batch, c_in, h, w, c_out, k, s, p, d| Geometry {
            batch,
            c_in,
            h,
            w,
            c_out,
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            dilation: [d, d],
        };
        vec![
            g(2, 3, 9, 7, 4, 3, 1, 1, 1),   // the first layer's shape, odd sizes
            g(1, 5, 12, 10, 3, 3, 2, 1, 1), // PSPNet's stride-2 encoder
            g(3, 4, 6, 6, 2, 1, 1, 0, 1),   // a 1x1 head
            g(1, 2, 11, 13, 3, 3, 1, 2, 2), // dilated
            g(2, 6, 40, 40, 5, 3, 1, 1, 1), // several tiles per image (K = 54)
        ]
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() < 1e-9 * (1.0 + y.abs()),
                "element {i}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        for g in geometries() {
            let x = values(g.batch * g.c_in * g.h * g.w, 1);
            let w = values(g.c_out * g.k(), 2);
            let bias = values(g.c_out, 3);
            close(
                &forward(&g, &x, &w, Some(&bias), false),
                &naive(&g, &x, &w, &bias),
            );
            let relu: Vec<f64> = naive(&g, &x, &w, &bias)
                .into_iter()
                .map(|v| v.max(0.0))
                .collect();
            close(&forward(&g, &x, &w, Some(&bias), true), &relu);
        }
    }

    /// Gradients of `L = Σ y ⊙ r` for a fixed random `r`, by the definition: every term
    /// `x[b, c, iy, ix] · w[o, c, i, j] · r[b, o, oy, ox]` of `L` adds its other two factors to the
    /// gradients of `w` and `x`.
    #[test]
    fn gradients_match_the_definition() {
        for g in geometries() {
            let x = values(g.batch * g.c_in * g.h * g.w, 4);
            let w = values(g.c_out * g.k(), 5);
            let [oh, ow] = g.out();
            let [kh, kw] = g.kernel;
            let r = values(g.batch * g.c_out * oh * ow, 6);
            let (mut dw_ref, mut dx_ref, mut db_ref) =
                (vec![0.0; w.len()], vec![0.0; x.len()], vec![0.0; g.c_out]);
            for b in 0..g.batch {
                for o in 0..g.c_out {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let ro = r[((b * g.c_out + o) * oh + oy) * ow + ox];
                            db_ref[o] += ro;
                            for c in 0..g.c_in {
                                for i in 0..kh {
                                    for j in 0..kw {
                                        let iy = (oy * g.stride[0] + i * g.dilation[0]) as isize
                                            - g.padding[0] as isize;
                                        let ix = (ox * g.stride[1] + j * g.dilation[1]) as isize
                                            - g.padding[1] as isize;
                                        if iy >= 0
                                            && ix >= 0
                                            && (iy as usize) < g.h
                                            && (ix as usize) < g.w
                                        {
                                            let xi = ((b * g.c_in + c) * g.h + iy as usize) * g.w
                                                + ix as usize;
                                            let wi = ((o * g.c_in + c) * kh + i) * kw + j;
                                            dw_ref[wi] += x[xi] * ro;
                                            dx_ref[xi] += w[wi] * ro;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let (dw, db) = weight_grad(&g, &x, &r);
            close(&dw, &dw_ref);
            close(&db, &db_ref);
            close(&input_grad(&g, &w, &r), &dx_ref);
        }
    }
}
