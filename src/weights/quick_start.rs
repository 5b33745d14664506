//! Quick-start files: the part of a U-Net++ weights file that its fast mode up to one level
//! needs (the nodes x{depth}_{column} with depth + column <= level, and the heads up to that
//! level), so that a page can show a first mask from that head while the rest of the whole
//! file downloads. The shipped `weights/unetpp.fast2.safetensors` holds 6% of the whole file's
//! bytes.
//!
//! A quick-start file is an ordinary safetensors file with its tensors copied unchanged from
//! the whole file, and two more metadata keys: the level, and the widths of the whole network
//! (the depths it leaves out would otherwise not say theirs).

use super::quantize::{self, Tensors};
use crate::model::{NestedUNet, QUICK_START_LEVEL_KEY, QUICK_START_WIDTHS_KEY};

/// The input size the shipped quick-start file records: fast mode level 2 scores best there on
/// the held-out ids, better than at the whole model's 176 (`weights/README.md`), with about
/// half the work.
pub const QUICK_LOOK_SIZE: usize = 128;

/// The lowest fast-mode level that needs tensor `key` of a U-Net++ file with deep supervision
/// (PyTorch names: `conv{depth}_{column}.…` and `final{level}.…`), or `None` for any other key.
pub fn first_level(key: &str) -> Option<u8> {
    let (module, _) = key.split_once('.')?;
    if let Some(head) = module.strip_prefix("final") {
        return head.parse().ok().filter(|l| (1..=4).contains(l));
    }
    NestedUNet::first_level(&format!("x{}", module.strip_prefix("conv")?))
}

/// The file name of a model's shipped quick-start file for `level` (`unetpp.fast2.safetensors`).
pub fn file_name(model: &str, level: u8) -> String {
    format!("{model}.fast{level}.safetensors")
}

/// The quick-start file of `level` cut from a whole U-Net++ file with deep supervision, in any
/// storage (its tensors, int8 scales included, are copied as they are), recording `input_size`
/// if given (the fast mode's own best size can differ from the whole model's).
pub fn cut(whole: &[u8], level: u8, input_size: Option<usize>) -> Result<Vec<u8>, String> {
    if !(1..=4).contains(&level) {
        return Err(format!("a fast-mode level is 1 to 4, got {level}"));
    }
    let (tensors, mut metadata) = quantize::read(whole)?;
    if metadata.contains_key(QUICK_START_LEVEL_KEY) {
        return Err("this is already a quick-start file: cut one from the whole file".into());
    }
    if !tensors.iter().any(|t| t.name == "final4.weight") {
        return Err("only a U-Net++ with deep supervision (heads final1 to final4) has fast modes to cut a quick-start file for".into());
    }
    let widths = (0..5)
        .map(|d| {
            let key = format!("conv{d}_0.conv1.weight");
            tensors
                .iter()
                .find(|t| t.name == key)
                .and_then(|t| t.shape.first().copied())
                .ok_or_else(|| format!("missing tensor '{key}'"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    metadata.insert(QUICK_START_LEVEL_KEY.into(), level.to_string());
    if let Some(size) = input_size {
        metadata.insert(super::INPUT_SIZE_KEY.into(), size.to_string());
    }
    metadata.insert(
        QUICK_START_WIDTHS_KEY.into(),
        widths
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    let kept: Tensors = tensors
        .into_iter()
        .filter(|t| first_level(&t.name).is_some_and(|l| l <= level))
        .collect();
    quantize::write(&kept, metadata)
}

/// The level a quick-start file's metadata records, `None` for a whole file, or what is wrong.
pub(super) fn level(
    metadata: &std::collections::HashMap<String, String>,
) -> Result<Option<u8>, String> {
    match metadata.get(QUICK_START_LEVEL_KEY) {
        None => Ok(None),
        Some(v) => match v.parse::<u8>() {
            Ok(l) if (1..=4).contains(&l) => Ok(Some(l)),
            _ => Err(format!(
                "the file records fast level '{v}' for a quick-start file (1 to 4)"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::{self, StoredAs};
    use crate::{Architecture, InferenceMode, Model, Preset};
    use burn::prelude::*;
    use burn::tensor::Distribution;

    #[test]
    fn tensors_belong_to_the_level_of_their_node() {
        assert_eq!(first_level("conv0_0.conv1.weight"), Some(1));
        assert_eq!(first_level("conv1_0.bn1.running_var"), Some(1));
        assert_eq!(first_level("conv0_1.conv2.weight_scale"), Some(1));
        assert_eq!(first_level("conv2_0.conv1.weight"), Some(2));
        assert_eq!(first_level("conv1_1.bn2.bias"), Some(2));
        assert_eq!(first_level("conv3_1.conv1.weight"), Some(4));
        assert_eq!(first_level("final3.weight"), Some(3));
        assert_eq!(first_level("final.weight"), None);
        assert_eq!(first_level("enc1.net.0.weight"), None);
    }

    #[test]
    fn a_quick_start_file_runs_its_fast_modes_exactly_and_refuses_the_rest() {
        let device = Device::flex();
        let model = Model::init(Architecture::UNetPlusPlus, Preset::Web, &device).valid();
        let whole = weights::save_with(&model, Some(64), StoredAs::Int8).unwrap();
        let back = weights::load(whole.clone(), Architecture::UNetPlusPlus, "w", &device)
            .unwrap()
            .valid();
        let quick = cut(&whole, 2, None).unwrap();
        assert!(
            quick.len() * 5 < whole.len(),
            "{} of {} bytes",
            quick.len(),
            whole.len()
        );
        let (part, level) = weights::load_allowing_quick_start(
            quick.clone(),
            Architecture::UNetPlusPlus,
            "unetpp.fast2.safetensors",
            &device,
        )
        .unwrap();
        assert_eq!(level, Some(2));
        let part = part.valid();
        let x = Tensor::<4>::random([1, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
        for l in [1, 2] {
            let mode = InferenceMode::Head(l);
            let d = (part.predict(x.clone(), mode) - back.predict(x.clone(), mode))
                .abs()
                .max()
                .into_scalar::<f32>();
            assert_eq!(d, 0.0, "fast {l}");
        }
        // Loading that needs the whole model says what the file is.
        let e = weights::load(quick.clone(), Architecture::UNetPlusPlus, "q.st", &device)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("q.st") && e.contains("fast mode up to level 2"),
            "{e}"
        );
        // A tensor the level needs, gone: named.
        let (mut tensors, metadata) = quantize::read(&quick).unwrap();
        tensors.retain(|t| !t.name.starts_with("conv1_1.conv2.weight"));
        let broken = quantize::write(&tensors, metadata).unwrap();
        let e =
            weights::load_allowing_quick_start(broken, Architecture::UNetPlusPlus, "q", &device)
                .unwrap_err()
                .to_string();
        assert!(e.contains("'conv1_1.conv2.weight' is missing"), "{e}");
        // Only a U-Net++ with deep supervision has fast modes; a quick-start file is not cut again.
        let unet = Model::init(Architecture::UNet, Preset::Web, &device).valid();
        let e = cut(&weights::save(&unet).unwrap(), 2, None).unwrap_err();
        assert!(e.contains("deep supervision"), "{e}");
        assert!(cut(&quick, 1, None).unwrap_err().contains("already"));
        assert!(cut(&whole, 5, None).is_err());
    }
}
