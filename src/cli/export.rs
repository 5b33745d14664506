//! `lesionlab export`: rewrite a weights file (ours or PyTorch's) with the input size recorded,
//! optionally with float16 convolution weights, as the shipped files are.

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
    /// Store convolution weights as float16 (half the size).
    #[arg(long)]
    half: bool,
    /// Where to write.
    #[arg(long)]
    out: PathBuf,
}

/// Runs the command.
pub fn run(args: ExportArgs) -> Result<(), Error> {
    let bytes = read(&args.weights)?;
    let size = args.size.or_else(|| weights::input_size(&bytes));
    let model = weights::load(
        bytes,
        args.model,
        &args.weights.display().to_string(),
        &Device::flex(),
    )?;
    let out = weights::save_with(&model, size, args.half)?;
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
