//! `lesionlab segment`: one ISIC-style mask per photo, at the photo's own size.

use std::path::{Path, PathBuf};

use clap::Args;
use image::GrayImage;
use lesionlab::clean::{Point, Rect};
use lesionlab::data::{FileKind, classify};
use lesionlab::draw::overlay;
use lesionlab::session::SegmentOptions;
use lesionlab::{Architecture, Error};

use super::common::{MaskArgs, ModeArgs, hold_photo, load_session, photos, write_png};

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
    #[command(flatten)]
    mask: MaskArgs,
    /// A box around the lesion, `x,y,width,height` in the photo's pixels (after EXIF
    /// orientation): the model looks inside it only. For one photo.
    #[arg(long = "box", value_name = "X,Y,W,H", value_parser = parse_box)]
    prompt_box: Option<Rect>,
    /// A click, `x,y` on the lesion or `x,y,0` on what is not lesion, in the photo's pixels
    /// (after EXIF orientation); repeat it for more clicks. For one photo. The rule is the
    /// page's (README, "Clicks on the lesion").
    #[arg(long = "point", value_name = "X,Y[,0]", value_parser = parse_point)]
    points: Vec<Point>,
    /// Model input size (default: the size the weights were trained at).
    #[arg(long)]
    size: Option<usize>,
    #[command(flatten)]
    mode: ModeArgs,
    /// Test-time augmentation: average the model over the input's eight flips and quarter
    /// turns (eight times the work; see the model card for what it gains).
    #[arg(long)]
    tta: bool,
    /// Replace masks (and overlays) already in `--out`; without it the command refuses before
    /// writing anything.
    #[arg(long)]
    overwrite: bool,
}

fn parse_box(s: &str) -> Result<Rect, String> {
    let v: Vec<f32> = s
        .split(',')
        .map(|p| p.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("'{s}' is not x,y,width,height (four numbers)"))?;
    match v[..] {
        [x, y, width, height] => Ok(Rect {
            x,
            y,
            width,
            height,
        }),
        _ => Err(format!("'{s}' is not x,y,width,height (four numbers)")),
    }
}

fn parse_point(s: &str) -> Result<Point, String> {
    let bad = || format!("'{s}' is not x,y or x,y,label (label 1: lesion, 0: not lesion)");
    let v: Vec<f32> = s
        .split(',')
        .map(|p| p.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let label = match v[..] {
        [_, _] => 1,
        [_, _, l] if l == 0.0 || l == 1.0 => l as u8,
        _ => return Err(bad()),
    };
    Ok(Point {
        x: v[0],
        y: v[1],
        label,
    })
}

/// `ISIC_NNNNNNN_segmentation.png` for ISIC photos, else `<stem>_segmentation.png`.
pub fn mask_name(photo: &Path) -> String {
    match classify(&photo.to_string_lossy()) {
        FileKind::Image(id) => format!("{id}_segmentation.png"),
        _ => format!(
            "{}_segmentation.png",
            photo
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "image".into())
        ),
    }
}

/// The overlay written beside mask `mask_name`.
fn overlay_name(mask_name: &str) -> String {
    mask_name.replace("_segmentation.png", "_overlay.png")
}

/// Refuses, before anything is written, inputs whose outputs would share a name (the same ISIC
/// id in two folders, `mole.jpg` beside `mole.png`) and, without `overwrite`, outputs that
/// already exist: no result replaces another silently.
fn check_outputs(files: &[PathBuf], args: &SegmentArgs) -> Result<(), Error> {
    let mut seen: std::collections::BTreeMap<String, &Path> = Default::default();
    let mut problems = Vec::new();
    for path in files {
        let name = mask_name(path);
        if let Some(first) = seen.insert(name.to_lowercase(), path) {
            problems.push(format!(
                "{} and {} would both be written as {name}",
                first.display(),
                path.display()
            ));
        }
        let mut outputs = vec![name.clone()];
        if args.overlay {
            outputs.push(overlay_name(&name));
        }
        for output in outputs {
            let target = args.out.join(&output);
            if !args.overwrite && target.exists() {
                problems.push(format!("{} already exists", target.display()));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let more = match problems.len() {
        n if n > 5 => format!(" (and {} more)", n - 5),
        _ => String::new(),
    };
    problems.truncate(5);
    Err(Error::BadArgument(format!(
        "nothing was written: {}{more}. Segment photos with one name into separate --out folders, \
         and give --overwrite to replace earlier results",
        problems.join("; ")
    )))
}

/// Runs the command.
pub fn run(args: SegmentArgs) -> Result<(), Error> {
    let files = photos(&args.inputs)?;
    let prompt = match (args.prompt_box.is_some(), args.points.is_empty()) {
        (true, _) => Some("--box is"),
        (false, false) => Some("--point is"),
        (false, true) => None,
    };
    if let (Some(prompt), true) = (prompt, files.len() != 1) {
        return Err(Error::BadArgument(format!(
            "{prompt} in one photo's pixels: give one photo, not {}",
            files.len()
        )));
    }
    check_outputs(&files, &args)?;
    let session = load_session(args.model, args.weights.as_deref(), args.size)?;
    let options = SegmentOptions {
        prompt_box: args.prompt_box,
        points: args.points.clone(),
        ..args.mask.options(args.mode.mode(), args.tta)
    };
    let mut failed = 0;
    for path in &files {
        let result = (|| -> Result<(), Error> {
            let (name, photo) = hold_photo(&session, path)?;
            let segmentation = pollster::block_on(session.segment(&name, &options))?;
            let (width, height) = photo.dimensions();
            let mask = GrayImage::from_raw(width, height, segmentation.mask)
                .expect("a mask at the photo's size");
            let target = args.out.join(mask_name(path));
            write_png(&target, mask.clone())?;
            if args.overlay {
                write_png(
                    &args.out.join(overlay_name(&mask_name(path))),
                    overlay(&photo, &mask, 0.35),
                )?;
            }
            println!("{} -> {}", name, target.display());
            if let Some(warning) = segmentation.check.warning {
                println!("warning: {name}: {warning}");
            }
            Ok(())
        })();
        if let Err(e) = result {
            eprintln!("error: {e}");
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(Error::BadArgument(format!(
            "{failed} of {} photos could not be segmented",
            files.len()
        )));
    }
    Ok(())
}
