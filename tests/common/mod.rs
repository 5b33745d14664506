#![allow(dead_code)]
//! Shared helpers of the parity tests against the PyTorch reference in `tests/data/golden` (copied from `shared/golden`, made
//! by its `make_golden.py`): eval and train-mode logits, losses, gradients of the combined loss,
//! and every tensor after one Adam step.

use std::collections::HashMap;
use std::path::PathBuf;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::{FloatDType, Gradients};
use lesionlab::loss::LossKind;
use lesionlab::{Architecture, Model, weights};
use safetensors::SafeTensors;

pub fn golden(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// All float32 tensors of a safetensors file, as (shape, values).
pub fn read_all(bytes: &[u8]) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    st.tensors()
        .into_iter()
        .filter_map(|(k, v)| {
            let values = match v.dtype() {
                safetensors::Dtype::F32 => v
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                safetensors::Dtype::F64 => v
                    .data()
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
                    .collect(),
                _ => return None,
            };
            Some((k, (v.shape().to_vec(), values)))
        })
        .collect()
}

pub fn tensor(entry: &(Vec<usize>, Vec<f32>), device: &Device) -> Tensor<4> {
    let (shape, values) = entry;
    Tensor::from_data(TensorData::new(values.clone(), shape.clone()), device)
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length differs");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

pub fn max_abs(values: &[f32]) -> f32 {
    values.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// Relative error of a tensor, by its largest element.
pub fn relative_error(ours: &[f32], reference: &[f32]) -> f32 {
    max_abs_diff(ours, reference) / max_abs(reference).max(f32::MIN_POSITIVE)
}

/// `‖ours − reference‖₂ / ‖reference‖₂`, the usual relative error of a tensor.
pub fn l2_relative_error(ours: &[f32], reference: &[f32]) -> f32 {
    let diff: f64 = ours
        .iter()
        .zip(reference)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum();
    let norm: f64 = reference.iter().map(|b| (*b as f64).powi(2)).sum();
    (diff / norm).sqrt() as f32
}

/// Gradients below this everywhere are zero up to float32 rounding: a convolution bias right
/// before training-mode batch norm has a true gradient of exactly 0, which both frameworks
/// compute as noise of about 1e-8.
pub const ZERO_GRADIENT: f32 = 1e-6;

/// Adam's first step is `lr · g / (|g| + 1e-8)`, about `±lr` wherever the gradient is well
/// above 1e-8. Where the gradient is float32 noise (a convolution bias right before batch norm
/// has a true gradient of 0, computed as ±1e-8 by both frameworks) the step is a coin toss of
/// size up to `lr`; where it is small but real, its size depends on gradient digits that float32
/// does not fix. So: steps whose gradient stands above both 1e-6 (step within 1% of ±lr) and
/// 1e-3 of the tensor's largest gradient must agree to `tolerance · lr`; every step is at most
/// `lr`.
pub fn check_adam_step(
    model: &str,
    key: &str,
    before: &[f32],
    grad: &[f32],
    ours: &[f32],
    reference: &[f32],
    tolerance: Option<f32>,
) {
    const LR: f32 = 1e-3;
    let determined = (1e-3 * max_abs(grad)).max(1e-6);
    for i in 0..ours.len() {
        let step = (ours[i] - before[i]).abs();
        assert!(
            step <= LR * 1.001,
            "{model} {key}[{i}]: step {step:e} exceeds the learning rate"
        );
        if let Some(tolerance) = tolerance.filter(|_| grad[i].abs() > determined) {
            let err = (ours[i] - reference[i]).abs();
            assert!(
                err < tolerance * LR,
                "{model} {key}[{i}] after one Adam step: {} vs {} (grad {:e})",
                ours[i],
                reference[i],
                grad[i]
            );
        }
    }
}

pub struct Golden {
    pub name: &'static str,
    pub arch: Architecture,
    pub heads: usize,
}

pub const MODELS: [Golden; 4] = [
    Golden {
        name: "unet",
        arch: Architecture::UNet,
        heads: 1,
    },
    Golden {
        name: "nestedunet",
        arch: Architecture::UNetPlusPlus,
        heads: 1,
    },
    Golden {
        name: "nestedunet_ds",
        arch: Architecture::UNetPlusPlus,
        heads: 4,
    },
    Golden {
        name: "pspnet",
        arch: Architecture::PspNet,
        heads: 1,
    },
];

pub fn head_suffixes(heads: usize) -> Vec<String> {
    if heads == 1 {
        vec![String::new()]
    } else {
        (1..=heads).map(|i| format!("_h{i}")).collect()
    }
}

pub fn manifest(name: &str) -> serde_json::Value {
    let all: serde_json::Value = serde_json::from_slice(&golden("manifest.json")).unwrap();
    all["models"][name].clone()
}

pub fn load(g: &Golden, device: &Device) -> Model {
    weights::load(
        golden(&format!("{}.safetensors", g.name)),
        g.arch,
        g.name,
        device,
    )
    .unwrap()
}

/// Gradients of every parameter by Burn module path.
pub struct GradCollector<'a> {
    grads: &'a Gradients,
    path: Vec<String>,
    found: HashMap<String, Vec<f32>>,
}

impl ModuleVisitor for GradCollector<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = param.val().grad(self.grads) {
            self.found.insert(self.path.join("."), values(g));
        }
    }
}

