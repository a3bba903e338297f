//! The key section of `models/REPORT.md`: Mirador's key on the GTZAN clips here with audio
//! and a single-key label (Lerch's annotations; classical clips have none) whose ids are odd
//! (the even ones fit the key weights, `cargo xtask models key`): the batch key `analyze`
//! prints and the live key the engine shows while the clip plays, scored with mir_eval's
//! MIREX weighted score next to Essentia's KeyExtractor and a librosa Krumhansl-Schmuckler
//! estimator in the same run (`models/training/key_eval.py`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use mirador_app::decode::AudioFile;
use mirador_dsp::clip::TableStyle;
use mirador_dsp::pitch::key::PITCH_NAMES;
use mirador_models::clip::{analyze_clip, Models};
use mirador_models::key::key_of;

use super::sets::replay_live;
use super::Fills;
use crate::python::venv;

/// The sets, as (title, folder, file name prefix and suffix). The originals (id 00000)
/// only fit the weights.
const SETS: [(&str, &str, &str, &str); 4] = [
    ("GTZAN originals, 30 s", "gtzan/full", "", ".flac"),
    ("GTZAN pop, 30 s", "gtzan/full", "pop.", ".ogg"),
    (
        "GTZAN eight other genres, first 15-20 s",
        "gtzan/first_15_20s",
        "",
        ".ogg",
    ),
    ("GTZAN excerpts, 2-3 s", "gtzan/excerpts", "", ""),
];

/// How often the live key is read, in seconds of audio.
const LIVE_EVERY: f64 = 0.5;

/// Lerch's label of a clip (`blues.00003`) as "C# minor", `None` without a single key.
fn label(data: &Path, stem: &str) -> Result<Option<String>> {
    let genre = stem.split('.').next().unwrap_or_default();
    let path = data
        .join("gtzan/annotations/key_lerch")
        .join(genre)
        .join(format!("{stem}.lerch.txt"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let value: i32 = text
        .trim()
        .parse()
        .with_context(|| format!("reading {}", path.display()))?;
    // 0-11: A, A#, ... G# major; 12-23: the same minor.
    Ok((0..24).contains(&value).then(|| {
        let tonic = (value % 12 + 9) % 12;
        let mode = if value < 12 { "major" } else { "minor" };
        format!("{} {mode}", PITCH_NAMES[tonic as usize])
    }))
}

/// (set title, clip path under the data folder, label) of every labelled clip whose id is
/// odd (`held_out`) or even (the weights' fitting clips).
pub(crate) fn clips(data: &Path, held_out: bool) -> Result<Vec<(&'static str, String, String)>> {
    let mut clips = Vec::new();
    for (title, dir, prefix, suffix) in SETS {
        for clip in super::sets::files(data, dir, prefix, suffix)? {
            let (stem, id) = super::sets::gtzan_id(&clip)?;
            if id % 2 != u32::from(held_out) {
                continue;
            }
            if let Some(label) = label(data, stem)? {
                clips.push((title, clip.clone(), label));
            }
        }
    }
    Ok(clips)
}

/// The key the live engine shows every [`LIVE_EVERY`] s while the clip plays.
fn live_keys(path: &Path) -> Result<Vec<Option<String>>> {
    let mut keys = Vec::new();
    let chords = mirador_engine::listeners::chords::ChordListener::new();
    replay_live(
        path,
        vec![Box::new(chords)],
        (LIVE_EVERY, LIVE_EVERY),
        |shown| keys.push(shown.key.map(|k| k.name())),
    )?;
    Ok(keys)
}

pub(super) fn section(root: &Path, data: &Path) -> Result<Fills> {
    let mut ours = Vec::new();
    for (set, clip, label) in clips(data, true)? {
        let path = data.join(&clip);
        let started = Instant::now();
        let mut file = AudioFile::open(&path)?;
        let analysis = analyze_clip(&mut file, TableStyle::Gtzan, &Models::default())
            .map_err(|e| anyhow::anyhow!("{clip}: {e}"))?;
        let batch_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let live = live_keys(&path)?;
        ours.push(serde_json::json!({
            "clip": clip,
            "set": set,
            "label": label,
            "batch": analysis.key.map(|k| k.name()),
            // What the estimator says where `analyze` withholds the key (under 3 s).
            "estimate": analysis.tonality.as_ref().and_then(key_of).map(|k| k.name()),
            "live": live,
            "seconds": {"batch": batch_seconds, "live": started.elapsed().as_secs_f64()},
        }));
    }
    eprintln!("xtask: scoring keys with mir_eval (Essentia and librosa run too)");
    let python = venv("target/key-venv", "models/training/key-requirements.txt")?;
    let scores = super::score_in_python(
        root,
        data,
        &python,
        "key_eval.py",
        "key",
        &serde_json::Value::from(ours),
    )?;
    Ok(vec![("key_tables", report(&scores))])
}

fn report(scores: &serde_json::Value) -> String {
    const SYSTEMS: [(&str, &str); 7] = [
        (
            "batch",
            "**Mirador, files**: `analyze`'s key (chroma and bass, fitted weights)",
        ),
        (
            "estimate",
            "Mirador's estimator where `analyze` withholds the key (under 3 s)",
        ),
        (
            "live",
            "**Mirador, live**: the engine's key (fading, 30 s half-life), mean over the clip",
        ),
        ("live end", "Mirador, live, at the clip's end"),
        (
            "essentia",
            "Essentia 2.1b6 `KeyExtractor`, default profile (bgate)",
        ),
        ("essentia edma", "Essentia `KeyExtractor`, profile edma"),
        ("librosa", "librosa 0.11 chroma_cqt + Krumhansl-Kessler"),
    ];
    let mut out = String::from(
        "| set | clips | system | weighted | correct | CPU s per s of audio |\n\
         |---|---:|---|---:|---:|---:|\n",
    );
    let sets = SETS.iter().map(|(title, ..)| *title);
    for set in sets.chain(["all"]) {
        let s = &scores[set];
        if s.is_null() {
            continue;
        }
        for (i, (key, label)) in SYSTEMS.iter().enumerate() {
            let (title, clips) = if i == 0 {
                (set, s["clips"].to_string())
            } else {
                ("", String::new())
            };
            let _ = writeln!(
                out,
                "| {title} | {clips} | {label} | {:.3} | {:.3} | {:.4} |",
                s["weighted"][key].as_f64().unwrap_or(f64::NAN),
                s["correct"][key].as_f64().unwrap_or(f64::NAN),
                s["cpu seconds per audio second"][key]
                    .as_f64()
                    .unwrap_or(f64::NAN),
            );
        }
    }
    out
}
