//! One error type for the crate, with a kind per problem ([`ErrorKind`]) that the CLI, the
//! worker and the page decide by.

use serde::Serialize;
use thiserror::Error;

/// Everything that can go wrong in LesionLab, with messages meant for the person at the screen:
/// each names the file or setting at fault and the problem. Callers decide by [`Error::kind`],
/// never by the message (in the browser the kind arrives as the JS error's `kind` and `name`).
#[derive(Debug, Error)]
pub enum Error {
    /// A photo or mask that cannot be decoded: corrupt, truncated or without pixels.
    #[error("{file}: {message}")]
    UnreadableImage {
        /// The file concerned.
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file or image above a size limit (such as the largest photo in pixels).
    #[error("{file}: {message}")]
    TooLarge {
        /// The file concerned.
        file: String,
        /// Its size and the limit.
        message: String,
    },
    /// A file in a format LesionLab does not read (not a JPEG, PNG or zip).
    #[error("{file}: {message}")]
    UnsupportedFormat {
        /// The file concerned.
        file: String,
        /// What it is and what was expected.
        message: String,
    },
    /// A ground-truth mask that does not fit its photo (another size, not a mask).
    #[error("{file}: {message}")]
    BadMask {
        /// The mask file.
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// A weights file or checkpoint that cannot be read or does not fit the model.
    #[error("weights '{source_name}': {message}")]
    Weights {
        /// The file or URL the bytes came from.
        source_name: String,
        /// What is wrong, naming the tensors concerned.
        message: String,
    },
    /// An argument or setting outside what is accepted.
    #[error("{0}")]
    BadArgument(String),
    /// The device failed: a lost GPU, out of memory, a failed readback.
    #[error("{0}")]
    Device(String),
    /// Training diverged; the weights from before the failed step are kept.
    #[error(
        "the loss became {value} at epoch {epoch}, step {step}; training stopped and the weights from before that step are kept. Try a smaller learning rate"
    )]
    NonFiniteLoss {
        /// Epoch number.
        epoch: usize,
        /// Step in the epoch.
        step: usize,
        /// The loss value.
        value: f64,
    },
    /// The user cancelled the work in progress.
    #[error("{0}")]
    Cancelled(String),
    /// A bug: a panic in the wasm module, or a result that cannot be encoded. The next call
    /// starts afresh.
    #[error("{0}")]
    Internal(String),
    /// A file that could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file concerned.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// The kind of an [`Error`], as the CLI's exit and the page's decisions need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// [`Error::UnreadableImage`].
    UnreadableImage,
    /// [`Error::TooLarge`].
    TooLarge,
    /// [`Error::UnsupportedFormat`].
    UnsupportedFormat,
    /// [`Error::BadMask`].
    BadMask,
    /// [`Error::Weights`].
    Weights,
    /// [`Error::BadArgument`].
    BadArgument,
    /// [`Error::Device`].
    Device,
    /// [`Error::NonFiniteLoss`].
    NonFiniteLoss,
    /// [`Error::Cancelled`].
    Cancelled,
    /// [`Error::Internal`].
    Internal,
    /// [`Error::Io`].
    Io,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::UnreadableImage,
        ErrorKind::TooLarge,
        ErrorKind::UnsupportedFormat,
        ErrorKind::BadMask,
        ErrorKind::Weights,
        ErrorKind::BadArgument,
        ErrorKind::Device,
        ErrorKind::NonFiniteLoss,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
        ErrorKind::Io,
    ];

    /// The kind's name in JS (`error.kind`): `unreadable-image`, `too-large`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnreadableImage => "unreadable-image",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::UnsupportedFormat => "unsupported-format",
            ErrorKind::BadMask => "bad-mask",
            ErrorKind::Weights => "weights",
            ErrorKind::BadArgument => "bad-argument",
            ErrorKind::Device => "device",
            ErrorKind::NonFiniteLoss => "non-finite-loss",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
            ErrorKind::Io => "io",
        }
    }

    /// The JS error's `name`, in the style of `TypeError`: `UnreadableImageError`, ...
    pub fn js_name(self) -> String {
        let mut name: String = self
            .as_str()
            .split('-')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        name.push_str("Error");
        name
    }
}

