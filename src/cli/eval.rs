//! `lesionlab eval`: the ISIC metrics of a model on a folder of images and masks, scored at each
//! mask's original resolution.

use std::path::PathBuf;

use clap::Args;
use lesionlab::clean::Rect;
use lesionlab::data::{Catalog, Skipped, dir_sources, validation_ids};
use lesionlab::metrics::binarize_mask;
use lesionlab::session::{Evaluation, SegmentOptions, SimulatedClicks};
use lesionlab::{Architecture, Error};

use super::common::{BackendArgs, MaskArgs, ModeArgs, load_session, print_json};

/// Options of `lesionlab eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Which network: unet, unetpp or pspnet.
    #[arg(long)]
    model: Architecture,
    /// Weights file (default: the shipped weights of the model).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// ISIC images and ground-truth masks: a folder or a zip file.
    #[arg(long)]
    data: PathBuf,
    /// Model input size (default: the size the weights were trained at).
    #[arg(long)]
    size: Option<usize>,
    #[command(flatten)]
    mode: ModeArgs,
    #[command(flatten)]
    mask: MaskArgs,
    /// A simulated user's box: each photo's box drawn from its expert mask's bounding box,
    /// grown by this share of its size on each side (0.15: the box around the lesion plus
    /// 15%).
    #[arg(long, value_name = "MARGIN")]
    box_from_truth: Option<f32>,
    /// A simulated user's clicks: `positive` (one at the lesion's centre), `negative` (one on
    /// the largest region the mask marks outside the expert's, then segmented again) or
    /// `both` (the positive click, then the negative one on what is still wrong).
    #[arg(long, value_name = "WHICH")]
    clicks_from_truth: Option<SimulatedClicks>,
    /// Test-time augmentation: average the model over the input's eight flips and quarter
    /// turns (eight times the work; see the model card for what it gains).
    #[arg(long)]
    tta: bool,
    /// Score only the validation ids of `train --val-fraction F --seed S` (the held-out data).
    #[arg(long, value_name = "F")]
    holdout: Option<f64>,
    /// Seed of the split that `--holdout` selects.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    on: BackendArgs,
}

/// Runs the command.
pub fn run(args: EvalArgs) -> Result<(), Error> {
    let session = load_session(args.model, args.weights.as_deref(), args.size, args.on)?;
    let size = session.input_size();
    let options = args.mask.options(args.mode.mode(), args.tta);
    let mut sources = dir_sources(&args.data)?;
    let catalog = Catalog::new(&sources);
    let pairing = &catalog.pairing;
    let mut skipped = pairing.skipped.clone();
    let mut pairs = pairing.pairs.clone();
    if let Some(fraction) = args.holdout {
        let ids: Vec<&str> = pairs.iter().map(|(id, _, _)| id.as_str()).collect();
        let keep = validation_ids(&ids, fraction, args.seed);
        pairs.retain(|(id, _, _)| keep.contains(id));
    }
    let evaluation = Evaluation::new();
    let mut names = Vec::new();
    let clicks = args.clicks_from_truth.unwrap_or_default();
    for (id, image_name, mask_name) in &pairs {
        let (photo, mask) = match catalog.read_pair(&mut sources, image_name, mask_name) {
            Ok(pair) => pair,
            Err(e) => {
                skipped.push(Skipped::because(&e));
                continue;
            }
        };
        let options = SegmentOptions {
            prompt_box: args
                .box_from_truth
                .and_then(|margin| box_around(&binarize_mask(mask.as_raw()), mask.width(), margin)),
            ..options.clone()
        };
        let scoring = evaluation.score(&session, id, (&photo, &mask), &options, clicks);
        pollster::block_on(scoring)?;
        names.push(id.clone());
    }
    for s in &skipped {
        eprintln!("skipped {}: {}", s.file, s.reason);
    }
    let Some(summary) = evaluation.summary() else {
        return Err(Error::BadArgument(format!(
            "no image/mask pair could be scored in {}",
            args.data.display()
        )));
    };
    // Dataset-level scores: all images' pixels counted as one image (large photos weigh more).
    let (mean, median, pooled) = (summary.mean, summary.median, summary.pooled);
    // Only U-Net++ has modes; `null` and nothing for the others.
    let mode = (args.model == Architecture::UNetPlusPlus).then(|| options.mode.to_string());
    if args.json {
        let images: Vec<_> = names
            .iter()
            .zip(evaluation.images())
            .map(|(name, s)| serde_json::json!({ "name": name, "scores": s }))
            .collect();
        let out = serde_json::json!({
            "model": args.model.name(), "mode": mode, "images": summary.count, "input_size": size, "holdout": args.holdout,
            "seed": args.seed, "tta": args.tta, "lesions": options.lesions.to_string(), "refine": options.refine,
            "box_from_truth": args.box_from_truth, "clicks_from_truth": args.clicks_from_truth.map(|c| c.to_string()), "skipped": skipped, "mean": mean, "median": median, "pooled": pooled,
            "per_image": images,
        });
        print_json(&out)?;
    } else {
        let tta = if args.tta {
            ", test-time augmentation"
        } else {
            ""
        };
        let mode = mode.map(|m| format!(", mode {m}")).unwrap_or_default();
        let prompt = args
            .box_from_truth
            .map(|m| format!(", box from the expert mask + {:.0}%", m * 100.0))
            .unwrap_or_default();
        let clicks = args
            .clicks_from_truth
            .map(|c| format!(", simulated clicks: {c}"))
            .unwrap_or_default();
        println!(
            "{} on {} images (input {size}x{size}{mode}{tta}, lesions {}, refine {}{prompt}{clicks}), at each mask's own size:",
            args.model.display_name(),
            summary.count,
            options.lesions,
            if options.refine { "on" } else { "off" },
        );
        println!("                    per-image mean  per-image median  pooled");
        let rows = [
            (
                "jaccard (IoU)",
                mean.jaccard,
                median.jaccard,
                pooled.jaccard,
            ),
            ("dice", mean.dice, median.dice, pooled.dice),
            (
                "threshold jaccard",
                mean.threshold_jaccard,
                median.threshold_jaccard,
                pooled.threshold_jaccard,
            ),
            (
                "sensitivity",
                mean.sensitivity,
                median.sensitivity,
                pooled.sensitivity,
            ),
            (
                "specificity",
                mean.specificity,
                median.specificity,
                pooled.specificity,
            ),
            ("accuracy", mean.accuracy, median.accuracy, pooled.accuracy),
        ];
        for (name, a, b, c) in rows {
            println!("{name:<20}{a:>14.4}{b:>18.4}{c:>8.4}");
        }
    }
    Ok(())
}

/// The bounding box of a mask `width` pixels wide, grown by `margin` of its size on each side;
/// `None` for an empty mask.
fn box_around(truth: &[bool], width: u32, margin: f32) -> Option<Rect> {
    let on: Vec<(u32, u32)> = truth
        .iter()
        .enumerate()
        .filter(|(_, t)| **t)
        .map(|(i, _)| (i as u32 % width, i as u32 / width))
        .collect();
    let (x0, x1) = (on.iter().map(|p| p.0).min()?, on.iter().map(|p| p.0).max()?);
    let (y0, y1) = (on.iter().map(|p| p.1).min()?, on.iter().map(|p| p.1).max()?);
    let (w, h) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
    Some(Rect {
        x: x0 as f32 - margin * w,
        y: y0 as f32 - margin * h,
        width: w * (1.0 + 2.0 * margin),
        height: h * (1.0 + 2.0 * margin),
    })
}
