//! Scoring a model on photos with their expert masks: one road for `lesionlab eval` and the
//! page's `lab.evaluate`, so that both give the same numbers on the same files. Each mask is
//! scored at its own resolution; the clicks a user would give can be simulated from the expert
//! mask, to measure what clicks gain.

use std::cell::RefCell;

use image::{GrayImage, RgbImage};
use serde::Serialize;

use super::loaded_model::Session;
use super::options::SegmentOptions;
use crate::Error;
use crate::clean::{Point, depth_inside, regions};
use crate::metrics::{Confusion, ImageScores, MeanScores, binarize_mask, binarize_probability};

/// Which clicks a simulated user gives each photo ([`Evaluation::score`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimulatedClicks {
    /// One positive click at the lesion's centre (the expert mask's centroid, or the mask's
    /// pixel nearest to it when the centroid falls outside).
    pub positive: bool,
    /// Then one negative click on the largest false region of the mask so far (its deepest
    /// pixel), and the photo segmented again.
    pub negative: bool,
}

impl std::str::FromStr for SimulatedClicks {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let (positive, negative) = match s {
            "positive" => (true, false),
            "negative" => (false, true),
            "both" => (true, true),
            other => {
                return Err(Error::BadArgument(format!(
                    "unknown clicks '{other}': expected positive, negative or both"
                )));
            }
        };
        Ok(SimulatedClicks { positive, negative })
    }
}

impl std::fmt::Display for SimulatedClicks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match (self.positive, self.negative) {
            (true, true) => "both",
            (true, false) => "positive",
            (false, true) => "negative",
            (false, false) => "none",
        })
    }
}

/// One scored photo.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The ISIC scores.
    pub scores: ImageScores,
    /// The mask scored: 255 on lesion, 0 elsewhere, at the photo's size.
    pub mask: Vec<u8>,
    /// The clicks the simulated user gave.
    pub points: Vec<Point>,
}

/// The scores of every photo scored so far, summed up.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    /// Photos scored.
    pub count: usize,
    /// The per-image mean (the challenge's score).
    pub mean: ImageScores,
    /// The per-image median: a typical photo, which a few failures do not pull down.
    pub median: ImageScores,
    /// All photos' pixels counted as one image.
    pub pooled: ImageScores,
}

/// A running evaluation: photos scored one at a time, summed up at any point.
#[derive(Debug, Default)]
pub struct Evaluation {
    scores: RefCell<MeanScores>,
}

impl Evaluation {
    /// An evaluation with nothing scored.
    pub fn new() -> Self {
        Self::default()
    }

    /// Segments `photo` (held by `session` under `key`) as `options` ask, with the clicks
    /// `clicks` simulates, and scores the mask against `truth` at its resolution.
    pub async fn score(
        &self,
        session: &Session,
        key: &str,
        (photo, truth): (&RgbImage, &GrayImage),
        options: &SegmentOptions,
        clicks: SimulatedClicks,
    ) -> Result<Scored, Error> {
        let (w, h) = truth.dimensions();
        let truth = binarize_mask(truth.as_raw());
        let mut options = options.clone();
        if clicks.positive {
            options.points.extend(centre_click(&truth, w, h));
        }
        session.set_photo_image(key.to_string(), photo);
        let mut segmentation = session.segment(key, &options).await?;
        if clicks.negative {
            let pred = binarize_probability(&segmentation.probability, options.threshold);
            if let Some(click) = false_region_click(&pred, &truth, w, h) {
                options.points.push(click);
                segmentation = session.segment(key, &options).await?;
            }
        }
        let pred = binarize_probability(&segmentation.probability, options.threshold);
        let confusion = Confusion::from_masks(&pred, &truth);
        self.scores.borrow_mut().add(confusion);
        Ok(Scored {
            scores: confusion.scores(),
            mask: segmentation.mask,
            points: options.points,
        })
    }

    /// Every photo's scores, in the order scored.
    pub fn images(&self) -> Vec<ImageScores> {
        self.scores.borrow().images().to_vec()
    }

