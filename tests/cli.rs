//! The `lesionlab` binary's `eval` and `segment` on the real fixture, with a model whose output
//! is known: a PSPNet whose classifier ignores its features and outputs a constant logit.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::module::Param;
use burn::prelude::*;
use lesionlab::model::PspNetConfig;
use lesionlab::{Model, weights};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/isic-fixture")
}

/// Weights of a PSPNet that predicts `logit` for every pixel.
fn constant_model(dir: &Path, logit: f32) -> PathBuf {
    let device = Device::flex();
    let mut m = PspNetConfig::new(8, 2, 4).init(&device);
    m.decoder.classifier.weight = Param::from_tensor(Tensor::zeros([1, 4, 1, 1], &device));
    m.decoder.classifier.bias = Some(Param::from_tensor(Tensor::full([1], logit, &device)));
    let path = dir.join(format!("constant{logit}.safetensors"));
    std::fs::write(&path, weights::save(&Model::PspNet(m)).unwrap()).unwrap();
    path
}

fn lesionlab(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lesionlab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// `lesionlab segment` with the constant PSPNet `weights` at 64x64 into `out`, then `rest`
/// (inputs and options).
fn segment_constant(weights: &Path, out: &Path, rest: &[&str]) -> (bool, String, String) {
    let mut args = vec![
        "segment",
        "--model",
        "pspnet",
        "--weights",
        weights.to_str().unwrap(),
        "--size",
        "64",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(rest);
    lesionlab(&args)
}

/// Lesion and total pixel counts of each fixture mask, read independently of the crate.
fn mask_counts() -> Vec<(f64, f64)> {
    let dir = fixture().join("ISIC2018_Task1_Training_GroundTruth");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let m = image::open(f).unwrap().to_luma8();
            (
                m.pixels().filter(|p| p.0[0] > 128).count() as f64,
                m.pixels().count() as f64,
            )
        })
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn eval_gives_the_hand_computed_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let counts = mask_counts();
    assert!(
        counts.iter().all(|&(p, n)| p > 0.0 && p < n),
        "every fixture mask has lesion and skin"
    );

    // Everything predicted lesion: TP = P, FP = N - P.
    let all = constant_model(dir.path(), 10.0);
    let (ok, out, err) = lesionlab(&[
        "eval",
        "--model",
        "pspnet",
        "--weights",
        all.to_str().unwrap(),
        "--data",
        fixture().to_str().unwrap(),
        "--size",
        "64",
        "--json",
    ]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &json["mean"];
    let close = |key: &str, expected: f64| {
        let got = m[key].as_f64().unwrap();
        assert!((got - expected).abs() < 1e-9, "{key}: {got} vs {expected}");
    };
    assert_eq!(json["images"], 8);
    close("accuracy", mean(counts.iter().map(|&(p, n)| p / n)));
    close("sensitivity", 1.0);
    close("specificity", 0.0);
    close("jaccard", mean(counts.iter().map(|&(p, n)| p / n)));
    close("dice", mean(counts.iter().map(|&(p, n)| 2.0 * p / (p + n))));
    close(
        "threshold_jaccard",
        mean(
            counts
                .iter()
                .map(|&(p, n)| if p / n >= 0.65 { p / n } else { 0.0 }),
        ),
    );

    // Nothing predicted lesion: TN = N - P, FN = P.
    let none = constant_model(dir.path(), -10.0);
    let (ok, out, err) = lesionlab(&[
        "eval",
        "--model",
        "pspnet",
        "--weights",
        none.to_str().unwrap(),
        "--data",
        fixture().to_str().unwrap(),
        "--size",
        "64",
        "--json",
    ]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &json["mean"];
    let expected_accuracy = mean(counts.iter().map(|&(p, n)| (n - p) / n));
    assert!((m["accuracy"].as_f64().unwrap() - expected_accuracy).abs() < 1e-9);
    for (key, v) in [
        ("sensitivity", 0.0),
        ("specificity", 1.0),
        ("jaccard", 0.0),
        ("dice", 0.0),
    ] {
        assert_eq!(m[key].as_f64().unwrap(), v, "{key}");
    }
}

#[test]
fn segment_writes_masks_at_each_photos_own_size_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let weights = constant_model(dir.path(), 10.0);
    let photo = dir.path().join("mole.png");
    image::RgbImage::from_pixel(300, 200, image::Rgb([180, 120, 90]))
        .save(&photo)
        .unwrap();
    let broken = dir.path().join("broken.jpg");
    std::fs::write(&broken, b"\xFF\xD8 definitely not a photo").unwrap();
    let out = dir.path().join("masks");
    let input = fixture().join("ISIC2018_Task1-2_Training_Input");
    let (ok, stdout, stderr) = lesionlab(&[
        "segment",
        "--model",
        "pspnet",
        "--weights",
        weights.to_str().unwrap(),
        "--size",
        "64",
        "--overlay",
        "--out",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
        photo.to_str().unwrap(),
        broken.to_str().unwrap(),
    ]);
    assert!(!ok, "a bad input makes the run fail: {stdout}");
    assert!(
        stderr.contains("broken.jpg") && stderr.contains("1 of 10 photos could not be segmented"),
        "{stderr}"
    );

    let mask = image::open(out.join("ISIC_0000122_segmentation.png")).unwrap();
    assert_eq!(
        (mask.width(), mask.height(), mask.color()),
        (256, 256, image::ColorType::L8)
    );
    let mask = image::open(out.join("mole_segmentation.png"))
        .unwrap()
        .to_luma8();
    assert_eq!(mask.dimensions(), (300, 200));
    assert!(
        mask.pixels().all(|p| p.0[0] == 255),
        "the constant model marks everything"
    );
    assert_eq!(
        image::open(out.join("mole_overlay.png")).unwrap().width(),
        300
    );
    let written = std::fs::read_dir(&out).unwrap().count();
    assert_eq!(written, 18, "9 masks and 9 overlays");
}

#[test]
fn segment_resumes_and_never_overwrites_a_result_silently() {
    let dir = tempfile::tempdir().unwrap();
    let weights = constant_model(dir.path(), 10.0);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for folder in [&a, &b] {
        std::fs::create_dir(folder).unwrap();
    }
    let pixel = image::Rgb([180, 120, 90]);
    for photo in [a.join("ISIC_0000001.jpg"), b.join("ISIC_0000001.png")] {
        image::RgbImage::from_pixel(40, 30, pixel)
            .save(&photo)
            .unwrap();
    }
    image::RgbImage::from_pixel(40, 30, pixel)
        .save(a.join("mole.png"))
        .unwrap();
    let out = dir.path().join("masks");
    let run = |inputs: &[&Path], extra: &[&str]| {
        let mut rest = extra.to_vec();
        rest.extend(inputs.iter().map(|p| p.to_str().unwrap()));
        segment_constant(&weights, &out, &rest)
    };
    let (ok, _, err) = run(&[&a, &b], &[]);
    assert!(!ok);
    assert!(
        err.contains("nothing was written")
            && err.contains("ISIC_0000001.jpg and ")
            && err.contains("would both be written as ISIC_0000001_segmentation.png"),
        "{err}"
    );
    assert!(!out.exists(), "refused before writing anything");

    let (ok, _, err) = run(&[&a], &[]);
    assert!(ok, "{err}");
    // A second run (a resumed one) skips what is done and leaves it as it was.
    let mask = out.join("ISIC_0000001_segmentation.png");
    std::fs::write(&mask, b"kept").unwrap();
    let (ok, stdout, err) = run(&[&a], &[]);
    assert!(
        ok && err.contains("2 of 2 photos already have their mask"),
        "{err}"
    );
    assert!(!stdout.contains(" -> "), "{stdout}");
    assert_eq!(std::fs::read(&mask).unwrap(), b"kept");
    let (ok, stdout, err) = run(&[&a], &["--overwrite"]);
    assert!(ok && stdout.matches(" -> ").count() == 2, "{err}");
    assert!(image::open(&mask).is_ok(), "--overwrite redid it");
}

#[test]
fn segment_shards_resume_and_keep_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let weights = constant_model(dir.path(), 10.0);
    let photos = dir.path().join("archive");
    std::fs::create_dir(&photos).unwrap();
    for i in 0..8 {
        image::RgbImage::from_pixel(40, 30, image::Rgb([180, 120, 90]))
            .save(photos.join(format!("ISIC_{i:07}.png")))
            .unwrap();
    }
    let out = dir.path().join("masks");
    let run = |extra: &[&str]| {
        let mut rest = vec!["--refine", "false", photos.to_str().unwrap()];
        rest.extend(extra);
        segment_constant(&weights, &out, &rest)
    };
    let rows = |name: &str| -> Vec<String> {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("photo,mask,width,height,lesion_pixels")
        );
        lines.map(String::from).collect()
    };
    let mut done = Vec::new();
    for shard in ["0/2", "1/2"] {
        let (ok, stdout, err) = run(&["--shard", shard, "--csv"]);
        assert!(ok, "{err}");
        let ledger = rows(&format!("segment-shard-{}-of-2.csv", &shard[..1]));
        assert_eq!(ledger.len(), stdout.matches(" -> ").count(), "{stdout}");
        for row in ledger {
            let cells: Vec<&str> = row.split(',').collect();
            // The constant model marks every pixel: 40 x 30 of them.
            assert_eq!(&cells[2..6], ["40", "30", "1200", "1.000000"], "{row}");
            done.push(cells[1].to_string());
        }
    }
    done.sort();
    done.dedup();
    assert_eq!(
        done.len(),
        8,
        "the shards split the archive without overlap: {done:?}"
    );

    // A run killed part-way leaves some masks; the next one does only the rest.
    for i in [2, 5] {
        std::fs::remove_file(out.join(format!("ISIC_{i:07}_segmentation.png"))).unwrap();
    }
    let (ok, stdout, err) = run(&["--csv", out.join("rest.csv").to_str().unwrap()]);
    assert!(
        ok && err.contains("6 of 8 photos already have their mask"),
        "{err}"
    );
    assert_eq!(stdout.matches(" -> ").count(), 2, "{stdout}");
    assert_eq!(rows("rest.csv").len(), 2);
    let (ok, _, err) = run(&["--shard", "2/2"]);
    assert!(!ok && err.contains("0 <= i < n"), "{err}");
}

