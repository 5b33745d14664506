//! `lesionlab bench`: a table of median forward and training-step times.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use clap::Args;
use lesionlab::backend::Backend;
use lesionlab::loss::LossKind;
use lesionlab::nn::profile::{self, Kind};
use lesionlab::nn::{cpu_kernels, set_cpu_kernels};
use lesionlab::{Architecture, Error, InferenceMode, Model, Preset};

use super::common::BackendArgs;

/// Options of `lesionlab bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Models to time (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "unet,unetpp,pspnet")]
    models: Vec<Architecture>,
    /// Presets to time (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "web,paper")]
    presets: Vec<Preset>,
    /// Input height and width.
    #[arg(long, default_value_t = 256)]
    size: usize,
    /// Timed repetitions after one warm-up run; the median is reported.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Batch size of the training step.
    #[arg(long, default_value_t = 4)]
    train_batch: usize,
    /// Also print where the time goes: milliseconds per operation kind in one forward and one
    /// training step.
    #[arg(long)]
    profile: bool,
    /// Run on Burn's own CPU operations instead of LesionLab's kernels (the "before").
    #[arg(long)]
    reference: bool,
    /// Print JSON lines, one per model, preset and batch of `--batches`, with the forward and the
    /// training step at that batch (what `pkg-scripts/bench-peers` reads).
    #[arg(long)]
    json: bool,
    /// Batch sizes for `--json` (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,4,8")]
    batches: Vec<usize>,
    #[command(flatten)]
    on: BackendArgs,
}

