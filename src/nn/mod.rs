//! Layers shared by the models that Burn does not provide with PyTorch's exact semantics.

mod batch_norm;
mod double_conv;
mod resize;

pub use batch_norm::{BatchNorm2d, BatchNorm2dConfig};
pub use double_conv::{DoubleConv, DoubleConvConfig};
pub use resize::{interpolation_matrix, resize_bilinear};
