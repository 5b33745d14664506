//! Pairing images with their ground-truth masks by name, one rule for the CLI and the page:
//! `NAME.jpg` (or `.jpeg`, `.png`) with `NAME_segmentation.png` or `NAME_mask.png`, in any
//! folder, names compared without regard to case. ISIC's official names are the common case:
//! `ISIC_NNNNNNN.jpg` beside `ISIC_NNNNNNN_segmentation.png`.

use std::collections::BTreeMap;

use serde::Serialize;

/// Endings that make a PNG a mask of the image with the rest of the name.
pub const MASK_SUFFIXES: [&str; 2] = ["_segmentation", "_mask"];

/// What a file name says a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// A photo, `NAME.jpg` (or `.jpeg`, `.png`); holds its id, `NAME` (`ISIC_NNNNNNN` for ISIC
    /// photos, whatever the case of the name).
    Image(String),
    /// A mask, `NAME_segmentation.png` or `NAME_mask.png`; holds the id of its image.
    Mask(String),
    /// Anything else, and why it is neither.
    Other(String),
    /// A file an operating system leaves beside the user's (`.DS_Store`, `Thumbs.db`,
    /// `desktop.ini`, macOS's `._NAME` and `__MACOSX/`): skipped without a word.
    System,
}

/// Classifies a path by its file name (folders are ignored).
pub fn classify(path: &str) -> FileKind {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let system = matches!(
        name.to_ascii_lowercase().as_str(),
        ".ds_store" | "thumbs.db" | "desktop.ini"
    ) || name.starts_with("._")
        || path.split(['/', '\\']).any(|part| part == "__MACOSX");
    if system {
        return FileKind::System;
    }
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return FileKind::Other(NOT_AN_IMAGE.into());
    };
    let ext = ext.to_ascii_lowercase();
    if ext == "zip" {
        return FileKind::Other(
            "an archive inside the archive: not opened (unzip it and give its files)".into(),
        );
    }
    if !matches!(ext.as_str(), "jpg" | "jpeg" | "png") || stem.is_empty() {
        return FileKind::Other(NOT_AN_IMAGE.into());
    }
    let lower = stem.to_ascii_lowercase();
    if let Some(base) = MASK_SUFFIXES
        .iter()
        .find_map(|s| lower.strip_suffix(s).map(|b| &stem[..b.len()]))
    {
        if base.is_empty() {
            return FileKind::Other(NOT_AN_IMAGE.into());
        }
        if ext != "png" {
            return FileKind::Other(
                "a mask must be a PNG (NAME_mask.png): JPEG compression blurs its edges".into(),
            );
        }
        return FileKind::Mask(isic_id(base).unwrap_or_else(|| base.to_string()));
    }
    // ISIC's other per-image files (`ISIC_NNNNNNN_superpixels.png`) are not photos.
    match (isic_id(stem), lower.strip_prefix("isic_")) {
        (Some(id), _) => FileKind::Image(id),
        (None, Some(rest))
            if rest.len() > 7 && rest.as_bytes()[..7].iter().all(u8::is_ascii_digit) =>
        {
            FileKind::Other(
                "not an ISIC photo (ISIC_NNNNNNN.jpg) or mask (ISIC_NNNNNNN_segmentation.png)"
                    .into(),
            )
        }
        _ => FileKind::Image(stem.to_string()),
    }
}

const NOT_AN_IMAGE: &str =
    "not a photo (NAME.jpg or .png) or a mask (NAME_segmentation.png or NAME_mask.png)";

/// A file stem that is an ISIC id, in any case: the page matches stems with this pattern
/// (`ISIC_ID` in `www/api/rules.js`); [`isic_id`] is the same rule without a regex engine, and a
/// test holds the two together.
pub const ISIC_ID: &str = "^ISIC_([0-9]{7})$";

/// `ISIC_NNNNNNN` when `stem` is exactly an ISIC id, in any case.
fn isic_id(stem: &str) -> Option<String> {
    let digits = stem
        .get(..5)
        .filter(|prefix| prefix.eq_ignore_ascii_case("ISIC_"))
        .map(|_| &stem[5..])?;
    (digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("ISIC_{digits}"))
}

