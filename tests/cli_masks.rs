//! One lesion, refine, the box prompt and clicks through `lesionlab segment`, with the shipped U-Net++
//! on a real fixture photo placed in a wider field of its own skin colour, as a full-size photo
//! frames a small lesion.

use std::path::{Path, PathBuf};
use std::process::Command;

use image::{GrayImage, Luma, Rgb, RgbImage};

const FIELD: (u32, u32) = (768, 576);
/// Where the fixture photo's top-left corner goes in the field.
const AT: (u32, u32) = (400, 200);

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/isic-fixture")
        .join(path)
}

fn photo(id: &str) -> (RgbImage, GrayImage) {
    let image = image::open(fixture(&format!(
        "ISIC2018_Task1-2_Training_Input/{id}.jpg"
    )))
    .unwrap()
    .to_rgb8();
    let mask = image::open(fixture(&format!(
        "ISIC2018_Task1_Training_GroundTruth/{id}_segmentation.png"
    )))
    .unwrap()
    .to_luma8();
    (image, mask)
}

/// The mean colour of a photo's skin (outside its mask).
fn skin(image: &RgbImage, mask: &GrayImage) -> Rgb<u8> {
    let mut sum = [0u64; 3];
    let mut n = 0;
    for (p, m) in image.pixels().zip(mask.pixels()) {
        if m.0[0] < 128 {
            for (s, v) in sum.iter_mut().zip(p.0) {
                *s += v as u64;
            }
            n += 1;
        }
    }
    Rgb(sum.map(|s| (s / n) as u8))
}

/// ISIC_0000122 in a 768x576 field of its skin colour, its expert mask moved with it; with
/// `second`, a second real lesion (ISIC_0000129, dark, at 160x160) near the top-left corner.
fn wide_photo(second: bool) -> (RgbImage, GrayImage) {
    let (image, mask) = photo("ISIC_0000122");
    let mut field = RgbImage::from_pixel(FIELD.0, FIELD.1, skin(&image, &mask));
    let mut truth = GrayImage::new(FIELD.0, FIELD.1);
    image::imageops::replace(&mut field, &image, AT.0 as i64, AT.1 as i64);
    image::imageops::replace(&mut truth, &mask, AT.0 as i64, AT.1 as i64);
    if second {
        let (other, _) = photo("ISIC_0000129");
        let small =
            image::imageops::resize(&other, 160, 160, image::imageops::FilterType::Triangle);
        image::imageops::replace(&mut field, &small, 40, 40);
    }
    (field, truth)
}

