//! What `segment` needs for an archive: a shard of the photos for one job of an array, a CSV
//! ledger appended photo by photo (a killed run keeps every row it wrote), and progress with an
//! estimate of the time left.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use lesionlab::Error;

/// `--shard i/n`: the photos job `i` of `n` (from 0) segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This job, `0..count`.
    pub index: u64,
    /// Jobs in all.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not i/n with 0 <= i < n (e.g. 0/4 ... 3/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the photo written as `output` (its mask's name) is this shard's. The split hashes
    /// the name, so it does not depend on the listing's order or on other photos: a photo
    /// added later never moves another to a different job.
    pub fn holds(self, output: &str) -> bool {
        fnv1a(output.to_lowercase().as_bytes()) % self.count == self.index
    }

    /// The ledger's name for this shard.
    pub fn ledger_name(self) -> String {
        format!("segment-shard-{}-of-{}.csv", self.index, self.count)
    }
}

/// 64-bit FNV-1a: stable across builds and machines, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One photo's row of the ledger.
pub struct Row<'a> {
    pub photo: &'a str,
    pub mask: &'a str,
    pub width: u32,
    pub height: u32,
    pub lesion_pixels: u64,
    pub ms: f64,
    pub looks_like_dermoscopy: bool,
    pub warning: &'a str,
}

/// The CSV ledger: one row per photo segmented, appended and flushed at once, so that a run
/// killed part-way keeps a row for every mask it wrote and a resumed run adds to it.
pub struct Ledger {
    file: std::fs::File,
    path: PathBuf,
}

const HEADER: &str =
    "photo,mask,width,height,lesion_pixels,lesion_fraction,ms,looks_like_dermoscopy,warning";

impl Ledger {
    /// Opens `path` to append, writing the header when it is new and ending a row a kill cut
    /// short.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let before = std::fs::read(path).unwrap_or_default();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        if before.is_empty() {
            writeln!(file, "{HEADER}").map_err(io)?;
        } else if !before.ends_with(b"\n") {
            writeln!(file).map_err(io)?;
        }
        Ok(Ledger {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends `row`.
    pub fn add(&mut self, row: &Row) -> Result<(), Error> {
        let area = (row.width as u64 * row.height as u64).max(1);
        let line = format!(
            "{},{},{},{},{},{:.6},{:.1},{},{}\n",
            csv_field(row.photo),
            csv_field(row.mask),
            row.width,
            row.height,
            row.lesion_pixels,
            row.lesion_pixels as f64 / area as f64,
            row.ms,
            row.looks_like_dermoscopy,
            csv_field(row.warning)
        );
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| Error::Io {
                path: self.path.display().to_string(),
                message: e.to_string(),
            })
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Progress on stderr: a bar with the rate and the time left on a terminal, and a line every
/// half minute otherwise (a cluster job's log).
pub struct Progress {
    bar: ProgressBar,
    total: u64,
    done: u64,
    start: Instant,
    last_line: Instant,
}

impl Progress {
    /// Progress over `total` photos.
    pub fn new(total: u64) -> Self {
        let bar = ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} photos {per_sec} {elapsed}<{eta} left",
            )
            .expect("a valid template"),
        );
        Progress {
            bar,
            total,
            done: 0,
            start: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// One more photo done.
    pub fn tick(&mut self) {
        self.done += 1;
        self.bar.inc(1);
        if self.bar.is_hidden() && self.last_line.elapsed() >= Duration::from_secs(30) {
            self.last_line = Instant::now();
            eprintln!("{}", self.line());
        }
    }

    /// `done/total photos, rate, time left`, in words.
    fn line(&self) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let rate = self.done as f64 / secs.max(1e-9);
        let left = (self.total - self.done) as f64 / rate.max(1e-9);
        format!(
            "{}/{} photos, {rate:.2} photos/s, about {:.0} s left",
            self.done, self.total, left
        )
    }

    /// Runs `f` (a message) with the bar out of the way.
    pub fn suspend(&self, f: impl FnOnce()) {
        self.bar.suspend(f);
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_photos_into_disjoint_covering_parts() {
        let names: Vec<String> = (0..1000)
            .map(|i| format!("ISIC_{i:07}_segmentation.png"))
            .collect();
        let shards: Vec<Shard> = (0..4).map(|i| format!("{i}/4").parse().unwrap()).collect();
        let mut sizes = [0; 4];
        for name in &names {
            let holders: Vec<usize> = (0..4).filter(|&i| shards[i].holds(name)).collect();
            assert_eq!(holders.len(), 1, "{name}");
            sizes[holders[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| (200..300).contains(&n)), "{sizes:?}");
        for bad in ["4/4", "1", "a/2", "0/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