fn median_ms(mut run: impl FnMut(), repeats: usize) -> f64 {
    run();
    let mut times: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn forward_ms(
    model: &Model,
    mode: InferenceMode,
    size: usize,
    repeats: usize,
    device: &Device,
) -> f64 {
    forward_batch_ms(model, mode, 1, size, repeats, device)
}

fn forward_batch_ms(
    model: &Model,
    mode: InferenceMode,
    batch: usize,
    size: usize,
    repeats: usize,
    device: &Device,
) -> f64 {
    let x = Tensor::<4>::random(
        [batch, 3, size, size],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    median_ms(
        || {
            let y = model.predict(x.clone(), mode);
            y.into_data();
        },
        repeats,
    )
}

/// A random training batch: normal images and 0/1 masks.
///
/// # Shapes
/// - returns: `[batch, 3, size, size]`, `[batch, 1, size, size]`
fn random_batch(batch: usize, size: usize, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let x = Tensor::<4>::random(
        [batch, 3, size, size],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let y = Tensor::<4>::random(
        [batch, 1, size, size],
        Distribution::Uniform(0.0, 1.0),
        device,
    );
    (x, y.round())
}

/// Median training step, and the median time of its optimiser update alone.
fn train_step_ms(
    arch: Architecture,
    preset: Preset,
    args: &BenchArgs,
    device: &Device,
) -> (f64, f64) {
    let device = device.clone().autodiff();
    let mut model = Some(Model::init(arch, preset, &device));
    let mut optim = AdamConfig::new().init();
    let s = args.size;
    let (x, y) = random_batch(args.train_batch, s, &device);
    let mut optimiser = Vec::new();
    let total = median_ms(
        || {
            let m = model.take().unwrap();
            let loss = LossKind::REPORT_COMBINED.loss(m.forward_heads(x.clone()), y.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            // Flex runs eagerly; a GPU queues the work, so the device is waited for.
            let start = Instant::now();
            model = Some(optim.step(1e-3, m, grads));
            let _ = device.sync();
            optimiser.push(start.elapsed().as_secs_f64() * 1e3);
        },
        args.repeats,
    );
    optimiser.sort_by(f64::total_cmp);
    (total, optimiser[optimiser.len() / 2])
}

/// Runs `step` once to warm up, then `repeats` times while the profile records: the mean
/// wall time per run and the mean time per operation kind.
fn profiled(repeats: usize, mut step: impl FnMut()) -> (f64, Vec<f64>) {
    step();
    profile::record(true);
    let start = Instant::now();
    for _ in 0..repeats {
        step();
    }
    let total = start.elapsed().as_secs_f64() * 1e3 / repeats as f64;
    let kinds = profile::totals()
        .iter()
        .map(|(_, ms)| ms / repeats as f64)
        .collect();
    profile::record(false);
    (total, kinds)
}

/// Milliseconds per operation kind in one forward (batch 1) and one training step (means over
/// the same runs as the total), and the rest: what LesionLab's operations do not cover.
fn profile(arch: Architecture, preset: Preset, args: &BenchArgs) {
    let repeats = args.repeats.max(1);
    let device = Device::flex();
    let model = Model::init(arch, preset, &device);
    let s = args.size;
    let x = Tensor::<4>::random([1, 3, s, s], Distribution::Normal(0.0, 1.0), &device);
    let (forward, forward_kinds) = profiled(repeats, || {
        model
            .predict(x.clone(), InferenceMode::MeanOfHeads)
            .into_data();
    });
    let device = device.autodiff();
    let mut model = Some(Model::init(arch, preset, &device));
    let mut optim = AdamConfig::new().init();
    let (x, y) = random_batch(args.train_batch, s, &device);
    let mut optimiser = 0.0;
    let (train, train_kinds) = profiled(repeats, || {
        let m = model.take().unwrap();
        let loss = LossKind::REPORT_COMBINED.loss(m.forward_heads(x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        let start = Instant::now();
        model = Some(optim.step(1e-3, m, grads));
        optimiser += start.elapsed().as_secs_f64() * 1e3;
    });
    // The warm-up step is in the optimiser's sum too.
    let optimiser = optimiser / (repeats + 1) as f64;
    println!();
    println!(
        "{} ({}), {}:",
        arch.display_name(),
        preset.name(),
        if cpu_kernels() {
            "LesionLab's kernels"
        } else {
            "Burn's kernels (reference)"
        }
    );
    println!();
    println!(
        "| operation | forward b1 (ms) | train step b{} (ms) |",
        args.train_batch
    );
    println!("|---|---:|---:|");
    for (i, kind) in Kind::ALL.iter().enumerate() {
        println!(
            "| {} | {:.1} | {:.1} |",
            kind.name(),
            forward_kinds[i],
            train_kinds[i]
        );
    }
    println!("| optimiser (Adam) | | {optimiser:.1} |");
    let rest_forward = forward - forward_kinds.iter().sum::<f64>();
    let rest_train = train - train_kinds.iter().sum::<f64>() - optimiser;
    println!(
        "| everything else{} | {rest_forward:.1} | {rest_train:.1} |",
        OTHER
    );
    println!("| **total** (mean) | **{forward:.1}** | **{train:.1}** |");
}

/// What the "everything else" row holds.
const OTHER: &str = ": pooling, concatenation, the loss, autodiff's bookkeeping (with `--reference` \
                     also the resize and U-Net's transposed convolutions)";

/// Prints the table.
pub fn run(args: BenchArgs) -> Result<(), Error> {
    if !args.size.is_multiple_of(16) {
        return Err(Error::BadArgument(format!(
            "--size must be a multiple of 16, got {}",
            args.size
        )));
    }
    set_cpu_kernels(!args.reference);
    let device = args.on.device()?;
    if args.json {
        for &preset in &args.presets {
            for &arch in &args.models {
                let model = Model::init(arch, preset, &device);
                for &batch in &args.batches {
                    let forward = forward_batch_ms(
                        &model,
                        InferenceMode::MeanOfHeads,
                        batch,
                        args.size,
                        args.repeats,
                        &device,
                    );
                    let (train, _) = train_step_ms(
                        arch,
                        preset,
                        &BenchArgs {
                            train_batch: batch,
                            ..args.clone()
                        },
                        &device,
                    );
                    println!(
                        "{}",
                        serde_json::json!({ "model": arch.name(), "preset": preset.name(), "batch": batch, "size": args.size, "forward_ms": forward, "train_ms": train })
                    );
                }
            }
        }
        return Ok(());
    }
    let backend = match (args.on.backend(), args.reference) {
        (Backend::Cpu, true) => "CPU backend (Flex) with Burn's own kernels (reference)".into(),
        (Backend::Cpu, false) => "CPU backend (Flex) with LesionLab's kernels".into(),
        (other, _) => format!("{other} backend"),
    };
    println!(
        "{backend}, {} CPU thread(s) available, input 3x{s}x{s}, median of {} runs after a warm-up",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        args.repeats,
        s = args.size
    );
    if args.profile {
        if args.on.backend() != Backend::Cpu {
            return Err(Error::BadArgument(
                "--profile times LesionLab's CPU operations: it runs on --backend cpu".into(),
            ));
        }
        for &preset in &args.presets {
            for &arch in &args.models {
                profile(arch, preset, &args);
            }
        }
        return Ok(());
    }
    println!();
    println!(
        "| model | preset | params | forward b1 (ms) | train step b{} (ms) | training images/s |",
        args.train_batch
    );
    println!("|---|---|---:|---:|---:|---:|");
    for &preset in &args.presets {
        for &arch in &args.models {
            let model = Model::init(arch, preset, &device);
            let params = model.trainable_params();
            let fwd = forward_ms(
                &model,
                InferenceMode::MeanOfHeads,
                args.size,
                args.repeats,
                &device,
            );
            let (train, _) = train_step_ms(arch, preset, &args, &device);
            let images_per_s = args.train_batch as f64 * 1e3 / train;
            let mode = if arch == Architecture::UNetPlusPlus {
                " (mean of heads)"
            } else {
                ""
            };
            println!(
                "| {}{mode} | {} | {params} | {fwd:.0} | {train:.0} | {images_per_s:.1} |",
                arch.display_name(),
                preset.name()
            );
            if arch == Architecture::UNetPlusPlus {
                for level in 1..=4u8 {
                    let mode = InferenceMode::Head(level);
                    let fast = forward_ms(&model, mode, args.size, args.repeats, &device);
                    let default = if mode == InferenceMode::DEFAULT {
                        ", the default"
                    } else {
                        ""
                    };
                    println!(
                        "| U-Net++ (head {level}{default}) | {} | | {fast:.0} | | |",
                        preset.name()
                    );
                }
            }
        }
    }
    Ok(())
}
