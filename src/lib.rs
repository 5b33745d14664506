//! LesionLab: skin-lesion segmentation with U-Net, U-Net++ and PSPNet on Burn.
//!
//! One implementation of every model, loss and metric serves native and WebAssembly builds,
//! CPU (Flex) and GPU (wgpu/WebGPU): the device a model is built on decides where it runs.
//! One road from a photo to a mask, a heatmap or any teaching figure: [`session::Session`],
//! which the command line and the page's worker both drive.

pub mod backend;
pub mod clean;
pub mod data;
pub mod describe;
pub mod draw;
mod error;
pub mod explain;
pub mod features;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod nn;
pub mod page_rules;
pub mod photo_check;
pub mod predict;
pub mod rules;
pub mod session;
pub mod train;
pub mod uncertainty;
#[cfg(target_family = "wasm")]
pub mod web;
pub mod weights;

pub use error::{Error, ErrorKind};
pub use model::{Architecture, InferenceMode, Model, ModelConfig, Preset};
