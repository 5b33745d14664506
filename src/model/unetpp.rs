//! U-Net++ (Zhou et al. 2018): nested dense skips and optional deep supervision.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::prelude::*;

use super::tap::{Tap, tap};
use super::{DefaultLayers, KeyMap, Network, StoredTensors};
use crate::nn::{DoubleConv, DoubleConvConfig, conv2d, resize_bilinear};

/// Configuration of [`NestedUNet`].
#[derive(Config, Debug)]
pub struct NestedUNetConfig {
    /// Channels of the five depths (`nb_filter`), shallowest first.
    pub nb_filter: [usize; 5],
    /// Four heads on x0_1..x0_4 instead of one on x0_4; enables the fast inference modes.
    #[config(default = true)]
    pub deep_supervision: bool,
    /// Input channels (3 for RGB photos).
    #[config(default = 3)]
    pub in_channels: usize,
}

impl NestedUNetConfig {
    /// The report's nb_filter 32..512: 9,163,329 parameters without deep supervision.
    pub fn paper() -> Self {
        Self::new([32, 64, 128, 256, 512])
    }

    /// Browser preset, nb_filter 16..256 with deep supervision (2,293,844 parameters,
    /// 9.2 MB as f32): a quarter of the paper's parameters; U-Net++ needs its dense skips more
    /// than width, so this is where the browser's budget goes.
    pub fn web() -> Self {
        Self::new([16, 32, 64, 128, 256])
    }

    /// Builds the module.
    pub fn init(&self, device: &Device) -> NestedUNet {
        let n = self.nb_filter;
        let block = |i: usize, o: usize| DoubleConvConfig::new(i, o, o).init(device);
        let head = || Conv2dConfig::new([n[0], 1], [1, 1]).init(device);
        let heads = if self.deep_supervision {
            (0..4).map(|_| head()).collect()
        } else {
            vec![head()]
        };
        NestedUNet {
            conv0_0: block(self.in_channels, n[0]),
            conv1_0: block(n[0], n[1]),
            conv2_0: block(n[1], n[2]),
            conv3_0: block(n[2], n[3]),
            conv4_0: block(n[3], n[4]),
            conv0_1: block(n[0] + n[1], n[0]),
            conv1_1: block(n[1] + n[2], n[1]),
            conv2_1: block(n[2] + n[3], n[2]),
            conv3_1: block(n[3] + n[4], n[3]),
            conv0_2: block(n[0] * 2 + n[1], n[0]),
            conv1_2: block(n[1] * 2 + n[2], n[1]),
            conv2_2: block(n[2] * 2 + n[3], n[2]),
            conv0_3: block(n[0] * 3 + n[1], n[0]),
            conv1_3: block(n[1] * 3 + n[2], n[1]),
            conv0_4: block(n[0] * 4 + n[1], n[0]),
            heads,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }
}

/// How U-Net++ turns its heads into one prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InferenceMode {
    /// The mean of the four deep-supervision heads' logits (the single head without deep
    /// supervision): the report's "accurate" mode, which its name no longer claims, since the
    /// deepest head alone scores better with the shipped weights.
    MeanOfHeads,
    /// Head `1..=4` alone, computing only the sub-network that head needs (pruned U-Net++):
    /// head 4 runs the whole network but skips the three shallower heads.
    Head(u8),
}

impl InferenceMode {
    /// The mode of every prediction that names none (the CLI, the JS API, the page, training's
    /// validation): U-Net++'s deepest head alone. With the shipped weights it scores better
    /// than the mean of the heads on the held-out ids and more so on the model card's shifted
    /// set: the shallow heads pull the average down (the figures are in `weights/README.md`).
    /// The other models have one head, so every mode is the same for them.
    pub const DEFAULT: InferenceMode = InferenceMode::Head(4);

    /// Every mode, by the names [`core::fmt::Display`] writes.
    pub const ALL: [InferenceMode; 5] = [
        InferenceMode::Head(1),
        InferenceMode::Head(2),
        InferenceMode::Head(3),
        InferenceMode::Head(4),
        InferenceMode::MeanOfHeads,
    ];