pub fn visit_inner<V: ModuleVisitor>(model: &Model, v: &mut V) {
    match model {
        Model::UNet(m) => m.visit(v),
        Model::NestedUNet(m) => m.visit(v),
        Model::PspNet(m) => m.visit(v),
    }
}

/// Tolerances of one training-step parity run.
pub struct StepTolerance {
    /// Relative L2 error of each parameter's gradient.
    pub gradient: f32,
    /// Largest difference after the Adam step, as a fraction of the learning rate, for the
    /// parameters whose step the gradient determines; `None` checks only that no step exceeds
    /// the learning rate (in float32, gradients of 1e-6 can differ in sign from PyTorch's, which
    /// flips their Adam step).
    pub adam_step: Option<f32>,
}

/// Casts every parameter and buffer to float64, keeping which ones require gradients.
pub struct ToF64;

impl ModuleMapper for ToF64 {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| {
            let grad = t.is_require_grad();
            t.cast(FloatDType::F64).detach().set_require_grad(grad)
        })
    }
}

pub fn train_step_parity(device: &Device, float64: bool, tol: StepTolerance) {
    let inputs = read_all(&golden("inputs.safetensors"));
    for g in &MODELS {
        let mut model = load(g, device);
        if float64 {
            model = model.map(&mut ToF64);
        }
        let outputs = read_all(&golden(&format!("{}_out.safetensors", g.name)));
        let heads = model.forward_heads(tensor(&inputs["x_rect"], device));
        for (head, sfx) in heads.iter().zip(head_suffixes(g.heads)) {
            let err = max_abs_diff(
                &values(head.clone()),
                &outputs[&format!("logits_rect_train{sfx}")].1,
            );
            assert!(
                err < 1e-4,
                "{} train logits{sfx}: max abs error {err}",
                g.name
            );
        }
        let loss = LossKind::REPORT_COMBINED.loss(heads, tensor(&inputs["target_rect"], device));
        let ours = loss.clone().into_scalar::<f64>();
        let theirs = manifest(g.name)["train_step_loss"].as_f64().unwrap();
        assert!(
            (ours - theirs).abs() < 1e-5,
            "{} train loss: {ours} vs {theirs}",
            g.name
        );

        let grads = loss.backward();
        let mut collector = GradCollector {
            grads: &grads,
            path: vec![],
            found: HashMap::new(),
        };
        visit_inner(&model, &mut collector);
        let expected = outputs.keys().filter(|k| k.starts_with("grad.")).count();
        assert_eq!(
            collector.found.len(),
            expected,
            "{}: number of parameter gradients",
            g.name
        );
        let mut worst = 0.0f32;
        for (path, grad) in &collector.found {
            let key = format!("grad.{}", weights::torch_key(&model, path));
            let reference = &outputs
                .get(&key)
                .unwrap_or_else(|| panic!("{}: no reference {key}", g.name))
                .1;
            if max_abs(reference) < ZERO_GRADIENT {
                assert!(
                    max_abs(grad) < ZERO_GRADIENT,
                    "{} {key}: reference is zero, ours {:e}",
                    g.name,
                    max_abs(grad)
                );
                continue;
            }
            let err = l2_relative_error(grad, reference);
            worst = worst.max(err);
            assert!(err < tol.gradient, "{} {key}: relative error {err}", g.name);
        }
        eprintln!(
            "{} (float64: {float64}): worst gradient relative error {worst:e}",
            g.name
        );

        let mut adam = AdamConfig::new().with_epsilon(1e-8).init();
        let grads = GradientsParams::from_grads(grads, &model);
        let model = adam.step(1e-3, model, grads);
        let after = read_all(&weights::save(&model).unwrap());
        let before = read_all(&golden(&format!("{}.safetensors", g.name)));
        let mut compared = 0;
        for (key, (_, reference)) in outputs
            .iter()
            .filter(|(k, _)| k.starts_with("after_adam_step."))
        {
            let torch_key = key.trim_start_matches("after_adam_step.");
            let ours = &after
                .get(torch_key)
                .unwrap_or_else(|| panic!("{}: saved file lacks {torch_key}", g.name))
                .1;
            match outputs.get(&format!("grad.{torch_key}")) {
                // Batch-norm running statistics: a momentum update of the batch statistics.
                None => {
                    let err = relative_error(ours, reference);
                    assert!(
                        err < 1e-5,
                        "{} {torch_key} after one step: relative error {err}",
                        g.name
                    );
                }
                Some((_, grad)) => check_adam_step(
                    g.name,
                    torch_key,
                    &before[torch_key].1,
                    grad,
                    ours,
                    reference,
                    tol.adam_step,
                ),
            }
            compared += 1;
        }
        assert_eq!(
            compared,
            after.len(),
            "{}: every saved tensor has a reference",
            g.name
        );
    }
}