fn segment(dir: &Path, photo: &RgbImage, extra: &[&str]) -> GrayImage {
    let input = dir.join("wide.png");
    photo.save(&input).unwrap();
    let out = dir.join(format!("masks{}", extra.join("_").replace(',', "-")));
    let output = Command::new(env!("CARGO_BIN_EXE_lesionlab"))
        .args([
            "segment",
            "--model",
            "unetpp",
            "--out",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    image::open(out.join("wide_segmentation.png"))
        .unwrap()
        .to_luma8()
}

fn dice(a: &GrayImage, b: &GrayImage) -> f64 {
    let (mut both, mut sum) = (0u64, 0u64);
    for (p, q) in a.pixels().zip(b.pixels()) {
        let (p, q) = (p.0[0] > 127, q.0[0] > 127);
        both += u64::from(p && q);
        sum += u64::from(p) + u64::from(q);
    }
    2.0 * both as f64 / sum.max(1) as f64
}

/// `segment` of the photo in `dir` with a prompt off it fails, naming the photo's size.
fn refused_off_the_photo(dir: &Path, prompt: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_lesionlab"))
        .args(["segment", "--model", "unetpp"])
        .args(prompt)
        .arg("--out")
        .arg(dir.join("off"))
        .arg(dir.join("wide.png"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && err.contains("768x576 photo"),
        "{err}"
    );
}

/// Lesion pixels of a mask inside the rectangle `x0..x1`, `y0..y1`.
fn marked(mask: &GrayImage, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> usize {
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| mask.get_pixel(x, y).0[0] > 127)
        .count()
}

#[test]
fn one_lesion_drops_a_second_lesion_away_from_the_centre_and_all_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let (photo, truth) = wide_photo(true);
    let corner = (40, 40, 200, 200);
    let all = segment(
        dir.path(),
        &photo,
        &["--lesions", "all", "--refine", "false"],
    );
    assert!(
        marked(&all, corner) > 100,
        "the corner lesion is marked: {}",
        marked(&all, corner)
    );
    let one = segment(dir.path(), &photo, &["--refine", "false"]);
    assert_eq!(marked(&one, corner), 0, "one lesion: the corner's is gone");
    assert!(
        dice(&one, &truth) > 0.7,
        "the central lesion stays: {}",
        dice(&one, &truth)
    );
}

#[test]
fn clicks_choose_the_lesion_on_a_real_photo() {
    let dir = tempfile::tempdir().unwrap();
    let (photo, truth) = wide_photo(true);
    let corner = (40, 40, 200, 200);
    // A click on the corner lesion keeps it instead of the central one.
    let there = segment(dir.path(), &photo, &["--point", "120,120"]);
    assert!(marked(&there, corner) > 1000, "{}", marked(&there, corner));
    assert!(dice(&there, &truth) < 0.05, "{}", dice(&there, &truth));
    // A negative click in the middle of the central lesion clears the disc around it that the
    // lesion holds: most of the lesion.
    let centre = (AT.0 + 128, AT.1 + 128);
    let not = segment(
        dir.path(),
        &photo,
        &["--point", &format!("{},{},0", centre.0, centre.1)],
    );
    let whole = marked(&segment(dir.path(), &photo, &[]), (0, 0, FIELD.0, FIELD.1));
    let left = marked(&not, (0, 0, FIELD.0, FIELD.1));
    assert!(left * 2 < whole, "{left} of {whole} pixels left");
    assert_eq!(not.get_pixel(centre.0, centre.1).0[0], 0);
    // A positive click on the central lesion keeps it as well as the default does.
    let here = segment(
        dir.path(),
        &photo,
        &["--point", &format!("{},{}", centre.0, centre.1)],
    );
    assert!(dice(&here, &truth) > 0.75, "{}", dice(&here, &truth));
    // A click off the photo is refused by name.
    refused_off_the_photo(dir.path(), &["--point", "900,10"]);
}

#[test]
fn refine_looks_again_around_the_lesion() {
    let dir = tempfile::tempdir().unwrap();
    let (photo, truth) = wide_photo(false);
    let once = segment(dir.path(), &photo, &["--refine", "false"]);
    let refined = segment(dir.path(), &photo, &[]);
    assert_ne!(once, refined, "the default refines");
    let (d1, d2) = (dice(&once, &truth), dice(&refined, &truth));
    assert!(d2 > 0.75, "refined Dice {d2} (one pass {d1})");
}

#[test]
fn a_box_keeps_the_mask_inside_it_on_a_real_photo() {
    let dir = tempfile::tempdir().unwrap();
    let (photo, truth) = wide_photo(true);
    // The expert outline's box, plus 15% on each side, in the field's pixels.
    let on: Vec<(u32, u32)> = truth
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] > 127)
        .map(|(x, y, _)| (x, y))
        .collect();
    let (x0, x1) = (
        on.iter().map(|p| p.0).min().unwrap(),
        on.iter().map(|p| p.0).max().unwrap(),
    );
    let (y0, y1) = (
        on.iter().map(|p| p.1).min().unwrap(),
        on.iter().map(|p| p.1).max().unwrap(),
    );
    let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
    let b = (
        x0 - w * 15 / 100,
        y0 - h * 15 / 100,
        w * 130 / 100,
        h * 130 / 100,
    );
    let arg = format!("{},{},{},{}", b.0, b.1, b.2, b.3);
    let mask = segment(dir.path(), &photo, &["--box", &arg]);
    assert_eq!(mask.dimensions(), FIELD, "the mask at the photo's size");
    let inside = marked(&mask, (b.0, b.1, b.0 + b.2, b.1 + b.3));
    let total = marked(&mask, (0, 0, FIELD.0, FIELD.1));
    assert!(
        inside > 0 && inside == total,
        "{total} lesion pixels, {inside} inside the box"
    );
    assert!(dice(&mask, &truth) > 0.75, "Dice {}", dice(&mask, &truth));
    // A box off the photo is refused by name.
    refused_off_the_photo(dir.path(), &["--box", "900,10,50,50"]);
    let _ = Luma([0u8]);
}
