//! The one road from a photo to every answer, for the command line and the page alike: one
//! loaded model that holds a photo, prepared once, and segments and explains it
//! ([`Session`]), and a fine-tuning run of it ([`FineTune`]). It compiles and is tested
//! natively; the wasm-bindgen layer over it only turns JS values into these types and back,
//! holding them in `Rc`s because wasm-bindgen's async methods cannot borrow `self`.

mod clock;
mod evaluate;
mod finetune;
mod loaded_model;
mod options;
mod photo;
mod refine;

pub use clock::now_ms;
pub use evaluate::{
    Evaluation, Scored, SimulatedClicks, Summary, centre_click, false_region_click,
};
pub use finetune::{EpochOutcome, FineTune, PreviewPair, Scores, Started};
pub use loaded_model::{Backend, Explanation, Head, Layer, Segmentation, Session, Timings};
pub use options::{SegmentOptions, SegmentRequest};
pub use photo::{PhotoSegmentation, PreparedPhoto};
