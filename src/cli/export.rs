//! `lesionlab export`: rewrite a weights file (ours or PyTorch's) with the input size recorded,
//! its convolution kernels as float32 (PyTorch's), float16 or int8 (the shipped files).

use std::path::PathBuf;

use burn::prelude::*;
use clap::Args;
use lesionlab::{Architecture, Error, weights};

use super::common::read;
use super::common::write_atomic;

/// Options of `lesionlab export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Which network: unet, unetpp or pspnet.
    #[arg(long)]
    model: Architecture,
    /// Weights to read (safetensors with PyTorch key names).
    #[arg(long)]
    weights: PathBuf,
    /// Input size to record (default: the one already recorded).
    #[arg(long)]
    size: Option<usize>,
    /// How to store the convolution kernels: f32 (loads in PyTorch), f16 (half the bytes) or
    /// int8 (a quarter, with a float32 scale per output channel; read only by LesionLab).
    #[arg(long, default_value = "f32")]
    dtype: weights::StoredAs,
    /// The same as `--dtype f16` (kept for scripts written before `--dtype`).
    #[arg(long, conflicts_with = "dtype")]
    half: bool,
    /// Write the quick-start file of U-Net++'s head LEVEL instead (1-4): only the tensors that
    /// head needs, copied unchanged from `--weights` (the page's first mask). With `--size`,
    /// the file records that input size instead of the whole file's. `--fast-only`, its
    /// earlier name, still works.
    #[arg(long, alias = "fast-only", value_name = "LEVEL", conflicts_with_all = ["dtype", "half"])]
    quick_start: Option<u8>,
    /// Where to write.
    #[arg(long)]
    out: PathBuf,
}

/// Runs the command.
pub fn run(args: ExportArgs) -> Result<(), Error> {
    let bytes = read(&args.weights)?;
    let source = args.weights.display().to_string();
    if let Some(level) = args.quick_start {
        // Checked as a whole file of the model first, so a cut never hides a bad file.
        weights::load(bytes.clone(), args.model, &source, &Device::flex())?;
        if let Some(size) = args.size {
            lesionlab::rules::check_input_size(args.model, size)?;
        }
        let out = weights::quick_start::cut(&bytes, level, args.size).map_err(|message| {
            Error::Weights {
                source_name: source.clone(),
                message,
            }
        })?;
        write_atomic(&args.out, &out)?;
        println!(
            "{source} ({} bytes) -> {} ({} bytes: U-Net++'s heads up to {level})",
            bytes.len(),
            args.out.display(),
            out.len()
        );
        return Ok(());
    }
    let size = args.size.or_else(|| weights::input_size(&bytes));
    let model = weights::load(
        bytes,
        args.model,
        &args.weights.display().to_string(),
        &Device::flex(),
    )?;
    let kernels = if args.half {
        weights::StoredAs::F16
    } else {
        args.dtype
    };
    let out = weights::save_with(&model, size, kernels)?;
    write_atomic(&args.out, &out)?;
    println!(
        "{} ({} bytes, {} parameters) -> {}",
        args.weights.display(),
        out.len(),
        model.trainable_params(),
        args.out.display()
    );
    Ok(())
}
