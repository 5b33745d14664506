//! In-memory datasets of resized pairs, splits and batches.

use burn::prelude::*;
use image::{GrayImage, RgbImage};
use rand::SeedableRng;
use rand::rngs::SmallRng;

use rand::Rng;

use super::wide_field::Skin;
use super::{Augmentation, normalize_chw};

const DATASET_MAGIC: &[u8] = b"lesionlab-dataset-1\n";

/// One image/mask pair at model resolution.
#[derive(Debug, Clone)]
pub struct Sample {
    /// ISIC id, `ISIC_NNNNNNN`.
    pub id: String,
    /// Photo resized to the model's input size.
    pub image: RgbImage,
    /// Mask at the same size, values 0 or 1.
    pub mask: GrayImage,
    /// The photo's original width and height.
    pub original: (u32, u32),
}

/// Samples of one size.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// The samples, in a fixed order.
    pub samples: Vec<Sample>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The samples as bytes, to store a browser run's prepared data (IndexedDB) beside its
    /// checkpoint: no photo has to be read again to resume.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = DATASET_MAGIC.to_vec();
        out.extend((self.samples.len() as u32).to_le_bytes());
        for s in &self.samples {
            out.extend((s.id.len() as u16).to_le_bytes());
            out.extend(s.id.as_bytes());
            for v in [
                s.original.0,
                s.original.1,
                s.image.width(),
                s.image.height(),
            ] {
                out.extend(v.to_le_bytes());
            }
            out.extend(s.image.as_raw());
            out.extend(s.mask.as_raw());
        }
        out
    }

    /// Reads [`Dataset::to_bytes`]; `source` names the bytes in errors.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self, crate::Error> {
        let bad = || crate::Error::Io {
            path: source.into(),
            message: "not a LesionLab dataset, or a truncated one".into(),
        };
        let mut rest = bytes.strip_prefix(DATASET_MAGIC).ok_or_else(bad)?;
        let mut take = |n: usize| -> Result<&[u8], crate::Error> {
            if rest.len() < n {
                return Err(bad());
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let u32_at = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
        let count = u32_at(take(4)?) as usize;
        let mut samples = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let id_len = u16::from_le_bytes(take(2)?.try_into().expect("2 bytes")) as usize;
            let id = String::from_utf8(take(id_len)?.to_vec()).map_err(|_| bad())?;
            let dims: Vec<u32> = (0..4)
                .map(|_| take(4).map(u32_at))
                .collect::<Result<_, _>>()?;
            let (w, h) = (dims[2], dims[3]);
            let pixels = w as usize * h as usize;
            let image = RgbImage::from_raw(w, h, take(pixels * 3)?.to_vec()).ok_or_else(bad)?;
            let mask = GrayImage::from_raw(w, h, take(pixels)?.to_vec()).ok_or_else(bad)?;
            samples.push(Sample {
                id,
                image,
                mask,
                original: (dims[0], dims[1]),
            });
        }
        Ok(Dataset { samples })
    }

    /// Input and target tensors of the samples at `indices`, augmented when `augment` is given.
    ///
    /// # Shapes
    /// - images: `[batch, 3, size, size]`, normalised as [`super::preprocess`] defines
    /// - masks: `[batch, 1, size, size]`, values 0 or 1
    pub fn batch(
        &self,
        indices: &[usize],
        augment: Option<(&Augmentation, &mut SmallRng)>,
        device: &Device,
    ) -> (Tensor<4>, Tensor<4>) {
        let (w, h) = self.samples[indices[0]].image.dimensions();
        let (w, h) = (w as usize, h as usize);
        let mut xs = Vec::with_capacity(indices.len() * 3 * w * h);
        let mut ys = Vec::with_capacity(indices.len() * w * h);
        let mut augment = augment;
        for &i in indices {
            let s = &self.samples[i];
            let (mut image, mut mask) = (s.image.clone(), s.mask.clone());
            if let Some((aug, rng)) = augment.as_mut() {
                // Another sample's skin for a zoomed-out photo; none drawn when zoom is off.
                let skin = (aug.zoom_out > 0.0 && self.len() > 1).then(|| {
                    let other = &self.samples[(i + rng.random_range(1..self.len())) % self.len()];
                    Skin {
                        image: &other.image,
                        mask: &other.mask,
                    }
                });
                aug.apply_with_skin(rng, &mut image, &mut mask, skin);
            }
            xs.extend(normalize_chw(&image));
            ys.extend(mask.pixels().map(|p| p.0[0] as f32));
        }
        let n = indices.len();
        let x = Tensor::from_data(TensorData::new(xs, [n, 3, h, w]), device);
        let y = Tensor::from_data(TensorData::new(ys, [n, 1, h, w]), device);
        (x, y)
    }
}

