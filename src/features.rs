//! The layer explorer: one layer's feature maps, the most active channels first, with the
//! layer's shape and what that stage of the network does. Each map stays at the layer's own
//! resolution: seeing a deep layer's coarse grid is the lesson.

use burn::prelude::*;
use image::{Rgb, RgbImage};
use serde::Serialize;

use crate::draw::turbo;
use crate::explain::{Method, resolve_layer};
use crate::model::Recorded;
use crate::model::readback::read_floats;
use crate::{Error, InferenceMode, Model};

/// How many channels an explorer shows when not told.
pub const DEFAULT_COUNT: usize = 16;

/// One channel of a layer's activation.
#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    /// Its index among the layer's channels.
    pub index: usize,
    /// Its mean activation over the photo: how active it is; channels are ranked by it.
    pub mean: f32,
    /// Its largest activation.
    pub max: f32,
    /// The activation at the layer's resolution, row-major (a typed array in JS).
    #[serde(skip)]
    pub map: Vec<f32>,
}

/// A layer's most active feature maps.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureMaps {
    /// The layer's name, one of [`Model::layers`].
    pub layer: String,
    /// What that stage does, in one line.
    pub description: String,
    /// `[channels, height, width]` of the whole layer.
    pub shape: [usize; 3],
    /// The `count` most active channels, most active first.
    pub channels: Vec<Channel>,
}

/// Ranks the channels of one activation (`values` row-major `[channels, height, width]`) by
/// their mean, highest first (ties by index), and keeps the first `count`.
///
/// # Panics
/// If `values` does not hold `shape`'s product.
pub fn rank(values: &[f32], shape: [usize; 3], count: usize) -> Vec<Channel> {
    let [c, h, w] = shape;
    assert_eq!(values.len(), c * h * w, "activation and shape differ");
    let area = (h * w).max(1);
    let mut means: Vec<(usize, f32)> = values
        .chunks_exact(area)
        .map(|map| (map.iter().map(|&v| v as f64).sum::<f64>() / area as f64) as f32)
        .enumerate()
        .collect();
    means.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // Only the channels kept are copied out.
    means
        .into_iter()
        .take(count)
        .map(|(index, mean)| {
            let map = values[index * area..(index + 1) * area].to_vec();
            Channel {
                index,
                mean,
                max: map.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                map,
            }
        })
        .collect()
}

/// The feature maps of `layer` (the mean-activation default layer when `None`) for a prepared
/// model input; `recorded`, a [`Model::record`] of the same input and mode, saves the
/// forward pass.
///
/// # Shapes
/// - input: `[1, 3, size, size]`
pub async fn feature_maps(
    model: &Model,
    input: Tensor<4>,
    layer: Option<&str>,
    count: usize,
    mode: InferenceMode,
    recorded: Option<&Recorded>,
) -> Result<FeatureMaps, Error> {
    if count == 0 {
        return Err(Error::BadArgument(
            "count must be at least 1 feature map".into(),
        ));
    }
    let layer = resolve_layer(model, layer, Method::Activation, mode)?;
    let activation = match recorded
        .filter(|r| r.mode == mode)
        .and_then(|r| r.layer(layer))
    {
        Some(a) => a,
        None => {
            let [_, _, size, _] = input.dims();
            model.validate_input([1, 3, size, size])?;
            model
                .valid()
                .record(input, mode)
                .layer(layer)
                .ok_or_else(|| Error::Internal(format!("layer '{layer}' was not computed")))?
        }
    };
    let [_, c, h, w] = activation.dims();
    let values = read_floats(activation).await?;
    Ok(FeatureMaps {
        layer: layer.to_string(),
        description: model.describe_layer(layer).unwrap_or_default(),
        shape: [c, h, w],
        channels: rank(&values, [c, h, w], count),
    })
}

