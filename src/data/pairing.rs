//! Pairing images with their ground-truth masks by the 7-digit ISIC id, as the official layout
//! names them: `ISIC_NNNNNNN.jpg` beside `ISIC_NNNNNNN_segmentation.png`.

use std::collections::BTreeMap;

use serde::Serialize;

/// What a file name says a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// A photo, `ISIC_NNNNNNN.jpg` (or `.jpeg`, `.png`).
    Image(String),
    /// A ground-truth mask, `ISIC_NNNNNNN_segmentation.png`.
    Mask(String),
    /// Anything else.
    Other,
}

/// Classifies a path by its file name (folders are ignored, case-insensitively).
pub fn classify(path: &str) -> FileKind {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("isic_") else { return FileKind::Other };
    if rest.len() < 7 || !rest.as_bytes()[..7].iter().all(u8::is_ascii_digit) {
        return FileKind::Other;
    }
    let id = format!("ISIC_{}", &rest[..7]);
    match &rest[7..] {
        "_segmentation.png" => FileKind::Mask(id),
        ".jpg" | ".jpeg" | ".png" => FileKind::Image(id),
        _ => FileKind::Other,
    }
}

/// A file left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file's path or name as given.
    pub file: String,
    /// Why it was left out.
    pub reason: String,
}

/// The result of pairing: `(id, image file, mask file)` triples sorted by id, and the rest.
#[derive(Debug, Clone, Default)]
pub struct Pairing {
    /// Complete pairs, sorted by id.
    pub pairs: Vec<(String, String, String)>,
    /// Files that were not paired.
    pub skipped: Vec<Skipped>,
}

/// Pairs file paths by ISIC id. Reports images without a mask, masks without an image, second
/// files for an id already seen, and files that are neither.
pub fn pair_files<S: AsRef<str>>(paths: &[S]) -> Pairing {
    let mut images: BTreeMap<String, String> = BTreeMap::new();
    let mut masks: BTreeMap<String, String> = BTreeMap::new();
    let mut skipped = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let (map, id) = match classify(path) {
            FileKind::Image(id) => (&mut images, id),
            FileKind::Mask(id) => (&mut masks, id),
            FileKind::Other => {
                skipped.push(Skipped {
                    file: path.to_string(),
                    reason: "not an ISIC image (ISIC_NNNNNNN.jpg) or mask (ISIC_NNNNNNN_segmentation.png)".into(),
                });
                continue;
            }
        };
        if let Some(first) = map.get(&id) {
            skipped.push(Skipped { file: path.to_string(), reason: format!("duplicate of {first} for {id}") });
        } else {
            map.insert(id, path.to_string());
        }
    }
    let mut pairs = Vec::new();
    for (id, image) in &images {
        match masks.remove(id) {
            Some(mask) => pairs.push((id.clone(), image.clone(), mask)),
            None => skipped.push(Skipped { file: image.clone(), reason: format!("no mask {id}_segmentation.png") }),
        }
    }
    for (id, mask) in masks {
        skipped.push(Skipped { file: mask, reason: format!("no image {id}.jpg") });
    }
    Pairing { pairs, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_official_names_in_any_folder() {
        assert_eq!(classify("a/ISIC2018_Task1-2_Training_Input/ISIC_0000001.jpg"), FileKind::Image("ISIC_0000001".into()));
        assert_eq!(classify("ISIC_0000001_segmentation.png"), FileKind::Mask("ISIC_0000001".into()));
        assert_eq!(classify("C:\\data\\isic_0012345.JPEG"), FileKind::Image("ISIC_0012345".into()));
        assert_eq!(classify("ISIC_000001.jpg"), FileKind::Other);
        assert_eq!(classify("ISIC_0000001_superpixels.png"), FileKind::Other);
        assert_eq!(classify("LICENSE.txt"), FileKind::Other);
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
        let reasons: Vec<_> = p.skipped.iter().map(|s| (s.file.as_str(), s.reason.as_str())).collect();
        assert!(reasons.contains(&("in/ISIC_0000003.jpg", "no mask ISIC_0000003_segmentation.png")), "{reasons:?}");
        assert!(reasons.contains(&("gt/ISIC_0000004_segmentation.png", "no image ISIC_0000004.jpg")), "{reasons:?}");
        assert!(reasons.contains(&("other/ISIC_0000001.png", "duplicate of in/ISIC_0000001.jpg for ISIC_0000001")), "{reasons:?}");
        assert!(reasons.iter().any(|(f, r)| *f == "README.txt" && r.starts_with("not an ISIC image")), "{reasons:?}");
        assert_eq!(p.skipped.len(), 4);
    }
}
