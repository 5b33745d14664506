//! Where a second, closer look goes: a crop around the lesion the first pass kept (refine), or
//! around a box the user drew, and pasting its answer back at the photo's size.

use crate::Error;
use crate::clean::{Point, Rect};

/// The margin a refine crop leaves around the kept lesion on each side, as a share of the
/// lesion's longer side: the lesion then fills about as much of the crop as in the training
/// photos.
pub const REFINE_MARGIN: f32 = 0.25;

/// The margin around a box the user drew (a box is usually drawn close to the lesion).
pub const BOX_MARGIN: f32 = 0.1;

/// A crop covering more than this share of the photo is no closer look: refine is skipped.
pub const MOST_OF_THE_PHOTO: f32 = 0.6;

/// A photo's longest side kept for crops: a crop is scaled to the model's input (at most 512
/// pixels) anyway, and a 12-megapixel photo kept whole would cost 36 MB of the page's memory.
pub const CROP_SOURCE_SIDE: u32 = 2048;

/// The side of the square around a positive click that the closer look takes in when the click
/// is outside the kept lesion (or none was kept), as a share of the photo's shorter side: the
/// model then looks where the user pointed, with room for a lesion the first pass found in part.
pub const CLICK_SIDE: f32 = 0.2;

/// The region a closer look goes around: the kept lesion, grown by a square of `click_side`
/// around every positive click outside it.
pub fn with_clicks(lesion: Option<Rect>, points: &[Point], click_side: f32) -> Option<Rect> {
    let half = click_side / 2.0;
    let outside = |p: &&Point| {
        !lesion.is_some_and(|l| {
            (l.x..=l.x + l.width).contains(&p.x) && (l.y..=l.y + l.height).contains(&p.y)
        })
    };
    points
        .iter()
        .filter(|p| p.positive())
        .filter(outside)
        .fold(lesion, |region, p| {
            let (mut x0, mut y0, mut x1, mut y1) = (p.x - half, p.y - half, p.x + half, p.y + half);
            if let Some(r) = region {
                (x0, y0) = (x0.min(r.x), y0.min(r.y));
                (x1, y1) = (x1.max(r.x + r.width), y1.max(r.y + r.height));
            }
            Some(Rect {
                x: x0,
                y: y0,
                width: x1 - x0,
                height: y1 - y0,
            })
        })
}

/// A crop of the photo in whole pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Crop {
    /// A square around `region` with `margin` of its longer side on each side, in a photo of
    /// `width x height`, moved inside the photo (and cut to it when larger).
    pub fn around(region: &Rect, margin: f32, (width, height): (u32, u32)) -> Crop {
        let side = (region.width.max(region.height) * (1.0 + 2.0 * margin)).max(16.0);
        let (cw, ch) = (
            (side.round() as u32).clamp(1, width),
            (side.round() as u32).clamp(1, height),
        );
        let (cx, cy) = region.centre();
        let x = (cx - cw as f32 / 2.0)
            .round()
            .clamp(0.0, (width - cw) as f32) as u32;
        let y = (cy - ch as f32 / 2.0)
            .round()
            .clamp(0.0, (height - ch) as f32) as u32;
        Crop {
            x,
            y,
            width: cw,
            height: ch,
        }
    }

    /// Whether the crop covers most of a photo of `width x height`.
    pub fn covers_most_of(&self, (width, height): (u32, u32)) -> bool {
        (self.width as f32 * self.height as f32) > MOST_OF_THE_PHOTO * width as f32 * height as f32
    }

    /// The crop as a rectangle.
    pub fn rect(&self) -> Rect {
        Rect {
            x: self.x as f32,
            y: self.y as f32,
            width: self.width as f32,
            height: self.height as f32,
        }
    }

    /// The crop scaled by `s` onto another pixel grid of `bounds`, at least one pixel.
    pub fn scaled(&self, s: f32, (width, height): (u32, u32)) -> Crop {
        let x = ((self.x as f32 * s).floor() as u32).min(width - 1);
        let y = ((self.y as f32 * s).floor() as u32).min(height - 1);
        Crop {
            x,
            y,
            width: ((self.width as f32 * s).round() as u32).clamp(1, width - x),
            height: ((self.height as f32 * s).round() as u32).clamp(1, height - y),
        }
    }

    /// Writes `values` (`width * height` of them, row-major) into a photo-size map `photo_width`
    /// wide at the crop's place.
    pub fn paste(&self, values: &[f32], into: &mut [f32], photo_width: u32) {
        for row in 0..self.height {
            let from = (row * self.width) as usize;
            let to = ((self.y + row) * photo_width + self.x) as usize;
            into[to..to + self.width as usize]
                .copy_from_slice(&values[from..from + self.width as usize]);
        }
    }
}

