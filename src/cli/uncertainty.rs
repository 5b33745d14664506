//! `lesionlab uncertainty`: how sure the model is about a photo (`lesionlab::uncertainty`), as a
//! heatmap over the photo and two numbers.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use lesionlab::data::decode_image;
use lesionlab::explain::blend;
use lesionlab::segment::predict;
use lesionlab::uncertainty::{Uncertainty, over_models, over_views};
use lesionlab::{Architecture, Error};

use super::common::{ModeArgs, load_model, print_json, read, write_png};

/// What is compared.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Method {
    /// One model on the photo's eight flips and quarter turns.
    Tta,
    /// The three models (shipped weights) on the photo.
    Models,
}

/// Options of `lesionlab uncertainty`.
#[derive(Args, Debug)]
pub struct UncertaintyArgs {
    /// The photo (JPEG or PNG).
    photo: PathBuf,
    /// What to compare.
    #[arg(long, value_enum, default_value = "tta")]
    method: Method,
    /// The network for `--method tta`.
    #[arg(long, default_value = "unetpp")]
    model: Architecture,
    /// Weights for `--model` (default: the shipped weights).
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    mode: ModeArgs,
    /// Where to write the photo with the spread drawn over it (Turbo colours: blue where the
    /// maps agree, red where their probabilities spread most).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the numbers as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: UncertaintyArgs) -> Result<(), Error> {
    let name = args.photo.display().to_string();
    let photo = decode_image(&read(&args.photo)?, &name)?;
    let threshold = lesionlab::rules::THRESHOLD;
    let u: Uncertainty = match args.method {
        Method::Tta => {
            let (model, size, device) = load_model(args.model, args.weights.as_deref(), None)?;
            pollster::block_on(over_views(
                &model,
                &photo,
                size as u32,
                args.mode.mode(),
                threshold,
                &device,
            ))?
        }
        Method::Models => {
            let mut maps = Vec::new();
            for arch in Architecture::ALL {
                let (model, size, device) = load_model(arch, None, None)?;
                maps.push(pollster::block_on(predict(
                    &model,
                    &photo,
                    size as u32,
                    args.mode.mode(),
                    false,
                    &device,
                ))?);
            }
            over_models(&maps, threshold)?
        }
    };
    if let Some(out) = &args.out {
        // The spread is at most 0.5: doubled, the colour scale spans it.
        let heat: Vec<f32> = u.spread.iter().map(|&v| (2.0 * v).min(1.0)).collect();
        write_png(out, blend(&photo, &heat, 0.6))?;
    }
    if args.json {
        print_json(&u)?;
    } else {
        println!(
            "{name}: {} maps compared; they disagree about the mask on {:.1}% of the photo; mean spread of the probability {:.3}{}",
            u.maps,
            u.disagreement * 100.0,
            u.mean_spread,
            args.out
                .as_ref()
                .map(|o| format!(" (map: {})", o.display()))
                .unwrap_or_default()
        );
    }
    Ok(())
}
