//! `lesionlab train`: train a model on an ISIC folder or zip, with a checkpoint after every
//! epoch.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lesionlab::backend::DeviceSpec;
use lesionlab::data::{Augmentation, dir_sources, load_pairs, split_by_id};
use lesionlab::train::{Flow, Progress, Schedule, TrainConfig, Trainer};
use lesionlab::{Architecture, Error, ModelConfig, Preset, weights};

use super::common::{BackendArgs, read, write_atomic};

/// Options of `lesionlab train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Which network: unet, unetpp or pspnet.
    #[arg(long)]
    model: Architecture,
    /// Widths: web (shipped in the browser) or paper (the report's).
    #[arg(long, default_value = "web")]
    preset: Preset,
    /// ISIC data: a folder (official layout, flat, or holding the official zips) or a zip file.
    #[arg(long)]
    data: PathBuf,
    /// Input height and width (a multiple of 16) [default: 256, the report's].
    #[arg(long)]
    size: Option<usize>,
    /// Epochs in total [default: 20]; with --resume, raises or lowers the run's total.
    #[arg(long)]
    epochs: Option<usize>,
    /// Images per step [default: 4, the report's, as fine-tuning in the page; the shipped
    /// weights were trained at 8].
    #[arg(long)]
    batch: Option<usize>,
    /// Adam learning rate [default: 1e-3, the report's]; with --resume, changes it for the
    /// remaining epochs (a lower rate to settle a run).
    #[arg(long)]
    lr: Option<f64>,
    /// Fraction of ids held out for validation [default: 0.2; a resumed run keeps its own].
    #[arg(long)]
    val_fraction: Option<f64>,
    /// Weight of the Dice term of the loss (default: 0.2 for U-Net++, 0 = plain BCE otherwise, as in the report).
    #[arg(long)]
    dice_weight: Option<f64>,
    /// Train without flips, rotations and colour jitter (the same as --augment none).
    #[arg(long)]
    no_augment: bool,
    /// Augmentation: none; basic (flips, quarter turns, mild colour jitter: what the page
    /// fine-tunes with); strong (also any angle, zoom and crop, aspect ratio, hue, blur); wide
    /// (basic, plus photos shrunk into a wider field of skin, crops that cut the lesion, rims,
    /// pen circles, rulers and hairs: what the shipped weights are trained with).
    #[arg(long, default_value = "basic")]
    augment: AugmentLevel,
    /// Learning-rate schedule: constant (the report's) or cosine (one epoch of warm-up, then a
    /// cosine decay to 1% of --lr).
    #[arg(long, default_value = "constant")]
    schedule: Schedule,
    /// AdamW weight decay (0: the report's plain Adam).
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Seed of the split, shuffling and augmentation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Start from these weights instead of a fresh model (fine-tuning).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Where to write the trained weights; the checkpoint goes beside it as FILE.ckpt.
    #[arg(long, default_value = "model.safetensors")]
    out: PathBuf,
    /// Resume from a checkpoint written by an earlier run.
    #[arg(long)]
    resume: Option<PathBuf>,
    #[command(flatten)]
    on: BackendArgs,
    /// Spread every batch over these devices (data parallel, README "Backends"): `N` is
    /// device N of --backend, `BACKEND[:N]` any other (`--devices 0,1,2,3`,
    /// `--devices cpu,wgpu`). The first is where the weights live and the optimiser steps.
    #[arg(long, value_delimiter = ',', value_parser = parse_device)]
    devices: Vec<DeviceSpec>,
}

fn parse_device(s: &str) -> Result<DeviceSpec, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

/// How much `train` augments.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AugmentLevel {
    None,
    Basic,
    Strong,
    Wide,
}