    /// Earlier names of the modes, still read: `accurate` was the mean, `fastN` head N, and
    /// `fast` alone head 2.
    pub const ALIASES: [(&'static str, InferenceMode); 6] = [
        ("accurate", InferenceMode::MeanOfHeads),
        ("fast", InferenceMode::Head(2)),
        ("fast1", InferenceMode::Head(1)),
        ("fast2", InferenceMode::Head(2)),
        ("fast3", InferenceMode::Head(3)),
        ("fast4", InferenceMode::Head(4)),
    ];

    /// This mode's logit from every head's (`heads` as [`NestedUNet::forward`] returns them):
    /// the mean, or head L; a single head is every mode's.
    ///
    /// # Panics
    /// If a head number is outside 1..=4, or `heads` is empty.
    pub fn from_heads(self, mut heads: Vec<Tensor<4>>) -> Tensor<4> {
        match (self, heads.len()) {
            (_, 1) => heads.remove(0),
            (InferenceMode::MeanOfHeads, n) => heads
                .into_iter()
                .reduce(|a, b| a + b)
                .expect("at least one head")
                .div_scalar(n as f64),
            (InferenceMode::Head(level), _) => {
                assert!(
                    (1..=4).contains(&level),
                    "U-Net++ has heads 1..=4, got {level}"
                );
                heads.swap_remove(level as usize - 1)
            }
        }
    }
}

impl core::fmt::Display for InferenceMode {
    /// The name [`core::str::FromStr`] reads back: `mean` or `head1` ..= `head4`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InferenceMode::MeanOfHeads => f.write_str("mean"),
            InferenceMode::Head(level) => write!(f, "head{level}"),
        }
    }
}

impl core::str::FromStr for InferenceMode {
    type Err = crate::error::Error;

    /// A name of [`InferenceMode::ALL`] or [`InferenceMode::ALIASES`], in any case.
    fn from_str(s: &str) -> Result<Self, crate::error::Error> {
        let name = s.to_ascii_lowercase();
        InferenceMode::ALL
            .iter()
            .map(|&m| (m.to_string(), m))
            .chain(InferenceMode::ALIASES.iter().map(|&(a, m)| (a.to_string(), m)))
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m)
            .ok_or_else(|| {
                crate::error::Error::BadArgument(format!(
                    "unknown mode '{s}': expected head1 to head4 or mean (earlier names: accurate, fast, fast1 to fast4)"
                ))
            })
    }
}

/// U-Net++ with VGG blocks, nested dense skips and bilinear x2 upsampling
/// (align_corners = true). Height and width must be multiples of 16.
#[derive(Module, Debug)]
pub struct NestedUNet {
    /// Node x0_0.
    pub conv0_0: DoubleConv,
    /// Node x1_0.
    pub conv1_0: DoubleConv,
    /// Node x2_0.
    pub conv2_0: DoubleConv,
    /// Node x3_0.
    pub conv3_0: DoubleConv,
    /// Node x4_0, the deepest.
    pub conv4_0: DoubleConv,
    /// Node x0_1 (head L1).
    pub conv0_1: DoubleConv,
    /// Node x1_1.
    pub conv1_1: DoubleConv,
    /// Node x2_1.
    pub conv2_1: DoubleConv,
    /// Node x3_1.
    pub conv3_1: DoubleConv,
    /// Node x0_2 (head L2).
    pub conv0_2: DoubleConv,
    /// Node x1_2.
    pub conv1_2: DoubleConv,
    /// Node x2_2.
    pub conv2_2: DoubleConv,
    /// Node x0_3 (head L3).
    pub conv0_3: DoubleConv,
    /// Node x1_3.
    pub conv1_3: DoubleConv,
    /// Node x0_4 (head L4).
    pub conv0_4: DoubleConv,
    /// 1x1 heads: `final1..final4` with deep supervision, else `final`.
    pub heads: Vec<Conv2d>,
    /// 2x2 max-pool, stride 2.
    pub pool: MaxPool2d,
}

fn up(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    resize_bilinear(x, [2 * h, 2 * w], true)
}

fn cat(xs: Vec<Tensor<4>>) -> Tensor<4> {
    Tensor::cat(xs, 1)
}

