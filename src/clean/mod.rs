//! One lesion, cleaned: the rule every mask goes through (CLI, page, evaluation). Wide photos
//! give the models chances to mark a pen circle's inside, a dermatoscope's rim or a second
//! patch; a photo is taken of one lesion, so by default one connected region is kept, the one
//! with the most probability near where the user framed (the centre, a box, a click), and its
//! holes are filled.
//!
//! The rule runs on probability maps at the model's input resolution, before they are scaled
//! to the photo: the components are the same (the scaling is bilinear) and a 12-megapixel photo
//! costs no more than a small one.

mod points;

use serde::Serialize;

pub(crate) use points::depth_inside;
pub use points::{GROW_SHARE, Point, check_points, positive_centre};

use crate::Error;
use crate::rules::is_lesion;

/// Which lesions a mask keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lesions {
    /// The one region the photo was taken of, holes filled (the default: see the model card).
    #[default]
    One,
    /// Every region the model marks, as it marks it.
    All,
}

impl std::str::FromStr for Lesions {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "one" => Ok(Lesions::One),
            "all" => Ok(Lesions::All),
            other => Err(Error::BadArgument(format!(
                "unknown lesions '{other}': expected one or all"
            ))),
        }
    }
}

impl std::fmt::Display for Lesions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lesions::One => "one",
            Lesions::All => "all",
        })
    }
}

/// A rectangle in pixels: `x`, `y` of its top-left corner, `width`, `height`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

impl Rect {
    /// The centre.
    pub fn centre(&self) -> (f32, f32) {
        (self.x + self.width / 2.0, self.y + self.height / 2.0)
    }

    /// The rectangle scaled by `sx` and `sy` (from one pixel grid to another).
    pub fn scaled(&self, sx: f32, sy: f32) -> Rect {
        Rect {
            x: self.x * sx,
            y: self.y * sy,
            width: self.width * sx,
            height: self.height * sy,
        }
    }

    /// Whether pixel `(x, y)`'s centre lies inside.
    pub fn contains(&self, x: u32, y: u32) -> bool {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        px >= self.x && py >= self.y && px < self.x + self.width && py < self.y + self.height
    }
}

/// How far from the chosen centre a region's probability still counts: a Gaussian weight whose
/// sigma is this share of the frame's width and height. A photo is framed on its lesion, while
/// pen circles, rims and rulers sit nearer its edges; a large lesion off centre still outweighs
/// a speck in the middle.
pub const CENTRE_SIGMA: f32 = 0.25;

