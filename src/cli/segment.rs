//! `lesionlab segment`: one ISIC-style mask per photo, at the photo's own size.

use std::path::{Path, PathBuf};

use clap::Args;
use lesionlab::data::{FileKind, classify, decode_image};
use lesionlab::segment::{overlay, predict};
use lesionlab::{Architecture, Error, InferenceMode};

use super::common::{load_model, read};
use super::train::write_atomic;

/// Options of `lesionlab segment`.
#[derive(Args, Debug)]
pub struct SegmentArgs {
    /// Which network: unet, unetpp or pspnet.
    #[arg(long)]
    model: Architecture,
    /// Weights file (default: the shipped weights of the model).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Photos (JPEG or PNG) or folders of them.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Folder for the masks.
    #[arg(long)]
    out: PathBuf,
    /// Also write each photo with its mask drawn on it.
    #[arg(long)]
    overlay: bool,
    /// Probability above which a pixel is lesion.
    #[arg(long, default_value_t = 0.5)]
    threshold: f32,
    /// Model input size (default: the size the weights were trained at).
    #[arg(long)]
    size: Option<usize>,
    /// U-Net++ fast mode level 1-4 instead of the accurate mode.
    #[arg(long)]
    fast: Option<u8>,
}

fn photos(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|e| Error::Io { path: input.display().to_string(), message: e.to_string() })?;
            let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| is_photo(p)).collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

fn is_photo(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    (name.ends_with(".jpg") || name.ends_with(".jpeg") || name.ends_with(".png")) && !name.ends_with("_segmentation.png")
}

/// `ISIC_NNNNNNN_segmentation.png` for ISIC photos, else `<stem>_segmentation.png`.
pub fn mask_name(photo: &Path) -> String {
    match classify(&photo.to_string_lossy()) {
        FileKind::Image(id) => format!("{id}_segmentation.png"),
        _ => format!("{}_segmentation.png", photo.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into())),
    }
}

/// Runs the command.
pub fn run(args: SegmentArgs) -> Result<(), Error> {
    let (model, size, device) = load_model(args.model, args.weights.as_deref(), args.size)?;
    let mode = args.fast.map(InferenceMode::Fast).unwrap_or(InferenceMode::Accurate);
    let files = photos(&args.inputs)?;
    let mut failed = 0;
    for path in &files {
        let name = path.display().to_string();
        let result = (|| -> Result<(), Error> {
            let photo = decode_image(&read(path)?, &name)?;
            let probability = pollster::block_on(predict(&model, &photo, size as u32, mode, &device))?;
            let mask = probability.mask(args.threshold);
            let target = args.out.join(mask_name(path));
            write_atomic(&target, &png(&image::DynamicImage::ImageLuma8(mask.clone()))?)?;
            if args.overlay {
                let stem = target.file_name().unwrap().to_string_lossy().replace("_segmentation.png", "_overlay.png");
                write_atomic(&args.out.join(stem), &png(&image::DynamicImage::ImageRgb8(overlay(&photo, &mask, [255, 64, 0], 0.35)))?)?;
            }
            println!("{} -> {}", name, target.display());
            Ok(())
        })();
        if let Err(e) = result {
            eprintln!("error: {e}");
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(Error::Invalid(format!("{failed} of {} photos could not be segmented", files.len())));
    }
    Ok(())
}

fn png(img: &image::DynamicImage) -> Result<Vec<u8>, Error> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(out.into_inner())
}
