//! Where ISIC files come from natively: directories and zip archives (the page reads its files
//! and zips in `www/zip.js` and hands the crate each pair's bytes). Files are read one pair at a time and kept only resized, so a
//! 10 GB official zip never sits in memory whole.

use std::collections::HashMap;
use std::io::{Read, Seek};

use image::GrayImage;

use super::pairing::{Pairing, Skipped, pair_files};
use super::{Sample, decode_image, decode_mask};
use crate::Error;

/// A set of files that can be listed and read by name.
pub trait FileSource {
    /// Names of the files (unique within the source).
    fn names(&self) -> Vec<String>;
    /// Reads one file.
    fn read(&mut self, name: &str) -> Result<Vec<u8>, Error>;
    /// What could not be listed (an archive that does not open), reported like a bad file.
    fn problems(&self) -> Vec<Skipped> {
        Vec::new()
    }
}

/// A source that could not be opened (a truncated, fake or encrypted zip): it lists nothing
/// and reports why, so that a run goes on with the other sources.
pub struct Unreadable(pub Skipped);

impl FileSource for Unreadable {
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
    fn read(&mut self, name: &str) -> Result<Vec<u8>, Error> {
        Err(Error::Io {
            path: name.into(),
            message: self.0.reason.clone(),
        })
    }
    fn problems(&self) -> Vec<Skipped> {
        vec![self.0.clone()]
    }
}

/// The files inside a zip archive, named `archive.zip/path/in/zip`.
pub struct ZipSource<R: Read + Seek> {
    label: String,
    archive: zip::ZipArchive<R>,
}

impl<R: Read + Seek> ZipSource<R> {
    /// Opens an archive; `label` (its file name) prefixes every entry's name.
    pub fn new(reader: R, label: &str) -> Result<Self, Error> {
        let archive = zip::ZipArchive::new(reader).map_err(|e| Error::UnsupportedFormat {
            file: label.into(),
            message: format!("not a readable zip file ({e})"),
        })?;
        Ok(Self {
            label: label.to_string(),
            archive,
        })
    }
}

impl<R: Read + Seek> FileSource for ZipSource<R> {
    fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(|n| n.ok())
            .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX/"))
            .map(|n| format!("{}/{n}", self.label))
            .collect()
    }
    fn read(&mut self, name: &str) -> Result<Vec<u8>, Error> {
        let inner = name
            .strip_prefix(&format!("{}/", self.label))
            .unwrap_or(name);
        let mut file = self.archive.by_name(inner).map_err(|e| Error::Io {
            path: name.into(),
            message: format!("cannot read from the zip ({e})"),
        })?;
        if file.size() > super::MAX_PIXELS * 4 {
            return Err(Error::TooLarge {
                file: name.into(),
                message: format!("{} MB is too large for an image", file.size() / 1_000_000),
            });
        }
        let mut bytes = Vec::with_capacity(file.size() as usize);
        file.read_to_end(&mut bytes).map_err(|e| Error::Io {
            path: name.into(),
            message: format!("corrupt zip entry ({e})"),
        })?;
        Ok(bytes)
    }
}

/// How loading went: pairs found and every file left out with its reason.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    /// Image/mask pairs found by name.
    pub paired: usize,
    /// Pairs decoded and kept.
    pub loaded: usize,
    /// Files left out, with the reason.
    pub skipped: Vec<Skipped>,
}

/// The files of several sources paired by ISIC id, with each file's source.
pub struct Catalog {
    /// The pairs and the files left out.
    pub pairing: Pairing,
    owner: HashMap<String, usize>,
}

impl Catalog {
    /// Lists and pairs the files of `sources`.
    pub fn new(sources: &[Box<dyn FileSource>]) -> Self {
        let owner: HashMap<String, usize> = sources
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.names().into_iter().map(move |n| (n, i)))
            .collect();
        let mut names: Vec<&str> = owner.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut pairing = pair_files(&names);
        pairing
            .skipped
            .extend(sources.iter().flat_map(|s| s.problems()));
        Self { pairing, owner }
    }

    /// Decodes a pair at its own resolution, checking that the mask has the image's size.
    /// The error names the file at fault and the reason.
    pub fn read_pair(
        &self,
        sources: &mut [Box<dyn FileSource>],
        image_name: &str,
        mask_name: &str,
    ) -> Result<(image::RgbImage, GrayImage), Error> {
        let read =
            |sources: &mut [Box<dyn FileSource>], name: &str| sources[self.owner[name]].read(name);
        let image = read(sources, image_name)?;
        let mask = read(sources, mask_name)?;
        decode_pair(image_name, &image, mask_name, &mask)
    }
}

