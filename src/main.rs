//! The `lesionlab` command line: the library's models, losses and metrics on this machine.

mod cli;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Skin-lesion segmentation with U-Net, U-Net++ and PSPNet.
#[derive(Parser)]
#[command(name = "lesionlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Median forward and training-step times per model and preset on the CPU backend.
    Bench(cli::bench::BenchArgs),
    /// Train a model on ISIC images and masks.
    Train(cli::train::TrainArgs),
    /// ISIC metrics of a model on images and masks, at each mask's own resolution.
    Eval(cli::eval::EvalArgs),
    /// Write a lesion mask (and optionally an overlay) for each photo.
    Segment(cli::segment::SegmentArgs),
    /// Write a CAM or Grad-CAM overlay of a photo.
    Explain(cli::explain::ExplainArgs),
    /// List the layers CAM and Grad-CAM can explain.
    Layers(cli::explain::LayersArgs),
    /// Rewrite a weights file with its input size recorded, optionally in float16.
    Export(cli::export::ExportArgs),
    /// Say which photos do not look like dermoscopy (the page's warning), and how many.
    CheckPhotos(cli::check::CheckArgs),
    /// The ABCD figures of a lesion (area, asymmetry, border, colours, diameter): teaching aids.
    Describe(cli::describe::DescribeArgs),
    /// How sure the model is: where test-time views or the three models disagree.
    Uncertainty(cli::uncertainty::UncertaintyArgs),
    /// The layer explorer: one layer's most active feature maps, as numbers and a grid picture.
    Features(cli::features::FeaturesArgs),
}

fn main() {
    // Burn puts what it makes without being given a device (an optimiser's restored state) on
    // its default device, which in a GPU build is the GPU: opened, or failing, even for a CPU
    // run. The CPU holds such tensors until Burn moves them to where they are used.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => cli::bench::run(args),
        Command::Train(args) => cli::train::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Segment(args) => cli::segment::run(args),
        Command::Explain(args) => cli::explain::run(args),
        Command::Layers(args) => cli::explain::layers(args),
        Command::Export(args) => cli::export::run(args),
        Command::CheckPhotos(args) => cli::check::run(args),
        Command::Describe(args) => cli::describe::run(args),
        Command::Uncertainty(args) => cli::uncertainty::run(args),
        Command::Features(args) => cli::features::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
