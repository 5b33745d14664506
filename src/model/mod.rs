//! The three segmentation models, one file each, and [`Model`], which holds any of them.

mod network;
mod pspnet;
pub mod readback;
mod record;
mod tap;
mod unet;
mod unetpp;

pub use network::{DefaultLayers, KeyMap, Network, StoredTensors};
pub use pspnet::{PspNet, PspNetConfig};
pub use record::Recorded;
pub use tap::Tap;
pub use unet::{UNet, UNetConfig};
pub use unetpp::{
    InferenceMode, NestedUNet, NestedUNetConfig, QUICK_START_LEVEL_KEY, QUICK_START_WIDTHS_KEY,
};

use burn::prelude::*;
use core::fmt;
use core::str::FromStr;

use crate::error::Error;

/// Which network; in configs and checkpoints by its short name (`unet`, `unetpp`, `pspnet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Architecture {
    /// U-Net.
    #[serde(rename = "unet")]
    UNet,
    /// U-Net++ (NestedUNet).
    #[serde(rename = "unetpp")]
    UNetPlusPlus,
    /// PSPNet.
    #[serde(rename = "pspnet")]
    PspNet,
}

impl Architecture {
    /// All three, in the report's order.
    pub const ALL: [Architecture; 3] = [
        Architecture::UNet,
        Architecture::UNetPlusPlus,
        Architecture::PspNet,
    ];

    /// The short name used on the command line, in the JS API and in weight files.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::UNet => "unet",
            Architecture::UNetPlusPlus => "unetpp",
            Architecture::PspNet => "pspnet",
        }
    }

    /// The name people read.
    pub fn display_name(self) -> &'static str {
        match self {
            Architecture::UNet => "U-Net",
            Architecture::UNetPlusPlus => "U-Net++",
            Architecture::PspNet => "PSPNet",
        }
    }

    /// Input height and width must be multiples of this.
    pub fn size_multiple(self) -> usize {
        match self {
            Architecture::UNet => UNet::SIZE_MULTIPLE,
            Architecture::UNetPlusPlus => NestedUNet::SIZE_MULTIPLE,
            Architecture::PspNet => PspNet::SIZE_MULTIPLE,
        }
    }

    /// The head level of the quick-start file shipped beside the whole weights, for networks
    /// that have one.
    pub fn quick_start_level(self) -> Option<u8> {
        match self {
            Architecture::UNet => UNet::QUICK_START_LEVEL,
            Architecture::UNetPlusPlus => NestedUNet::QUICK_START_LEVEL,
            Architecture::PspNet => PspNet::QUICK_START_LEVEL,
        }
    }

    /// The network a weights file of this architecture holds, built on `device` with the
    /// widths its tensor shapes give.
    pub fn model_from(self, stored: &StoredTensors, device: &Device) -> Result<Model, String> {
        Ok(match self {
            Architecture::UNet => Model::UNet(UNet::from_stored(stored, device)?),
            Architecture::UNetPlusPlus => {
                Model::NestedUNet(NestedUNet::from_stored(stored, device)?)
            }
            Architecture::PspNet => Model::PspNet(PspNet::from_stored(stored, device)?),
        })
    }

    /// The architecture whose PyTorch keys a weights file holds, if any.
    pub fn recognise(stored: &StoredTensors) -> Option<Architecture> {
        Architecture::ALL.into_iter().find(|a| match a {
            Architecture::UNet => UNet::recognises(stored),
            Architecture::UNetPlusPlus => NestedUNet::recognises(stored),
            Architecture::PspNet => PspNet::recognises(stored),
        })
    }

    /// The Burn path of a PyTorch key of this architecture's files.
    pub fn burn_key(self, torch: &str) -> String {
        match self {
            Architecture::UNet => UNet::torch_to_burn(torch),
            Architecture::UNetPlusPlus => NestedUNet::torch_to_burn(torch),
            Architecture::PspNet => PspNet::torch_to_burn(torch),
        }
    }

    /// The layers a heatmap reads by default in `mode`.
    pub fn default_layers(self, mode: InferenceMode) -> DefaultLayers {
        match self {
            Architecture::UNet => UNet::default_layers(mode),
            Architecture::UNetPlusPlus => NestedUNet::default_layers(mode),
            Architecture::PspNet => PspNet::default_layers(mode),
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Architecture {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "unet" | "u-net" => Ok(Architecture::UNet),
            "unetpp" | "unet++" | "u-net++" | "nestedunet" => Ok(Architecture::UNetPlusPlus),
            "pspnet" | "psp" => Ok(Architecture::PspNet),
            _ => Err(Error::BadArgument(format!(
                "unknown model '{s}': expected unet, unetpp or pspnet"
            ))),
        }
    }
}

