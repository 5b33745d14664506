//! One forward pass with every layer's activation kept ([`super::Tap::every`]), so that CAM,
//! the mean activation and the layer explorer at any computed layer need no second pass.

use burn::prelude::*;

use super::{InferenceMode, Model, Tap};

/// One forward pass's output logits and every computed layer's activation.
#[derive(Clone)]
pub struct Recorded {
    /// The mode the pass ran in.
    pub mode: InferenceMode,
    /// The model's output logits, `[1, 1, size, size]`.
    pub output: Tensor<4>,
    /// Each computed layer's activation, in the order of the forward pass.
    pub layers: Vec<(String, Tensor<4>)>,
}

impl Recorded {
    /// The activation of `layer`, if the pass computed it.
    pub fn layer(&self, layer: &str) -> Option<Tensor<4>> {
        self.layers
            .iter()
            .find(|(name, _)| name == layer)
            .map(|(_, a)| a.clone())
    }
}

impl Model {
    /// Runs the model (its inference form) on `input` in `mode`, keeping every layer's
    /// activation.
    ///
    /// # Shapes
    /// - input: `[1, 3, size, size]`
    pub fn record(&self, input: Tensor<4>, mode: InferenceMode) -> Recorded {
        let mut layers = Vec::new();
        let mut tap = Tap::every(&mut layers);
        let output = self.predict_tapped(input, mode, Some(&mut tap));
        Recorded {
            mode,
            output,
            layers,
        }
    }
}
