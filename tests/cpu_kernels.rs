//! LesionLab's CPU kernels against Burn's own operations on the same models: the evaluation
//! forward (batch norm folded into the convolutions) gives the unfolded model's logits, and a
//! training step gives the same loss and gradients. One test, because switching kernels is
//! process-wide.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::Distribution;
use lesionlab::loss::LossKind;
use lesionlab::nn::set_cpu_kernels;
use lesionlab::{Architecture, InferenceMode, Model, weights};

fn shipped(arch: Architecture, device: &Device) -> Model {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("weights")
        .join(format!("{}.safetensors", arch.name()));
    weights::load(
        std::fs::read(&path).unwrap(),
        arch,
        &path.display().to_string(),
        device,
    )
    .unwrap()
}

fn max_abs(a: Tensor<4>, b: Tensor<4>) -> f32 {
    (a - b).abs().max().into_scalar()
}

/// Every parameter gradient of a model, flattened in visiting order.
struct Grads<'a> {
    grads: &'a burn::optim::GradientsParams,
    out: Vec<Vec<f32>>,
}

impl ModuleVisitor for Grads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.out.push(g.into_data().try_to_vec::<f32>().unwrap());
        }
    }
}

fn train_step(arch: Architecture, x: &Tensor<4>, y: &Tensor<4>) -> (f32, Vec<Vec<f32>>) {
    let device = Device::flex().autodiff();
    let model = shipped(arch, &device);
    let loss = LossKind::REPORT_COMBINED.loss(
        model.forward_heads(x.clone().to_device(&device)),
        y.clone().to_device(&device),
    );
    let value = loss.clone().into_scalar();
    let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
    let mut visitor = Grads {
        grads: &grads,
        out: Vec::new(),
    };
    model.visit(&mut visitor);
    (value, visitor.out)
}

#[test]
fn kernels_match_burns_operations_on_the_shipped_models() {
    let device = Device::flex();
    device.seed(11);
    let x = Tensor::<4>::random([2, 3, 96, 128], Distribution::Normal(0.0, 1.0), &device);
    let y = Tensor::<4>::random([2, 1, 96, 128], Distribution::Uniform(0.0, 1.0), &device).round();
    for arch in Architecture::ALL {
        let model = shipped(arch, &device).valid();
        set_cpu_kernels(true);
        let folded = model.predict(x.clone(), InferenceMode::MeanOfHeads);
        let (loss, grads) = train_step(arch, &x, &y);
        set_cpu_kernels(false);
        let reference = model.predict(x.clone(), InferenceMode::MeanOfHeads);
        let (reference_loss, reference_grads) = train_step(arch, &x, &y);
        set_cpu_kernels(true);

        let diff = max_abs(folded, reference);
        assert!(diff < 1e-4, "{arch}: folded logits differ by {diff}");
        assert!(
            (loss - reference_loss).abs() < 1e-5,
            "{arch}: loss {loss} vs {reference_loss}"
        );
        assert_eq!(grads.len(), reference_grads.len());
        // Both sides are f32 sums in different orders through a deep network, where a rounding
        // can flip a ReLU or a max-pool winner: each gradient agrees to 2% of its norm (biases
        // ahead of a batch norm are ~1e-8 noise on both sides, hence the absolute floor), and
        // all of them together to 0.2%.
        let (mut total_err, mut total_norm) = (0.0f32, 0.0f32);
        for (i, (g, r)) in grads.iter().zip(&reference_grads).enumerate() {
            let norm = r.iter().map(|v| v * v).sum::<f32>();
            let err = g.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum::<f32>();
            (total_err, total_norm) = (total_err + err, total_norm + norm);
            let (err, norm) = (err.sqrt(), norm.sqrt());
            assert!(
                err <= 2e-2 * norm + 1e-6,
                "{arch}: gradient {i} differs by {err} (norm {norm})"
            );
        }
        let (err, norm) = (total_err.sqrt(), total_norm.sqrt());
        assert!(
            err <= 2e-3 * norm,
            "{arch}: all gradients differ by {err} (norm {norm})"
        );
    }
}