    /// The mean, median and pooled scores; `None` before the first photo.
    pub fn summary(&self) -> Option<Summary> {
        let scores = self.scores.borrow();
        Some(Summary {
            count: scores.count(),
            mean: scores.mean()?,
            median: scores.median()?,
            pooled: scores.pooled().scores(),
        })
    }
}

/// A click at the centre of a `w x h` mask: its centroid, or the mask pixel nearest to it.
pub fn centre_click(truth: &[bool], w: u32, h: u32) -> Option<Point> {
    let on: Vec<(f32, f32)> = (0..w * h)
        .filter(|&i| truth[i as usize])
        .map(|i| ((i % w) as f32 + 0.5, (i / w) as f32 + 0.5))
        .collect();
    let n = on.len() as f32;
    if on.is_empty() {
        return None;
    }
    let (cx, cy) = on
        .iter()
        .fold((0.0, 0.0), |(sx, sy), p| (sx + p.0 / n, sy + p.1 / n));
    let inside =
        truth[(cy as u32).min(h - 1) as usize * w as usize + (cx as u32).min(w - 1) as usize];
    let (x, y) = if inside {
        (cx, cy)
    } else {
        *on.iter().min_by(|a, b| {
            (a.0 - cx)
                .hypot(a.1 - cy)
                .total_cmp(&(b.0 - cx).hypot(b.1 - cy))
        })?
    };
    Some(Point { x, y, label: 1 })
}

/// A negative click on the largest region (8-connected) of `pred` outside `truth`, at its
/// deepest pixel: where a user would click to say "not this".
pub fn false_region_click(pred: &[bool], truth: &[bool], w: u32, h: u32) -> Option<Point> {
    let (w, h) = (w as usize, h as usize);
    let wrong: Vec<bool> = pred.iter().zip(truth).map(|(&p, &t)| p && !t).collect();
    let largest = regions(&wrong, w, h, true)
        .into_iter()
        .max_by_key(|r| r.len())?;
    let mut only = vec![false; wrong.len()];
    for &i in &largest {
        only[i as usize] = true;
    }
    let depth = depth_inside(&only, w, h);
    let deepest = *largest
        .iter()
        .max_by(|&&a, &&b| depth[a as usize].total_cmp(&depth[b as usize]))?
        as usize;
    Some(Point {
        x: (deepest % w) as f32 + 0.5,
        y: (deepest / w) as f32 + 0.5,
        label: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(w: u32, h: u32, (cx, cy): (f32, f32), r: f32) -> Vec<bool> {
        (0..w * h)
            .map(|i| ((i % w) as f32 + 0.5 - cx).hypot((i / w) as f32 + 0.5 - cy) <= r)
            .collect()
    }

    #[test]
    fn the_centre_click_lies_on_the_lesion() {
        let p = centre_click(&disc(40, 30, (10.0, 12.0), 5.0), 40, 30).unwrap();
        assert!((p.x - 10.0).abs() < 0.6 && (p.y - 12.0).abs() < 0.6 && p.label == 1);
        // A ring's centroid is off the ring: the nearest ring pixel instead.
        let ring: Vec<bool> = disc(40, 30, (20.0, 15.0), 8.0)
            .iter()
            .zip(disc(40, 30, (20.0, 15.0), 5.0))
            .map(|(&a, b)| a && !b)
            .collect();
        let p = centre_click(&ring, 40, 30).unwrap();
        assert!(ring[p.y as usize * 40 + p.x as usize]);
        assert_eq!(centre_click(&[false; 12], 4, 3), None);
    }

    #[test]
    fn the_negative_click_goes_to_the_largest_false_region() {
        let truth = disc(40, 30, (10.0, 12.0), 5.0);
        let pred: Vec<bool> = truth
            .iter()
            .zip(disc(40, 30, (30.0, 15.0), 4.0))
            .zip(disc(40, 30, (20.0, 3.0), 1.5))
            .map(|((&t, a), b)| t || a || b)
            .collect();
        let p = false_region_click(&pred, &truth, 40, 30).unwrap();
        assert!((p.x - 30.0).abs() <= 1.0 && (p.y - 15.0).abs() <= 1.0 && p.label == 0);
        assert_eq!(false_region_click(&truth, &truth, 40, 30), None);
    }
}
