//! The page's `www/api/rules.js`: every rule the crate and the page share, written from the
//! modules that define them, so that JavaScript never restates one. `cargo test` fails when the
//! file is out of date, and `LESIONLAB_WRITE_RULES=1 cargo test --lib page_rules` rewrites it.
//! The top floor of the crate's rules: it reads many modules, and none reads it.

use serde::Serialize;

use crate::data::{ISIC_ID, MASK_SUFFIXES, MAX_PIXELS};
use crate::draw::{FILL, OUTLINE_DARK, OUTLINE_LIGHT, turbo};
use crate::explain::Method;
use crate::rules::{
    LARGE_MASK_SHARE, MAX_IMAGE_BYTES, MAX_INPUT_SIZE, MIN_INPUT_SIZE, OUTLINE_BAND_DIVISOR,
    THRESHOLD,
};
use crate::train::{FineTuneSettings, fine_tune_limits};
use crate::{Architecture, ErrorKind, InferenceMode};

/// The page's `www/api/rules.js`: the shared rules as an ES module of constants.
pub fn rules_js() -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Model {
        id: &'static str,
        name: &'static str,
        size_multiple: usize,
        quick_start: Option<serde_json::Value>,
    }
    let models: Vec<Model> = Architecture::ALL
        .iter()
        .map(|&a| Model {
            id: a.name(),
            name: a.display_name(),
            size_multiple: a.size_multiple(),
            quick_start: a.quick_start_level().map(|level| {
                serde_json::json!({
                    "level": level,
                    "file": crate::weights::quick_start::file_name(a.name(), level),
                })
            }),
        })
        .collect();
    let overlay = serde_json::json!({
        "outlineDark": OUTLINE_DARK,
        "outlineLight": OUTLINE_LIGHT,
        "fill": FILL,
        "truth": [[255, 255, 255], [0, 0, 0]],
        "bandDivisor": OUTLINE_BAND_DIVISOR,
    });
    let turbo: Vec<[u8; 3]> = (0..256).map(|i| turbo(i as f32 / 255.0)).collect();
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    let modes: Vec<String> = InferenceMode::ALL.iter().map(|m| m.to_string()).collect();
    let aliases: serde_json::Map<String, serde_json::Value> = InferenceMode::ALIASES
        .iter()
        .map(|(alias, mode)| (alias.to_string(), mode.to_string().into()))
        .collect();
    let methods: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
    let entries: Vec<(&str, &str, serde_json::Value)> = vec![
        (
            "THRESHOLD",
            "Lesion where the probability is above this.",
            serde_json::json!(THRESHOLD),
        ),
        (
            "LARGE_MASK_SHARE",
            "A mask covering more of a photo that does not look like dermoscopy is most likely the skin itself: the page offers the box.",
            serde_json::json!(LARGE_MASK_SHARE),
        ),
        (
            "DEFAULT_MODE",
            "The mode of a call that names none: U-Net++'s deepest head alone, which scores best; other models have one head.",
            serde_json::json!(InferenceMode::DEFAULT.to_string()),
        ),
        (
            "MODES",
            "The modes a call can name: U-Net++'s deep-supervision head N alone (`headN`, running only the nodes it needs) or the mean of the four heads' logits (`mean`, the report's); other models have one head, which every mode runs.",
            serde_json::json!(modes),
        ),
        (
            "MODE_ALIASES",
            "Earlier spellings of the modes, still accepted: each maps to its mode's id.",
            serde_json::json!(aliases),
        ),
        (
            "METHODS",
            "The heatmap methods `explain` takes: the mean activation, the report's CAM, Grad-CAM.",
            serde_json::json!(methods),
        ),
        (
            "INPUT_SIZE",
            "Input sides a model runs or is fine-tuned at.",
            serde_json::json!({ "min": MIN_INPUT_SIZE, "max": MAX_INPUT_SIZE }),
        ),
        (
            "MAX_PIXELS",
            "The largest photo, in pixels.",
            serde_json::json!(MAX_PIXELS),
        ),
        (
            "MAX_IMAGE_BYTES",
            "The largest file read as an image.",
            serde_json::json!(MAX_IMAGE_BYTES),
        ),
        (
            "MODELS",
            "The models: id, display name, what the input side must be a multiple of, and the quick-start file shipped beside the whole weights (`null` for none).",
            serde_json::json!(models),
        ),
        (
            "FINE_TUNE_DEFAULTS",
            "The JS API's fine-tuning defaults.",
            serde_json::json!(FineTuneSettings::default()),
        ),
        (
            "FINE_TUNE_FORM",
            "What the page's fine-tuning form starts with.",
            serde_json::json!(FineTuneSettings::page_form()),
        ),
        (
            "FINE_TUNE_LIMITS",
            "Inclusive [min, max] of each numeric fine-tuning setting.",
            serde_json::json!(fine_tune_limits()),
        ),
        (
            "FEATURE_MAPS",
            "How many feature maps the layer explorer shows when not told.",
            serde_json::json!(crate::features::DEFAULT_COUNT),
        ),
        (
            "MASK_SUFFIXES",
            "A PNG named NAME + one of these is the mask of photo NAME.",
            serde_json::json!(MASK_SUFFIXES),
        ),
        (
            "ISIC_ID",
            "An ISIC id is a file stem matching this (any case).",
            serde_json::json!(ISIC_ID),
        ),
        (
            "OVERLAY",
            "Mask overlay colours (RGB) and outline band width.",
            overlay,
        ),
        (
            "TURBO",
            "The Turbo colour map, 256 RGB entries from 0 to 1.",
            serde_json::json!(turbo),
        ),
        (
            "ERROR_KINDS",
            "The kinds an error's `kind` can be.",
            serde_json::json!(kinds),
        ),
    ];
    let mut out = String::from(
        "// Generated from src/page_rules.rs (LESIONLAB_WRITE_RULES=1 cargo test --lib page_rules): do not edit.\n\
         // The rules the crate and the page share, defined once in Rust.\n",
    );
    for (name, doc, value) in entries {
        out.push_str(&format!("\n/** {doc} */\nexport const {name} = {value};\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn www_rules_js_is_generated_from_this_module() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/api/rules.js");
        let fresh = rules_js();
        if std::env::var_os("LESIONLAB_WRITE_RULES").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == fresh,
            "www/api/rules.js is out of date: run LESIONLAB_WRITE_RULES=1 cargo test --lib page_rules"
        );
    }
}
