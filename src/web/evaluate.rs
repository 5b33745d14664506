//! `Evaluation` in JS: a folder of photos and expert masks scored in the page by the same code
//! as `lesionlab eval` ([`crate::session::Evaluation`]).

use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::session::Session;
use super::{from_js, to_js, to_js_with};
use crate::data::decode_pair;
use crate::metrics::ImageScores;
use crate::session::{self, SegmentRequest, SimulatedClicks};

/// The ISIC scores by their JS names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Scores {
    jaccard: f64,
    dice: f64,
    thresholded_jaccard: f64,
    sensitivity: f64,
    specificity: f64,
    accuracy: f64,
}

impl From<ImageScores> for Scores {
    fn from(s: ImageScores) -> Self {
        Scores {
            jaccard: s.jaccard,
            dice: s.dice,
            thresholded_jaccard: s.threshold_jaccard,
            sensitivity: s.sensitivity,
            specificity: s.specificity,
            accuracy: s.accuracy,
        }
    }
}

/// A running evaluation.
#[wasm_bindgen]
pub struct Evaluation {
    inner: Rc<session::Evaluation>,
}

impl Default for Evaluation {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Evaluation {
    /// Nothing scored yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Evaluation {
        Evaluation {
            inner: Rc::new(session::Evaluation::new()),
        }
    }

    /// Decodes one pair's files as the command line does (the names name them in errors),
    /// segments the photo with `session` and `options` (`segment`'s options) and scores the mask
    /// against the expert's. Resolves to `{ scores: { jaccard, dice, thresholdedJaccard,
    /// sensitivity, specificity, accuracy }, width, height, mask: Uint8Array }`.
    #[wasm_bindgen(js_name = scorePair)]
    pub fn score_pair(
        &self,
        session: &Session,
        image: Vec<u8>,
        image_name: String,
        mask: Vec<u8>,
        mask_name: String,
        options: JsValue,
    ) -> Promise {
        let (inner, session) = (self.inner.clone(), session.inner());
        let request: Result<SegmentRequest, JsValue> = from_js(options, "evaluate options");
        future_to_promise(async move {
            let options = request?.options()?;
            let (photo, truth) = decode_pair(&image_name, &image, &mask_name, &mask)?;
            let scored = inner
                .score(
                    &session,
                    &image_name,
                    (&photo, &truth),
                    &options,
                    SimulatedClicks::default(),
                )
                .await?;
            #[derive(Serialize)]
            struct Out {
                scores: Scores,
                width: u32,
                height: u32,
            }
            let out = Out {
                scores: scored.scores.into(),
                width: truth.width(),
                height: truth.height(),
            };
            to_js_with(&out, &[("mask", Uint8Array::from(&scored.mask[..]).into())])
        })
    }

    /// `{ count, mean, median, pooled }`, each of the last three `scorePair`'s scores; null
    /// before the first pair.
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct Out {
            count: usize,
            mean: Scores,
            median: Scores,
            pooled: Scores,
        }
        match self.inner.summary() {
            Some(s) => to_js(&Out {
                count: s.count,
                mean: s.mean.into(),
                median: s.median.into(),
                pooled: s.pooled.into(),
            }),
            None => Ok(JsValue::NULL),
        }
    }
}
