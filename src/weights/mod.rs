//! Weights in and out as safetensors with PyTorch `state_dict` key names.
//!
//! A file written here loads into the PyTorch models of `shared/golden/make_golden.py` with
//! `load_state_dict(..., strict=True)` (PyTorch fills the missing `num_batches_tracked`), and a
//! file written by PyTorch loads here. Widths are read from the tensor shapes, so a file of any
//! preset loads without being told which.

use std::collections::{BTreeMap, HashMap};

use burn::prelude::*;
use burn::store::{HalfPrecisionAdapter, ModuleSnapshot, SafetensorsStore};
use safetensors::SafeTensors;

use crate::Error;
use crate::model::{Architecture, Model, NestedUNetConfig, PspNetConfig, UNetConfig};

pub mod fast_only;
mod quantize;

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

/// Regex rewrites between Burn module paths and PyTorch keys, applied in order.
struct KeyMap {
    to_burn: Vec<(&'static str, &'static str)>,
    to_torch: Vec<(&'static str, &'static str)>,
}

fn key_map(model: &Model) -> KeyMap {
    match model {
        Model::UNet(_) => KeyMap {
            to_burn: vec![
                (r"^(enc[234]|bottleneck)\.1\.", "${1}."),
                (r"\.net\.0\.", ".conv1."),
                (r"\.net\.1\.", ".bn1."),
                (r"\.net\.3\.", ".conv2."),
                (r"\.net\.4\.", ".bn2."),
                (r"^final\.", "final_conv."),
            ],
            to_torch: vec![
                (r"\.conv1\.", ".net.0."),
                (r"\.bn1\.", ".net.1."),
                (r"\.conv2\.", ".net.3."),
                (r"\.bn2\.", ".net.4."),
                (r"^(enc[234]|bottleneck)\.", "${1}.1."),
                (r"^final_conv\.", "final."),
            ],
        },
        Model::NestedUNet(m) if m.deep_supervision() => KeyMap {
            to_burn: vec![
                (r"^final1\.", "heads.0."),
                (r"^final2\.", "heads.1."),
                (r"^final3\.", "heads.2."),
                (r"^final4\.", "heads.3."),
            ],
            to_torch: vec![
                (r"^heads\.0\.", "final1."),
                (r"^heads\.1\.", "final2."),
                (r"^heads\.2\.", "final3."),
                (r"^heads\.3\.", "final4."),
            ],
        },
        Model::NestedUNet(_) => KeyMap {
            to_burn: vec![(r"^final\.", "heads.0.")],
            to_torch: vec![(r"^heads\.0\.", "final.")],
        },
        Model::PspNet(_) => KeyMap {
            to_burn: vec![
                (r"^encoder\.0\.", "encoder.conv1."),
                (r"^encoder\.1\.", "encoder.bn1."),
                (r"^encoder\.3\.", "encoder.conv2."),
                (r"^encoder\.4\.", "encoder.bn2."),
                (r"^ppm\.stages\.(\d+)\.1\.", "ppm.stages.${1}.conv."),
                (r"^ppm\.stages\.(\d+)\.2\.", "ppm.stages.${1}.bn."),
                (r"^ppm\.bottleneck\.0\.", "ppm.bottleneck."),
                (r"^ppm\.bottleneck\.1\.", "ppm.bottleneck_bn."),
                (r"^decoder\.0\.", "decoder.conv."),
                (r"^decoder\.1\.", "decoder.bn."),
                (r"^decoder\.3\.", "decoder.classifier."),
            ],
            to_torch: vec![
                (r"^encoder\.conv1\.", "encoder.0."),
                (r"^encoder\.bn1\.", "encoder.1."),
                (r"^encoder\.conv2\.", "encoder.3."),
                (r"^encoder\.bn2\.", "encoder.4."),
                (r"^ppm\.stages\.(\d+)\.conv\.", "ppm.stages.${1}.1."),
                (r"^ppm\.stages\.(\d+)\.bn\.", "ppm.stages.${1}.2."),
                (r"^ppm\.bottleneck\.", "ppm.bottleneck.0."),
                (r"^ppm\.bottleneck_bn\.", "ppm.bottleneck.1."),
                (r"^decoder\.conv\.", "decoder.0."),
                (r"^decoder\.bn\.", "decoder.1."),
                (r"^decoder\.classifier\.", "decoder.3."),
            ],
        },
    }
}

/// Tensor names and shapes of a safetensors file, and its metadata, read from the header only.
struct Header {
    shapes: HashMap<String, Vec<usize>>,
    metadata: HashMap<String, String>,
    /// Whether any tensor is stored as float16 (the shipped weights' convolutions are).
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
        shapes,
        metadata,
        half,
    })
}