/// Model widths; in configs and checkpoints `web` or `paper`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Compact widths for the browser; the shipped weights use these.
    Web,
    /// The report's widths.
    Paper,
}

impl Preset {
    /// `web` or `paper`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Web => "web",
            Preset::Paper => "paper",
        }
    }
}

impl FromStr for Preset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "web" => Ok(Preset::Web),
            "paper" => Ok(Preset::Paper),
            _ => Err(Error::BadArgument(format!(
                "unknown preset '{s}': expected web or paper"
            ))),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which network to build, and how wide: [`ModelConfig::init`] makes it.
#[derive(Config, Debug)]
pub struct ModelConfig {
    /// The network.
    pub architecture: Architecture,
    /// Channel widths: the page's compact ones or the report's.
    #[config(default = "Preset::Web")]
    pub preset: Preset,
}

impl ModelConfig {
    /// A freshly initialised model on `device`.
    pub fn init(&self, device: &Device) -> Model {
        Model::init(self.architecture, self.preset, device)
    }
}

/// Any of the three networks, so callers (CLI, browser, training) hold one type.
// The variants differ in size, but a model is built once and moved as a whole; boxing them
// would put a `Box` in every match for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Model {
    /// U-Net.
    UNet(UNet),
    /// U-Net++.
    NestedUNet(NestedUNet),
    /// PSPNet.
    PspNet(PspNet),
}

impl Model {
    /// Builds a freshly initialised model of the given architecture and preset. U-Net++ gets
    /// deep supervision, as the report trains it.
    pub fn init(arch: Architecture, preset: Preset, device: &Device) -> Model {
        match (arch, preset) {
            (Architecture::UNet, Preset::Web) => Model::UNet(UNetConfig::web().init(device)),
            (Architecture::UNet, Preset::Paper) => Model::UNet(UNetConfig::paper().init(device)),
            (Architecture::UNetPlusPlus, Preset::Web) => {
                Model::NestedUNet(NestedUNetConfig::web().init(device))
            }
            (Architecture::UNetPlusPlus, Preset::Paper) => {
                Model::NestedUNet(NestedUNetConfig::paper().init(device))
            }
            (Architecture::PspNet, Preset::Web) => Model::PspNet(PspNetConfig::web().init(device)),
            (Architecture::PspNet, Preset::Paper) => {
                Model::PspNet(PspNetConfig::paper().init(device))
            }
        }
    }

    /// Which network this is.
    pub fn architecture(&self) -> Architecture {
        match self {
            Model::UNet(_) => Architecture::UNet,
            Model::NestedUNet(_) => Architecture::UNetPlusPlus,
            Model::PspNet(_) => Architecture::PspNet,
        }
    }

    /// Logits of every output head (four for U-Net++ with deep supervision, else one): what
    /// the training loss sees.
    ///
    /// # Shapes
    /// - x: `[batch, 3, height, width]`
    /// - output: each `[batch, 1, height, width]`
    pub fn forward_heads(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        match self {
            Model::UNet(m) => vec![m.forward(x)],
            Model::NestedUNet(m) => m.forward(x),
            Model::PspNet(m) => vec![m.forward(x)],
        }
    }

    /// How many output heads the model has: four for U-Net++ with deep supervision, else one.
    pub fn head_count(&self) -> usize {
        match self {
            Model::NestedUNet(m) => m.heads.len(),
            _ => 1,
        }
    }