/// Runs the command.
pub fn run(args: TrainArgs) -> Result<(), Error> {
    let devices = match args.devices.as_slice() {
        [] => vec![args.on.device()?],
        specs => lesionlab::backend::devices(args.on.backend(), specs)?,
    };
    let device = devices[0].clone().autodiff();
    let ckpt_path = args.out.with_extension("ckpt");
    let mut trainer = match &args.resume {
        Some(path) => {
            let mut t = Trainer::resume(&read(path)?, &path.display().to_string(), &device)?;
            if let Some(epochs) = args.epochs {
                t.config.epochs = epochs;
            }
            if let Some(lr) = args.lr {
                t.config.optimizer.learning_rate = lr;
            }
            eprintln!(
                "resumed {} after epoch {} of {}",
                path.display(),
                t.epochs_done(),
                t.config.epochs
            );
            t
        }
        None => {
            // Unset options keep the defaults of `TrainConfig` (the report's run).
            let defaults = TrainConfig::new(ModelConfig::new(args.model).with_preset(args.preset));
            let (batch, size) = (defaults.batch_size, defaults.size);
            let mut config = defaults
                .with_batch_size(args.batch.unwrap_or(batch))
                .with_size(args.size.unwrap_or(size))
                .with_seed(args.seed)
                .with_dice_weight(args.dice_weight)
                .with_augmentation(match (args.no_augment, args.augment) {
                    (true, _) | (_, AugmentLevel::None) => None,
                    (_, AugmentLevel::Basic) => Some(Augmentation::default()),
                    (_, AugmentLevel::Strong) => Some(Augmentation::strong()),
                    (_, AugmentLevel::Wide) => Some(Augmentation::wide()),
                });
            config.epochs = args.epochs.unwrap_or(config.epochs);
            config.val_fraction = args.val_fraction.unwrap_or(config.val_fraction);
            let optimizer = &mut config.optimizer;
            optimizer.learning_rate = args.lr.unwrap_or(optimizer.learning_rate);
            optimizer.schedule = args.schedule;
            optimizer.weight_decay = args.weight_decay;
            let model = match &args.init {
                Some(path) => weights::load(
                    read(path)?,
                    args.model,
                    &path.display().to_string(),
                    &device,
                )?,
                None => config.model.init(&device),
            };
            Trainer::new(model, config, &device)?
        }
    };
    if devices.len() > 1 {
        trainer.spread_over(&devices)?;
        eprintln!("every batch spread over {} devices", devices.len());
    }
    let config = trainer.config.clone();

    let mut sources = dir_sources(&args.data)?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("loading {bar:30} {pos}/{len} pairs {elapsed}").unwrap(),
    );
    let (samples, report) = load_pairs(&mut sources, config.size as u32, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    for s in &report.skipped {
        eprintln!("skipped {}: {}", s.file, s.reason);
    }
    let (train, val) = split_by_id(samples, config.val_fraction, config.seed);
    eprintln!(
        "{} pairs found, {} loaded, {} files skipped; {} for training, {} for validation; {} {} at {}x{}, batch {}, lr {} ({:?}), weight decay {}",
        report.paired,
        report.loaded,
        report.skipped.len(),
        train.len(),
        val.len(),
        trainer.model().architecture().display_name(),
        config.model.preset,
        config.size,
        config.size,
        config.batch_size,
        config.optimizer.learning_rate,
        config.optimizer.schedule,
        config.optimizer.weight_decay
    );

    let steps = train.len().div_ceil(config.batch_size) as u64;
    let bar = ProgressBar::new(steps).with_style(
        ProgressStyle::with_template(
            "epoch {prefix} {bar:30} {pos}/{len} loss {msg} {elapsed}<{eta}",
        )
        .unwrap(),
    );
    let start = std::time::Instant::now();
    let save_all = |trainer: &Trainer| -> Result<(), Error> {
        write_atomic(&ckpt_path, &trainer.checkpoint()?)?;
        write_atomic(
            &args.out,
            &weights::save_with_input_size(trainer.model(), Some(config.size))?,
        )
    };
    while !trainer.is_finished() {
        let epoch = pollster::block_on(trainer.train_epoch(&train, &val, &mut |p| {
            match p {
                Progress::Step { epoch, step, loss, .. } => {
                    bar.set_prefix(format!("{epoch}/{}", config.epochs));
                    bar.set_position(*step as u64);
                    bar.set_message(format!("{loss:.4}"));
                }
                Progress::Validating { .. } => bar.set_message("validating".to_string()),
                Progress::Epoch(r) => {
                    bar.reset();
                    println!(
                        "epoch {} train_loss {:.4} val_loss {:.4} val_iou {:.4} val_dice {:.4} val_tj {:.4} lr {:.2e} elapsed_s {:.0}",
                        r.epoch,
                        r.train_loss,
                        r.val_loss.unwrap_or(f64::NAN),
                        r.val_iou.unwrap_or(f64::NAN),
                        r.val_dice.unwrap_or(f64::NAN),
                        r.val_threshold_jaccard.unwrap_or(f64::NAN),
                        config.learning_rate_at(r.epoch, steps as usize - 1, steps as usize),
                        start.elapsed().as_secs_f64()
                    );
                }
            }
            Flow::Continue
        }));
        // After every epoch a checkpoint and the weights, so an interrupted run loses at most
        // the epoch in progress; after a failure, the last good weights.
        save_all(&trainer)?;
        if let Err(e) = epoch {
            bar.finish_and_clear();
            eprintln!("the last good weights are in {}", args.out.display());
            return Err(e);
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "wrote {} and {} after {} epochs in {:.0} s",
        args.out.display(),
        ckpt_path.display(),
        trainer.epochs_done(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
