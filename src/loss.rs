//! Training losses: BCE-with-logits, soft Dice, their weighted sum, and the deep-supervision
//! mean over heads.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;

/// Smoothing term of the soft Dice loss, as in the report.
pub const DICE_EPS: f64 = 1e-6;

/// Mean binary cross-entropy on logits, as PyTorch's `BCEWithLogitsLoss`.
///
/// Written as `max(x, 0) - x·t + log(1 + exp(-|x|))`, which never evaluates `exp` of a
/// large positive number, so logits of ±1000 give finite losses and gradients.
///
/// # Shapes
/// - logits, target: the same shape, target in [0, 1]
/// - output: `[1]`
pub fn bce_with_logits<const D: usize>(logits: Tensor<D>, target: Tensor<D>) -> Tensor<1> {
    let softplus_neg_abs = logits.clone().abs().neg().exp().log1p();
    (logits.clone().clamp_min(0.0) - logits * target + softplus_neg_abs).mean()
}

/// Soft Dice loss on sigmoid probabilities over the whole flattened batch:
/// `1 - (2·Σpt + ε) / (Σp + Σt + ε)`.
///
/// # Shapes
/// - logits, target: the same shape
/// - output: `[1]`
pub fn dice_loss<const D: usize>(logits: Tensor<D>, target: Tensor<D>) -> Tensor<1> {
    let p = sigmoid(logits);
    let intersection = (p.clone() * target.clone()).sum();
    let total = p.sum() + target.sum();
    intersection
        .mul_scalar(2.0)
        .add_scalar(DICE_EPS)
        .div(total.add_scalar(DICE_EPS))
        .neg()
        .add_scalar(1.0)
}

/// Which loss a training run minimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LossKind {
    /// BCE-with-logits alone (the report's choice for U-Net and PSPNet).
    Bce,
    /// Weighted Dice + BCE (the report's choice for U-Net++).
    Combined {
        /// Weight of the Dice loss (0.2 in the report).
        dice: f64,
        /// Weight of the BCE loss (0.8 in the report).
        bce: f64,
    },
}

impl LossKind {
    /// The report's combined loss: 0.2 Dice + 0.8 BCE.
    pub const REPORT_COMBINED: LossKind = LossKind::Combined {
        dice: 0.2,
        bce: 0.8,
    };

    /// The loss of one output head.
    ///
    /// # Shapes
    /// - logits, target: `[batch, 1, height, width]`
    /// - output: `[1]`
    pub fn head_loss(&self, logits: Tensor<4>, target: Tensor<4>) -> Tensor<1> {
        match *self {
            LossKind::Bce => bce_with_logits(logits, target),
            LossKind::Combined { dice, bce } => {
                dice_loss(logits.clone(), target.clone()).mul_scalar(dice)
                    + bce_with_logits(logits, target).mul_scalar(bce)
            }
        }
    }

    /// The loss of a model's output: the mean over heads (deep supervision), which for one head
    /// is that head's loss.
    ///
    /// # Shapes
    /// - heads: each `[batch, 1, height, width]`
    /// - target: `[batch, 1, height, width]`
    /// - output: `[1]`
    pub fn loss(&self, heads: Vec<Tensor<4>>, target: Tensor<4>) -> Tensor<1> {
        let n = heads.len() as f64;
        heads
            .into_iter()
            .map(|h| self.head_loss(h, target.clone()))
            .reduce(|a, b| a + b)
            .expect("a model has at least one head")
            .div_scalar(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(values: &[f32]) -> Tensor<1> {
        Tensor::from_floats(values, &Device::flex())
    }

    fn scalar(x: Tensor<1>) -> f64 {
        x.into_scalar::<f32>() as f64
    }

    #[test]
    fn bce_matches_the_textbook_formula() {
        let x = [-2.0f32, -0.5, 0.0, 0.3, 4.0];
        let y = [0.0f32, 1.0, 1.0, 0.0, 1.0];
        let expected: f64 = x
            .iter()
            .zip(&y)
            .map(|(&x, &y)| {
                let p = 1.0 / (1.0 + (-x as f64).exp());
                -(y as f64 * p.ln() + (1.0 - y as f64) * (1.0 - p).ln())
            })
            .sum::<f64>()
            / 5.0;
        assert!((scalar(bce_with_logits(t(&x), t(&y))) - expected).abs() < 1e-6);
    }

    #[test]
    fn bce_is_finite_and_exact_for_huge_logits() {
        // Confidently right costs nothing, confidently wrong costs |x|.
        let loss = scalar(bce_with_logits(
            t(&[1000.0, -1000.0, 1000.0]),
            t(&[1.0, 0.0, 0.0]),
        ));
        assert!((loss - 1000.0 / 3.0).abs() < 1e-3, "{loss}");
        let device = Device::flex().autodiff();
        let x = Tensor::<1>::from_floats([1000.0, -1000.0], &device).require_grad();
        let y = Tensor::<1>::from_floats([0.0, 0.0], &device);
        let g = x
            .grad(&bce_with_logits(x.clone(), y).backward())
            .unwrap()
            .into_data();
        let g = g.try_to_vec::<f32>().unwrap();
        assert!((g[0] - 0.5).abs() < 1e-6 && g[1].abs() < 1e-6, "{g:?}");
    }

    #[test]
    fn dice_is_zero_for_a_perfect_confident_prediction_and_near_one_for_disjoint() {
        let perfect = scalar(dice_loss(t(&[50.0, -50.0, 50.0]), t(&[1.0, 0.0, 1.0])));
        assert!(perfect.abs() < 1e-6, "{perfect}");
        let disjoint = scalar(dice_loss(t(&[-50.0, 50.0]), t(&[1.0, 0.0])));
        assert!((disjoint - 1.0).abs() < 1e-5, "{disjoint}");
        // All-empty target and prediction: eps/eps, no NaN.
        let empty = scalar(dice_loss(t(&[-80.0, -80.0]), t(&[0.0, 0.0])));
        assert!(empty.is_finite() && empty.abs() < 1e-3, "{empty}");
    }

    #[test]
    fn combined_weights_and_deep_supervision_mean() {
        let device = Device::flex();
        let a = Tensor::<4>::from_floats([[[[0.5, -1.0], [2.0, 0.1]]]], &device);
        let b = Tensor::<4>::from_floats([[[[-0.3, 1.0], [0.0, 3.0]]]], &device);
        let y = Tensor::<4>::from_floats([[[[1.0, 0.0], [1.0, 1.0]]]], &device);
        let la = 0.3 * scalar(dice_loss(a.clone(), y.clone()))
            + 0.7 * scalar(bce_with_logits(a.clone(), y.clone()));
        let lb = 0.3 * scalar(dice_loss(b.clone(), y.clone()))
            + 0.7 * scalar(bce_with_logits(b.clone(), y.clone()));
        let kind = LossKind::Combined {
            dice: 0.3,
            bce: 0.7,
        };
        assert!((scalar(kind.head_loss(a.clone(), y.clone())) - la).abs() < 1e-6);
        assert!((scalar(kind.loss(vec![a, b], y)) - (la + lb) / 2.0).abs() < 1e-6);
    }
}
