//! Weights in and out as safetensors with PyTorch `state_dict` key names.
//!
//! A file written here loads into the PyTorch models of `shared/golden/make_golden.py` with
//! `load_state_dict(..., strict=True)` (PyTorch fills the missing `num_batches_tracked`), and a
//! file written by PyTorch loads here. Widths are read from the tensor shapes, so a file of any
//! preset loads without being told which.

use std::collections::BTreeMap;

use burn::prelude::*;
use burn::store::{HalfPrecisionAdapter, ModuleSnapshot, SafetensorsStore};
use safetensors::SafeTensors;

use crate::Error;
use crate::model::{Architecture, Model, StoredTensors};

mod quantize;
pub mod quick_start;

/// How a weights file stores the convolution kernels (everything else is float32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoredAs {
    /// float32: what PyTorch writes and loads (`load_state_dict(strict=True)`).
    #[default]
    F32,
    /// float16 kernels: half the bytes; PyTorch casts them back on load.
    F16,
    /// int8 kernels with a float32 scale per output channel (`quantize.rs`): a quarter of the
    /// bytes, read only here.
    Int8,
}

impl std::str::FromStr for StoredAs {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "f32" | "float32" => Ok(StoredAs::F32),
            "f16" | "float16" => Ok(StoredAs::F16),
            "int8" | "i8" => Ok(StoredAs::Int8),
            _ => Err(Error::BadArgument(format!(
                "unknown weights type '{s}': expected f32, f16 or int8"
            ))),
        }
    }
}

/// Metadata key holding the architecture name in files written here.
pub const MODEL_KEY: &str = "lesionlab.model";

/// Metadata key holding the input size (height = width) the weights were trained at.
pub const INPUT_SIZE_KEY: &str = "lesionlab.input_size";

/// Metadata key of the browser tests' hook (builds with `test-hooks` only): `load` makes
/// loading the file panic, `use` its first segmentation (`crate::web`).
pub const TEST_PANIC_KEY: &str = "lesionlab.test.panic";

/// A metadata value of a weights file, read from its header only.
pub fn metadata(bytes: &[u8], key: &str) -> Option<String> {
    let (_, meta) = SafeTensors::read_metadata(bytes).ok()?;
    meta.metadata().as_ref()?.get(key).cloned()
}

/// The input size recorded in a weights file, if any.
pub fn input_size(bytes: &[u8]) -> Option<usize> {
    metadata(bytes, INPUT_SIZE_KEY)?.parse().ok()
}

/// Tensor names and shapes of a safetensors file, and its metadata, read from the header only.
struct Header {
    stored: StoredTensors,
    half: bool,
}

fn read_header(bytes: &[u8], source: &str) -> Result<Header, Error> {
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| weights_error(source, format!("not a readable safetensors file ({e})")))?;
    let tensors = meta.tensors();
    let half = tensors
        .values()
        .any(|info| info.dtype == safetensors::Dtype::F16);
    let shapes = tensors
        .into_iter()
        .map(|(name, info)| (name, info.shape.clone()))
        .collect();
    let metadata = meta.metadata().clone().unwrap_or_default();
    Ok(Header {
        stored: StoredTensors { shapes, metadata },
        half,
    })
}

fn weights_error(source: &str, message: impl Into<String>) -> Error {
    Error::Weights {
        source_name: source.to_string(),
        message: message.into(),
    }
}

/// The architecture a file holds: recorded by LesionLab, else recognised by its keys.
fn detect(header: &Header) -> Option<Architecture> {
    match header
        .stored
        .metadata
        .get(MODEL_KEY)
        .and_then(|m| m.parse().ok())
    {
        Some(arch) => Some(arch),
        None => Architecture::recognise(&header.stored),
    }
}