/// `(depth, column)` of a node name `x{depth}_{column}`.
fn node_position(layer: &str) -> Option<(usize, usize)> {
    let (depth, column) = layer.strip_prefix('x')?.split_once('_')?;
    let position = (depth.parse().ok()?, column.parse().ok()?);
    NestedUNet::LAYERS.contains(&layer).then_some(position)
}

impl NestedUNet {
    /// Whether the model has four deep-supervision heads.
    pub fn deep_supervision(&self) -> bool {
        self.heads.len() == 4
    }

    /// Logits of every head: four (x0_1..x0_4) with deep supervision, else one.
    ///
    /// # Shapes
    /// - x: `[batch, 3, height, width]`, height and width multiples of 16
    /// - output: each `[batch, 1, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        self.forward_tapped(x, None)
    }

    /// Layers whose activations CAM and Grad-CAM can read: the nodes x{depth}_{column}.
    pub const LAYERS: [&'static str; 15] = [
        "x0_0", "x1_0", "x2_0", "x3_0", "x4_0", "x0_1", "x1_1", "x2_1", "x3_1", "x0_2", "x1_2",
        "x2_2", "x0_3", "x1_3", "x0_4",
    ];

    /// The layers a prediction in `mode` computes: all of them, except in a fast mode, which
    /// runs only the nodes x{depth}_{column} with depth + column <= level.
    pub fn layers_in(&self, mode: InferenceMode) -> Vec<&'static str> {
        let level = match (mode, self.deep_supervision()) {
            (InferenceMode::Head(level), true) => level,
            _ => 4,
        };
        Self::LAYERS
            .into_iter()
            .filter(|name| Self::first_level(name).is_some_and(|l| l <= level))
            .collect()
    }

    /// The lowest fast-mode level that computes node `layer` (x{depth}_{column}): depth +
    /// column, and 1 for x0_0, which every level needs.
    pub fn first_level(layer: &str) -> Option<u8> {
        node_position(layer).map(|(d, c)| (d + c).max(1) as u8)
    }

    /// What a node does, in one line for people learning the network.
    pub fn describe(layer: &str) -> Option<String> {
        let (depth, column) = node_position(layer)?;
        let scale = match depth {
            0 => "full resolution".to_string(),
            d => format!("1/{} resolution", 1 << d),
        };
        Some(match (depth, column) {
            (4, 0) => {
                format!("Bottleneck, {scale}: the deepest, most abstract view of the whole photo.")
            }
            (_, 0) => format!(
                "Encoder (backbone) node, {scale}: features the skips pass to every later node of its row."
            ),
            (0, c) => format!(
                "Top-row nested skip node, {scale}: joins the {c} earlier top-row nodes with the upsampled node below; head L{c} reads it."
            ),
            (_, c) => format!(
                "Nested skip node, {scale}: joins the {c} earlier nodes of its row with the upsampled node below."
            ),
        })
    }

    /// [`NestedUNet::forward`] with a [`Tap`] on one of [`NestedUNet::LAYERS`].
    pub fn forward_tapped(&self, x: Tensor<4>, t: Option<&mut Tap<'_>>) -> Vec<Tensor<4>> {
        let nodes = self.nodes(x, 4, t);
        if self.deep_supervision() {
            nodes
                .top
                .into_iter()
                .zip(&self.heads)
                .map(|(t, h)| conv2d(h, t))
                .collect()
        } else {
            vec![conv2d(&self.heads[0], nodes.top[3].clone())]
        }
    }

    /// One prediction in the given mode. `Fast(level)` runs only the nodes that head needs;
    /// without deep supervision every mode is the single head.
    ///
    /// # Shapes
    /// - x: `[batch, 3, height, width]`
    /// - output: `[batch, 1, height, width]`
    ///
    /// # Panics
    /// If a fast level is outside 1..=4.
    pub fn predict(&self, x: Tensor<4>, mode: InferenceMode) -> Tensor<4> {
        self.predict_tapped(x, mode, None)
    }

    /// [`NestedUNet::predict`] with a [`Tap`]. In a fast mode, layers the head does not need
    /// are not computed and the tap is not hit.
    pub fn predict_tapped(
        &self,
        x: Tensor<4>,
        mode: InferenceMode,
        t: Option<&mut Tap<'_>>,
    ) -> Tensor<4> {
        match (mode, self.deep_supervision()) {
            (InferenceMode::MeanOfHeads, _) | (_, false) => {
                mode.from_heads(self.forward_tapped(x, t))
            }
            (InferenceMode::Head(level), true) => {
                assert!(
                    (1..=4).contains(&level),
                    "U-Net++ has heads 1..=4, got {level}"
                );
                let l = level as usize;
                let nodes = self.nodes(x, l, t);
                conv2d(&self.heads[l - 1], nodes.top[l - 1].clone())
            }
        }
    }

    /// Runs the sub-network up to the top-row node x0_`depth`.
    fn nodes(&self, x: Tensor<4>, depth: usize, mut t: Option<&mut Tap<'_>>) -> Nodes {
        super::assert_input_shape("U-Net++", &x.dims(), Self::SIZE_MULTIPLE);
        let t = &mut t;
        let p = |t: &Tensor<4>| self.pool.forward(t.clone());
        let x0_0 = tap(t, "x0_0", self.conv0_0.forward(x));
        let x1_0 = tap(t, "x1_0", self.conv1_0.forward(p(&x0_0)));
        let x0_1 = tap(
            t,
            "x0_1",
            self.conv0_1
                .forward(cat(vec![x0_0.clone(), up(x1_0.clone())])),
        );
        let mut top = vec![x0_1.clone()];
        if depth >= 2 {
            let x2_0 = tap(t, "x2_0", self.conv2_0.forward(p(&x1_0)));
            let x1_1 = tap(
                t,
                "x1_1",
                self.conv1_1
                    .forward(cat(vec![x1_0.clone(), up(x2_0.clone())])),
            );
            let x0_2 = tap(
                t,
                "x0_2",
                self.conv0_2
                    .forward(cat(vec![x0_0.clone(), x0_1.clone(), up(x1_1.clone())])),
            );
            top.push(x0_2.clone());
            if depth >= 3 {
                let x3_0 = tap(t, "x3_0", self.conv3_0.forward(p(&x2_0)));
                let x2_1 = tap(
                    t,
                    "x2_1",
                    self.conv2_1
                        .forward(cat(vec![x2_0.clone(), up(x3_0.clone())])),
                );
                let x1_2 = tap(
                    t,
                    "x1_2",
                    self.conv1_2
                        .forward(cat(vec![x1_0.clone(), x1_1.clone(), up(x2_1.clone())])),
                );
                let x0_3 = tap(
                    t,
                    "x0_3",
                    self.conv0_3.forward(cat(vec![
                        x0_0.clone(),
                        x0_1.clone(),
                        x0_2.clone(),
                        up(x1_2.clone()),
                    ])),
                );
                top.push(x0_3.clone());
                if depth >= 4 {
                    let x4_0 = tap(t, "x4_0", self.conv4_0.forward(p(&x3_0)));
                    let x3_1 = tap(t, "x3_1", self.conv3_1.forward(cat(vec![x3_0, up(x4_0)])));
                    let x2_2 = tap(
                        t,
                        "x2_2",
                        self.conv2_2.forward(cat(vec![x2_0, x2_1, up(x3_1)])),
                    );
                    let x1_3 = tap(
                        t,
                        "x1_3",
                        self.conv1_3.forward(cat(vec![x1_0, x1_1, x1_2, up(x2_2)])),
                    );
                    let x0_4 = tap(
                        t,
                        "x0_4",
                        self.conv0_4
                            .forward(cat(vec![x0_0, x0_1, x0_2, x0_3, up(x1_3)])),
                    );
                    top.push(x0_4);
                }
            }
        }
        Nodes { top }
    }
}