#[test]
fn export_writes_each_kernel_form_and_each_segments_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let weights = constant_model(dir.path(), 10.0);
    let photo = dir.path().join("mole.png");
    image::RgbImage::from_pixel(40, 30, image::Rgb([180, 120, 90]))
        .save(&photo)
        .unwrap();
    let mut sizes = Vec::new();
    for (form, flag) in [
        ("f32", "--dtype=f32"),
        ("f16", "--half"),
        ("int8", "--dtype=int8"),
    ] {
        let out = dir.path().join(format!("{form}.safetensors"));
        let args = [
            "export",
            "--model",
            "pspnet",
            "--size",
            "64",
            flag,
            "--weights",
            weights.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        let (ok, _, err) = lesionlab(&args);
        assert!(ok, "{form}: {err}");
        sizes.push(std::fs::metadata(&out).unwrap().len());
        let masks = dir.path().join(form);
        let (ok, _, err) = lesionlab(&[
            "segment",
            "--model",
            "pspnet",
            "--weights",
            out.to_str().unwrap(),
            "--out",
            masks.to_str().unwrap(),
            photo.to_str().unwrap(),
        ]);
        assert!(ok, "{form}: {err}");
        let mask = image::open(masks.join("mole_segmentation.png"))
            .unwrap()
            .to_luma8();
        assert!(
            mask.pixels().all(|p| p.0[0] == 255),
            "{form}: the constant model marks everything"
        );
    }
    assert!(
        sizes[2] < sizes[1] && sizes[1] < sizes[0],
        "int8 < f16 < f32: {sizes:?}"
    );
    let (ok, _, err) = lesionlab(&[
        "export",
        "--model",
        "pspnet",
        "--dtype",
        "bf16",
        "--weights",
        weights.to_str().unwrap(),
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("expected f32, f16 or int8"), "{err}");
}

#[test]
fn export_cuts_a_quick_start_file_and_segment_refuses_it_by_name() {
    let dir = tempfile::tempdir().unwrap();
    // `lesionlab export --model MODEL --weights weights/MODEL.safetensors --quick-start 2 ...`
    let cut = |model: &str, extra: &[&str], out: &Path| {
        let weights = format!("weights/{model}.safetensors");
        let mut args = vec!["export", "--model", model, "--weights", &weights];
        args.extend(["--quick-start", "2"]);
        args.extend(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        lesionlab(&args)
    };
    let quick = dir.path().join("quick.safetensors");
    let (ok, out, err) = cut("unetpp", &[], &quick);
    assert!(ok, "{err}");
    assert!(out.contains("heads up to 2"), "{out}");
    let whole = std::fs::metadata("weights/unetpp.safetensors")
        .unwrap()
        .len();
    assert!(std::fs::metadata(&quick).unwrap().len() * 10 < whole);
    // A quick-start file cannot run the default mode (the deepest head): the CLI says which
    // file and why.
    let photo = dir.path().join("mole.png");
    image::RgbImage::from_pixel(40, 30, image::Rgb([180, 120, 90]))
        .save(&photo)
        .unwrap();
    let (ok, _, err) = lesionlab(&[
        "segment",
        "--model",
        "unetpp",
        "--weights",
        quick.to_str().unwrap(),
        "--out",
        dir.path().join("m").to_str().unwrap(),
        photo.to_str().unwrap(),
    ]);
    assert!(
        !ok && err.contains("quick.safetensors") && err.contains("quick-start file"),
        "{err}"
    );
    // A size U-Net++ cannot run is refused before anything is written.
    let odd = dir.path().join("odd.safetensors");
    let (ok, _, err) = cut("unetpp", &["--size", "100"], &odd);
    assert!(!ok && err.contains("100") && !odd.exists(), "{err}");
    // Only U-Net++ has fast modes.
    let (ok, _, err) = cut("unet", &[], &dir.path().join("u"));
    assert!(!ok && err.contains("deep supervision"), "{err}");
}

#[test]
fn unetpp_runs_its_deepest_head_unless_told_otherwise() {
    let data = fixture();
    // The scores and the mode `eval --json` reports.
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", "--model", "unetpp", "--size", "64", "--json"];
        args.extend(["--data", data.to_str().unwrap()]);
        args.extend(extra);
        let (ok, out, err) = lesionlab(&args);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (
            v["mean"].to_string(),
            v["mode"].as_str().unwrap().to_string(),
        )
    };
    let (default, mode) = eval(&[]);
    assert_eq!(mode, "head4");
    assert_eq!((default.clone(), mode.clone()), eval(&["--head", "4"]));
    assert_eq!(
        (default.clone(), mode),
        eval(&["--fast", "4"]),
        "the earlier spelling"
    );
    let (mean, mode) = eval(&["--mean-of-heads"]);
    assert_eq!(mode, "mean");
    assert_eq!(
        (mean.clone(), mode),
        eval(&["--accurate"]),
        "the earlier spelling"
    );
    assert_ne!(default, mean, "the mean of the heads scores differently");
    let (ok, _, err) = lesionlab(&[
        "eval",
        "--model",
        "unetpp",
        "--mean-of-heads",
        "--head",
        "2",
    ]);
    assert!(
        !ok && err.contains("--mean-of-heads") && err.contains("--head"),
        "{err}"
    );
}

#[test]
fn wrong_weights_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let weights = constant_model(dir.path(), 10.0);
    let (ok, _, err) = lesionlab(&[
        "eval",
        "--model",
        "unet",
        "--weights",
        weights.to_str().unwrap(),
        "--data",
        fixture().to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        err.contains("constant10.safetensors")
            && err.contains("holds PSPNet weights, not U-Net weights"),
        "{err}"
    );
}

#[test]
fn describe_reads_a_mask_or_segments_first_and_names_a_mask_that_does_not_fit() {
    let photo = fixture().join("ISIC2018_Task1-2_Training_Input/ISIC_0000122.jpg");
    let mask = fixture().join("ISIC2018_Task1_Training_GroundTruth/ISIC_0000122_segmentation.png");
    let json = |out: &str| -> serde_json::Value { serde_json::from_str(out).unwrap() };

    let (ok, out, err) = lesionlab(&[
        "describe",
        photo.to_str().unwrap(),
        "--mask",
        mask.to_str().unwrap(),
        "--mm-per-pixel",
        "0.05",
        "--json",
    ]);
    assert!(ok, "{err}");
    let d = json(&out);
    let m = image::open(&mask).unwrap().to_luma8();
    let lesion = m.pixels().filter(|p| p.0[0] > 127).count();
    assert_eq!(d["areaPx"].as_u64().unwrap() as usize, lesion);
    let diameter = d["diameterPx"].as_f64().unwrap();
    assert!((d["diameterMm"].as_f64().unwrap() - 0.05 * diameter).abs() < 1e-9);
    assert_eq!(d["colours"].as_array().unwrap().len(), 6);

    // No mask: a model that calls every pixel lesion segments first.
    let dir = tempfile::tempdir().unwrap();
    let all = constant_model(dir.path(), 5.0);
    let (ok, out, err) = lesionlab(&[
        "describe",
        photo.to_str().unwrap(),
        "--model",
        "pspnet",
        "--weights",
        all.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    assert_eq!(json(&out)["areaShare"].as_f64().unwrap(), 1.0);

    // The text form says what it is not.
    let (ok, out, _) = lesionlab(&[
        "describe",
        photo.to_str().unwrap(),
        "--mask",
        mask.to_str().unwrap(),
    ]);
    assert!(ok);
    assert!(out.contains("not a diagnosis"), "{out}");

    let small = dir.path().join("small_mask.png");
    image::GrayImage::from_pixel(10, 10, image::Luma([255]))
        .save(&small)
        .unwrap();
    let (ok, _, err) = lesionlab(&[
        "describe",
        photo.to_str().unwrap(),
        "--mask",
        small.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        err.contains("small_mask.png: is 10x10 but the photo"),
        "{err}"
    );
}

#[test]
fn uncertainty_is_zero_for_a_model_blind_to_orientation_and_compares_the_three_models() {
    let photo = fixture().join("ISIC2018_Task1-2_Training_Input/ISIC_0000122.jpg");
    let dir = tempfile::tempdir().unwrap();
    let blind = constant_model(dir.path(), 2.0);
    let map = dir.path().join("spread.png");
    let (ok, out, err) = lesionlab(&[
        "uncertainty",
        photo.to_str().unwrap(),
        "--model",
        "pspnet",
        "--weights",
        blind.to_str().unwrap(),
        "--out",
        map.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    let u: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(u["maps"], 8);
    assert_eq!(u["disagreement"].as_f64().unwrap(), 0.0);
    assert!(u["meanSpread"].as_f64().unwrap() < 1e-6, "{u}");
    assert_eq!(
        image::image_dimensions(&map).unwrap(),
        image::image_dimensions(&photo).unwrap()
    );

    let (ok, out, err) = lesionlab(&["uncertainty", photo.to_str().unwrap(), "--method", "models"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("3 maps compared") && out.contains("% of the photo"),
        "{out}"
    );
}

#[test]
fn features_lists_a_layers_most_active_channels_and_draws_their_grid() {
    let photo = fixture().join("ISIC2018_Task1-2_Training_Input/ISIC_0000122.jpg");
    let dir = tempfile::tempdir().unwrap();
    let grid = dir.path().join("grid.png");
    let (ok, out, err) = lesionlab(&[
        "features",
        photo.to_str().unwrap(),
        "--model",
        "unet",
        "--layer",
        "bottleneck",
        "--count",
        "6",
        "--out",
        grid.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    let maps: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(maps["layer"], "bottleneck");
    let shape: Vec<u64> = maps["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    // The shipped U-Net runs at 176: the bottleneck is 1/16 of it.
    assert_eq!(shape[1..], [11, 11]);
    let means: Vec<f64> = maps["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["mean"].as_f64().unwrap())
        .collect();
    assert_eq!(means.len(), 6);
    assert!(means.windows(2).all(|p| p[0] >= p[1]), "{means:?}");
    // Six 96-pixel tiles in rows of four, 4-pixel gaps.
    assert_eq!(image::image_dimensions(&grid).unwrap(), (404, 204));

    let (ok, _, err) = lesionlab(&[
        "features",
        photo.to_str().unwrap(),
        "--model",
        "unet",
        "--layer",
        "x0_4",
    ]);
    assert!(!ok);
    assert!(err.contains("U-Net has no layer 'x0_4'"), "{err}");
}

#[test]
fn a_backend_or_device_the_build_or_machine_lacks_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("mole.png");
    image::RgbImage::from_pixel(40, 30, image::Rgb([180, 120, 90]))
        .save(&photo)
        .unwrap();
    let out = dir.path().join("masks");
    let segment = |backend: &str| {
        lesionlab(&[
            "segment",
            "--model",
            "unet",
            "--backend",
            backend,
            "--out",
            out.to_str().unwrap(),
            photo.to_str().unwrap(),
        ])
    };
    let (ok, _, err) = segment("cuda");
    assert!(
        !ok && err.contains("built without the 'cuda' backend") && err.contains("--features cuda"),
        "{err}"
    );
    let (ok, _, err) = segment("gpu");
    assert!(!ok && err.contains("unknown backend 'gpu'"), "{err}");
    let (ok, _, err) = segment("cpu:1");
    assert!(!ok && err.contains("one device"), "{err}");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/isic-fixture");
    let (ok, _, err) = lesionlab(&[
        "train",
        "--model",
        "unet",
        "--data",
        data.to_str().unwrap(),
        "--devices",
        "0,cpu",
        "--out",
        dir.path().join("m.safetensors").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("device cpu:0 is named twice"), "{err}");
    assert!(!out.exists(), "nothing was written");
}