/// A probability map of `width x height` values, row-major.
pub struct Map<'a> {
    /// The values, changed in place.
    pub values: &'a mut [f32],
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Map<'_> {
    /// Applies `lesions` at `threshold`: for [`Lesions::One`], keeps the region with the most
    /// probability weighted by nearness to `centre` (pixels of this map), zeroes the rest and
    /// fills its holes (to halfway between the threshold and 1). Returns the kept region's
    /// bounding box (every region's with [`Lesions::All`]), `None` when nothing is lesion.
    pub fn clean(&mut self, lesions: Lesions, threshold: f32, centre: (f32, f32)) -> Option<Rect> {
        self.clean_with(lesions, threshold, centre, &[])
    }

    /// [`Map::clean`] after the user's clicks (this map's pixels): their rule
    /// ([`points`]) removes, trims and grows regions first, and with [`Lesions::One`] the
    /// regions under positive clicks are kept (the best near them when none is under one).
    pub fn clean_with(
        &mut self,
        lesions: Lesions,
        threshold: f32,
        centre: (f32, f32),
        points: &[Point],
    ) -> Option<Rect> {
        let cleared = self.apply_clicks(threshold, points);
        match lesions {
            Lesions::All => self.bounding_box(threshold),
            Lesions::One => {
                let centre = positive_centre(points).unwrap_or(centre);
                let kept = self.keep_one(threshold, centre, points)?;
                self.fill_holes(threshold);
                // What a negative click cleared stays cleared, even where it left a hole.
                for i in cleared {
                    self.values[i] = 0.0;
                }
                Some(kept)
            }
        }
    }

    /// Whether each value is lesion at `threshold`.
    fn lesion_pixels(&self, threshold: f32) -> Vec<bool> {
        self.values
            .iter()
            .map(|&v| is_lesion(v, threshold))
            .collect()
    }

    /// Zeroes every value outside `rect`.
    pub fn keep_inside(&mut self, rect: &Rect) {
        let w = self.width;
        for (i, v) in self.values.iter_mut().enumerate() {
            if !rect.contains(i as u32 % w, i as u32 / w) {
                *v = 0.0;
            }
        }
    }

    fn bounding_box(&self, threshold: f32) -> Option<Rect> {
        let on: Vec<u32> = (0..self.values.len() as u32)
            .filter(|&i| is_lesion(self.values[i as usize], threshold))
            .collect();
        box_of(&on, self.width)
    }

    /// Keeps the regions under positive clicks, or else the best region (8-connected pixels
    /// above the threshold), and a 2-pixel margin around them (the bilinear scaling's soft
    /// edge); zeroes everything else.
    fn keep_one(&mut self, threshold: f32, centre: (f32, f32), points: &[Point]) -> Option<Rect> {
        let (w, h) = (self.width as usize, self.height as usize);
        let on = self.lesion_pixels(threshold);
        let regions = regions(&on, w, h, true);
        let (sx, sy) = (CENTRE_SIGMA * w as f32, CENTRE_SIGMA * h as f32);
        let score = |pixels: &Vec<u32>| -> f32 {
            pixels
                .iter()
                .map(|&i| {
                    let (x, y) = ((i as usize % w) as f32 + 0.5, (i as usize / w) as f32 + 0.5);
                    let d2 = ((x - centre.0) / sx).powi(2) + ((y - centre.1) / sy).powi(2);
                    self.values[i as usize] * (-0.5 * d2).exp()
                })
                .sum()
        };
        let best: Vec<u32> = match Self::regions_under_clicks(&regions, points, w, h) {
            Some(clicked) => clicked.iter().flat_map(|&r| regions[r].clone()).collect(),
            None => regions
                .iter()
                .map(|r| (score(r), r))
                .max_by(|a, b| a.0.total_cmp(&b.0))?
                .1
                .clone(),
        };
        let mut keep = vec![false; w * h];
        for &i in &best {
            let (x, y) = (i as usize % w, i as usize / w);
            for ny in y.saturating_sub(2)..(y + 3).min(h) {
                for nx in x.saturating_sub(2)..(x + 3).min(w) {
                    keep[ny * w + nx] = true;
                }
            }
        }
        for (v, k) in self.values.iter_mut().zip(&keep) {
            if !k {
                *v = 0.0;
            }
        }
        box_of(&best, self.width)
    }

    /// Raises the pixels of every background region that does not reach the border (a hole)
    /// above the threshold.
    fn fill_holes(&mut self, threshold: f32) {
        let (w, h) = (self.width as usize, self.height as usize);
        let off: Vec<bool> = self.values.iter().map(|&v| v <= threshold).collect();
        let filled = threshold + (1.0 - threshold) / 2.0;
        for region in regions(&off, w, h, false) {
            let touches_border = region.iter().any(|&i| {
                let (x, y) = (i as usize % w, i as usize / w);
                x == 0 || y == 0 || x == w - 1 || y == h - 1
            });
            if !touches_border {
                for i in region {
                    self.values[i as usize] = self.values[i as usize].max(filled);
                }
            }
        }
    }
}