/// The top-row nodes x0_1..x0_depth of one forward pass.
struct Nodes {
    top: Vec<Tensor<4>>,
}

/// The report's heads are `final1`..`final4` (or `final` alone), a list here.
const UNETPP_KEYS: KeyMap = KeyMap {
    prefixes: &[
        ("final1.", "heads.0."),
        ("final2.", "heads.1."),
        ("final3.", "heads.2."),
        ("final4.", "heads.3."),
    ],
    infixes: &[],
};

/// Without deep supervision, the report's one head.
const UNETPP_ONE_HEAD_KEYS: KeyMap = KeyMap {
    prefixes: &[("final.", "heads.0.")],
    infixes: &[],
};

/// The metadata key of a quick-start file's level (the weights module cuts such files).
pub const QUICK_START_LEVEL_KEY: &str = "lesionlab.fast_only";

/// The metadata key of the whole network's five widths in a quick-start file, which leaves out
/// the deeper nodes and with them their shapes.
pub const QUICK_START_WIDTHS_KEY: &str = "lesionlab.widths";

impl NestedUNet {
    /// The widths a quick-start file records.
    fn quick_start_widths(stored: &StoredTensors) -> Result<[usize; 5], String> {
        let text = stored
            .metadata
            .get(QUICK_START_WIDTHS_KEY)
            .map(String::as_str)
            .unwrap_or("");
        let values: Vec<usize> = text.split(',').filter_map(|w| w.parse().ok()).collect();
        values
            .try_into()
            .ok()
            .filter(|w: &[usize; 5]| w.iter().all(|&c| c > 0))
            .ok_or_else(|| {
                format!("a quick-start file records the network's five widths, this one '{text}'")
            })
    }
}

