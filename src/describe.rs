//! The mask and the ABCD rule: figures a dermatology class relates a lesion outline to
//! (Asymmetry, Border, Colour, Diameter), computed from a mask and its photo. Teaching aids,
//! not a diagnosis: the rule's clinical scores need a dermatologist's reading of the photo.

use image::{GrayImage, RgbImage};
use serde::Serialize;

use crate::Error;

/// The six colours of dermoscopy's ABCD rule, each with the RGB value a lesion pixel is
/// matched to (the nearest one wins).
pub const COLOURS: [(&str, [u8; 3]); 6] = [
    ("white", [235, 230, 225]),
    ("red", [190, 60, 60]),
    ("light brown", [185, 125, 85]),
    ("dark brown", [100, 60, 40]),
    ("blue-grey", [105, 120, 145]),
    ("black", [25, 25, 30]),
];

/// A colour counts as present when it covers at least this share of the lesion.
pub const COLOUR_PRESENT: f64 = 0.05;

/// One dermoscopic colour in a lesion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColourShare {
    /// One of [`COLOURS`]' names.
    pub name: &'static str,
    /// The share of lesion pixels nearest to this colour, in [0, 1].
    pub share: f64,
    /// Whether the share reaches [`COLOUR_PRESENT`].
    pub present: bool,
}

/// What [`describe`] measures.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Description {
    /// Lesion pixels.
    pub area_px: u64,
    /// The lesion's share of the photo, in [0, 1].
    pub area_share: f64,
    /// A: the share of the lesion its mirror image does not cover, reflected about its major and
    /// its minor principal axis (0 for a shape symmetric about both).
    pub asymmetry: [f64; 2],
    /// B: 4πA/P², 1 for a disc, lower for elongated or ragged outlines.
    pub compactness: f64,
    /// B: the outline's length over its convex hull's, 1 for a convex outline.
    pub roughness: f64,
    /// The outline's length in pixels.
    pub perimeter_px: f64,
    /// C: each of the six colours' share of the lesion.
    pub colours: Vec<ColourShare>,
    /// D: the greatest distance across the lesion, in pixels.
    pub diameter_px: f64,
    /// D in millimetres, when the photo's scale was given.
    pub diameter_mm: Option<f64>,
}

/// Describes the lesion `mask` (pixels above 127) marks on `photo`; `mm_per_pixel` gives the
/// diameter in millimetres too.
pub fn describe(
    mask: &GrayImage,
    photo: &RgbImage,
    mm_per_pixel: Option<f64>,
) -> Result<Description, Error> {
    let (w, h) = mask.dimensions();
    if photo.dimensions() != (w, h) {
        return Err(Error::BadMask {
            file: "the mask".into(),
            message: format!(
                "is {w}x{h} but the photo is {}x{}",
                photo.width(),
                photo.height()
            ),
        });
    }
    if let Some(scale) = mm_per_pixel
        && !(scale.is_finite() && scale > 0.0)
    {
        return Err(Error::BadArgument(format!(
            "mmPerPixel must be a positive number, got {scale}"
        )));
    }
    let inside = |x: i64, y: i64| {
        x >= 0
            && y >= 0
            && x < w as i64
            && y < h as i64
            && mask.get_pixel(x as u32, y as u32)[0] > 127
    };
    // Pixel coordinates as u32 pairs: a lesion can cover millions of pixels of a large photo.
    let points: Vec<(u32, u32)> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| inside(x as i64, y as i64))
        .collect();
    if points.is_empty() {
        return Err(Error::BadMask {
            file: "the mask".into(),
            message: "marks no lesion: there is nothing to describe".into(),
        });
    }
    let area = points.len() as f64;
    let perimeter = perimeter(&inside, w, h);
    let hull = convex_hull(&points);
    let diameter = hull
        .iter()
        .flat_map(|a| hull.iter().map(move |b| (a.0 - b.0).hypot(a.1 - b.1)))
        .fold(0.0, f64::max);
    Ok(Description {
        area_px: points.len() as u64,
        area_share: area / (w as f64 * h as f64),
        asymmetry: asymmetry(&points, &inside),
        compactness: 4.0 * std::f64::consts::PI * area / (perimeter * perimeter),
        // An outline cannot be shorter than its convex hull: a ratio under 1 is the estimate's
        // error on a convex shape.
        roughness: (perimeter / closed_length(&hull).max(f64::MIN_POSITIVE)).max(1.0),
        perimeter_px: perimeter,
        colours: colours(&points, photo),
        diameter_px: diameter,
        diameter_mm: mm_per_pixel.map(|s| diameter * s),
    })
}