fn id_hash(seed: u64, id: &str) -> u64 {
    // FNV-1a over the bytes (stable across platforms and Rust versions, unlike `DefaultHasher`),
    // then SplitMix64's finaliser: FNV alone keeps ids that differ in their last digits close,
    // so consecutive ISIC ids fell unevenly on the two sides.
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The validation ids of a split: the `fraction` of ids with the smallest seeded hash. An id's
/// side depends only on the seed and the set of ids, never on file order.
pub fn validation_ids<S: AsRef<str>>(
    ids: &[S],
    fraction: f64,
    seed: u64,
) -> std::collections::HashSet<String> {
    let mut order: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    order.sort_by_key(|id| (id_hash(seed, id), *id));
    let n_val = ((order.len() as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
    order[..n_val].iter().map(|s| s.to_string()).collect()
}

/// Splits samples into (train, validation) by [`validation_ids`], each sorted by id.
pub fn split_by_id(samples: Vec<Sample>, fraction: f64, seed: u64) -> (Dataset, Dataset) {
    let ids: Vec<String> = samples.iter().map(|s| s.id.clone()).collect();
    let val_ids = validation_ids(&ids, fraction, seed);
    let (mut val, mut train): (Vec<Sample>, Vec<Sample>) =
        samples.into_iter().partition(|s| val_ids.contains(&s.id));
    val.sort_by(|a, b| a.id.cmp(&b.id));
    train.sort_by(|a, b| a.id.cmp(&b.id));
    (Dataset { samples: train }, Dataset { samples: val })
}

/// A seeded generator for epoch `epoch` of a run with `seed`.
pub fn epoch_rng(seed: u64, epoch: usize) -> SmallRng {
    SmallRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_bytes_round_trip_and_truncation_is_an_error() {
        let mut a = sample("ISIC_0000001");
        a.image.put_pixel(1, 0, image::Rgb([1, 2, 3]));
        a.mask.put_pixel(0, 1, image::Luma([1]));
        a.original = (640, 480);
        let data = Dataset {
            samples: vec![a, sample("ISIC_0000002")],
        };
        let bytes = data.to_bytes();
        let back = Dataset::from_bytes(&bytes, "run").unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back.samples[0].id, "ISIC_0000001");
        assert_eq!(back.samples[0].original, (640, 480));
        assert_eq!(back.samples[0].image, data.samples[0].image);
        assert_eq!(back.samples[0].mask, data.samples[0].mask);
        let err = Dataset::from_bytes(&bytes[..bytes.len() - 1], "run")
            .unwrap_err()
            .to_string();
        assert!(err.contains("run") && err.contains("truncated"), "{err}");
    }

    fn sample(id: &str) -> Sample {
        Sample {
            id: id.into(),
            image: RgbImage::new(2, 2),
            mask: GrayImage::new(2, 2),
            original: (2, 2),
        }
    }

    #[test]
    fn split_is_by_id_exact_in_size_and_independent_of_order() {
        let ids: Vec<String> = (0..100).map(|i| format!("ISIC_{i:07}")).collect();
        let (train, val) = split_by_id(ids.iter().map(|i| sample(i)).collect(), 0.2, 42);
        assert_eq!((train.len(), val.len()), (80, 20));
        let (train2, val2) = split_by_id(ids.iter().rev().map(|i| sample(i)).collect(), 0.2, 42);
        let v1: Vec<_> = val.samples.iter().map(|s| &s.id).collect();
        let v2: Vec<_> = val2.samples.iter().map(|s| &s.id).collect();
        assert_eq!(v1, v2);
        assert_eq!(train.len(), train2.len());
        assert!(train.samples.iter().all(|s| !v1.contains(&&s.id)));
        let (_, other) = split_by_id(ids.iter().map(|i| sample(i)).collect(), 0.2, 43);
        assert_ne!(
            v1,
            other.samples.iter().map(|s| &s.id).collect::<Vec<_>>(),
            "the seed matters"
        );
    }

    #[test]
    fn split_is_even_over_id_ranges() {
        // 2000 consecutive ids in blocks of 100: every block holds close to 20% validation ids
        // (a binomial's 3 sigma is 12 ids), for several seeds.
        let ids: Vec<String> = (0..2000)
            .map(|i| format!("ISIC_{:07}", 10_000 + i))
            .collect();
        for seed in 0..4 {
            let val = validation_ids(&ids, 0.2, seed);
            assert_eq!(val.len(), 400);
            for block in ids.chunks(100) {
                let n = block.iter().filter(|id| val.contains(*id)).count();
                assert!(
                    (8..=32).contains(&n),
                    "seed {seed}: {n} of 100 ids from {} on",
                    block[0]
                );
            }
        }
    }

    #[test]
    fn batches_are_normalised_images_and_binary_masks() {
        let mut s = sample("ISIC_0000001");
        s.image.put_pixel(1, 0, image::Rgb([255, 255, 255]));
        s.mask.put_pixel(0, 1, image::Luma([1]));
        let ds = Dataset {
            samples: vec![s.clone(), s],
        };
        let (x, y) = ds.batch(&[0, 1], None, &Device::flex());
        assert_eq!(x.dims(), [2, 3, 2, 2]);
        assert_eq!(
            y.to_data().try_to_vec::<f32>().unwrap(),
            vec![0., 0., 1., 0., 0., 0., 1., 0.]
        );
        let x = x.to_data().try_to_vec::<f32>().unwrap();
        assert!((x[1] - (1.0 - 0.485) / 0.229).abs() < 1e-5);
    }
}
