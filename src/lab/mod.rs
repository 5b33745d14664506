//! What the page's JS API does, in plain Rust: one loaded model that segments and explains
//! photos ([`Session`]) and a fine-tuning run of it ([`FineTune`]). It compiles and is tested
//! natively; `crate::web` is only the thin wasm-bindgen layer over it (JS values in, JS values
//! out), because wasm-bindgen's async methods cannot borrow `self` and so hold these in `Rc`s.

mod clock;
mod finetune;
mod options;
mod prepared;
mod refine;
mod session;

pub use clock::now_ms;
pub use finetune::{EpochOutcome, FineTune, PreviewPair, Scores, Started};
pub use options::{SegmentOptions, SegmentRequest};
pub use prepared::{PhotoSegmentation, PreparedPhoto};
pub use session::{Backend, Explanation, Layer, Segmentation, Session, Timings};
