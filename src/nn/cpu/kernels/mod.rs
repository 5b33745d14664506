//! LesionLab's CPU kernels on plain slices of values, forward and backward, generic over
//! `f32` and `f64` ([`conv::Real`]): no tensor type and no backend here, so each kernel is
//! tested against a direct formula on its own.

pub mod batch_norm;
pub mod conv;
pub mod conv_transpose;
pub mod parallel;
pub mod resize;