/// The outline's length by the Cauchy-Crofton formula: the outline's length is half the
/// integral, over directions, of the total length of lines' crossings with it. Counted along
/// lines through the pixel centres in eight directions (rows, columns, diagonals and knight's
/// moves), each weighted by the angle it stands for: exact for discs, about 2% short for long
/// straight edges along the rows (the worst case); counting pixel edges would make every curve
/// 4/π too long.
fn perimeter(inside: &impl Fn(i64, i64) -> bool, w: u32, h: u32) -> f64 {
    let (w, h) = (w as i64, h as i64);
    // Transitions between lattice points one step (dx, dy) apart, over the grid and its border.
    let crossings = |dx: i64, dy: i64| -> f64 {
        let mut n = 0u64;
        for y in -2..=h + 1 {
            for x in -2..=w + 1 {
                if inside(x, y) != inside(x + dx, y + dy) {
                    n += 1;
                }
            }
        }
        n as f64
    };
    let mut integral = 0.0;
    let steps: [(i64, i64); 8] = [
        (1, 0),
        (2, 1),
        (1, 1),
        (1, 2),
        (0, 1),
        (-1, 2),
        (-1, 1),
        (-2, 1),
    ];
    let angle = |(dx, dy): (i64, i64)| (dy as f64).atan2(dx as f64);
    for (i, &step) in steps.iter().enumerate() {
        let before = angle(steps[(i + 7) % 8]) - if i == 0 { std::f64::consts::PI } else { 0.0 };
        let after = angle(steps[(i + 1) % 8]) + if i == 7 { std::f64::consts::PI } else { 0.0 };
        // The angle between the neighbouring directions' midpoints; lines of this direction
        // through the lattice lie 1/|step| apart.
        let weight = (after - before) / 2.0;
        let spacing = 1.0 / (step.0 as f64).hypot(step.1 as f64);
        integral += weight * spacing * crossings(step.0, step.1);
    }
    integral / 2.0
}

