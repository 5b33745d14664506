//! int8 weights: every convolution kernel (rank-4 tensor) stored as 8-bit integers with one
//! float32 scale per slice of its first axis (the output channel of a convolution, the input
//! channel of a transposed one), symmetric around zero: `w ≈ q * scale`, `q` in -127..=127.
//! A quarter of float32, half of float16, and it compresses better than float16 (whose
//! mantissa bits look random to gzip). Batch-norm statistics and biases stay float32.
//!
//! A file holds `NAME` as `I8` and `NAME_scale` as `F32` `[first axis]`; [`dequantize`] turns
//! it back into a float32 file once, at load, so the rest of loading never sees int8.

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

/// The suffix of a kernel's scales.
pub const SCALE_SUFFIX: &str = "_scale";

/// One tensor of a file, owned.
pub(super) struct Stored {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

pub(super) type Tensors = Vec<Stored>;

pub(super) fn read(bytes: &[u8]) -> Result<(Tensors, HashMap<String, String>), String> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| e.to_string())?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let file = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let tensors = file
        .iter()
        .map(|(name, view)| Stored {
            name: name.to_string(),
            dtype: view.dtype(),
            shape: view.shape().to_vec(),
            data: view.data().to_vec(),
        })
        .collect();
    Ok((tensors, metadata))
}

pub(super) fn write(
    tensors: &Tensors,
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, String> {
    let views = tensors
        .iter()
        .map(|t| TensorView::new(t.dtype, t.shape.clone(), &t.data).map(|v| (t.name.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
}

/// A float32 safetensors file (as `super::save_with` writes) with its kernels in int8.
pub fn quantize(f32_file: &[u8]) -> Result<Vec<u8>, String> {
    let (tensors, metadata) = read(f32_file)?;
    let mut out = Tensors::new();
    for t in tensors {
        let Stored {
            name,
            dtype,
            shape,
            data,
        } = t;
        if dtype != Dtype::F32 || shape.len() != 4 || shape[0] == 0 {
            out.push(Stored {
                name,
                dtype,
                shape,
                data,
            });
            continue;
        }
        let values: Vec<f32> = data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let per = values.len() / shape[0];
        let mut scales = Vec::with_capacity(shape[0] * 4);
        let mut q = Vec::with_capacity(values.len());
        for slice in values.chunks(per.max(1)) {
            let max = slice.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
            scales.extend(scale.to_le_bytes());
            q.extend(
                slice
                    .iter()
                    .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8 as u8),
            );
        }
        out.push(Stored {
            name: format!("{name}{SCALE_SUFFIX}"),
            dtype: Dtype::F32,
            shape: vec![shape[0]],
            data: scales,
        });
        out.push(Stored {
            name,
            dtype: Dtype::I8,
            shape,
            data: q,
        });
    }
    write(&out, metadata)
}

/// An int8 file as float32 (`w = q * scale`), scales dropped; other files unchanged. An int8
/// tensor without its scales, or scales of the wrong length, is an error naming the tensor.
pub fn dequantize(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
    // The header alone says whether there is anything to do: float files pass untouched.
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| e.to_string())?;
    if !meta.tensors().values().any(|info| info.dtype == Dtype::I8) {
        return Ok(None);
    }
    let (tensors, metadata) = read(bytes)?;
    let scales: HashMap<&str, &Stored> = tensors
        .iter()
        .filter_map(|t| t.name.strip_suffix(SCALE_SUFFIX).map(|base| (base, t)))
        .collect();
    let int8 = |base: &str| {
        tensors
            .iter()
            .any(|t| t.name == base && t.dtype == Dtype::I8)
    };
    let mut out = Tensors::new();
    for t in &tensors {
        if t.dtype != Dtype::I8 {
            let is_scale_of_int8 = t.name.strip_suffix(SCALE_SUFFIX).is_some_and(int8);
            if !is_scale_of_int8 {
                out.push(Stored {
                    name: t.name.clone(),
                    dtype: t.dtype,
                    shape: t.shape.clone(),
                    data: t.data.clone(),
                });
            }
            continue;
        }
        let name = &t.name;
        let slices = t.shape.first().copied().unwrap_or(0);
        let scale: Vec<f32> = match scales.get(name.as_str()) {
            Some(s) if s.dtype == Dtype::F32 && s.shape == [slices] => s
                .data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            _ => {
                return Err(format!(
                    "int8 tensor '{name}' needs float32 scales '{name}{SCALE_SUFFIX}' of shape [{slices}]"
                ));
            }
        };
        let per = t.data.len() / slices.max(1);
        let values: Vec<u8> = t
            .data
            .chunks(per.max(1))
            .zip(&scale)
            .flat_map(|(slice, s)| slice.iter().map(move |&q| (q as i8) as f32 * s))
            .flat_map(f32::to_le_bytes)
            .collect();
        out.push(Stored {
            name: name.clone(),
            dtype: Dtype::F32,
            shape: t.shape.clone(),
            data: values,
        });
    }
    write(&out, metadata).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_round_trip_within_half_a_step_of_their_slice() {
        let kernel: Vec<f32> = (0..2 * 3 * 3 * 3)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * if i < 27 { 0.01 } else { 2.0 })
            .collect();
        let bias = [0.5f32, -0.25];
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let (k, b) = (bytes(&kernel), bytes(&bias));
        let file = safetensors::serialize(
            [
                (
                    "conv.weight",
                    TensorView::new(Dtype::F32, vec![2, 3, 3, 3], &k).unwrap(),
                ),
                (
                    "conv.bias",
                    TensorView::new(Dtype::F32, vec![2], &b).unwrap(),
                ),
            ],
            Some(HashMap::from([("k".to_string(), "v".to_string())])),
        )
        .unwrap();
        let q = quantize(&file).unwrap();
        assert!(q.len() < file.len());
        let back = dequantize(&q).unwrap().expect("an int8 file");
        let back = SafeTensors::deserialize(&back).unwrap();
        assert_eq!(back.names().len(), 2, "the scales are gone");
        let w: Vec<f32> = back
            .tensor("conv.weight")
            .unwrap()
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        for (slice, (a, b)) in kernel.chunks(27).zip(w.chunks(27)).enumerate() {
            let step = a.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            let err = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(
                err <= step / 2.0 + 1e-7,
                "slice {slice}: error {err}, step {step}"
            );
        }
        assert_eq!(
            back.tensor("conv.bias").unwrap().data(),
            &b[..],
            "biases stay float32"
        );
        assert!(
            dequantize(&file).unwrap().is_none(),
            "a float file is left alone"
        );
    }

    #[test]
    fn an_int8_tensor_without_its_scales_is_named() {
        let q = [1u8; 8];
        let file = safetensors::serialize(
            [(
                "conv.weight",
                TensorView::new(Dtype::I8, vec![2, 1, 2, 2], &q).unwrap(),
            )],
            None,
        )
        .unwrap();
        let e = dequantize(&file).unwrap_err();
        assert!(e.contains("'conv.weight' needs float32 scales"), "{e}");
    }
}
