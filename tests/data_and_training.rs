//! Loading a real ISIC fixture (8 pairs from `shared/data`), with its failure cases, and a few
//! training steps on a tiny model.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use lesionlab::data::{dir_sources, load_pairs, split_by_id};

use lesionlab::model::UNetConfig;
use lesionlab::train::{Flow, OptimizerConfig, Progress, TrainConfig, Trainer};
use lesionlab::{Architecture, Model, ModelConfig};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/isic-fixture")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn loads_the_official_layout() {
    let mut sources = dir_sources(&fixture()).unwrap();
    let (samples, report) = load_pairs(&mut sources, 64, |_, _| {}).unwrap();
    assert_eq!((report.paired, report.loaded, samples.len()), (8, 8, 8));
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let s = &samples[0];
    assert_eq!(
        (
            s.id.as_str(),
            s.image.dimensions(),
            s.mask.dimensions(),
            s.original
        ),
        ("ISIC_0000122", (64, 64), (64, 64), (256, 256))
    );
    assert!(s.mask.pixels().all(|p| p.0[0] <= 1) && s.mask.pixels().any(|p| p.0[0] == 1));
}

#[test]
fn reports_every_bad_file_by_name_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    copy_dir(&fixture(), &root);
    let input = root.join("ISIC2018_Task1-2_Training_Input");
    let truth = root.join("ISIC2018_Task1_Training_GroundTruth");
    // A missing mask, a corrupt JPEG, a mask of the wrong size, and a stray file.
    std::fs::remove_file(truth.join("ISIC_0000122_segmentation.png")).unwrap();
    // A JPEG start-of-image marker followed by garbage: what a broken copy leaves behind.
    let mut broken = vec![0xFF, 0xD8, 0xFF, 0xE0];
    broken.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
    std::fs::write(input.join("ISIC_0000123.jpg"), broken).unwrap();
    let mask = image::open(truth.join("ISIC_0000124_segmentation.png")).unwrap();
    mask.resize_exact(128, 100, image::imageops::FilterType::Nearest)
        .save(truth.join("ISIC_0000124_segmentation.png"))
        .unwrap();
    std::fs::write(root.join("notes.txt"), "annotator: J.").unwrap();

    let mut sources = dir_sources(&root).unwrap();
    let (samples, report) = load_pairs(&mut sources, 64, |_, _| {}).unwrap();
    assert_eq!(samples.len(), 5, "the five good pairs are kept");
    assert_eq!(report.paired, 7);
    let find = |name: &str| {
        report
            .skipped
            .iter()
            .find(|s| s.file.ends_with(name))
            .unwrap_or_else(|| panic!("{name} not reported: {:?}", report.skipped))
            .reason
            .clone()
    };
    assert_eq!(
        find("ISIC_0000122.jpg"),
        "no mask ISIC_0000122_segmentation.png"
    );
    let corrupt = find("ISIC_0000123.jpg");
    assert!(
        corrupt.contains("the JPEG is corrupt or truncated"),
        "{corrupt}"
    );
    assert_eq!(
        find("ISIC_0000124_segmentation.png"),
        "mask is 128x100 but its image is 256x256"
    );
    assert!(find("notes.txt").starts_with("not a photo"));
    assert_eq!(report.skipped.len(), 4);
}

#[test]
fn nothing_usable_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ISIC_0000001.jpg"), b"not a jpeg").unwrap();
    std::fs::write(
        dir.path().join("ISIC_0000001_segmentation.png"),
        b"not a png",
    )
    .unwrap();
    let mut sources = dir_sources(dir.path()).unwrap();
    let msg = load_pairs(&mut sources, 64, |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("no usable image/mask pair found") && msg.contains("ISIC_0000001.jpg"),
        "{msg}"
    );
}

