//! `lesionlab segment`: one ISIC-style mask per photo, at the photo's own size.

use std::path::{Path, PathBuf};

use clap::Args;
use image::GrayImage;
use lesionlab::clean::{Point, Rect};
use lesionlab::data::{FileKind, classify};
use lesionlab::draw::overlay;
use lesionlab::session::{SegmentOptions, Session};
use lesionlab::{Architecture, Error};

use super::archive::{Ledger, Progress, Row, Shard};
use super::common::{BackendArgs, MaskArgs, ModeArgs, hold_photo, load_session, photos, write_png};

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
    /// Redo photos whose mask (and overlay) is already in `--out`; without it they are skipped,
    /// so a run that was stopped resumes where it stopped.
    #[arg(long)]
    overwrite: bool,
    /// Only the photos of job `i` of `n` (from 0: `0/4` to `3/4`), for a job array on a
    /// cluster: the split hashes each photo's name, so every job sees the same listing and no
    /// photo is done twice.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Append a row per photo segmented to this CSV (photo, mask, size, lesion pixels and
    /// fraction, milliseconds, the not-dermoscopy check); `--csv` alone writes
    /// `segment.csv` (`segment-shard-I-of-N.csv` with --shard) in `--out`.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    csv: Option<String>,
    #[command(flatten)]
    on: BackendArgs,
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
/// id in two folders, `mole.jpg` beside `mole.png`): no result replaces another.
fn check_outputs(files: &[PathBuf]) -> Result<(), Error> {
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
        "nothing was written: {}{more}. Segment photos with one name into separate --out folders",
        problems.join("; ")
    )))
}

/// Whether `path`'s results are all in `--out` already.
fn is_done(path: &Path, args: &SegmentArgs) -> bool {
    let name = mask_name(path);
    args.out.join(&name).exists() && (!args.overlay || args.out.join(overlay_name(&name)).exists())
}

/// The ledger's path, when `--csv` asks for one.
fn ledger_path(args: &SegmentArgs) -> Option<PathBuf> {
    let csv = args.csv.as_ref()?;
    if !csv.is_empty() {
        return Some(PathBuf::from(csv));
    }
    let name = args
        .shard
        .map(Shard::ledger_name)
        .unwrap_or_else(|| "segment.csv".into());
    Some(args.out.join(name))
}

/// Runs the command: the photos one at a time (memory holds one photo, whatever the folder's
/// size), those already done skipped, a failure reported and the rest carried on.
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
    check_outputs(&files)?;
    let mine: Vec<&PathBuf> = files
        .iter()
        .filter(|p| args.shard.is_none_or(|s| s.holds(&mask_name(p))))
        .collect();
    let todo: Vec<&PathBuf> = mine
        .iter()
        .copied()
        .filter(|p| args.overwrite || !is_done(p, &args))
        .collect();
    if todo.len() < mine.len() {
        eprintln!(
            "{} of {} photos already have their mask in {}: skipped (--overwrite redoes them)",
            mine.len() - todo.len(),
            mine.len(),
            args.out.display()
        );
    }
    if todo.is_empty() {
        return Ok(());
    }
    let session = load_session(args.model, args.weights.as_deref(), args.size, args.on)?;
    let options = SegmentOptions {
        prompt_box: args.prompt_box,
        points: args.points.clone(),
        ..args.mask.options(args.mode.mode(), args.tta)
    };
    std::fs::create_dir_all(&args.out).map_err(|e| Error::Io {
        path: args.out.display().to_string(),
        message: e.to_string(),
    })?;
    let mut ledger = ledger_path(&args).map(|p| Ledger::open(&p)).transpose()?;
    let mut progress = Progress::new(todo.len() as u64);
    let mut failed = 0;
    for path in &todo {
        let result = segment_one(&session, &options, path, &args, ledger.as_mut());
        progress.tick();
        match result {
            Ok(lines) => progress.suspend(|| lines.iter().for_each(|l| println!("{l}"))),
            Err(e) => {
                progress.suspend(|| eprintln!("error: {e}"));
                failed += 1;
            }
        }
    }
    progress.finish();
    if failed > 0 {
        return Err(Error::BadArgument(format!(
            "{failed} of {} photos could not be segmented",
            todo.len()
        )));
    }
    Ok(())
}

/// Segments one photo: its mask (and overlay) in `--out` and a row in the ledger. Returns the
/// lines for stdout.
fn segment_one(
    session: &Session,
    options: &SegmentOptions,
    path: &Path,
    args: &SegmentArgs,
    ledger: Option<&mut Ledger>,
) -> Result<Vec<String>, Error> {
    let start = std::time::Instant::now();
    let (name, photo) = hold_photo(session, path)?;
    let segmentation = pollster::block_on(session.segment(&name, options))?;
    let (width, height) = photo.dimensions();
    let lesion_pixels = segmentation.mask.iter().filter(|&&v| v > 0).count() as u64;
    let mask =
        GrayImage::from_raw(width, height, segmentation.mask).expect("a mask at the photo's size");
    let mask_file = mask_name(path);
    let target = args.out.join(&mask_file);
    if args.overlay {
        write_png(
            &args.out.join(overlay_name(&mask_file)),
            overlay(&photo, &mask, 0.35),
        )?;
    }
    // The mask last: it marks the photo done for a resumed run.
    write_png(&target, mask)?;
    let check = &segmentation.check;
    if let Some(ledger) = ledger {
        ledger.add(&Row {
            photo: &name,
            mask: &mask_file,
            width,
            height,
            lesion_pixels,
            ms: start.elapsed().as_secs_f64() * 1e3,
            looks_like_dermoscopy: check.looks_like_dermoscopy,
            warning: check.warning.as_deref().unwrap_or(""),
        })?;
    }
    let mut lines = vec![format!("{} -> {}", name, target.display())];
    if let Some(warning) = &check.warning {
        lines.push(format!("warning: {name}: {warning}"));
    }
    Ok(lines)
}