    /// One logit map; `mode` matters only for U-Net++ with deep supervision.
    ///
    /// # Shapes
    /// - x: `[batch, 3, height, width]`
    /// - output: `[batch, 1, height, width]`
    pub fn predict(&self, x: Tensor<4>, mode: InferenceMode) -> Tensor<4> {
        match self {
            Model::UNet(m) => m.forward(x),
            Model::NestedUNet(m) => m.predict(x, mode),
            Model::PspNet(m) => m.forward(x),
        }
    }

    /// [`Model::predict`] with a [`Tap`] on one of [`Model::layers`].
    pub fn predict_tapped(
        &self,
        x: Tensor<4>,
        mode: InferenceMode,
        tap: Option<&mut Tap<'_>>,
    ) -> Tensor<4> {
        match self {
            Model::UNet(m) => m.forward_tapped(x, tap),
            Model::NestedUNet(m) => m.predict_tapped(x, mode, tap),
            Model::PspNet(m) => m.forward_tapped(x, tap),
        }
    }

    /// Names of the layers CAM and Grad-CAM can read, input side first.
    pub fn layers(&self) -> &'static [&'static str] {
        match self {
            Model::UNet(_) => UNet::layers(),
            Model::NestedUNet(_) => NestedUNet::layers(),
            Model::PspNet(_) => PspNet::layers(),
        }
    }

    /// The layers a prediction in `mode` computes, input side first: every layer, except in a
    /// U-Net++ fast mode, which skips the nodes its head does not need.
    pub fn layers_in(&self, mode: InferenceMode) -> Vec<&'static str> {
        match self {
            Model::NestedUNet(m) => m.layers_in(mode),
            _ => self.layers().to_vec(),
        }
    }

    /// What a layer does, in one line for people learning the network; `None` for a name that
    /// is not one of [`Model::layers`].
    pub fn describe_layer(&self, layer: &str) -> Option<String> {
        match self {
            Model::UNet(_) => <UNet as Network>::describe(layer),
            Model::NestedUNet(_) => <NestedUNet as Network>::describe(layer),
            Model::PspNet(_) => <PspNet as Network>::describe(layer),
        }
    }

    /// Checks an input shape before a forward pass, which would panic on it: U-Net and U-Net++
    /// need height and width that are multiples of 16, PSPNet takes any size.
    pub fn validate_input(&self, dims: [usize; 4]) -> Result<(), Error> {
        let arch = self.architecture();
        check_input_shape(arch.display_name(), &dims, arch.size_multiple())
    }

    /// Renames between this model's Burn paths and its PyTorch keys.
    pub fn key_map(&self) -> KeyMap {
        match self {
            Model::UNet(m) => m.key_map(),
            Model::NestedUNet(m) => m.key_map(),
            Model::PspNet(m) => m.key_map(),
        }
    }

    /// Every tensor of the model (parameters and batch-norm statistics) by Burn path.
    pub fn tensors(&self) -> Vec<burn::store::burn_pack::Tensor> {
        use burn::store::ModuleSnapshot;
        match self {
            Model::UNet(m) => m.collect(None, None, false),
            Model::NestedUNet(m) => m.collect(None, None, false),
            Model::PspNet(m) => m.collect(None, None, false),
        }
    }

    /// Number of trainable parameters, counted as PyTorch's `parameters()` does (batch-norm
    /// running statistics are buffers, not parameters).
    pub fn trainable_params(&self) -> usize {
        self.tensors()
            .iter()
            .filter(|t| !(t.name.ends_with("running_mean") || t.name.ends_with("running_var")))
            .map(|t| t.shape.num_elements())
            .sum()
    }
}

/// Checks that an input is `[batch, 3, h, w]` with h and w multiples of `multiple`.
///
/// # Panics
/// With a message naming the model and the accepted sizes: a U-Net cannot concatenate skips
/// whose sizes were floored by a pool. Callers that take user input check first
/// ([`Model::validate_input`]).
pub(crate) fn assert_input_shape(model: &str, dims: &[usize; 4], multiple: usize) {
    if let Err(e) = check_input_shape(model, dims, multiple) {
        panic!("{e}");
    }
}

