//! Layers shared by the models that Burn does not provide with PyTorch's exact semantics.

mod batch_norm;
pub mod batch_norm_cpu;
mod conv;
pub mod conv_cpu;
pub mod conv_transpose_cpu;
mod cpu_ops;
mod double_conv;
mod resize;
pub mod resize_cpu;

pub use batch_norm::{BatchNorm2d, BatchNorm2dConfig};
pub use conv::{conv_bn_relu, conv_transpose2x2, conv2d, conv2d_relu, conv2d_with};
pub use cpu_ops::{BatchNormOutput, CpuOps, cpu_kernels, on_cpu, set_cpu_kernels};
pub use double_conv::{DoubleConv, DoubleConvConfig};
pub use resize::{interpolation_matrix, resize_bilinear, taps};
