//! Where the kernels split their work over threads: rayon natively and in the page's threaded
//! module (`threads` feature, a pool of Web Workers), one thread in the single-threaded module,
//! which must not link rayon (a page that is not cross-origin isolated has no shared memory).

/// Natively and in the threaded module: rayon.
#[cfg(any(not(target_family = "wasm"), feature = "threads"))]
mod imp {
    use rayon::prelude::*;

    /// Runs `work(item)` for every item.
    pub fn for_each<I: Send>(items: Vec<I>, work: impl Fn(I) + Send + Sync) {
        items.into_par_iter().for_each(work);
    }

    /// `[f(0), f(1), .., f(n - 1)]`.
    pub fn map<R: Send>(n: usize, f: impl Fn(usize) -> R + Send + Sync) -> Vec<R> {
        (0..n).into_par_iter().map(f).collect()
    }

    /// Runs `f(i, chunk)` for every `chunk`-sized piece of `data` (the last may be shorter).
    pub fn for_chunks<T: Send>(
        data: &mut [T],
        chunk: usize,
        f: impl Fn(usize, &mut [T]) + Send + Sync,
    ) {
        data.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    }

    /// Folds `items` with `step` from `zero()`; each thread folds its share and `merge`
    /// combines the partial results.
    pub fn fold<I: Send, A: Send>(
        items: Vec<I>,
        zero: impl Fn() -> A + Send + Sync,
        step: impl Fn(A, I) -> A + Send + Sync,
        merge: impl Fn(A, A) -> A + Send + Sync,
    ) -> A {
        items.into_par_iter().fold(&zero, step).reduce(&zero, merge)
    }

    /// The threads the kernels (and Flex's own) split work over.
    pub fn threads() -> usize {
        rayon::current_num_threads()
    }
}

/// The single-threaded module: the same functions on the calling thread alone.
#[cfg(not(any(not(target_family = "wasm"), feature = "threads")))]
mod imp {
    pub fn for_each<I: Send>(items: Vec<I>, work: impl Fn(I) + Send + Sync) {
        items.into_iter().for_each(work);
    }

    pub fn map<R: Send>(n: usize, f: impl Fn(usize) -> R + Send + Sync) -> Vec<R> {
        (0..n).map(f).collect()
    }

    pub fn for_chunks<T: Send>(
        data: &mut [T],
        chunk: usize,
        f: impl Fn(usize, &mut [T]) + Send + Sync,
    ) {
        data.chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    }

    pub fn fold<I: Send, A: Send>(
        items: Vec<I>,
        zero: impl Fn() -> A + Send + Sync,
        step: impl Fn(A, I) -> A + Send + Sync,
        _merge: impl Fn(A, A) -> A + Send + Sync,
    ) -> A {
        items.into_iter().fold(zero(), step)
    }

    pub fn threads() -> usize {
        1
    }
}

pub use imp::{fold, for_chunks, for_each, map, threads};
