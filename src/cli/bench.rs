//! `lesionlab bench`: a table of median forward and training-step times.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use clap::Args;
use lesionlab::loss::LossKind;
use lesionlab::{Architecture, Error, InferenceMode, Model, Preset};

/// Options of `lesionlab bench`.
#[derive(Args, Debug)]
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

fn forward_ms(model: &Model, mode: InferenceMode, size: usize, repeats: usize, device: &Device) -> f64 {
    let x = Tensor::<4>::random([1, 3, size, size], Distribution::Normal(0.0, 1.0), device);
    median_ms(
        || {
            let y = model.predict(x.clone(), mode);
            y.into_data();
        },
        repeats,
    )
}

fn train_step_ms(arch: Architecture, preset: Preset, args: &BenchArgs) -> f64 {
    let device = Device::flex().autodiff();
    let mut model = Some(Model::init(arch, preset, &device));
    let mut optim = AdamConfig::new().init();
    let s = args.size;
    let x = Tensor::<4>::random([args.train_batch, 3, s, s], Distribution::Normal(0.0, 1.0), &device);
    let y = Tensor::<4>::random([args.train_batch, 1, s, s], Distribution::Uniform(0.0, 1.0), &device).round();
    median_ms(
        || {
            let m = model.take().unwrap();
            let loss = LossKind::REPORT_COMBINED.loss(m.forward_heads(x.clone()), y.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            // Flex runs eagerly: when `step` returns, the work is done.
            model = Some(optim.step(1e-3, m, grads));
        },
        args.repeats,
    )
}

/// Prints the table.
pub fn run(args: BenchArgs) -> Result<(), Error> {
    if args.size % 16 != 0 {
        return Err(Error::Invalid(format!("--size must be a multiple of 16, got {}", args.size)));
    }
    println!("CPU backend (Flex), {} thread(s) available, input 3x{s}x{s}, median of {} runs after a warm-up", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), args.repeats, s = args.size);
    println!();
    println!("| model | preset | params | forward b1 (ms) | train step b{} (ms) |", args.train_batch);
    println!("|---|---|---:|---:|---:|");
    let device = Device::flex();
    for &preset in &args.presets {
        for &arch in &args.models {
            let model = Model::init(arch, preset, &device);
            let params = model.trainable_params();
            let fwd = forward_ms(&model, InferenceMode::Accurate, args.size, args.repeats, &device);
            let train = train_step_ms(arch, preset, &args);
            let mode = if arch == Architecture::UNetPlusPlus { " (accurate)" } else { "" };
            println!("| {}{mode} | {} | {params} | {fwd:.0} | {train:.0} |", arch.display_name(), preset.name());
            if arch == Architecture::UNetPlusPlus {
                for level in 1..=3u8 {
                    let fast = forward_ms(&model, InferenceMode::Fast(level), args.size, args.repeats, &device);
                    println!("| U-Net++ (fast L{level}) | {} | | {fast:.0} | |", preset.name());
                }
            }
        }
    }
    Ok(())
}