/// The bounding box of pixel indices of a map `width` wide.
fn box_of(pixels: &[u32], width: u32) -> Option<Rect> {
    let first = *pixels.first()?;
    let (mut x0, mut y0) = (first % width, first / width);
    let (mut x1, mut y1) = (x0, y0);
    for &i in pixels {
        let (x, y) = (i % width, i / width);
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    Some(Rect {
        x: x0 as f32,
        y: y0 as f32,
        width: (x1 - x0 + 1) as f32,
        height: (y1 - y0 + 1) as f32,
    })
}

/// The connected regions of the `true` pixels, as lists of indices: 8-connected (`diagonal`)
/// for lesions, 4-connected for background, so that a lesion's outline touching itself at a
/// corner still closes a hole.
pub(crate) fn regions(on: &[bool], w: usize, h: usize, diagonal: bool) -> Vec<Vec<u32>> {
    let mut seen = vec![false; on.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..on.len() {
        if !on[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut region = Vec::new();
        while let Some(i) = stack.pop() {
            region.push(i as u32);
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            for (dx, dy) in NEIGHBOURS {
                if !diagonal && dx != 0 && dy != 0 {
                    continue;
                }
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    continue;
                }
                let j = ny as usize * w + nx as usize;
                if on[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        out.push(region);
    }
    out
}

const NEIGHBOURS: [(i64, i64); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20x20 map with a ring (a lesion with a hole) left of centre, a bigger but fainter blob
    /// in the bottom-right corner, and a dot.
    fn map() -> Vec<f32> {
        let mut v = vec![0.0; 400];
        for y in 0..20 {
            for x in 0..20 {
                let d2 = (x as f32 - 8.0).powi(2) + (y as f32 - 9.0).powi(2);
                if (4.0..=16.0).contains(&d2) {
                    v[y * 20 + x] = 0.9;
                }
                if x >= 15 && y >= 14 {
                    v[y * 20 + x] = 0.6;
                }
            }
        }
        v[2 * 20 + 17] = 0.95;
        v
    }

    fn count(v: &[f32]) -> usize {
        v.iter().filter(|&&p| p > 0.5).count()
    }

    #[test]
    fn one_lesion_keeps_the_central_region_and_fills_its_hole() {
        let mut v = map();
        let mut m = Map {
            values: &mut v,
            width: 20,
            height: 20,
        };
        let kept = m.clean(Lesions::One, 0.5, (10.0, 10.0)).unwrap();
        assert_eq!(
            (kept.x, kept.y, kept.width, kept.height),
            (4.0, 5.0, 9.0, 9.0)
        );
        assert!(
            v[9 * 20 + 8] > 0.5,
            "the hole at the ring's centre is filled"
        );
        assert_eq!(v[19 * 20 + 19], 0.0, "the corner blob is gone");
        assert_eq!(v[2 * 20 + 17], 0.0, "the dot is gone");
        let ring_and_hole = count(&v);
        assert!((45..=81).contains(&ring_and_hole), "{ring_and_hole}");
    }

    #[test]
    fn the_centre_decides_which_region_is_kept() {
        let mut v = map();
        let mut m = Map {
            values: &mut v,
            width: 20,
            height: 20,
        };
        let kept = m.clean(Lesions::One, 0.5, (18.0, 17.0)).unwrap();
        assert_eq!(
            (kept.x, kept.y),
            (15.0, 14.0),
            "the corner blob, near the given centre"
        );
        assert_eq!(v[9 * 20 + 6], 0.0, "the ring is gone");
    }

    #[test]
    fn all_lesions_changes_nothing() {
        let mut v = map();
        let before = v.clone();
        let mut m = Map {
            values: &mut v,
            width: 20,
            height: 20,
        };
        let all = m.clean(Lesions::All, 0.5, (10.0, 10.0)).unwrap();
        assert_eq!(v, before);
        assert_eq!(
            (all.x, all.y, all.width, all.height),
            (4.0, 2.0, 16.0, 18.0)
        );
    }

    #[test]
    fn an_empty_map_keeps_nothing() {
        let mut v = vec![0.1; 16];
        let mut m = Map {
            values: &mut v,
            width: 4,
            height: 4,
        };
        assert!(m.clean(Lesions::One, 0.5, (2.0, 2.0)).is_none());
    }

    #[test]
    fn background_open_to_the_border_is_not_a_hole() {
        // A C shape open to the right edge: its inside reaches the border and stays background.
        let mut v = vec![0.0; 100];
        for y in 2..8 {
            for x in 2..10 {
                if y == 2 || y == 7 || x == 2 {
                    v[y * 10 + x] = 0.9;
                }
            }
        }
        let mut m = Map {
            values: &mut v,
            width: 10,
            height: 10,
        };
        m.clean(Lesions::One, 0.5, (5.0, 5.0));
        assert!(v[4 * 10 + 5] < 0.5);
    }

    #[test]
    fn lesions_parse_and_print() {
        for l in [Lesions::One, Lesions::All] {
            assert_eq!(l.to_string().parse::<Lesions>().unwrap(), l);
        }
        assert!(
            "some"
                .parse::<Lesions>()
                .unwrap_err()
                .to_string()
                .contains("one or all")
        );
    }
}
