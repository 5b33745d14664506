//! `lesionlab uncertainty`: how sure the model is about a photo (`lesionlab::uncertainty`), as a
//! heatmap over the photo and two numbers.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use lesionlab::draw::blend;
use lesionlab::predict::Probability;
use lesionlab::session::SegmentOptions;
use lesionlab::uncertainty::{Uncertainty, over_models};
use lesionlab::{Architecture, Error};

use super::common::{BackendArgs, ModeArgs, hold_photo, load_session, print_json, write_png};

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
    /// Probability above which a view or a model says lesion: where they disagree.
    #[arg(long, default_value_t = lesionlab::rules::THRESHOLD)]
    threshold: f32,
    /// Where to write the photo with the spread drawn over it (Turbo colours: blue where the
    /// maps agree, red where their probabilities spread most).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the numbers as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    on: BackendArgs,
}

/// Runs the command.
pub fn run(args: UncertaintyArgs) -> Result<(), Error> {
    let (threshold, mode) = (args.threshold, args.mode.mode());
    let (name, photo, u): (String, _, Uncertainty) = match args.method {
        Method::Tta => {
            let session = load_session(args.model, args.weights.as_deref(), None, args.on)?;
            let (name, photo) = hold_photo(&session, &args.photo)?;
            let u = pollster::block_on(session.uncertainty(&name, mode, threshold))?;
            (name, photo, u)
        }
        Method::Models => {
            // Each model's mask as `segment` makes it, before the threshold.
            let options = SegmentOptions {
                threshold,
                ..SegmentOptions::new(mode)
            };
            let mut maps = Vec::new();
            let mut held = None;
            for arch in Architecture::ALL {
                let session = load_session(arch, None, None, args.on)?;
                let (name, photo) = hold_photo(&session, &args.photo)?;
                let segmentation = pollster::block_on(session.segment(&name, &options))?;
                maps.push(Probability {
                    width: photo.width(),
                    height: photo.height(),
                    values: segmentation.probability,
                });
                held = Some((name, photo));
            }
            let (name, photo) = held.expect("three models");
            (name, photo, over_models(&maps, threshold)?)
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