fn weights_error(source: &str, message: impl Into<String>) -> Error {
    Error::Weights {
        source_name: source.to_string(),
        message: message.into(),
    }
}

/// Which architecture a file's keys belong to, if any.
fn detect(header: &Header) -> Option<Architecture> {
    if let Some(arch) = header.metadata.get(MODEL_KEY).and_then(|m| m.parse().ok()) {
        return Some(arch);
    }
    let has = |k: &str| header.shapes.contains_key(k);
    if has("enc1.net.0.weight") {
        Some(Architecture::UNet)
    } else if has("conv0_0.conv1.weight") {
        Some(Architecture::UNetPlusPlus)
    } else if has("encoder.0.weight") && has("ppm.bottleneck.0.weight") {
        Some(Architecture::PspNet)
    } else {
        None
    }
}

/// Builds an uninitialised-weights model whose widths fit the file's tensor shapes (a
/// quick-start file's, of `fast_level`, records them).
fn model_for(
    arch: Architecture,
    header: &Header,
    fast_level: Option<u8>,
    source: &str,
    device: &Device,
) -> Result<Model, Error> {
    let dim = |key: &str, axis: usize| -> Result<usize, Error> {
        header
            .shapes
            .get(key)
            .and_then(|s| s.get(axis).copied())
            .ok_or_else(|| {
                weights_error(
                    source,
                    format!("missing tensor '{key}' of a {}", arch.display_name()),
                )
            })
    };
    // Output channels of the first convolution of each depth.
    let widths = |keys: [&str; 5]| -> Result<[usize; 5], Error> {
        let mut out = [0; 5];
        for (w, key) in out.iter_mut().zip(keys) {
            *w = dim(key, 0)?;
        }
        Ok(out)
    };
    Ok(match arch {
        Architecture::UNet => {
            let w = widths([
                "enc1.net.0.weight",
                "enc2.1.net.0.weight",
                "enc3.1.net.0.weight",
                "enc4.1.net.0.weight",
                "bottleneck.1.net.0.weight",
            ])?;
            Model::UNet(
                UNetConfig::new(w)
                    .with_in_channels(dim("enc1.net.0.weight", 1)?)
                    .init(device),
            )
        }
        Architecture::UNetPlusPlus => {
            let nb = if fast_level.is_some() {
                // A quick-start file leaves out the deeper nodes, and with them their widths.
                fast_only::widths(&header.metadata).map_err(|e| weights_error(source, e))?
            } else {
                widths([
                    "conv0_0.conv1.weight",
                    "conv1_0.conv1.weight",
                    "conv2_0.conv1.weight",
                    "conv3_0.conv1.weight",
                    "conv4_0.conv1.weight",
                ])?
            };
            let ds = header.shapes.contains_key("final1.weight");
            Model::NestedUNet(
                NestedUNetConfig::new(nb)
                    .with_deep_supervision(ds)
                    .with_in_channels(dim("conv0_0.conv1.weight", 1)?)
                    .init(device),
            )
        }
        Architecture::PspNet => {
            let stages = (0..)
                .take_while(|i| {
                    header
                        .shapes
                        .contains_key(&format!("ppm.stages.{i}.1.weight"))
                })
                .count();
            let pool_sizes = if stages == 4 {
                vec![1, 2, 3, 6]
            } else {
                (1..=stages).collect()
            };
            if stages != 4 {
                return Err(weights_error(
                    source,
                    format!(
                        "a PSPNet here has 4 pyramid stages (1, 2, 3, 6), the file has {stages}"
                    ),
                ));
            }
            let config = PspNetConfig::new(
                dim("encoder.3.weight", 0)?,
                dim("ppm.stages.0.1.weight", 0)?,
                dim("decoder.0.weight", 0)?,
            )
            .with_pool_sizes(pool_sizes)
            .with_in_channels(dim("encoder.0.weight", 1)?);
            Model::PspNet(config.init(device))
        }
    })
}

/// Loads a model from safetensors bytes, checking that they hold an `expected` model and that
/// every tensor is present with the right shape.
///
/// `source` names the bytes in error messages (a path or URL). The returned model is new:
/// a failed load leaves whatever model the caller holds untouched. A quick-start file
/// ([`fast_only`]) is refused: see [`load_allowing_fast_only`].
pub fn load(
    bytes: Vec<u8>,
    expected: Architecture,
    source: &str,
    device: &Device,
) -> Result<Model, Error> {
    match load_allowing_fast_only(bytes, expected, source, device)? {
        (model, None) => Ok(model),
        (_, Some(level)) => Err(weights_error(
            source,
            format!(
                "this quick-start file holds only the weights of U-Net++'s fast mode up to level {level}: load the whole weights file"
            ),
        )),
    }
}

