//! What the subcommands share: finding and loading weights, reading photos.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use clap::Args;
use lesionlab::backend::DeviceSpec;
use lesionlab::clean::Lesions;
use lesionlab::data::{FileKind, classify, decode_image};
use lesionlab::session::{Backend, SegmentOptions, Session};
use lesionlab::{Architecture, Error, InferenceMode};

/// How U-Net++ turns its four heads into one prediction; the other models have one head.
#[derive(Args, Debug, Clone, Copy)]
pub struct ModeArgs {
    /// U-Net++'s head N alone (1-4), running only the nodes it needs (`--fast N`, its earlier
    /// name, still works). Without it and without --mean-of-heads: head 4, the deepest, which
    /// scores best (model card).
    #[arg(long, alias = "fast", value_parser = clap::value_parser!(u8).range(1..=4))]
    head: Option<u8>,
    /// U-Net++'s four heads averaged, the report's "accurate" mode (`--accurate` still works).
    #[arg(long, alias = "accurate", conflicts_with = "head")]
    mean_of_heads: bool,
}

impl ModeArgs {
    /// The mode asked for, else [`InferenceMode::DEFAULT`].
    pub fn mode(self) -> InferenceMode {
        match (self.mean_of_heads, self.head) {
            (true, _) => InferenceMode::MeanOfHeads,
            (false, Some(level)) => InferenceMode::Head(level),
            (false, None) => InferenceMode::DEFAULT,
        }
    }
}

/// How the model's probability becomes the mask: the threshold, one lesion or all, refine.
#[derive(Args, Debug, Clone, Copy)]
pub struct MaskArgs {
    /// Probability above which a pixel is lesion.
    #[arg(long, default_value_t = lesionlab::rules::THRESHOLD)]
    threshold: f32,
    /// one: keep the one lesion the photo was taken of (the region with the most probability
    /// near the centre) and fill its holes; all: every region the model marks.
    #[arg(long, default_value = "one", value_parser = parse_lesions)]
    lesions: Lesions,
    /// A second pass on a crop around the kept lesion, pasted back (`--refine false`: one
    /// pass).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    refine: bool,
}

fn parse_lesions(s: &str) -> Result<Lesions, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

impl MaskArgs {
    /// The crate's segment options in `mode`.
    pub fn options(self, mode: InferenceMode, tta: bool) -> SegmentOptions {
        SegmentOptions {
            tta,
            threshold: self.threshold,
            lesions: self.lesions,
            refine: self.refine,
            ..SegmentOptions::new(mode)
        }
    }
}

/// Where the model runs.
#[derive(Args, Debug, Clone, Copy)]
pub struct BackendArgs {
    /// cpu (Flex, on every core), wgpu (Vulkan, Metal or DirectX 12) or cuda, with `:N` for
    /// the backend's device N (`cuda:1`). wgpu and cuda need a build with that feature (README,
    /// "Backends").
    #[arg(long, default_value = "cpu", value_name = "BACKEND[:N]", value_parser = parse_backend)]
    backend: DeviceSpec,
}

fn parse_backend(s: &str) -> Result<DeviceSpec, String> {
    match s.parse::<DeviceSpec>().map_err(|e| e.to_string())? {
        DeviceSpec { backend: None, .. } => Err(format!(
            "'{s}' names no backend: give cpu, wgpu or cuda, with :N for a device other than 0"
        )),
        spec => Ok(spec),
    }
}

impl BackendArgs {
    /// The backend named.
    pub fn backend(self) -> Backend {
        self.backend.backend.unwrap_or(Backend::Cpu)
    }

    /// The device named, opened.
    pub fn device(self) -> Result<Device, Error> {
        lesionlab::backend::device(self.backend(), self.backend.index)
    }
}

/// Loads `weights` (or the shipped defaults) for `arch` into a session on `on`'s device, the
/// page's road from a photo to a mask; `size` overrides the input size the file records.
pub fn load_session(
    arch: Architecture,
    weights_path: Option<&Path>,
    size: Option<usize>,
    on: BackendArgs,
) -> Result<Session, Error> {
    let (path, bytes) = read_weights(arch, weights_path)?;
    Session::new(
        arch,
        on.backend(),
        on.device()?,
        bytes,
        &path.display().to_string(),
        size.map(|s| s as u32),
    )
}

/// The shipped default weights of a model: `weights/<name>.safetensors` in the repository, or in
/// `$LESIONLAB_WEIGHTS` when set.
pub fn default_weights(arch: Architecture) -> PathBuf {
    let dir = std::env::var_os("LESIONLAB_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("weights"));
    dir.join(format!("{}.safetensors", arch.name()))
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Decodes the photo at `path` and gives it to `session` under its path, the key every later
/// call names it by. Returns the key and the decoded photo.
pub fn hold_photo(session: &Session, path: &Path) -> Result<(String, image::RgbImage), Error> {
    let name = path.display().to_string();
    let photo = decode_image(&read(path)?, &name)?;
    session.set_photo_image(name.clone(), &photo);
    Ok((name, photo))
}

/// The bytes of `weights_path`, or of the shipped default weights of `arch`, and the path read.
fn read_weights(
    arch: Architecture,
    weights_path: Option<&Path>,
) -> Result<(PathBuf, Vec<u8>), Error> {
    let path = weights_path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_weights(arch));
    let bytes = read(&path).map_err(|e| match (weights_path, e) {
        (None, Error::Io { path, message }) => Error::Io {
            path,
            message: format!("{message} (the shipped default weights; pass --weights FILE)"),
        },
        (_, e) => e,
    })?;
    Ok((path, bytes))
}

/// The photos among `inputs`: files as given, and the photos of folders (not their masks),
/// sorted by name.
pub fn photos(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|e| Error::Io {
                path: input.display().to_string(),
                message: e.to_string(),
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_photo(p))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

/// Photos by the pairing rule's names: masks (`NAME_segmentation.png`, `NAME_mask.png`) and
/// other files in a folder are left alone.
fn is_photo(path: &Path) -> bool {
    matches!(classify(&path.to_string_lossy()), FileKind::Image(_))
}

/// An image as PNG bytes.
pub fn png(img: &image::DynamicImage) -> Result<Vec<u8>, Error> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("a PNG could not be encoded: {e}")))?;
    Ok(out.into_inner())
}

/// Writes an image as a PNG file ([`write_atomic`]).
pub fn write_png(path: &Path, img: impl Into<image::DynamicImage>) -> Result<(), Error> {
    write_atomic(path, &png(&img.into())?)
}

/// Prints a result as pretty JSON, the `--json` form of every subcommand.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Internal(format!("a result could not be encoded: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Writes through a temporary file, so an interrupted write never replaces a good file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
