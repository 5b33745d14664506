//! The `lesionlab` command line: the library's models, losses and metrics on this machine.

mod cli;

use clap::{Parser, Subcommand};

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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => cli::bench::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