#[test]
fn reads_pairs_from_a_zip() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (folder, ext) in [
        ("ISIC2018_Task1-2_Training_Input", ".jpg"),
        ("ISIC2018_Task1_Training_GroundTruth", "_segmentation.png"),
    ] {
        for id in ["ISIC_0000125", "ISIC_0000126"] {
            let name = format!("{folder}/{id}{ext}");
            zip.start_file(&name, opts).unwrap();
            std::io::Write::write_all(&mut zip, &std::fs::read(fixture().join(&name)).unwrap())
                .unwrap();
        }
    }
    let bytes = zip.finish().unwrap().into_inner();
    let zip = lesionlab::data::ZipSource::new(std::io::Cursor::new(bytes.clone()), "isic.zip");
    let mut sources: Vec<Box<dyn lesionlab::data::FileSource>> = vec![Box::new(zip.unwrap())];
    assert!(
        sources[0]
            .names()
            .contains(&"isic.zip/ISIC2018_Task1-2_Training_Input/ISIC_0000125.jpg".to_string())
    );
    let (samples, _) = load_pairs(&mut sources, 32, |_, _| {}).unwrap();
    assert_eq!(
        samples.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["ISIC_0000125", "ISIC_0000126"]
    );

    // Beside a truncated and a fake zip, the good one is still read and the bad ones are named.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.zip"), &bytes).unwrap();
    std::fs::write(dir.path().join("cut.zip"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(dir.path().join("fake.zip"), b"this is not a zip").unwrap();
    let mut sources = dir_sources(dir.path()).unwrap();
    let (samples, report) = load_pairs(&mut sources, 32, |_, _| {}).unwrap();
    assert_eq!(samples.len(), 2);
    let mut skipped: Vec<_> = report.skipped.iter().map(|s| s.file.as_str()).collect();
    skipped.sort();
    assert_eq!(skipped, ["cut.zip", "fake.zip"]);
    assert!(
        report.skipped[0].reason.contains("not a readable zip"),
        "{:?}",
        report.skipped
    );
}

fn tiny_run(
    epochs: usize,
    lr: f64,
) -> (Trainer, lesionlab::data::Dataset, lesionlab::data::Dataset) {
    let device = Device::flex().autodiff();
    let mut sources = dir_sources(&fixture()).unwrap();
    let (samples, _) = load_pairs(&mut sources, 64, |_, _| {}).unwrap();
    let (train, val) = split_by_id(samples, 0.25, 1);
    let config = TrainConfig::new(ModelConfig::new(Architecture::UNet))
        .with_epochs(epochs)
        .with_size(64)
        .with_optimizer(OptimizerConfig::new().with_learning_rate(lr))
        .with_augmentation(None);
    (
        Trainer::new(tiny_model(&device), config, &device).unwrap(),
        train,
        val,
    )
}

/// The same small U-Net for every run. Burn draws a parameter's initial values when it is first
/// used, from a generator the tests running at once share, so a seed alone does not fix them:
/// the weights are drawn once (saving reads every parameter) and each run loads those bytes.
fn tiny_model(device: &Device) -> Model {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let bytes = BYTES.get_or_init(|| {
        let cpu = Device::flex();
        cpu.seed(7);
        let model = Model::UNet(UNetConfig::new([4, 8, 8, 16, 16]).init(&cpu));
        lesionlab::weights::save(&model).unwrap()
    });
    lesionlab::weights::load(bytes.clone(), Architecture::UNet, "tiny", device).unwrap()
}

/// Every remaining epoch, as the CLI loops over them.
fn train_all(
    trainer: &mut Trainer,
    train: &lesionlab::data::Dataset,
    val: &lesionlab::data::Dataset,
    progress: &mut dyn FnMut(&Progress) -> Flow,
) -> Result<(), lesionlab::Error> {
    while !trainer.is_finished() {
        pollster::block_on(trainer.train_epoch(train, val, progress))?;
    }
    Ok(())
}

#[test]
fn a_few_steps_on_real_pairs_lower_the_loss_and_report_validation() {
    let (mut trainer, train, val) = tiny_run(6, 1e-2);
    let mut steps = Vec::new();
    train_all(&mut trainer, &train, &val, &mut |p| {
        if let Progress::Step { loss, .. } = p {
            steps.push(*loss);
        }
        Flow::Continue
    })
    .unwrap();
    assert_eq!(steps.len(), 6 * 2, "6 epochs of 6 images in batches of 4");
    let h = &trainer.history;
    assert!(
        h[5].train_loss < 0.8 * h[0].train_loss,
        "loss fell from {} to {}",
        h[0].train_loss,
        h[5].train_loss
    );
    let (iou, dice) = (h[5].val_iou.unwrap(), h[5].val_dice.unwrap());
    assert!(
        (0.0..=1.0).contains(&iou) && dice >= iou,
        "iou {iou} dice {dice}"
    );
}

#[test]
fn cancel_checkpoint_and_resume_continue_the_same_run() {
    // Uninterrupted: 2 epochs.
    let (mut straight, train, val) = tiny_run(2, 1e-2);
    train_all(&mut straight, &train, &val, &mut |_| Flow::Continue).unwrap();

    // Stopped after epoch 1, checkpointed, resumed on a fresh trainer.
    let (mut first, _, _) = tiny_run(2, 1e-2);
    let record = pollster::block_on(first.train_epoch(&train, &val, &mut |_| Flow::Continue));
    assert_eq!(
        (record.unwrap().unwrap().epoch, first.epochs_done()),
        (1, 1)
    );
    let bytes = first.checkpoint().unwrap();
    let mut resumed = Trainer::resume(&bytes, "run.ckpt", &Device::flex().autodiff()).unwrap();
    assert_eq!(resumed.history, first.history);
    train_all(&mut resumed, &train, &val, &mut |_| Flow::Continue).unwrap();

    // Same data order, same weights, same Adam moments: the same second epoch.
    let (a, b) = (&straight.history[1], &resumed.history[1]);
    assert!((a.train_loss - b.train_loss).abs() < 1e-4, "{a:?} vs {b:?}");
    assert!(
        (a.val_loss.unwrap() - b.val_loss.unwrap()).abs() < 1e-4,
        "{a:?} vs {b:?}"
    );

    let msg = Trainer::resume(b"junk", "junk.ckpt", &Device::flex())
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.starts_with("junk.ckpt: not a LesionLab checkpoint"),
        "{msg}"
    );
}

