//! Wall time per kind of operation, for `lesionlab bench --profile`: LesionLab's own kernels
//! report into it while a profile is recording; nothing is measured otherwise (one relaxed
//! atomic load per operation). Native only: the browser has no monotonic clock in std.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The operation kinds the kernels report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Convolution forward (with its bias and fused ReLU).
    ConvForward,
    /// Convolution input gradient.
    ConvInputGrad,
    /// Convolution weight and bias gradients.
    ConvWeightGrad,
    /// Batch norm forward (training mode, with its fused ReLU).
    BatchNormForward,
    /// Batch norm backward.
    BatchNormBackward,
    /// Bilinear resize, forward and backward.
    Resize,
    /// U-Net's 2x2 transposed convolutions, forward and backward.
    ConvTranspose,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 7] = [
        Kind::ConvForward,
        Kind::ConvInputGrad,
        Kind::ConvWeightGrad,
        Kind::BatchNormForward,
        Kind::BatchNormBackward,
        Kind::Resize,
        Kind::ConvTranspose,
    ];

    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::ConvForward => "convolution forward",
            Kind::ConvInputGrad => "convolution input gradient",
            Kind::ConvWeightGrad => "convolution weight gradient",
            Kind::BatchNormForward => "batch norm forward",
            Kind::BatchNormBackward => "batch norm backward",
            Kind::Resize => "bilinear resize (forward and backward)",
            Kind::ConvTranspose => "transposed convolution (forward and backward)",
        }
    }
}

static RECORDING: AtomicBool = AtomicBool::new(false);
static NANOS: [AtomicU64; Kind::ALL.len()] = [const { AtomicU64::new(0) }; Kind::ALL.len()];

/// Measures until dropped (when a profile is recording).
pub struct Timer {
    #[cfg(not(target_family = "wasm"))]
    started: Option<(Kind, std::time::Instant)>,
}

impl Drop for Timer {
    fn drop(&mut self) {
        #[cfg(not(target_family = "wasm"))]
        if let Some((kind, started)) = self.started {
            NANOS[kind as usize].fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
    }
}

/// Starts timing one operation of `kind`.
pub fn time(kind: Kind) -> Timer {
    #[cfg(not(target_family = "wasm"))]
    {
        let on = RECORDING.load(Ordering::Relaxed);
        Timer {
            started: on.then(|| (kind, std::time::Instant::now())),
        }
    }
    #[cfg(target_family = "wasm")]
    {
        let _ = kind;
        Timer {}
    }
}

/// Clears the totals and starts (or stops) recording.
pub fn record(on: bool) {
    NANOS.iter().for_each(|n| n.store(0, Ordering::Relaxed));
    RECORDING.store(on, Ordering::Relaxed);
}

/// Milliseconds per kind since [`record`] was turned on.
pub fn totals() -> Vec<(Kind, f64)> {
    Kind::ALL
        .iter()
        .map(|&k| (k, NANOS[k as usize].load(Ordering::Relaxed) as f64 / 1e6))
        .collect()
}
