use thiserror::Error;

/// Everything that can go wrong in LesionLab, with messages meant for the person at the screen.
#[derive(Debug, Error)]
pub enum Error {
    /// A weights file that cannot be read or does not fit the model.
    #[error("weights '{source_name}': {message}")]
    Weights {
        /// The file or URL the bytes came from.
        source_name: String,
        /// What is wrong, naming the tensors concerned.
        message: String,
    },
    /// An argument or input outside what is accepted.
    #[error("{0}")]
    Invalid(String),
    /// A file that could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file concerned.
        path: String,
        /// What went wrong.
        message: String,
    },
}