fn check_input_shape(model: &str, dims: &[usize; 4], multiple: usize) -> Result<(), Error> {
    let [_, c, h, w] = *dims;
    if c != 3 {
        return Err(Error::BadArgument(format!(
            "{model} takes 3-channel RGB input, got {c} channels"
        )));
    }
    if h == 0 || w == 0 || h % multiple != 0 || w % multiple != 0 {
        return Err(Error::BadArgument(format!(
            "{model} needs an input height and width that are multiples of {multiple}, got {h}x{w}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_validation_names_the_model_and_the_rule() {
        let device = Device::flex();
        let unet = Model::init(Architecture::UNet, Preset::Web, &device);
        assert!(unet.validate_input([1, 3, 256, 192]).is_ok());
        let msg = unet
            .validate_input([1, 3, 250, 256])
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "U-Net needs an input height and width that are multiples of 16, got 250x256"
        );
        let msg = unet
            .validate_input([1, 1, 256, 256])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("3-channel"), "{msg}");
        let psp = Model::init(Architecture::PspNet, Preset::Web, &device);
        assert!(psp.validate_input([1, 3, 250, 333]).is_ok());
    }

    #[test]
    fn fast_modes_list_only_the_nodes_they_compute() {
        let device = Device::flex();
        let unetpp = Model::init(Architecture::UNetPlusPlus, Preset::Web, &device);
        assert_eq!(
            unetpp.layers_in(InferenceMode::Head(1)),
            ["x0_0", "x1_0", "x0_1"]
        );
        assert_eq!(
            unetpp.layers_in(InferenceMode::Head(2)),
            ["x0_0", "x1_0", "x2_0", "x0_1", "x1_1", "x0_2"]
        );
        assert_eq!(unetpp.layers_in(InferenceMode::Head(4)).len(), 15);
        assert_eq!(
            unetpp.layers_in(InferenceMode::MeanOfHeads),
            unetpp.layers()
        );
        let x = Tensor::<4>::zeros([1, 3, 32, 32], &device);
        for level in 1..=4 {
            let mode = InferenceMode::Head(level);
            for layer in unetpp.layers() {
                let mut keep = |a: Tensor<4>| a;
                let mut tap = Tap::new(layer, &mut keep);
                unetpp
                    .valid()
                    .predict_tapped(x.clone(), mode, Some(&mut tap));
                assert_eq!(
                    tap.hit(),
                    unetpp.layers_in(mode).contains(layer),
                    "{layer} at level {level}"
                );
            }
        }
        let unet = Model::init(Architecture::UNet, Preset::Web, &device);
        assert_eq!(unet.layers_in(InferenceMode::Head(1)), unet.layers());
    }

    #[test]
    fn every_layer_has_a_description() {
        let device = Device::flex();
        for arch in Architecture::ALL {
            let model = Model::init(arch, Preset::Web, &device);
            for layer in model.layers() {
                let text = model
                    .describe_layer(layer)
                    .unwrap_or_else(|| panic!("{arch} {layer} has no description"));
                assert!(text.contains("resolution"), "{text}");
            }
            assert_eq!(model.describe_layer("nope"), None);
        }
        let unetpp = Model::init(Architecture::UNetPlusPlus, Preset::Web, &device);
        assert!(unetpp.describe_layer("x0_3").unwrap().contains("head L3"));
        assert!(
            unetpp
                .describe_layer("x2_0")
                .unwrap()
                .contains("1/4 resolution")
        );
    }

    #[test]
    fn names_parse_both_ways() {
        for arch in Architecture::ALL {
            assert_eq!(arch.name().parse::<Architecture>().unwrap(), arch);
        }
        assert_eq!(
            "U-Net++".parse::<Architecture>().unwrap(),
            Architecture::UNetPlusPlus
        );
        assert!(
            "segnet"
                .parse::<Architecture>()
                .unwrap_err()
                .to_string()
                .contains("expected unet, unetpp or pspnet")
        );
        assert_eq!("paper".parse::<Preset>().unwrap(), Preset::Paper);
    }
}
