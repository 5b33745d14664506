//! Named points in a forward pass where an activation can be read or replaced: what PyTorch's
//! forward hooks give the report's CAM code, which Burn does not have.

use burn::prelude::*;

/// Intercepts the activation of one named layer, or records every layer's.
pub struct Tap<'a> {
    target: Target<'a>,
    hit: bool,
}

enum Target<'a> {
    One {
        layer: &'a str,
        intercept: &'a mut dyn FnMut(Tensor<4>) -> Tensor<4>,
    },
    Every(&'a mut Vec<(String, Tensor<4>)>),
}

impl<'a> Tap<'a> {
    /// A tap on `layer`. The closure receives the activation and returns the tensor the rest of
    /// the forward pass continues with: the same one to read it, or
    /// `a.detach().require_grad()` to make it a tracked leaf for Grad-CAM.
    pub fn new(layer: &'a str, intercept: &'a mut dyn FnMut(Tensor<4>) -> Tensor<4>) -> Self {
        Self {
            target: Target::One { layer, intercept },
            hit: false,
        }
    }

    /// A tap that keeps every layer's activation, in the order the forward pass computes them:
    /// one pass then serves CAM and the mean activation at any layer.
    pub fn every(out: &'a mut Vec<(String, Tensor<4>)>) -> Self {
        Self {
            target: Target::Every(out),
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
    let Some(t) = tap else { return x };
    match &mut t.target {
        Target::One { layer, intercept } if *layer == name => {
            t.hit = true;
            intercept(x)
        }
        Target::Every(out) => {
            t.hit = true;
            out.push((name.to_string(), x.clone()));
            x
        }
        Target::One { .. } => x,
    }
}