/// The convex hull of the pixels' corners (Andrew's monotone chain), counter-clockwise.
fn convex_hull(points: &[(u32, u32)]) -> Vec<(f64, f64)> {
    // Only each row's first and last pixel can be on the hull.
    let mut rows: std::collections::BTreeMap<u32, (u32, u32)> = Default::default();
    for &(x, y) in points {
        let r = rows.entry(y).or_insert((x, x));
        r.0 = r.0.min(x);
        r.1 = r.1.max(x);
    }
    let mut corners: Vec<(f64, f64)> = rows
        .iter()
        .flat_map(|(&y, &(a, b))| {
            let (y, a, b) = (y as f64, a as f64, b as f64);
            [
                (a - 0.5, y - 0.5),
                (a - 0.5, y + 0.5),
                (b + 0.5, y - 0.5),
                (b + 0.5, y + 0.5),
            ]
        })
        .collect();
    corners.sort_by(|p, q| p.partial_cmp(q).expect("finite"));
    corners.dedup();
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<(f64, f64)> = Vec::new();
    for pass in [
        &corners[..],
        &corners.iter().rev().copied().collect::<Vec<_>>()[..],
    ] {
        let start = hull.len();
        for &p in pass {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

fn closed_length(polygon: &[(f64, f64)]) -> f64 {
    polygon
        .iter()
        .zip(polygon.iter().cycle().skip(1))
        .map(|(a, b)| (a.0 - b.0).hypot(a.1 - b.1))
        .sum()
}

/// Mirror mismatch about the major and the minor principal axis through the centroid.
fn asymmetry(points: &[(u32, u32)], inside: &impl Fn(i64, i64) -> bool) -> [f64; 2] {
    let n = points.len() as f64;
    let (cx, cy) = points.iter().fold((0.0, 0.0), |(sx, sy), &(x, y)| {
        (sx + x as f64, sy + y as f64)
    });
    let (cx, cy) = (cx / n, cy / n);
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for &(x, y) in points {
        let (dx, dy) = (x as f64 - cx, y as f64 - cy);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    // The covariance's principal directions: the major axis at this angle, the minor across it.
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    [angle, angle + std::f64::consts::FRAC_PI_2].map(|a| {
        let (ux, uy) = (a.cos(), a.sin());
        let missed = points
            .iter()
            .filter(|&&(x, y)| {
                let (dx, dy) = (x as f64 - cx, y as f64 - cy);
                let along = dx * ux + dy * uy;
                let (mx, my) = (cx + 2.0 * along * ux - dx, cy + 2.0 * along * uy - dy);
                !inside(mx.round() as i64, my.round() as i64)
            })
            .count();
        missed as f64 / n
    })
}

fn colours(points: &[(u32, u32)], photo: &RgbImage) -> Vec<ColourShare> {
    let mut counts = [0usize; COLOURS.len()];
    for &(x, y) in points {
        let p = photo.get_pixel(x, y).0;
        let distance =
            |c: &[u8; 3]| -> i32 { (0..3).map(|i| (p[i] as i32 - c[i] as i32).pow(2)).sum() };
        let nearest = (0..COLOURS.len())
            .min_by_key(|&i| distance(&COLOURS[i].1))
            .expect("six colours");
        counts[nearest] += 1;
    }
    COLOURS
        .iter()
        .zip(counts)
        .map(|(&(name, _), count)| {
            let share = count as f64 / points.len() as f64;
            ColourShare {
                name,
                share,
                present: share >= COLOUR_PRESENT,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    const SIZE: u32 = 160;

    fn shape(test: impl Fn(f64, f64) -> bool) -> GrayImage {
        GrayImage::from_fn(SIZE, SIZE, |x, y| {
            let (dx, dy) = (x as f64 - 80.0, y as f64 - 80.0);
            Luma([if test(dx, dy) { 255 } else { 0 }])
        })
    }

    fn brown() -> RgbImage {
        RgbImage::from_pixel(SIZE, SIZE, Rgb([100, 60, 40]))
    }

    fn near(value: f64, expected: f64, tolerance: f64, what: &str) {
        assert!(
            (value - expected).abs() <= tolerance,
            "{what}: {value} (expected {expected} ± {tolerance})"
        );
    }

    #[test]
    fn a_disc_is_compact_symmetric_and_as_wide_as_it_is_drawn() {
        let d = describe(&shape(|x, y| x.hypot(y) <= 50.0), &brown(), Some(0.1)).unwrap();
        near(
            d.area_share,
            std::f64::consts::PI * 2500.0 / (SIZE * SIZE) as f64,
            0.005,
            "area share",
        );
        near(d.compactness, 1.0, 0.05, "compactness");
        near(d.roughness, 1.0, 0.03, "roughness");
        assert!(d.asymmetry.iter().all(|&a| a < 0.02), "{:?}", d.asymmetry);
        near(d.diameter_px, 101.0, 1.5, "diameter");
        near(d.diameter_mm.unwrap(), 10.1, 0.15, "diameter in mm");
    }

    #[test]
    fn a_tilted_ellipse_is_symmetric_about_its_own_axes_and_less_compact() {
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let ellipse = shape(|x, y| {
            let (u, v) = (x * c + y * s, -x * s + y * c);
            (u / 60.0).powi(2) + (v / 30.0).powi(2) <= 1.0
        });
        let d = describe(&ellipse, &brown(), None).unwrap();
        assert!(d.asymmetry.iter().all(|&a| a < 0.03), "{:?}", d.asymmetry);
        // 4πA/P² of a 2:1 ellipse (Ramanujan's perimeter): 0.842.
        near(d.compactness, 0.842, 0.04, "compactness");
        near(d.roughness, 1.0, 0.03, "roughness");
        near(d.diameter_px, 121.0, 2.0, "diameter");
        assert_eq!(d.diameter_mm, None);
    }

    #[test]
    fn a_square_has_the_compactness_of_a_square_and_its_diagonal_as_diameter() {
        let d = describe(
            &shape(|x, y| x.abs() < 30.0 && y.abs() < 30.0),
            &brown(),
            None,
        )
        .unwrap();
        // Edges along the rows are the perimeter estimate's worst case (2% short).
        near(
            d.compactness,
            std::f64::consts::FRAC_PI_4,
            0.04,
            "compactness",
        );
        near(d.roughness, 1.0, 0.02, "roughness");
        assert!(d.asymmetry.iter().all(|&a| a < 0.02), "{:?}", d.asymmetry);
        near(
            d.diameter_px,
            60.0 * std::f64::consts::SQRT_2,
            2.0,
            "diameter",
        );
    }

    #[test]
    fn a_star_has_a_rough_border_and_a_low_compactness() {
        let star = shape(|x, y| {
            let r = x.hypot(y);
            let a = y.atan2(x);
            r <= 25.0 + 35.0 * (0.5 + 0.5 * (5.0 * a).cos()).powi(3)
        });
        let d = describe(&star, &brown(), None).unwrap();
        assert!(d.roughness > 1.2, "roughness {}", d.roughness);
        assert!(d.compactness < 0.6, "compactness {}", d.compactness);
    }

    #[test]
    fn a_bulge_on_one_side_makes_the_shape_asymmetric() {
        let lopsided = shape(|x, y| x.hypot(y) <= 40.0 || (x - 35.0).hypot(y + 30.0) <= 22.0);
        let d = describe(&lopsided, &brown(), None).unwrap();
        assert!(d.asymmetry.iter().any(|&a| a > 0.1), "{:?}", d.asymmetry);
    }

    #[test]
    fn colours_are_counted_by_share_and_only_meaningful_shares_count() {
        // Left half dark brown, right half blue-grey, a 2% black speck: two colours present.
        let photo = RgbImage::from_fn(SIZE, SIZE, |x, y| match (x, y) {
            (0..=3, _) => Rgb([25, 25, 30]),
            (0..80, _) => Rgb([100, 60, 40]),
            _ => Rgb([105, 120, 145]),
        });
        let d = describe(&shape(|_, _| true), &photo, None).unwrap();
        let share = |name: &str| d.colours.iter().find(|c| c.name == name).unwrap();
        near(share("dark brown").share, 76.0 / 160.0, 0.001, "dark brown");
        near(share("blue-grey").share, 0.5, 0.001, "blue-grey");
        assert!(share("dark brown").present && share("blue-grey").present);
        assert!(
            !share("black").present,
            "a 2.5% speck is not a colour of the lesion"
        );
        assert_eq!(d.colours.iter().filter(|c| c.present).count(), 2);
    }

    #[test]
    fn an_empty_mask_a_mask_of_another_size_and_a_bad_scale_are_refused_by_name() {
        let empty = describe(&shape(|_, _| false), &brown(), None).unwrap_err();
        assert!(empty.to_string().contains("marks no lesion"), "{empty}");
        let small = GrayImage::new(10, 10);
        let err = describe(&small, &brown(), None).unwrap_err();
        assert!(
            err.to_string().contains("10x10 but the photo is 160x160"),
            "{err}"
        );
        let disc = shape(|x, y| x.hypot(y) <= 10.0);
        let err = describe(&disc, &brown(), Some(-1.0)).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::BadArgument);
    }
}
