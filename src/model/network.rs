//! What the rest of the crate knows of one network, kept in the network's own file behind
//! [`Network`]: its PyTorch names, how a weights file gives its widths, the layers CAM and
//! Grad-CAM read by default, and what it can do. Adding a network is its file and one line in
//! [`super::Architecture`] and [`super::Model`].

use std::collections::HashMap;

use burn::prelude::*;

use super::InferenceMode;

/// One network's knowledge, as each model file implements it.
pub trait Network: Sized {
    /// Input height and width must be multiples of this (the downsamplings a skip connection
    /// must undo exactly).
    const SIZE_MULTIPLE: usize;

    /// The head whose quick-start file is shipped beside the whole weights, for a network that
    /// has one (a first mask while the rest downloads).
    const QUICK_START_LEVEL: Option<u8> = None;

    /// Renames between this network's Burn module paths and the PyTorch `state_dict` keys of
    /// the report's code.
    fn key_map(&self) -> KeyMap;

    /// The Burn path of a PyTorch key, before the network is built (a file's keys are renamed
    /// before loading).
    fn torch_to_burn(torch: &str) -> String;

    /// Whether a weights file's PyTorch keys are this network's.
    fn recognises(stored: &StoredTensors) -> bool;

    /// The network a weights file holds, its widths read from the tensors' shapes.
    fn from_stored(stored: &StoredTensors, device: &Device) -> Result<Self, String>;

    /// Names of the layers CAM and Grad-CAM can read, input side first.
    fn layers() -> &'static [&'static str];

    /// What a layer does, in one line for people learning the network.
    fn describe(layer: &str) -> Option<String>;

    /// The layers CAM and the mean activation (`near_output`) and Grad-CAM read when none is
    /// given, in `mode`.
    fn default_layers(mode: InferenceMode) -> DefaultLayers;
}

/// The layers a heatmap reads when the caller names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultLayers {
    /// CAM's and the mean activation's: the report's last decoder stage.
    pub near_output: &'static str,
    /// Grad-CAM's: the report's deepest stage.
    pub gradient: &'static str,
}

/// A weights file's tensor shapes and metadata, by PyTorch key: what a network reads its
/// widths from.
#[derive(Debug, Clone, Default)]
pub struct StoredTensors {
    /// Shape of every tensor.
    pub shapes: HashMap<String, Vec<usize>>,
    /// The file's metadata.
    pub metadata: HashMap<String, String>,
}

impl StoredTensors {
    /// Axis `axis` of tensor `key`; an error names the tensor.
    pub fn dim(&self, key: &str, axis: usize) -> Result<usize, String> {
        self.shapes
            .get(key)
            .and_then(|s| s.get(axis).copied())
            .ok_or_else(|| format!("missing tensor '{key}'"))
    }

    /// Whether the file holds tensor `key`.
    pub fn has(&self, key: &str) -> bool {
        self.shapes.contains_key(key)
    }

    /// Output channels of the first convolution of each of five depths.
    pub fn widths(&self, keys: [&str; 5]) -> Result<[usize; 5], String> {
        let mut out = [0; 5];
        for (w, key) in out.iter_mut().zip(keys) {
            *w = self.dim(key, 0)?;
        }
        Ok(out)
    }
}

/// Renames between PyTorch keys and Burn module paths, written once for both directions: a
/// key's first matching prefix is swapped, then every infix.
#[derive(Debug, Clone, Copy)]
pub struct KeyMap {
    /// `(pytorch, burn)` key prefixes.
    pub prefixes: &'static [(&'static str, &'static str)],
    /// `(pytorch, burn)` parts anywhere in a key.
    pub infixes: &'static [(&'static str, &'static str)],
}

impl KeyMap {
    /// The Burn path of a PyTorch key.
    pub fn to_burn(&self, torch: &str) -> String {
        self.rename(torch, |(t, b)| (t, b))
    }

    /// The PyTorch key of a Burn path.
    pub fn to_torch(&self, burn: &str) -> String {
        self.rename(burn, |(t, b)| (b, t))
    }

    fn rename(
        &self,
        key: &str,
        direction: impl Fn((&'static str, &'static str)) -> (&'static str, &'static str),
    ) -> String {
        let mut out = self
            .prefixes
            .iter()
            .map(|&pair| direction(pair))
            .find_map(|(from, to)| key.strip_prefix(from).map(|rest| format!("{to}{rest}")))
            .unwrap_or_else(|| key.to_string());
        for &pair in self.infixes {
            let (from, to) = direction(pair);
            out = out.replace(from, to);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_map_renames_both_ways_one_prefix_then_every_infix() {
        let map = KeyMap {
            prefixes: &[("a.1.", "a."), ("a.", "never.")],
            infixes: &[(".net.0.", ".conv1.")],
        };
        assert_eq!(map.to_burn("a.1.net.0.weight"), "a.conv1.weight");
        assert_eq!(map.to_torch("a.conv1.weight"), "a.1.net.0.weight");
        assert_eq!(map.to_burn("b.net.0.bias"), "b.conv1.bias");
        assert_eq!(map.to_burn("untouched"), "untouched");
    }
}