/// Loads a model from safetensors bytes, checking that they hold an `expected` model and that
/// every tensor is present with the right shape.
///
/// `source` names the bytes in error messages (a path or URL). The returned model is new:
/// a failed load leaves whatever model the caller holds untouched. A quick-start file
/// ([`quick_start`]) is refused: see [`load_allowing_quick_start`].
pub fn load(
    bytes: Vec<u8>,
    expected: Architecture,
    source: &str,
    device: &Device,
) -> Result<Model, Error> {
    match load_allowing_quick_start(bytes, expected, source, device)? {
        (model, None) => Ok(model),
        (_, Some(level)) => Err(weights_error(
            source,
            format!(
                "this quick-start file holds only the weights of U-Net++'s fast mode up to level {level}: load the whole weights file"
            ),
        )),
    }
}

/// [`load`], also taking a quick-start file ([`quick_start`]): the model then has only the
/// weights of the fast modes up to the level returned (`None` for a whole file), and must not
/// run anything else.
pub fn load_allowing_quick_start(
    bytes: Vec<u8>,
    expected: Architecture,
    source: &str,
    device: &Device,
) -> Result<(Model, Option<u8>), Error> {
    check_dtypes(&bytes, source)?;
    // int8 kernels become float32 once, here; nothing after this sees them.
    let bytes = match quantize::dequantize(&bytes) {
        Ok(Some(f32_file)) => f32_file,
        Ok(None) => bytes,
        Err(e) => return Err(weights_error(source, e)),
    };
    let header = read_header(&bytes, source)?;
    match detect(&header) {
        Some(found) if found != expected => {
            return Err(weights_error(
                source,
                format!(
                    "this file holds {} weights, not {} weights",
                    found.display_name(),
                    expected.display_name()
                ),
            ));
        }
        None => {
            return Err(weights_error(
                source,
                format!(
                    "no {} tensors found (is this a LesionLab or PyTorch weights file?)",
                    expected.display_name()
                ),
            ));
        }
        Some(_) => {}
    }
    let fast_level =
        quick_start::level(&header.stored.metadata).map_err(|e| weights_error(source, e))?;
    if fast_level.is_some() && expected != Architecture::UNetPlusPlus {
        return Err(weights_error(
            source,
            "a quick-start file (fast modes only) is a U-Net++ file",
        ));
    }
    check_contents(&bytes, &header, expected, source)?;
    // The browser tests' way to make a load panic, to check that the page recovers with the
    // weights it had (only in builds with `test-hooks`).
    #[cfg(feature = "test-hooks")]
    if header
        .stored
        .metadata
        .get(TEST_PANIC_KEY)
        .is_some_and(|v| v == "load")
    {
        panic!("deliberate panic while loading '{source}' (test hook)");
    }
    let mut model = expected
        .model_from(&header.stored, device)
        .map_err(|e| weights_error(source, e))?;
    apply(&mut model, bytes, &header, fast_level, source)?;
    Ok((model, fast_level))
}