impl Error {
    /// The file at fault, for the errors that concern one.
    pub fn file(&self) -> Option<&str> {
        match self {
            Error::UnreadableImage { file, .. }
            | Error::TooLarge { file, .. }
            | Error::UnsupportedFormat { file, .. }
            | Error::BadMask { file, .. }
            | Error::Io { path: file, .. }
            | Error::Weights {
                source_name: file, ..
            } => Some(file),
            _ => None,
        }
    }

    /// The problem without the file's name (for lists that show the file in a column).
    pub fn problem(&self) -> String {
        match self {
            Error::UnreadableImage { message, .. }
            | Error::TooLarge { message, .. }
            | Error::UnsupportedFormat { message, .. }
            | Error::BadMask { message, .. }
            | Error::Io { message, .. }
            | Error::Weights { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnreadableImage { .. } => ErrorKind::UnreadableImage,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::UnsupportedFormat { .. } => ErrorKind::UnsupportedFormat,
            Error::BadMask { .. } => ErrorKind::BadMask,
            Error::Weights { .. } => ErrorKind::Weights,
            Error::BadArgument(_) => ErrorKind::BadArgument,
            Error::Device(_) => ErrorKind::Device,
            Error::NonFiniteLoss { .. } => ErrorKind::NonFiniteLoss,
            Error::Cancelled(_) => ErrorKind::Cancelled,
            Error::Internal(_) => ErrorKind::Internal,
            Error::Io { .. } => ErrorKind::Io,
        }
    }
}

/// What a caught panic said, for an error that reports it (natively; the page reports its
/// panics through its hook).
#[cfg(not(target_family = "wasm"))]
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no reason given")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_distinct_js_names() {
        let names: Vec<String> = ErrorKind::ALL.iter().map(|k| k.js_name()).collect();
        assert_eq!(names[0], "UnreadableImageError");
        assert_eq!(names[7], "NonFiniteLossError");
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for k in ErrorKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }

    /// The page's JS makes and compares errors by kind (`fail('weights', ...)`,
    /// `err.kind === 'internal'`); every kind it names must be one of the crate's.
    #[test]
    fn the_page_uses_only_the_crates_error_kinds() {
        let known: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
        let mut used = 0;
        for path in js_files(&www) {
            // The formatter may break a call after its parenthesis: join it back.
            let mut text = std::fs::read_to_string(&path)
                .unwrap()
                .replace("fail(\n", "fail(");
            while text.contains("fail( ") {
                text = text.replace("fail( ", "fail(");
            }
            for line in text
                .lines()
                .filter(|l| l.contains("fail('") || l.contains("err.kind"))
            {
                let quoted = line.split('\'').skip(1).step_by(2);
                let kinds = quoted.filter(|q| {
                    !q.is_empty() && q.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                });
                for kind in kinds {
                    let in_fail = line.contains(&format!("fail('{kind}'"));
                    let compared = line.contains(&format!("err.kind === '{kind}'"))
                        || (line.contains("includes(err.kind)")
                            && line.contains(&format!("'{kind}'")));
                    if in_fail || compared {
                        assert!(
                            known.contains(&kind),
                            "{}: unknown error kind '{kind}'",
                            path.display()
                        );
                        used += 1;
                    }
                }
            }
        }
        assert!(used > 20, "only {used} uses of error kinds found in www/");
    }

    /// Every `.js` file under `dir`, in its subfolders too.
    fn js_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(js_files(&path));
            } else if path.extension().is_some_and(|e| e == "js") {
                out.push(path);
            }
        }
        out
    }
}
