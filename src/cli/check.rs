//! `lesionlab check-photos`: which photos do not look like dermoscopy, and how often the check
//! flags a folder of real dermoscopy (its false-alarm rate there).

use std::path::PathBuf;

use clap::Args;
use lesionlab::Error;
use lesionlab::data::{decode_image, resize_rgb};
use lesionlab::photo_check::{
    MAX_DETAIL, MAX_OFF_SKIN, MAX_SATURATION, MAX_SMOOTH, MIN_SATURATION, check_photo,
};

use super::common::{photos, read};

/// Options of `lesionlab check-photos`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Photos (JPEG or PNG) or folders of them.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Squash each photo to this square size first, as `segment` and the page do with the
    /// model's input size (default: check the photo as it is).
    #[arg(long)]
    size: Option<u32>,
}

/// Runs the command: one line per flagged photo, then the share flagged and where each
/// statistic's values lie next to its limits.
pub fn run(args: CheckArgs) -> Result<(), Error> {
    let files = photos(&args.inputs)?;
    let mut stats: [Vec<f32>; 4] = Default::default();
    let mut grey = 0;
    let mut flagged = 0;
    for path in &files {
        let name = path.display().to_string();
        let photo = match read(path).and_then(|bytes| decode_image(&bytes, &name)) {
            Ok(photo) => photo,
            Err(e) => {
                eprintln!("error: {e}");
                continue;
            }
        };
        let check = match args.size {
            Some(size) => check_photo(&resize_rgb(&photo, size)),
            None => check_photo(&photo),
        };
        for (values, v) in
            stats
                .iter_mut()
                .zip([check.saturation, check.detail, check.off_skin, check.smooth])
        {
            values.push(v);
        }
        if !check.looks_like_dermoscopy {
            flagged += 1;
            println!("{name}: {}", check.reasons.join("; "));
        } else if check.grey {
            grey += 1;
            println!("{name}: almost grey (a warning about its colours only)");
        }
    }
    let checked = stats[0].len();
    if checked == 0 {
        return Err(Error::BadArgument("no photo could be read".into()));
    }
    println!(
        "{flagged} of {checked} photos do not look like dermoscopy ({:.2}%); {grey} more are almost grey",
        100.0 * flagged as f64 / checked as f64
    );
    println!(
        "{:<12} {:>8} {:>8} {:>8} {:>8} {:>8}   limits",
        "statistic", "min", "0.5%", "median", "99.5%", "max"
    );
    let limits = [
        format!("{MIN_SATURATION}..{MAX_SATURATION}"),
        format!("<= {MAX_DETAIL}"),
        format!("<= {MAX_OFF_SKIN}"),
        format!("<= {MAX_SMOOTH}"),
    ];
    for ((name, values), limit) in ["saturation", "detail", "off-skin", "smooth"]
        .iter()
        .zip(&mut stats)
        .zip(limits)
    {
        values.sort_by(f32::total_cmp);
        let q = |f: f64| values[((values.len() - 1) as f64 * f).round() as usize];
        println!(
            "{name:<12} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4}   {limit}",
            q(0.0),
            q(0.005),
            q(0.5),
            q(0.995),
            q(1.0)
        );
    }
    Ok(())
}