#[test]
fn a_non_finite_loss_stops_with_a_clear_error_and_keeps_the_weights() {
    // A learning rate of 1e30 sends the weights to ±1e30 after one step; the next loss overflows.
    let (mut trainer, train, val) = tiny_run(2, 1e30);
    let err = train_all(&mut trainer, &train, &val, &mut |_| Flow::Continue).unwrap_err();
    let lesionlab::Error::NonFiniteLoss { epoch, step, .. } = err else {
        panic!("{err}")
    };
    assert_eq!((epoch, step), (1, 2));
    assert!(
        err.to_string()
            .contains("weights from before that step are kept"),
        "{err}"
    );
    assert_eq!(trainer.epochs_done(), 0);
    // The kept model is whole: it still checkpoints and saves.
    assert!(trainer.checkpoint().is_ok());
}

#[test]
fn a_caller_stops_between_steps_and_the_dropped_epoch_starts_afresh() {
    let (mut trainer, train, val) = tiny_run(1, 1e-2);
    let mut epoch = trainer.begin_epoch(&train).unwrap();
    assert_eq!(
        (epoch.number, epoch.steps()),
        (1, 2),
        "6 images in batches of 4"
    );
    pollster::block_on(trainer.step(&mut epoch, &train)).unwrap();
    assert_eq!((epoch.steps_done(), epoch.is_done()), (1, false));
    let err = pollster::block_on(trainer.end_epoch(epoch, &val)).unwrap_err();
    assert!(err.to_string().contains("1 of 2 steps"), "{err}");
    assert_eq!(trainer.epochs_done(), 0);

    // Stopped by the progress callback after the first step: nothing recorded either.
    let mut steps = 0;
    let stopped = pollster::block_on(trainer.train_epoch(&train, &val, &mut |p| {
        steps += matches!(p, Progress::Step { .. }) as usize;
        Flow::Stop
    }));
    assert_eq!((stopped.unwrap(), steps), (None, 1));

    let mut epoch = trainer.begin_epoch(&train).unwrap();
    assert_eq!((epoch.number, epoch.steps_done()), (1, 0));
    while !epoch.is_done() {
        pollster::block_on(trainer.step(&mut epoch, &train)).unwrap();
    }
    let record = pollster::block_on(trainer.end_epoch(epoch, &val)).unwrap();
    assert_eq!((record.epoch, trainer.is_finished()), (1, true));
    assert!(trainer.begin_epoch(&train).is_err(), "the run is over");
}

#[test]
fn an_async_checkpoint_without_optimiser_state_resumes_with_the_same_weights() {
    let (mut first, train, val) = tiny_run(2, 1e-2);
    pollster::block_on(first.train_epoch(&train, &val, &mut |_| Flow::Continue)).unwrap();
    let bytes = pollster::block_on(first.checkpoint_async(&Device::flex(), false)).unwrap();
    let full = first.checkpoint().unwrap();
    assert!(
        bytes.len() < full.len(),
        "no Adam moments: {} vs {} bytes",
        bytes.len(),
        full.len()
    );
    let device = Device::flex().autodiff();
    let resumed = Trainer::resume(&bytes, "run.ckpt", &device).unwrap();
    assert_eq!(resumed.history, first.history);
    let loss = |t: &Trainer| {
        pollster::block_on(lesionlab::train::evaluate(
            t.model(),
            &val,
            t.config.loss(),
            4,
            &device,
        ))
        .unwrap()
        .0
    };
    assert!((loss(&first) - loss(&resumed)).abs() < 1e-6, "same weights");
}