/// Decodes a pair from its bytes at its own resolution, checking that the mask has the image's
/// size. The error names the file at fault and the reason.
pub fn decode_pair(
    image_name: &str,
    image: &[u8],
    mask_name: &str,
    mask: &[u8],
) -> Result<(image::RgbImage, GrayImage), Error> {
    let image = decode_image(image, image_name)?;
    let mask = decode_mask(mask, mask_name)?;
    if mask.dimensions() != image.dimensions() {
        let ((mw, mh), (iw, ih)) = (mask.dimensions(), image.dimensions());
        return Err(Error::BadMask {
            file: mask_name.to_string(),
            message: format!("mask is {mw}x{mh} but its image is {iw}x{ih}"),
        });
    }
    Ok((image, mask))
}

/// A decoded pair resized to `size x size`, as training keeps it.
pub fn resized_sample(id: &str, image: &image::RgbImage, mask: &GrayImage, size: u32) -> Sample {
    let original = image.dimensions();
    let image = super::resize_rgb(image, size);
    let mask = GrayImage::from_raw(size, size, super::resize_mask(mask, size))
        .expect("resize_mask returns size*size values");
    Sample {
        id: id.to_string(),
        image,
        mask,
        original,
    }
}

/// Pairs the files of all sources by ISIC id, decodes each pair, checks that the mask has the
/// image's size, and keeps both resized to `size x size`. Bad files are reported and skipped;
/// an error is returned only when no usable pair is left. `progress(done, total)` is called
/// after each pair.
pub fn load_pairs(
    sources: &mut [Box<dyn FileSource>],
    size: u32,
    mut progress: impl FnMut(usize, usize),
) -> Result<(Vec<Sample>, LoadReport), Error> {
    let catalog = Catalog::new(sources);
    let pairs = &catalog.pairing.pairs;
    let mut report = LoadReport {
        paired: pairs.len(),
        loaded: 0,
        skipped: catalog.pairing.skipped.clone(),
    };
    let mut samples = Vec::new();
    for (done, (id, image_name, mask_name)) in pairs.iter().enumerate() {
        match catalog.read_pair(sources, image_name, mask_name) {
            Ok((image, mask)) => samples.push(resized_sample(id, &image, &mask, size)),
            Err(e) => report.skipped.push(Skipped::because(&e)),
        }
        progress(done + 1, pairs.len());
    }
    report.loaded = samples.len();
    if samples.is_empty() {
        let detail = report
            .skipped
            .iter()
            .take(5)
            .map(|s| format!("{}: {}", s.file, s.reason))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::BadArgument(format!(
            "no usable image/mask pair found ({} files skipped{}{detail})",
            report.skipped.len(),
            if detail.is_empty() { "" } else { ": " }
        )));
    }
    Ok((samples, report))
}

#[cfg(not(target_family = "wasm"))]
pub use native::dir_sources;

#[cfg(not(target_family = "wasm"))]
mod native {
    use super::*;
    use std::path::{Path, PathBuf};

    struct DirSource {
        files: Vec<(String, PathBuf)>,
    }

    impl FileSource for DirSource {
        fn names(&self) -> Vec<String> {
            self.files.iter().map(|(n, _)| n.clone()).collect()
        }
        fn read(&mut self, name: &str) -> Result<Vec<u8>, Error> {
            let path = &self
                .files
                .iter()
                .find(|(n, _)| n == name)
                .expect("listed name")
                .1;
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if len > crate::data::MAX_PIXELS * 4 {
                return Err(Error::TooLarge {
                    file: name.into(),
                    message: format!("{} MB is too large for an image", len / 1_000_000),
                });
            }
            std::fs::read(path).map_err(|e| Error::Io {
                path: name.into(),
                message: e.to_string(),
            })
        }
    }

    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let path = e.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }

    /// Sources for a path: a directory (searched recursively; zip files inside it are opened
    /// as archives) or a single zip file. A zip that does not open is reported by
    /// [`load_pairs`] like a bad image, and the other files are still read.
    pub fn dir_sources(path: &Path) -> Result<Vec<Box<dyn FileSource>>, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut files = Vec::new();
        if path.is_dir() {
            walk(path, &mut files).map_err(io)?;
        } else if path.exists() {
            files.push(path.to_path_buf());
        } else {
            return Err(Error::Io {
                path: path.display().to_string(),
                message: "no such file or directory".into(),
            });
        }
        let mut sources: Vec<Box<dyn FileSource>> = Vec::new();
        let mut plain = Vec::new();
        for file in files {
            let name = file
                .strip_prefix(path)
                .ok()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(&file)
                .display()
                .to_string();
            if name.to_ascii_lowercase().ends_with(".zip") {
                let f = std::fs::File::open(&file).map_err(io)?;
                match ZipSource::new(std::io::BufReader::new(f), &name) {
                    Ok(zip) => sources.push(Box::new(zip)),
                    Err(e) => sources.push(Box::new(Unreadable(Skipped::because(&e)))),
                }
            } else {
                plain.push((name, file));
            }
        }
        sources.push(Box::new(DirSource { files: plain }));
        Ok(sources)
    }
}