impl Network for NestedUNet {
    /// Four 2x2 poolings.
    const SIZE_MULTIPLE: usize = 16;

    /// Head 2, which holds 6% of the whole file's bytes: head 1 is much rougher and head 3
    /// needs four times the bytes (scores in `weights/README.md`).
    const QUICK_START_LEVEL: Option<u8> = Some(2);

    fn key_map(&self) -> KeyMap {
        match self.deep_supervision() {
            true => UNETPP_KEYS,
            false => UNETPP_ONE_HEAD_KEYS,
        }
    }

    /// Before the heads are known, both maps: their prefixes do not overlap.
    fn torch_to_burn(torch: &str) -> String {
        match torch.starts_with("final.") {
            true => UNETPP_ONE_HEAD_KEYS.to_burn(torch),
            false => UNETPP_KEYS.to_burn(torch),
        }
    }

    fn recognises(stored: &StoredTensors) -> bool {
        stored.has("conv0_0.conv1.weight")
    }

    fn from_stored(stored: &StoredTensors, device: &Device) -> Result<Self, String> {
        let widths = match stored.metadata.contains_key(QUICK_START_LEVEL_KEY) {
            true => Self::quick_start_widths(stored)?,
            false => stored.widths([
                "conv0_0.conv1.weight",
                "conv1_0.conv1.weight",
                "conv2_0.conv1.weight",
                "conv3_0.conv1.weight",
                "conv4_0.conv1.weight",
            ])?,
        };
        Ok(NestedUNetConfig::new(widths)
            .with_deep_supervision(stored.has("final1.weight"))
            .with_in_channels(stored.dim("conv0_0.conv1.weight", 1)?)
            .init(device))
    }