/// The feature maps as one picture for the command line: the channels in rows of `columns`,
/// each scaled to `tile x tile` pixels with its nearest neighbours (a deep layer's coarse grid
/// stays visible) and coloured from 0 (dark blue) to its own maximum (dark red); white gaps.
pub fn grid(maps: &FeatureMaps, tile: u32, columns: usize) -> RgbImage {
    let gap = 4;
    let n = maps.channels.len().max(1);
    let columns = columns.clamp(1, n);
    let rows = n.div_ceil(columns);
    let [_, h, w] = maps.shape;
    let side = |k: usize| k as u32 * (tile + gap) + gap;
    let mut out = RgbImage::from_pixel(side(columns), side(rows), Rgb([255, 255, 255]));
    for (i, channel) in maps.channels.iter().enumerate() {
        let (x0, y0) = (side(i % columns), side(i / columns));
        let scale = if channel.max > 0.0 { channel.max } else { 1.0 };
        for y in 0..tile {
            for x in 0..tile {
                let (sy, sx) = (
                    y as usize * h / tile as usize,
                    x as usize * w / tile as usize,
                );
                let v = channel.map[sy * w + sx] / scale;
                out.put_pixel(x0 + x, y0 + y, Rgb(turbo(v)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Architecture, Preset};

    #[test]
    fn ranks_channels_by_mean_and_keeps_count() {
        // Three 2x2 channels: means 1, 3, 2.
        let values = [0., 2., 1., 1., 3., 3., 3., 3., 0., 4., 0., 4.];
        let ranked = rank(&values, [3, 2, 2], 2);
        assert_eq!(ranked.len(), 2);
        assert_eq!(
            (ranked[0].index, ranked[0].mean, ranked[0].max),
            (1, 3.0, 3.0)
        );
        assert_eq!(
            (ranked[1].index, ranked[1].mean, ranked[1].max),
            (2, 2.0, 4.0)
        );
        assert_eq!(ranked[1].map, [0., 4., 0., 4.]);
        assert_eq!(rank(&values, [3, 2, 2], 10).len(), 3);
    }

    #[test]
    fn every_layer_of_every_model_has_maps_of_its_shape() {
        let device = Device::flex();
        let input = Tensor::<4>::random(
            [1, 3, 32, 32],
            burn::tensor::Distribution::Uniform(-1.0, 1.0),
            &device,
        );
        for arch in Architecture::ALL {
            let model = Model::init(arch, Preset::Web, &device).valid();
            let recorded = model.record(input.clone(), InferenceMode::MeanOfHeads);
            for layer in model.layers() {
                let a = recorded.layer(layer).unwrap();
                let [_, c, h, w] = a.dims();
                let maps = pollster::block_on(feature_maps(
                    &model,
                    input.clone(),
                    Some(layer),
                    4,
                    InferenceMode::MeanOfHeads,
                    None,
                ))
                .unwrap();
                assert_eq!(maps.shape, [c, h, w], "{arch} {layer}");
                assert_eq!(maps.channels.len(), 4.min(c));
                assert!(maps.channels.iter().all(|ch| ch.map.len() == h * w));
                assert!(maps.channels.windows(2).all(|p| p[0].mean >= p[1].mean));
                assert!(maps.description.contains("resolution"));
                // The same maps from the recorded pass, without a second forward.
                let again = pollster::block_on(feature_maps(
                    &model,
                    input.clone(),
                    Some(layer),
                    4,
                    InferenceMode::MeanOfHeads,
                    Some(&recorded),
                ))
                .unwrap();
                let diff = maps.channels[0]
                    .map
                    .iter()
                    .zip(&again.channels[0].map)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(diff < 1e-5, "{arch} {layer}: {diff}");
            }
        }
    }

    #[test]
    fn refuses_unknown_layers_and_zero_counts() {
        let device = Device::flex();
        let model = Model::init(Architecture::UNetPlusPlus, Preset::Web, &device);
        let input = Tensor::<4>::zeros([1, 3, 32, 32], &device);
        let run = |layer, count, mode| {
            pollster::block_on(feature_maps(
                &model,
                input.clone(),
                Some(layer),
                count,
                mode,
                None,
            ))
            .unwrap_err()
            .to_string()
        };
        assert!(run("nope", 4, InferenceMode::MeanOfHeads).contains("has no layer 'nope'"));
        assert!(run("x0_4", 4, InferenceMode::Head(1)).contains("mode head1"));
        assert!(run("x0_0", 0, InferenceMode::MeanOfHeads).contains("at least 1"));
    }

    #[test]
    fn grid_tiles_each_channel_by_its_own_maximum() {
        let maps = FeatureMaps {
            layer: "l".into(),
            description: String::new(),
            shape: [2, 1, 2],
            channels: vec![
                Channel {
                    index: 0,
                    mean: 1.0,
                    max: 2.0,
                    map: vec![0.0, 2.0],
                },
                Channel {
                    index: 1,
                    mean: 0.5,
                    max: 1.0,
                    map: vec![1.0, 0.0],
                },
            ],
        };
        let img = grid(&maps, 8, 2);
        assert_eq!(img.dimensions(), (4 + 2 * 12, 4 + 12));
        assert_eq!(img.get_pixel(4, 4).0, turbo(0.0));
        assert_eq!(img.get_pixel(4 + 7, 4).0, turbo(1.0));
        assert_eq!(img.get_pixel(16, 4).0, turbo(1.0));
        assert_eq!(img.get_pixel(0, 0).0, [255, 255, 255]);
    }
}