/// Refuses a tensor stored as anything but float32, float16 or int8 (Burn panics on the others);
/// PyTorch's integer `num_batches_tracked` counters are allowed: they are not loaded.
fn check_dtypes(bytes: &[u8], source: &str) -> Result<(), Error> {
    use safetensors::Dtype;
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| weights_error(source, format!("not a readable safetensors file ({e})")))?;
    for (name, info) in meta.tensors() {
        let readable = matches!(info.dtype, Dtype::F32 | Dtype::F16 | Dtype::I8)
            || name.ends_with("num_batches_tracked");
        if !readable {
            return Err(weights_error(
                source,
                format!(
                    "tensor '{name}' is stored as {:?}; LesionLab reads float32, float16 and int8 weights (convert with PyTorch's `.float()`, then `lesionlab export`)",
                    info.dtype
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses, before anything is built from it, what loading would otherwise trust: an input size
/// the model cannot run (an allocation would be sized from it) and a NaN or an infinity (every
/// mask would come out empty).
fn check_contents(
    bytes: &[u8],
    header: &Header,
    arch: Architecture,
    source: &str,
) -> Result<(), Error> {
    if let Some(size) = header.stored.metadata.get(INPUT_SIZE_KEY) {
        let fits = size
            .parse::<usize>()
            .is_ok_and(|s| crate::rules::check_input_size(arch, s).is_ok());
        if !fits {
            let (lo, hi) = (crate::rules::MIN_INPUT_SIZE, crate::rules::MAX_INPUT_SIZE);
            return Err(weights_error(
                source,
                format!(
                    "the file records input size '{size}', which {} cannot run (it needs {lo} to {hi}, a multiple of {})",
                    arch.display_name(),
                    arch.size_multiple()
                ),
            ));
        }
    }
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| weights_error(source, format!("not a readable safetensors file ({e})")))?;
    for (name, view) in tensors.iter() {
        let data = view.data();
        let first_bad = match view.dtype() {
            safetensors::Dtype::F32 => data
                .chunks_exact(4)
                .position(|c| !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite()),
            // Exponent bits all set: infinity or NaN.
            safetensors::Dtype::F16 => data
                .chunks_exact(2)
                .position(|c| u16::from_le_bytes([c[0], c[1]]) & 0x7C00 == 0x7C00),
            // PyTorch's integer counters ([`check_dtypes`] refused every other type).
            _ => None,
        };
        if let Some(i) = first_bad {
            return Err(weights_error(
                source,
                format!(
                    "tensor '{name}' holds a NaN or an infinity (element {i}): the training that wrote it diverged; use an earlier checkpoint"
                ),
            ));
        }
    }
    Ok(())
}

/// Loads `bytes` into `model`; with `fast_level`, the tensors of deeper levels may be missing.
fn apply(
    model: &mut Model,
    bytes: Vec<u8>,
    header: &Header,
    fast_level: Option<u8>,
    source: &str,
) -> Result<(), Error> {
    let map = model.key_map();
    let arch = model.architecture();
    let bytes =
        rename_tensors(&bytes, |key| arch.burn_key(key)).map_err(|e| weights_error(source, e))?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .allow_partial(true)
        .validate(false);
    if header.half {
        // Casts float16 tensors to float32; float32 ones would be cast the other way, so only
        // files that hold float16 get the adapter.
        store = store.with_from_adapter(HalfPrecisionAdapter::new());
    }
    let result = match model {
        Model::UNet(m) => m.load_from(&mut store),
        Model::NestedUNet(m) => m.load_from(&mut store),
        Model::PspNet(m) => m.load_from(&mut store),
    }
    .map_err(|e| weights_error(source, e.to_string()))?;

    let torch = |burn_path: &str| map.to_torch(burn_path);
    let mut problems: Vec<String> = result
        .errors
        .iter()
        .map(|e| match e {
            burn::store::ApplyError::ShapeMismatch {
                path,
                expected,
                found,
            } => {
                format!(
                    "tensor '{}' has shape {:?}, the model needs {:?}",
                    torch(path),
                    found.to_vec(),
                    expected.to_vec()
                )
            }
            other => other.to_string(),
        })
        .collect();
    let needed = |key: &str| match fast_level {
        Some(level) => quick_start::first_level(key).is_some_and(|l| l <= level),
        None => true,
    };
    problems.extend(
        result
            .missing
            .iter()
            .map(|(path, _)| torch(path))
            .filter(|key| needed(key))
            .map(|key| format!("tensor '{key}' is missing")),
    );
    problems.extend(
        result
            .unused
            .iter()
            .filter(|k| !k.ends_with("num_batches_tracked"))
            .map(|k| {
                format!(
                    "tensor '{}' does not belong to this model",
                    original_key(k, header, arch)
                )
            }),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        let n = problems.len();
        problems.truncate(8);
        let more = if n > 8 {
            format!(" (and {} more)", n - 8)
        } else {
            String::new()
        };
        Err(weights_error(
            source,
            format!("{}{more}", problems.join("; ")),
        ))
    }
}

/// The PyTorch key of a Burn module path of `model`.
pub fn torch_key(model: &Model, burn_path: &str) -> String {
    model.key_map().to_torch(burn_path)
}

/// The file's own name of a tensor that, renamed, became `renamed`: error messages name what
/// the user's file holds.
fn original_key(renamed: &str, header: &Header, arch: Architecture) -> String {
    header
        .stored
        .shapes
        .keys()
        .find(|k| arch.burn_key(k) == renamed)
        .cloned()
        .unwrap_or_else(|| renamed.to_string())
}

/// A safetensors file with every tensor renamed by `rename` (the data untouched): PyTorch keys
/// to Burn paths before loading, and back after saving.
fn rename_tensors(bytes: &[u8], rename: impl Fn(&str) -> String) -> Result<Vec<u8>, String> {
    let unreadable = || "not a readable safetensors file (its header)".to_string();
    let n = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("eight bytes")) as usize)
        .ok_or_else(unreadable)?;
    let text = bytes.get(8..8 + n).ok_or_else(unreadable)?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(text).map_err(|_| unreadable())?;
    let renamed: serde_json::Map<String, serde_json::Value> = header
        .into_iter()
        .map(|(key, value)| match key.as_str() {
            "__metadata__" => (key, value),
            _ => (rename(&key), value),
        })
        .collect();
    let mut text = serde_json::to_vec(&renamed).map_err(|e| e.to_string())?;
    // The data starts 8-byte aligned, as safetensors writes it.
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + bytes.len() - 8 - n);
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text);
    out.extend(&bytes[8 + n..]);
    Ok(out)
}

