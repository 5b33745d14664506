//! `lesionlab describe`: the ABCD figures of a lesion (`lesionlab::describe`), from its mask
//! (given, or segmented here) and its photo. Teaching aids, not a diagnosis.

use std::path::PathBuf;

use clap::Args;
use image::GrayImage;
use lesionlab::data::{decode_image, decode_mask};
use lesionlab::describe::{Description, describe};
use lesionlab::{Architecture, Error};

use super::common::{BackendArgs, MaskArgs, ModeArgs, load_session, print_json, read};

/// Options of `lesionlab describe`.
#[derive(Args, Debug)]
pub struct DescribeArgs {
    /// The photo (JPEG or PNG).
    photo: PathBuf,
    /// Its lesion mask (white on black, the photo's size), e.g. an ISIC ground truth or what
    /// `lesionlab segment` wrote; without it the photo is segmented with `--model` first.
    #[arg(long)]
    mask: Option<PathBuf>,
    /// The network that segments the photo when no `--mask` is given.
    #[arg(long, default_value = "unetpp")]
    model: Architecture,
    /// Weights for `--model` (default: the shipped weights).
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    mode: ModeArgs,
    #[command(flatten)]
    mask_rule: MaskArgs,
    /// The photo's scale, for the diameter in millimetres.
    #[arg(long)]
    mm_per_pixel: Option<f64>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    on: BackendArgs,
}

/// Runs the command.
pub fn run(args: DescribeArgs) -> Result<(), Error> {
    let name = args.photo.display().to_string();
    let photo = decode_image(&read(&args.photo)?, &name)?;
    let mask = match &args.mask {
        Some(path) => decode_mask(&read(path)?, &path.display().to_string())?,
        None => {
            // The mask `segment` writes: the same road, options and threshold.
            let session = load_session(args.model, args.weights.as_deref(), None, args.on)?;
            let options = args.mask_rule.options(args.mode.mode(), false);
            session.set_photo_image(name.clone(), &photo);
            let segmentation = pollster::block_on(session.segment(&name, &options))?;
            let (width, height) = photo.dimensions();
            GrayImage::from_raw(width, height, segmentation.mask)
                .expect("a mask at the photo's size")
        }
    };
    // The crate's mask errors name "the mask": here it has a file name.
    let d = describe(&mask, &photo, args.mm_per_pixel).map_err(|e| match (e, &args.mask) {
        (Error::BadMask { message, .. }, Some(path)) => Error::BadMask {
            file: path.display().to_string(),
            message,
        },
        (e, _) => e,
    })?;
    if args.json {
        print_json(&d)?;
    } else {
        print!("{}", text(&name, &d));
    }
    Ok(())
}

fn text(name: &str, d: &Description) -> String {
    let colours: Vec<String> = d
        .colours
        .iter()
        .filter(|c| c.present)
        .map(|c| format!("{} {:.0}%", c.name, c.share * 100.0))
        .collect();
    let mm = d
        .diameter_mm
        .map(|mm| format!(" ({mm:.1} mm)"))
        .unwrap_or_default();
    format!(
        "{name}: teaching figures, not a diagnosis\n\
         area           {} px, {:.1}% of the photo\n\
         A asymmetry    {:.3} about the major axis, {:.3} about the minor (share of the lesion its mirror image misses)\n\
         B border       compactness {:.3} (1 = disc), roughness {:.3} (1 = convex), outline {:.0} px\n\
         C colours      {}\n\
         D diameter     {:.0} px{mm}\n",
        d.area_px,
        d.area_share * 100.0,
        d.asymmetry[0],
        d.asymmetry[1],
        d.compactness,
        d.roughness,
        d.perimeter_px,
        if colours.is_empty() {
            "none above 5%".to_string()
        } else {
            colours.join(", ")
        },
        d.diameter_px,
    )
}
