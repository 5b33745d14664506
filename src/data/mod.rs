//! ISIC data: pairing files by id, decoding, preprocessing and augmentation, datasets and
//! splits. Everything here works on bytes, so the browser uses it as the CLI does; the native
//! CLI adds reading directories on top.

mod augment;
mod dataset;
mod decode;
mod pairing;
mod preprocess;
mod source;
mod wide_field;

pub use augment::Augmentation;
pub use dataset::{Dataset, Sample, epoch_rng, split_by_id, validation_ids};
pub use decode::{MAX_PIXELS, decode_image, decode_mask};
pub use pairing::{FileKind, ISIC_ID, MASK_SUFFIXES, Pairing, Skipped, classify, pair_files};
pub use preprocess::{MEAN, STD, input_tensor, normalize_chw, resize_map, resize_mask, resize_rgb};
#[cfg(not(target_family = "wasm"))]
pub use source::dir_sources;
pub use source::{
    Catalog, FileSource, LoadReport, Unreadable, ZipSource, decode_pair, load_pairs, resized_sample,
};
pub use wide_field::Skin;