/// Serialises a model's weights and batch-norm statistics as safetensors with PyTorch key
/// names, tagging the file with the architecture.
///
/// On WebGPU in the browser, move the model to a CPU device first: reading tensors back
/// synchronously is not possible there.
pub fn save(model: &Model) -> Result<Vec<u8>, Error> {
    save_with(model, None, StoredAs::F32)
}

/// [`save`], recording the input size the model was trained at.
pub fn save_with_input_size(model: &Model, input_size: Option<usize>) -> Result<Vec<u8>, Error> {
    save_with(model, input_size, StoredAs::F32)
}

/// [`save`] with options: the input size to record, and how to store the convolution kernels
/// ([`StoredAs`]; batch-norm statistics stay float32, where float16 underflows). [`load`]
/// reads every form.
pub fn save_with(
    model: &Model,
    input_size: Option<usize>,
    kernels: StoredAs,
) -> Result<Vec<u8>, Error> {
    // `valid` folds batch-norm statistics updated during training into the stored value.
    let model = &model.valid();
    let map = model.key_map();
    let mut store =
        SafetensorsStore::from_bytes(None).metadata(MODEL_KEY, model.architecture().name());
    if let Some(size) = input_size {
        store = store.metadata(INPUT_SIZE_KEY, size.to_string());
    }
    if kernels == StoredAs::F16 {
        store = store.with_to_adapter(HalfPrecisionAdapter::new());
    }
    let bytes = match model {
        Model::UNet(m) => m.save_into(&mut store),
        Model::NestedUNet(m) => m.save_into(&mut store),
        Model::PspNet(m) => m.save_into(&mut store),
    }
    .and_then(|_| store.get_bytes())
    .map_err(|e| weights_error("(in memory)", e.to_string()))?;
    let bytes = rename_tensors(&bytes, |path| map.to_torch(path))
        .map_err(|e| weights_error("(in memory)", e))?;
    match kernels {
        StoredAs::Int8 => quantize::quantize(&bytes).map_err(|e| weights_error("(in memory)", e)),
        StoredAs::F32 | StoredAs::F16 => Ok(bytes),
    }
}

