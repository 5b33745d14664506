//! `lesionlab eval`: the ISIC metrics of a model on a folder of images and masks, scored at each
//! mask's original resolution.

use std::path::PathBuf;

use clap::Args;
use lesionlab::data::{Catalog, Skipped, dir_sources, validation_ids};
use lesionlab::metrics::{Confusion, MeanScores, binarize_mask, binarize_probability};
use lesionlab::segment::predict;
use lesionlab::{Architecture, Error};

use super::common::{ModeArgs, load_model, print_json};

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
}

/// Runs the command.
pub fn run(args: EvalArgs) -> Result<(), Error> {
    let (model, size, device) = load_model(args.model, args.weights.as_deref(), args.size)?;
    let mode = args.mode.mode();
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
    let mut scores = MeanScores::default();
    for (_, image_name, mask_name) in &pairs {
        let (photo, mask) = match catalog.read_pair(&mut sources, image_name, mask_name) {
            Ok(pair) => pair,
            Err(e) => {
                skipped.push(Skipped::because(&e));
                continue;
            }
        };
        let probability = pollster::block_on(predict(
            &model,
            &photo,
            size as u32,
            mode,
            args.tta,
            &device,
        ))?;
        let pred = binarize_probability(&probability.values, lesionlab::rules::THRESHOLD);
        scores.add(Confusion::from_masks(&pred, &binarize_mask(mask.as_raw())));
    }
    for s in &skipped {
        eprintln!("skipped {}: {}", s.file, s.reason);
    }
    let Some(mean) = scores.mean() else {
        return Err(Error::BadArgument(format!(
            "no image/mask pair could be scored in {}",
            args.data.display()
        )));
    };
    // Dataset-level scores: all images' pixels counted as one image (large photos weigh more).
    let pooled = scores.pooled().scores();
    // Only U-Net++ has modes; `null` and nothing for the others.
    let mode = (args.model == Architecture::UNetPlusPlus).then(|| mode.to_string());
    if args.json {
        let out = serde_json::json!({
            "model": args.model.name(), "mode": mode, "images": scores.count(), "input_size": size, "holdout": args.holdout,
            "seed": args.seed, "tta": args.tta, "skipped": skipped, "mean": mean, "pooled": pooled,
        });
        print_json(&out)?;
    } else {
        let tta = if args.tta {
            ", test-time augmentation"
        } else {
            ""
        };
        let mode = mode.map(|m| format!(", mode {m}")).unwrap_or_default();
        println!(
            "{} on {} images (input {size}x{size}{mode}{tta}), mean over images at each mask's own size:",
            args.model.display_name(),
            scores.count()
        );
        println!("accuracy            {:.4}", mean.accuracy);
        println!("sensitivity         {:.4}", mean.sensitivity);
        println!("specificity         {:.4}", mean.specificity);
        println!("jaccard (IoU)       {:.4}", mean.jaccard);
        println!("threshold jaccard   {:.4}", mean.threshold_jaccard);
        println!("dice                {:.4}", mean.dice);
        println!("pooled over all pixels:");
        println!("jaccard (IoU)       {:.4}", pooled.jaccard);
        println!("dice                {:.4}", pooled.dice);
    }
    Ok(())
}
