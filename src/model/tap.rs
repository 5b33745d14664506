//! Named points in a forward pass where an activation can be read or replaced: what PyTorch's
//! forward hooks give the report's CAM code, which Burn does not have.

use burn::prelude::*;

/// Intercepts the activation of one named layer. The closure receives the activation and
/// returns the tensor the rest of the forward pass continues with: the same one to read it,
/// or `a.detach().require_grad()` to make it a tracked leaf for Grad-CAM.
pub struct Tap<'a> {
    layer: &'a str,
    intercept: &'a mut dyn FnMut(Tensor<4>) -> Tensor<4>,
    hit: bool,
}

impl<'a> Tap<'a> {
    /// A tap on `layer`.
    pub fn new(layer: &'a str, intercept: &'a mut dyn FnMut(Tensor<4>) -> Tensor<4>) -> Self {
        Self {
            layer,
            intercept,
            hit: false,
        }
    }

    /// Whether the forward pass went through the layer.
    pub fn hit(&self) -> bool {
        self.hit
    }
}

/// Passes `x` through the tap if it is on `name`; a no-op without a tap.
pub(crate) fn tap(tap: &mut Option<&mut Tap<'_>>, name: &str, x: Tensor<4>) -> Tensor<4> {
    match tap {
        Some(t) if t.layer == name => {
            t.hit = true;
            (t.intercept)(x)
        }
        _ => x,
    }
}
