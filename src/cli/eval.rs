//! `lesionlab eval`: the ISIC metrics of a model on a folder of images and masks, scored at each
//! mask's original resolution.

use std::path::PathBuf;

use clap::Args;
use lesionlab::data::{decode_image, decode_mask, dir_sources, pair_files, validation_ids};
use lesionlab::metrics::{Confusion, MeanScores, binarize_mask};
use lesionlab::segment::predict;
use lesionlab::{Architecture, Error, InferenceMode};

use super::common::load_model;

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
    /// U-Net++ fast mode level 1-4 instead of the accurate mode.
    #[arg(long)]
    fast: Option<u8>,
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
    let mode = args.fast.map(InferenceMode::Fast).unwrap_or(InferenceMode::Accurate);
    let mut sources = dir_sources(&args.data)?;
    let mut owner = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        owner.extend(s.names().into_iter().map(|n| (n, i)));
    }
    let names: Vec<&str> = owner.iter().map(|(n, _)| n.as_str()).collect();
    let pairing = pair_files(&names);
    let src = |name: &str| owner.iter().find(|(n, _)| n == name).unwrap().1;
    let mut skipped = pairing.skipped.clone();
    let mut pairs = pairing.pairs.clone();
    if let Some(fraction) = args.holdout {
        let ids: Vec<&str> = pairs.iter().map(|(id, _, _)| id.as_str()).collect();
        let keep = validation_ids(&ids, fraction, args.seed);
        pairs.retain(|(id, _, _)| keep.contains(id));
    }
    let mut scores = MeanScores::default();
    for (_, image_name, mask_name) in &pairs {
        let scored = (|| -> Result<_, Error> {
            let photo = decode_image(&sources[src(image_name)].read(image_name)?, image_name)?;
            let mask = decode_mask(&sources[src(mask_name)].read(mask_name)?, mask_name)?;
            if mask.dimensions() != photo.dimensions() {
                let ((mw, mh), (iw, ih)) = (mask.dimensions(), photo.dimensions());
                return Err(Error::Io { path: mask_name.clone(), message: format!("mask is {mw}x{mh} but its image is {iw}x{ih}") });
            }
            let probability = pollster::block_on(predict(&model, &photo, size as u32, mode, &device))?;
            let pred = lesionlab::metrics::binarize_probability(&probability.values, 0.5);
            Ok(Confusion::from_masks(&pred, &binarize_mask(mask.as_raw())).scores())
        })();
        match scored {
            Ok(s) => scores.push(s),
            Err(e) => skipped.push(lesionlab::data::Skipped { file: image_name.clone(), reason: e.to_string() }),
        }
    }
    for s in &skipped {
        eprintln!("skipped {}: {}", s.file, s.reason);
    }
    let Some(mean) = scores.mean() else {
        return Err(Error::Invalid(format!("no image/mask pair could be scored in {}", args.data.display())));
    };
    if args.json {
        let out = serde_json::json!({
            "model": args.model.name(), "images": scores.count(), "input_size": size, "holdout": args.holdout, "seed": args.seed,
            "skipped": skipped, "mean": mean,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap());
    } else {
        println!("{} on {} images (input {size}x{size}), mean over images:", args.model.display_name(), scores.count());
        println!("accuracy            {:.4}", mean.accuracy);
        println!("sensitivity         {:.4}", mean.sensitivity);
        println!("specificity         {:.4}", mean.specificity);
        println!("jaccard (IoU)       {:.4}", mean.jaccard);
        println!("threshold jaccard   {:.4}", mean.threshold_jaccard);
        println!("dice                {:.4}", mean.dice);
    }
    Ok(())
}
