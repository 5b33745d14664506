//! Native wgpu against Flex, on the adapter wgpu picks: on a machine without a GPU, Debian's
//! software Vulkan driver (lavapipe, which `pkg-scripts/setup --vulkan` installs). Built with
//! `--features wgpu`, as `pkg-scripts/test` builds every test.
#![cfg(feature = "wgpu")]

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::module::Module;
use burn::prelude::*;
use lesionlab::backend::{self, Backend};
use lesionlab::data::{Dataset, dir_sources, load_pairs, split_by_id};
use lesionlab::train::{Flow, OptimizerConfig, Progress, TrainConfig, Trainer};
use lesionlab::{Architecture, Model, ModelConfig, Preset, weights};

/// The largest difference allowed between a training step's loss on wgpu and on Flex: the two
/// sum in different orders in float32, and three Adam steps carry the difference on.
const LOSS_TOLERANCE: f64 = 2e-3;

/// The most pixels of the 256x256 fixture photo's mask (65 536) allowed to differ between the
/// two backends: those whose probability sits within rounding of the threshold.
const MASK_TOLERANCE: usize = 200;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/isic-fixture")
}

fn wgpu() -> Device {
    backend::device(Backend::Wgpu, 0).expect("a wgpu adapter (pkg-scripts/setup --vulkan)")
}

fn pairs() -> (Dataset, Dataset) {
    let mut sources = dir_sources(&fixture()).unwrap();
    let (samples, _) = load_pairs(&mut sources, 64, |_, _| {}).unwrap();
    split_by_id(samples, 0.25, 1)
}

/// The web-width model of `arch` with weights drawn once on Flex, loaded onto `device`.
fn model(arch: Architecture, bytes: &[u8], device: &Device) -> Model {
    weights::load(bytes.to_vec(), arch, "drawn", device).unwrap()
}

fn drawn(arch: Architecture) -> Vec<u8> {
    let cpu = Device::flex();
    cpu.seed(11);
    weights::save(&Model::init(arch, Preset::Web, &cpu)).unwrap()
}

/// The losses of the first `steps` steps of a run on `devices` (the first the run's own).
fn losses(arch: Architecture, bytes: &[u8], devices: &[Device], steps: usize) -> Vec<f64> {
    let (train, _) = pairs();
    let device = devices[0].clone().autodiff();
    let config = TrainConfig::new(ModelConfig::new(arch))
        .with_epochs(1)
        .with_size(64)
        .with_batch_size(2)
        .with_optimizer(OptimizerConfig::new().with_learning_rate(1e-3))
        .with_augmentation(None);
    let mut trainer = Trainer::new(model(arch, bytes, &device), config, &device).unwrap();
    if devices.len() > 1 {
        trainer.spread_over(devices).unwrap();
    }
    let mut out = Vec::new();
    let epoch = pollster::block_on(trainer.train_epoch(&train, &Dataset::default(), &mut |p| {
        if let Progress::Step { loss, .. } = p {
            out.push(*loss);
        }
        if out.len() == steps {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }));
    epoch.unwrap();
    out
}

fn assert_close(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    println!("{what}: {a:?} against {b:?}, largest difference {worst:.2e}");
    assert!(
        worst <= LOSS_TOLERANCE && a.iter().all(|v| v.is_finite()),
        "{what}: {a:?} against {b:?}"
    );
}

#[test]
fn training_steps_on_wgpu_give_flex_losses_for_every_model() {
    for arch in Architecture::ALL {
        let bytes = drawn(arch);
        let flex = losses(arch, &bytes, &[Device::flex()], 3);
        let gpu = losses(arch, &bytes, &[wgpu()], 3);
        assert_close(arch.name(), &gpu, &flex);
    }
}

#[test]
fn a_batch_spread_over_flex_and_wgpu_trains_as_on_flex_alone() {
    // Two shares on one device take the same arithmetic as one share on each of two devices:
    // the difference is the gradients' trip from wgpu to Flex.
    let arch = Architecture::UNet;
    let bytes = drawn(arch);
    let one_device = losses(arch, &bytes, &[Device::flex(), Device::flex()], 3);
    let two_devices = losses(arch, &bytes, &[Device::flex(), wgpu()], 3);
    assert_close("flex + wgpu", &two_devices, &one_device);
    assert!(
        two_devices[2] < two_devices[0],
        "the loss falls: {two_devices:?}"
    );
}

#[test]
fn segment_on_wgpu_writes_the_mask_flex_writes() {
    let dir = tempfile::tempdir().unwrap();
    let photo = fixture().join("ISIC2018_Task1-2_Training_Input/ISIC_0000122.jpg");
    let mask = |backend: &str| {
        let out = dir.path().join(backend);
        let run = Command::new(env!("CARGO_BIN_EXE_lesionlab"))
            .args([
                "segment",
                "--model",
                "unetpp",
                "--backend",
                backend,
                "--out",
            ])
            .arg(&out)
            .arg(&photo)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        image::open(out.join("ISIC_0000122_segmentation.png"))
            .unwrap()
            .to_luma8()
    };
    let (cpu, gpu) = (mask("cpu"), mask("wgpu"));
    assert_eq!(cpu.dimensions(), gpu.dimensions());
    let lesion = cpu.pixels().filter(|p| p[0] > 0).count();
    let differ = cpu
        .pixels()
        .zip(gpu.pixels())
        .filter(|(a, b)| a != b)
        .count();
    println!("{differ} of {} pixels differ; lesion {lesion}", cpu.len());
    assert!(
        lesion > 1000,
        "the shipped model finds the lesion ({lesion} pixels)"
    );
    assert!(differ <= MASK_TOLERANCE, "{differ} pixels differ");
}

#[test]
fn a_checkpoint_from_flex_resumes_on_wgpu_with_adams_state() {
    let arch = Architecture::UNet;
    let bytes = drawn(arch);
    let (train, _) = pairs();
    let device = Device::flex().autodiff();
    let config = TrainConfig::new(ModelConfig::new(arch))
        .with_epochs(2)
        .with_size(64)
        .with_batch_size(2)
        .with_augmentation(None);
    let mut trainer = Trainer::new(model(arch, &bytes, &device), config, &device).unwrap();
    pollster::block_on(trainer.train_epoch(&train, &Dataset::default(), &mut |_| Flow::Continue))
        .unwrap();
    let checkpoint = trainer.checkpoint().unwrap();
    let next_loss = |device: &Device| {
        let mut resumed = Trainer::resume(&checkpoint, "flex", &device.clone().autodiff()).unwrap();
        let on: Vec<Device> = resumed
            .model()
            .devices()
            .into_iter()
            .map(|d| d.without_autodiff())
            .collect();
        assert_eq!(
            on,
            std::slice::from_ref(device),
            "the resumed model is on the device asked for"
        );
        let mut epoch = resumed.begin_epoch(&train).unwrap();
        // The second step's loss follows the first step's update, which Adam's restored
        // moments shape.
        pollster::block_on(resumed.step(&mut epoch, &train)).unwrap();
        pollster::block_on(resumed.step(&mut epoch, &train)).unwrap()
    };
    let (on_flex, on_wgpu) = (next_loss(&Device::flex()), next_loss(&wgpu()));
    assert_close("resumed", &[on_wgpu], &[on_flex]);
}
