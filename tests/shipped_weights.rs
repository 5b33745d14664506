//! Facts of the shipped files in `weights/`, kept apart from the unit tests (which make tiny
//! weights of their own): the quick-start file is cut from the whole U-Net++ file.

use std::collections::HashMap;
use std::path::Path;

use lesionlab::Architecture;
use lesionlab::weights::quick_start::{QUICK_LOOK_SIZE, cut, file_name};
use safetensors::SafeTensors;

type Contents = (
    Vec<(String, String, Vec<usize>, Vec<u8>)>,
    HashMap<String, String>,
);

/// Tensors and metadata, sorted: a header's order is not fixed.
fn contents(bytes: &[u8]) -> Contents {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let mut tensors: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(name, t)| {
            (
                name,
                format!("{:?}", t.dtype()),
                t.shape().to_vec(),
                t.data().to_vec(),
            )
        })
        .collect();
    tensors.sort();
    let (_, meta) = SafeTensors::read_metadata(bytes).unwrap();
    (tensors, meta.metadata().clone().unwrap_or_default())
}

#[test]
fn the_shipped_quick_start_file_is_cut_from_the_shipped_weights() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("weights");
    let level = Architecture::UNetPlusPlus.quick_start_level().unwrap();
    let whole = std::fs::read(dir.join("unetpp.safetensors")).unwrap();
    let shipped = std::fs::read(dir.join(file_name("unetpp", level))).unwrap();
    let fresh = cut(&whole, level, Some(QUICK_LOOK_SIZE)).unwrap();
    assert!(
        contents(&shipped) == contents(&fresh),
        "weights/{0} is stale: lesionlab export --model unetpp --weights weights/unetpp.safetensors --quick-start {level} --size {QUICK_LOOK_SIZE} --out weights/{0}",
        file_name("unetpp", level)
    );
}
