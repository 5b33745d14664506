//! `lesionlab explain` and `lesionlab layers`: CAM and Grad-CAM overlays.

use std::path::PathBuf;

use clap::Args;
use lesionlab::draw::blend;
use lesionlab::explain::{HeatmapRequest, Method, Target, default_layer};
use lesionlab::{Architecture, Error, InferenceMode, Model, Preset};

use super::common::{BackendArgs, ModeArgs, hold_photo, load_session, write_png};

/// Options of `lesionlab explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Which network: unet, unetpp or pspnet.
    #[arg(long)]
    model: Architecture,
    /// Weights file (default: the shipped weights of the model).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// cam (the report's last-layer CAM), activation (mean activation) or gradcam.
    #[arg(long, default_value = "gradcam")]
    method: Method,
    /// Layer to explain (see `lesionlab layers`; default: the method's default layer).
    #[arg(long)]
    layer: Option<String>,
    /// Grad-CAM target: lesion (all predicted lesion pixels), center, or pixel:Y,X of the model input.
    #[arg(long, default_value = "lesion")]
    target: Target,
    /// Opacity of the heatmap over the photo.
    #[arg(long, default_value_t = 0.5)]
    opacity: f32,
    /// Model input size (default: the size the weights were trained at).
    #[arg(long)]
    size: Option<usize>,
    #[command(flatten)]
    mode: ModeArgs,
    /// The photo.
    image: PathBuf,
    /// Where to write the overlay PNG (the photo's own size).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    on: BackendArgs,
}

/// Options of `lesionlab layers`.
#[derive(Args, Debug)]
pub struct LayersArgs {
    /// Which network: unet, unetpp or pspnet.
    #[arg(long)]
    model: Architecture,
}

/// Runs `explain`.
pub fn run(args: ExplainArgs) -> Result<(), Error> {
    let session = load_session(args.model, args.weights.as_deref(), args.size, args.on)?;
    let (name, photo) = hold_photo(&session, &args.image)?;
    let request = HeatmapRequest {
        method: args.method,
        layer: args.layer.as_deref(),
        target: args.target,
        mode: args.mode.mode(),
    };
    let heat = pollster::block_on(session.explain(&name, &request))?;
    write_png(&args.out, blend(&photo, &heat.heatmap, args.opacity))?;
    println!("{} at layer {} -> {}", name, heat.layer, args.out.display());
    if let Some(note) = heat.blank_note {
        println!("note: {note}");
    }
    Ok(())
}

/// Runs `layers`.
pub fn layers(args: LayersArgs) -> Result<(), Error> {
    let model = Model::init(args.model, Preset::Web, &burn::prelude::Device::flex());
    let mode = InferenceMode::DEFAULT;
    for layer in model.layers() {
        let mut tags = vec![];
        if *layer == default_layer(args.model, Method::Cam, mode) {
            tags.push("CAM default");
        }
        if *layer == default_layer(args.model, Method::GradCam, mode) {
            tags.push("Grad-CAM default");
        }
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!(" ({})", tags.join(", "))
        };
        println!(
            "{layer}{tags}: {}",
            model.describe_layer(layer).unwrap_or_default()
        );
    }
    Ok(())
}