/// A file left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file's path or name as given.
    pub file: String,
    /// Why it was left out.
    pub reason: String,
}

impl Skipped {
    /// The file an error names, and the error's problem.
    pub fn because(error: &crate::Error) -> Self {
        Skipped {
            file: error.file().unwrap_or_default().to_string(),
            reason: error.problem(),
        }
    }
}

/// The result of pairing: `(id, image file, mask file)` triples sorted by id, and the rest.
#[derive(Debug, Clone, Default)]
pub struct Pairing {
    /// Complete pairs, sorted by id.
    pub pairs: Vec<(String, String, String)>,
    /// Files that were not paired.
    pub skipped: Vec<Skipped>,
}

/// Pairs file paths by id ([`classify`]). Reports images without a mask, masks without an
/// image, second files for an id already seen, and files that are neither.
pub fn pair_files<S: AsRef<str>>(paths: &[S]) -> Pairing {
    // Keyed by the lower-case id, so `Mole1.JPG` pairs with `mole1_mask.png`.
    let mut images: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut masks: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut skipped = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let (map, id) = match classify(path) {
            FileKind::Image(id) => (&mut images, id),
            FileKind::Mask(id) => (&mut masks, id),
            FileKind::Other(reason) => {
                skipped.push(Skipped {
                    file: path.to_string(),
                    reason,
                });
                continue;
            }
            FileKind::System => continue,
        };
        match map.get(&id.to_ascii_lowercase()) {
            Some((_, first)) => skipped.push(Skipped {
                file: path.to_string(),
                reason: format!("duplicate of {first} for {id}"),
            }),
            None => {
                map.insert(id.to_ascii_lowercase(), (id, path.to_string()));
            }
        }
    }
    let mut pairs = Vec::new();
    for (key, (id, image)) in images {
        match masks.remove(&key) {
            Some((_, mask)) => pairs.push((id, image, mask)),
            None => {
                let reason = match isic_id(&id) {
                    Some(_) => format!("no mask {id}_segmentation.png"),
                    None => format!("no mask {id}_segmentation.png or {id}_mask.png"),
                };
                skipped.push(Skipped {
                    file: image,
                    reason,
                });
            }
        }
    }
    for (id, mask) in masks.into_values() {
        let reason = match isic_id(&id) {
            Some(_) => format!("no image {id}.jpg"),
            None => format!("no image {id}.jpg or {id}.png"),
        };
        skipped.push(Skipped { file: mask, reason });
    }
    Pairing { pairs, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_isic_id_rule_is_the_pages_pattern() {
        let pattern = regex::RegexBuilder::new(ISIC_ID)
            .case_insensitive(true)
            .build()
            .unwrap();
        for stem in [
            "ISIC_0000122",
            "isic_0000122",
            "Isic_1234567",
            "ISIC_000012",
            "ISIC_00001222",
            "ISIC_000012a",
            "XISIC_0000122",
            "ISIC-0000122",
            "ISIC_0000122_mask",
            "ISIC_",
            "",
            "ISIC_٠١٢٣٤٥٦",
        ] {
            let by_pattern = pattern.captures(stem).map(|c| format!("ISIC_{}", &c[1]));
            assert_eq!(isic_id(stem), by_pattern, "{stem}");
        }
    }

    #[test]
    fn classifies_official_names_in_any_folder() {
        assert_eq!(
            classify("a/ISIC2018_Task1-2_Training_Input/ISIC_0000001.jpg"),
            FileKind::Image("ISIC_0000001".into())
        );
        assert_eq!(
            classify("ISIC_0000001_segmentation.png"),
            FileKind::Mask("ISIC_0000001".into())
        );
        assert_eq!(
            classify("C:\\data\\isic_0012345.JPEG"),
            FileKind::Image("ISIC_0012345".into())
        );
        assert!(
            matches!(classify("ISIC_0000001_superpixels.png"), FileKind::Other(r) if r.starts_with("not an ISIC photo"))
        );
        assert!(
            matches!(classify("LICENSE.txt"), FileKind::Other(r) if r.starts_with("not a photo"))
        );
    }

    #[test]
    fn system_files_are_skipped_silently_and_a_zip_in_a_zip_is_named() {
        for name in [
            "a/.DS_Store",
            "Thumbs.db",
            "__MACOSX/ISIC_0000001.jpg",
            "x/._ISIC_0000001.jpg",
            "DESKTOP.INI",
        ] {
            assert_eq!(classify(name), FileKind::System, "{name}");
        }
        let p = pair_files(&[
            "ISIC_0000001.jpg",
            "ISIC_0000001_segmentation.png",
            ".DS_Store",
            "inner.zip",
        ]);
        assert_eq!(p.pairs.len(), 1);
        assert_eq!(p.skipped.len(), 1, "{:?}", p.skipped);
        assert!(
            p.skipped[0].reason.contains("archive inside the archive"),
            "{:?}",
            p.skipped
        );
    }

    #[test]
    fn classifies_any_name_with_a_mask_suffix() {
        assert_eq!(
            classify("photos/mole1.jpg"),
            FileKind::Image("mole1".into())
        );
        assert_eq!(
            classify("masks/mole1_segmentation.png"),
            FileKind::Mask("mole1".into())
        );
        assert_eq!(
            classify("masks/Mole 2_MASK.PNG"),
            FileKind::Mask("Mole 2".into())
        );
        assert_eq!(
            classify("ISIC_000001.jpg"),
            FileKind::Image("ISIC_000001".into()),
            "six digits: an ordinary name"
        );
        assert!(
            matches!(classify("mole1_mask.jpg"), FileKind::Other(r) if r.contains("must be a PNG"))
        );
        assert!(matches!(classify("_mask.png"), FileKind::Other(_)));
        assert!(matches!(classify("README"), FileKind::Other(_)));
    }

    #[test]
    fn pairs_by_id_and_reports_everything_else() {
        let files = [
            "in/ISIC_0000002.jpg",
            "gt/ISIC_0000002_segmentation.png",
            "in/ISIC_0000001.jpg",
            "gt/ISIC_0000001_segmentation.png",
            "in/ISIC_0000003.jpg",
            "gt/ISIC_0000004_segmentation.png",
            "other/ISIC_0000001.png",
            "README.txt",
        ];
        let p = pair_files(&files);
        let ids: Vec<_> = p.pairs.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(ids, ["ISIC_0000001", "ISIC_0000002"]);
        assert_eq!(p.pairs[0].1, "in/ISIC_0000001.jpg");
        let reasons: Vec<_> = p
            .skipped
            .iter()
            .map(|s| (s.file.as_str(), s.reason.as_str()))
            .collect();
        assert!(
            reasons.contains(&(
                "in/ISIC_0000003.jpg",
                "no mask ISIC_0000003_segmentation.png"
            )),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&(
                "gt/ISIC_0000004_segmentation.png",
                "no image ISIC_0000004.jpg"
            )),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&(
                "other/ISIC_0000001.png",
                "duplicate of in/ISIC_0000001.jpg for ISIC_0000001"
            )),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|(f, r)| *f == "README.txt" && r.starts_with("not a photo")),
            "{reasons:?}"
        );
        assert_eq!(p.skipped.len(), 4);
    }

    #[test]
    fn pairs_ordinary_names_with_either_mask_suffix_whatever_the_case() {
        let files = [
            "mole1.jpg",
            "mole1_segmentation.png",
            "Mole2.PNG",
            "mole2_mask.png",
            "back.jpg",
            "arm_mask.png",
            "mole1.png",
        ];
        let p = pair_files(&files);
        assert_eq!(
            p.pairs,
            [
                (
                    "mole1".to_string(),
                    "mole1.jpg".to_string(),
                    "mole1_segmentation.png".to_string()
                ),
                (
                    "Mole2".to_string(),
                    "Mole2.PNG".to_string(),
                    "mole2_mask.png".to_string()
                ),
            ]
        );
        let reasons: Vec<_> = p
            .skipped
            .iter()
            .map(|s| (s.file.as_str(), s.reason.as_str()))
            .collect();
        assert!(
            reasons.contains(&("back.jpg", "no mask back_segmentation.png or back_mask.png")),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&("arm_mask.png", "no image arm.jpg or arm.png")),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&("mole1.png", "duplicate of mole1.jpg for mole1")),
            "{reasons:?}"
        );
    }
}