/// Checks a box the user drew on a photo of `width x height` and cuts it to the photo; an
/// error names the box and the photo when nothing of it is left.
pub fn check_box(b: &Rect, (width, height): (u32, u32)) -> Result<Rect, Error> {
    let finite = [b.x, b.y, b.width, b.height].iter().all(|v| v.is_finite());
    let (x0, y0) = (b.x.max(0.0), b.y.max(0.0));
    let (x1, y1) = (
        (b.x + b.width).min(width as f32),
        (b.y + b.height).min(height as f32),
    );
    if !finite || b.width <= 0.0 || b.height <= 0.0 || x1 - x0 < 1.0 || y1 - y0 < 1.0 {
        return Err(Error::BadArgument(format!(
            "the box x={} y={} width={} height={} holds no pixel of the {width}x{height} photo \
             (give x, y, width and height in the photo's pixels, after EXIF orientation)",
            b.x, b.y, b.width, b.height
        )));
    }
    Ok(Rect {
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: f32, y: f32, width: f32, height: f32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn a_crop_is_a_square_with_margins_inside_the_photo() {
        let c = Crop::around(&rect(100.0, 100.0, 40.0, 20.0), 0.25, (1000, 800));
        assert_eq!(
            c,
            Crop {
                x: 90,
                y: 80,
                width: 60,
                height: 60
            }
        );
        // Near a corner it moves inside the photo.
        let c = Crop::around(&rect(0.0, 0.0, 40.0, 40.0), 0.25, (1000, 800));
        assert_eq!((c.x, c.y, c.width), (0, 0, 60));
        // Larger than the photo's height: cut to it.
        let c = Crop::around(&rect(100.0, 0.0, 600.0, 600.0), 0.25, (1000, 800));
        assert_eq!((c.width, c.height, c.y), (900, 800, 0));
        assert!(c.covers_most_of((1000, 800)));
        assert!(
            !Crop::around(&rect(400.0, 300.0, 100.0, 100.0), 0.25, (1000, 800))
                .covers_most_of((1000, 800))
        );
    }

    #[test]
    fn a_closer_look_holds_the_lesion_and_the_positive_clicks() {
        let lesion = Some(rect(10.0, 10.0, 20.0, 20.0));
        let click = |x, y, label| Point { x, y, label };
        // A click outside the lesion adds its square; one inside, or a negative one, nothing.
        let clicks = [
            click(50.0, 20.0, 1),
            click(20.0, 20.0, 1),
            click(0.0, 0.0, 0),
        ];
        let r = with_clicks(lesion, &clicks, 8.0).unwrap();
        assert_eq!((r.x, r.y, r.width, r.height), (10.0, 10.0, 44.0, 20.0));
        let r = with_clicks(None, &[click(50.0, 20.0, 1)], 8.0).unwrap();
        assert_eq!((r.x, r.y, r.width, r.height), (46.0, 16.0, 8.0, 8.0));
        assert_eq!(with_clicks(None, &[click(5.0, 5.0, 0)], 8.0), None);
    }

    #[test]
    fn paste_writes_the_crop_only() {
        let mut into = vec![0.0; 20];
        let c = Crop {
            x: 1,
            y: 2,
            width: 2,
            height: 2,
        };
        c.paste(&[1.0, 2.0, 3.0, 4.0], &mut into, 5);
        assert_eq!(into[11..13], [1.0, 2.0]);
        assert_eq!(into[16..18], [3.0, 4.0]);
        assert_eq!(into.iter().filter(|&&v| v > 0.0).count(), 4);
    }

    #[test]
    fn boxes_are_cut_to_the_photo_or_refused_by_name() {
        let b = check_box(&rect(-10.0, 5.0, 50.0, 500.0), (100, 80)).unwrap();
        assert_eq!((b.x, b.y, b.width, b.height), (0.0, 5.0, 40.0, 75.0));
        for bad in [
            rect(200.0, 0.0, 10.0, 10.0),
            rect(0.0, 0.0, 0.0, 10.0),
            rect(f32::NAN, 0.0, 5.0, 5.0),
        ] {
            let e = check_box(&bad, (100, 80)).unwrap_err().to_string();
            assert!(e.contains("100x80 photo"), "{e}");
        }
    }

    #[test]
    fn scaling_a_crop_stays_inside_the_other_grid() {
        let c = Crop {
            x: 1000,
            y: 500,
            width: 2000,
            height: 1000,
        };
        let s = c.scaled(0.5, (1500, 1000));
        assert_eq!(
            s,
            Crop {
                x: 500,
                y: 250,
                width: 1000,
                height: 500
            }
        );
        let edge = Crop {
            x: 2999,
            y: 0,
            width: 1,
            height: 1,
        }
        .scaled(0.5, (1500, 1000));
        assert_eq!((edge.x, edge.width), (1499, 1));
    }
}
