//! `lesionlab features`: the layer explorer on the command line (`lesionlab::features`), one
//! layer's most active feature maps as a grid picture.

use std::path::PathBuf;

use clap::Args;
use lesionlab::features::{DEFAULT_COUNT, grid};
use lesionlab::{Architecture, Error};

use super::common::{BackendArgs, ModeArgs, hold_photo, load_session, print_json, write_png};

/// Options of `lesionlab features`.
#[derive(Args, Debug)]
pub struct FeaturesArgs {
    /// The photo (JPEG or PNG).
    photo: PathBuf,
    /// Which network: unet, unetpp or pspnet.
    #[arg(long, default_value = "unetpp")]
    model: Architecture,
    /// Weights for `--model` (default: the shipped weights).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// The layer (see `lesionlab layers`; default: the last decoder stage).
    #[arg(long)]
    layer: Option<String>,
    /// How many channels, the most active first.
    #[arg(long, default_value_t = DEFAULT_COUNT)]
    count: usize,
    #[command(flatten)]
    mode: ModeArgs,
    /// Where to write the grid PNG (each map coloured from 0 to its own maximum).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the layer and its channels as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    on: BackendArgs,
}

/// Runs the command.
pub fn run(args: FeaturesArgs) -> Result<(), Error> {
    let session = load_session(args.model, args.weights.as_deref(), None, args.on)?;
    let (name, _) = hold_photo(&session, &args.photo)?;
    let maps = pollster::block_on(session.feature_maps(
        &name,
        args.layer.as_deref(),
        args.count,
        args.mode.mode(),
    ))?;
    if let Some(out) = &args.out {
        write_png(out, grid(&maps, 96, 4))?;
    }
    if args.json {
        return print_json(&maps);
    }
    let [c, h, w] = maps.shape;
    println!(
        "{} layer {}: {c} channels of {h}x{w}",
        args.model, maps.layer
    );
    println!("{}", maps.description);
    for ch in &maps.channels {
        println!(
            "  channel {:>3}: mean {:.3}, max {:.3}",
            ch.index, ch.mean, ch.max
        );
    }
    if let Some(out) = &args.out {
        println!("grid -> {}", out.display());
    }
    Ok(())
}