/// Every tensor's PyTorch key and shape, as a file written by [`save`] holds them.
pub fn torch_shapes(model: &Model) -> BTreeMap<String, Vec<usize>> {
    let map = model.key_map();
    model
        .tensors()
        .into_iter()
        .map(|t| (map.to_torch(&t.name), t.shape.to_vec()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Architecture, Preset};
    use burn::tensor::Distribution;

    /// `bytes` (a safetensors file) with its header rewritten by `edit`.
    fn with_header(bytes: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        edit(&mut header);
        let mut text = serde_json::to_vec(&header).unwrap();
        while !text.len().is_multiple_of(8) {
            text.push(b' ');
        }
        let mut out = (text.len() as u64).to_le_bytes().to_vec();
        out.extend(text);
        out.extend(&bytes[8 + n..]);
        out
    }

    #[test]
    fn weights_that_cannot_work_are_refused_naming_the_tensor() {
        let device = Device::flex();
        let model = Model::init(Architecture::PspNet, Preset::Web, &device).valid();
        let good = save_with(&model, Some(128), StoredAs::F32).unwrap();
        let refused = |bytes: Vec<u8>| {
            let e = load(bytes, Architecture::PspNet, "w.safetensors", &device).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Weights);
            e.to_string()
        };
        for (size, says) in [("0", "'0'"), ("65536", "'65536'"), ("big", "'big'")] {
            let bytes = with_header(&good, |h| {
                h["__metadata__"][INPUT_SIZE_KEY] = size.into();
            });
            let e = refused(bytes);
            assert!(e.contains(says) && e.contains("32 to 512"), "{e}");
        }
        // The first float32 value of the first tensor's data made NaN.
        let n = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&good[8..8 + n]).unwrap();
        let (name, info) = header
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, v)| *k != "__metadata__" && v["data_offsets"][0] == 0)
            .unwrap();
        let mut nan = good.clone();
        nan[8 + n..8 + n + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        let e = refused(nan);
        assert!(e.contains(&format!("tensor '{name}' holds a NaN")), "{e}");
        // The same tensor declared bfloat16 (its bytes are then two bfloat16 values each).
        let shape = info["shape"].clone();
        let bf16 = with_header(&good, |h| {
            let t = &mut h[name.as_str()];
            t["dtype"] = "BF16".into();
            let mut s = shape.clone();
            let last = s.as_array().unwrap().len() - 1;
            s[last] = (s[last].as_u64().unwrap() * 2).into();
            t["shape"] = s;
        });
        let e = refused(bf16);
        assert!(
            e.contains(&format!("tensor '{name}' is stored as BF16")),
            "{e}"
        );
        assert!(load(good, Architecture::PspNet, "w", &device).is_ok());
    }

    #[test]
    fn float16_and_int8_files_are_smaller_and_load_close_to_the_original() {
        let device = Device::flex();
        for arch in Architecture::ALL {
            let model = Model::init(arch, Preset::Web, &device).valid();
            let full = save_with(&model, Some(128), StoredAs::F32).unwrap();
            let x = Tensor::<4>::random([1, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
            let logits = model.predict(x.clone(), crate::InferenceMode::MeanOfHeads);
            // A randomly initialised network's logits can all be near zero (0.03 seen in CI),
            // where rounding errors are not smaller: they are judged against at least 0.1.
            let scale = logits.clone().abs().max().into_scalar::<f32>().max(0.1);
            // (kernels, largest size against float32, largest logit change against the largest logit)
            for (kernels, size, change) in
                [(StoredAs::F16, 0.6, 1e-3), (StoredAs::Int8, 0.35, 3e-2)]
            {
                let file = save_with(&model, Some(128), kernels).unwrap();
                let ratio = file.len() as f64 / full.len() as f64;
                assert!(
                    ratio < size,
                    "{arch} {kernels:?}: {ratio:.2} of float32's bytes"
                );
                assert_eq!(input_size(&file), Some(128));
                let back = load(file, arch, "w.safetensors", &device).unwrap().valid();
                let err = (logits.clone()
                    - back.predict(x.clone(), crate::InferenceMode::MeanOfHeads))
                .abs()
                .max()
                .into_scalar::<f32>();
                assert!(
                    err <= change * scale,
                    "{arch} {kernels:?}: logits change by {err} (largest {scale})"
                );
            }
        }
    }
}
