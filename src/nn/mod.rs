//! Layers shared by the models that Burn does not provide with PyTorch's exact semantics.

mod batch_norm;
mod conv;
pub mod cpu;
mod double_conv;
pub mod profile;
mod resize;

pub use batch_norm::{BatchNorm2d, BatchNorm2dConfig};
pub use conv::{conv_bn_relu, conv_transpose2x2, conv2d, conv2d_relu, conv2d_with};
pub use cpu::kernels::resize::taps;
#[cfg(feature = "flex")]
pub use cpu::{BatchNormOutput, CpuOps};
pub use cpu::{OnFlex, cpu_kernels, on_cpu, on_flex, set_cpu_kernels};
pub use double_conv::{DoubleConv, DoubleConvConfig};
pub use resize::{interpolation_matrix, resize_bilinear};