    fn layers() -> &'static [&'static str] {
        &Self::LAYERS
    }

    fn describe(layer: &str) -> Option<String> {
        NestedUNet::describe(layer)
    }

    /// The last top node (x0_4) for CAM and the deepest node (x4_0) for Grad-CAM; with head L
    /// alone, where only its nodes run, that head's node x0_L and the deepest node computed,
    /// xL_0.
    fn default_layers(mode: InferenceMode) -> DefaultLayers {
        const TOP: [&str; 4] = ["x0_1", "x0_2", "x0_3", "x0_4"];
        const DEEPEST: [&str; 4] = ["x1_0", "x2_0", "x3_0", "x4_0"];
        let i = match mode {
            InferenceMode::Head(level @ 1..=4) => level as usize - 1,
            _ => 3,
        };
        DefaultLayers {
            near_output: TOP[i],
            gradient: DEEPEST[i],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;
    use burn::tensor::Distribution;

    fn max_abs(a: Tensor<4>, b: Tensor<4>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn mode_names_parse() {
        assert_eq!(
            "accurate".parse::<InferenceMode>().unwrap(),
            InferenceMode::MeanOfHeads
        );
        assert_eq!(
            "Fast".parse::<InferenceMode>().unwrap(),
            InferenceMode::Head(2)
        );
        assert_eq!(
            "fast4".parse::<InferenceMode>().unwrap(),
            InferenceMode::Head(4)
        );
        let err = "fast5".parse::<InferenceMode>().unwrap_err().to_string();
        assert!(err.contains("fast5") && err.contains("head1"), "{err}");
        for mode in [
            InferenceMode::MeanOfHeads,
            InferenceMode::Head(1),
            InferenceMode::DEFAULT,
        ] {
            assert_eq!(mode.to_string().parse::<InferenceMode>().unwrap(), mode);
        }
        assert_eq!(InferenceMode::DEFAULT.to_string(), "head4");
        assert_eq!(
            "MEAN".parse::<InferenceMode>().unwrap(),
            InferenceMode::MeanOfHeads
        );
    }

    #[test]
    fn paper_preset_has_pytorchs_parameter_count() {
        let device = Device::flex();
        let plain = NestedUNetConfig::paper()
            .with_deep_supervision(false)
            .init(&device);
        assert_eq!(Model::NestedUNet(plain).trainable_params(), 9_163_329);
        // Three more 1x1 heads of 32 weights and a bias each.
        let ds = NestedUNetConfig::paper().init(&device);
        assert_eq!(Model::NestedUNet(ds).trainable_params(), 9_163_329 + 3 * 33);
    }

    #[test]
    fn web_preset_size() {
        let model = Model::NestedUNet(NestedUNetConfig::web().init(&Device::flex()));
        assert_eq!(model.trainable_params(), 2_293_844);
    }

    #[test]
    fn accurate_mode_averages_the_heads_and_fast_mode_equals_its_head() {
        let device = Device::flex();
        let model = NestedUNetConfig::new([4, 4, 8, 8, 8]).init(&device).valid();
        let x = Tensor::<4>::random([1, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
        let heads = model.forward(x.clone());
        assert_eq!(heads.len(), 4);
        let mean = heads
            .iter()
            .cloned()
            .reduce(|a, b| a + b)
            .unwrap()
            .div_scalar(4.0);
        assert!(
            max_abs(
                model.predict(x.clone(), InferenceMode::MeanOfHeads),
                mean.clone()
            ) < 1e-6
        );
        let combined = InferenceMode::MeanOfHeads.from_heads(heads.clone());
        assert!(max_abs(combined, mean) < 1e-6);
        for level in 1..=4u8 {
            let fast = model.predict(x.clone(), InferenceMode::Head(level));
            let head = heads[level as usize - 1].clone();
            let picked = InferenceMode::Head(level).from_heads(heads.clone());
            assert!(max_abs(picked, head.clone()) < 1e-6, "level {level}");
            assert!(max_abs(fast, head) < 1e-6, "level {level}");
        }
        // The heads differ, so the comparisons above are not vacuous.
        assert!(max_abs(heads[0].clone(), heads[3].clone()) > 1e-4);
    }

    #[test]
    fn without_deep_supervision_every_mode_is_the_single_head() {
        let device = Device::flex();
        let model = NestedUNetConfig::new([4, 4, 8, 8, 8])
            .with_deep_supervision(false)
            .init(&device)
            .valid();
        let x = Tensor::<4>::random([1, 3, 16, 16], Distribution::Normal(0.0, 1.0), &device);
        let single = model.forward(x.clone()).remove(0);
        assert!(max_abs(model.predict(x, InferenceMode::Head(1)), single) < 1e-6);
    }

    #[test]
    #[should_panic(expected = "multiples of 16")]
    fn rejects_sizes_that_are_not_multiples_of_16() {
        let device = Device::flex();
        NestedUNetConfig::new([2, 2, 2, 2, 2])
            .init(&device)
            .forward(Tensor::<4>::zeros([1, 3, 24, 32], &device));
    }
}