/// [`load`], also taking a quick-start file ([`fast_only`]): the model then has only the
/// weights of the fast modes up to the level returned (`None` for a whole file), and must not
/// run anything else.
pub fn load_allowing_fast_only(
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
    let fast_level = fast_only::level(&header.metadata).map_err(|e| weights_error(source, e))?;
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
        .metadata
        .get(TEST_PANIC_KEY)
        .is_some_and(|v| v == "load")
    {
        panic!("deliberate panic while loading '{source}' (test hook)");
    }
    let mut model = model_for(expected, &header, fast_level, source, device)?;
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
    if let Some(size) = header.metadata.get(INPUT_SIZE_KEY) {
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
    let map = key_map(model);
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .allow_partial(true)
        .validate(false);
    if header.half {
        // Casts float16 tensors to float32; float32 ones would be cast the other way, so only
        // files that hold float16 get the adapter.
        store = store.with_from_adapter(HalfPrecisionAdapter::new());
    }
    for (from, to) in &map.to_burn {
        store = store.with_key_remapping(*from, *to);
    }
    let result = match model {
        Model::UNet(m) => m.load_from(&mut store),
        Model::NestedUNet(m) => m.load_from(&mut store),
        Model::PspNet(m) => m.load_from(&mut store),
    }
    .map_err(|e| weights_error(source, e.to_string()))?;

    let torch = |burn_path: &str| to_torch_key(burn_path, &map);
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
        Some(level) => fast_only::first_level(key).is_some_and(|l| l <= level),
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
                    original_key(k, header, &map)
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

fn to_torch_key(burn_path: &str, map: &KeyMap) -> String {
    rewrite(burn_path, &map.to_torch)
}

/// The PyTorch `state_dict` key of a Burn module path (`enc2.conv1.weight` → `enc2.1.net.0.weight`).
pub fn torch_key(model: &Model, burn_path: &str) -> String {
    to_torch_key(burn_path, &key_map(model))
}

/// The file's own name for a key the store reports after remapping.
fn original_key(remapped: &str, header: &Header, map: &KeyMap) -> String {
    header
        .shapes
        .keys()
        .find(|k| rewrite(k, &map.to_burn) == remapped)
        .cloned()
        .unwrap_or_else(|| remapped.to_string())
}

fn rewrite(key: &str, patterns: &[(&str, &str)]) -> String {
    let mut out = key.to_string();
    for (from, to) in patterns {
        let re = regex::Regex::new(from).expect("key patterns are valid regexes");
        out = re.replace_all(&out, *to).into_owned();
    }
    out
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
    let map = key_map(model);
    let mut store =
        SafetensorsStore::from_bytes(None).metadata(MODEL_KEY, model.architecture().name());
    if let Some(size) = input_size {
        store = store.metadata(INPUT_SIZE_KEY, size.to_string());
    }
    if kernels == StoredAs::F16 {
        store = store.with_to_adapter(HalfPrecisionAdapter::new());
    }
    for (from, to) in &map.to_torch {
        store = store.with_key_remapping(*from, *to);
    }
    let bytes = match model {
        Model::UNet(m) => m.save_into(&mut store),
        Model::NestedUNet(m) => m.save_into(&mut store),
        Model::PspNet(m) => m.save_into(&mut store),
    }
    .and_then(|_| store.get_bytes())
    .map_err(|e| weights_error("(in memory)", e.to_string()))?;
    match kernels {
        StoredAs::Int8 => quantize::quantize(&bytes).map_err(|e| weights_error("(in memory)", e)),
        StoredAs::F32 | StoredAs::F16 => Ok(bytes),
    }
}

/// Tensor shapes by PyTorch key, as [`save`] would write them.
pub fn torch_shapes(model: &Model) -> BTreeMap<String, Vec<usize>> {
    let map = key_map(model);
    collect(model)
        .into_iter()
        .map(|t| (to_torch_key(&t.name, &map), t.shape.to_vec()))
        .collect()
}

fn collect(model: &Model) -> Vec<burn::store::burn_pack::Tensor> {
    match model {
        Model::UNet(m) => m.collect(None, None, false),
        Model::NestedUNet(m) => m.collect(None, None, false),
        Model::PspNet(m) => m.collect(None, None, false),
    }
}

/// Parameters as PyTorch's `parameters()` counts them: running statistics are buffers.
pub(crate) fn trainable_params(model: &Model) -> usize {
    collect(model)
        .iter()
        .filter(|t| !(t.name.ends_with("running_mean") || t.name.ends_with("running_var")))
        .map(|t| t.shape.num_elements())
        .sum()
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
            let logits = model.predict(x.clone(), crate::InferenceMode::Accurate);
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
                    - back.predict(x.clone(), crate::InferenceMode::Accurate))
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
