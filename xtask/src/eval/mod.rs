//! `cargo xtask eval`: runs the shipped Rust inference end to end (decode, `mirador-dsp`'s
//! features, the models) on labelled audio the models did not train on, and writes
//! `models/REPORT.md`.
//!
//! Held-out audio: GTZAN excerpts and originals whose clip ids are in the fault-filtered test
//! split (every genre model trains on train+valid only), Emotify clips of the genres GTZAN
//! shares (classical, pop, rock; Emotify is not in GTZAN at all), and the clips of the 4Q
//! artists held out from the mood heads and the distillation (`models/musicnn/mood_test.txt`),
//! for mood and, where their AllMusic genres map onto GTZAN's, for genre.

mod beats;
mod chords;
mod clips;
mod cost;
pub(crate) use cost::onnxruntime_ms;
mod explain;
mod genre;
pub mod key;
mod library;
mod markdown;
mod melody;
mod mood;
mod notes;
pub mod retrieval;
mod sections;
mod sets;

use anyhow::{Context, Result};
use mirador_models::tagger::Variant;
use mirador_tests::data_dir;

use crate::python::repo_root;

/// The report's prose, with `{{name}}` where a section's numbers go.
const TEMPLATE: &str = include_str!("report.md");

/// What a section puts into the template: a `{{name}}` and its text.
type Fills = Vec<(&'static str, String)>;

/// The patch networks evaluated, the live one first.
const NETWORKS: [Variant; 2] = [Variant::Cnn, Variant::Musicnn];

/// Writes Mirador's answers to `target/eval/{name}_mirador.json`, has the scoring script
/// `models/training/{script}` (run by `python`, which also runs the peers) score them into
/// `target/eval/{name}_scores.json`, and returns those scores.
fn score_in_python(
    root: &std::path::Path,
    data: &std::path::Path,
    python: &std::path::Path,
    script: &str,
    name: &str,
    ours: &serde_json::Value,
) -> Result<serde_json::Value> {
    let dir = root.join("target/eval");
    std::fs::create_dir_all(&dir)?;
    let ours_path = dir.join(format!("{name}_mirador.json"));
    let scores_path = dir.join(format!("{name}_scores.json"));
    std::fs::write(&ours_path, serde_json::to_string(ours)?)?;
    crate::python::run(
        std::process::Command::new(python)
            .arg(root.join("models/training").join(script))
            .arg("--ours")
            .arg(&ours_path)
            .arg("--data")
            .arg(data)
            .arg("--out")
            .arg(&scores_path),
    )?;
    Ok(serde_json::from_str(&std::fs::read_to_string(
        &scores_path,
    )?)?)
}

/// Only the beats section, printed (for working on the tracker).
pub fn beats_only() -> Result<()> {
    for (_, text) in beats::section(&repo_root(), &data_dir())? {
        print!("{text}");
    }
    Ok(())
}

/// Only the genre and mood sections, printed (their tables and calibration).
pub fn genre_only() -> Result<()> {
    let (root, data) = (repo_root(), data_dir());
    let (mut fills, networks, outputs) = genre::section(&root, &data)?;
    fills.extend(mood::section(&root, &data, &networks, &outputs)?);
    for (name, text) in fills {
        println!("{{{{{name}}}}}\n{text}");
    }
    Ok(())
}

/// Only the explanations' deletion test, printed.
pub fn explain_only() -> Result<()> {
    for (_, text) in explain::section(&repo_root(), &data_dir())? {
        print!("{text}");
    }
    Ok(())
}

/// Only the cost section, printed (every graph's time, the int8 checks, the live share).
pub fn cost_only() -> Result<()> {
    for (name, text) in cost::section(&repo_root(), &data_dir())? {
        println!("{{{{{name}}}}}\n{text}");
    }
    Ok(())
}

/// Only the key section, printed.
pub fn key_only() -> Result<()> {
    for (_, text) in key::section(&repo_root(), &data_dir())? {
        print!("{text}");
    }
    Ok(())
}

/// Only the library's evaluation (`library/REPORT.md`).
pub fn library_only() -> Result<()> {
    library::run(&repo_root(), &data_dir())
}

/// Only the chords' evaluation (`models/chords/REPORT.md`).
pub fn chords_only(dev: bool) -> Result<()> {
    chords::run_section(&repo_root(), dev)
}

/// Only the sections' evaluation (`models/sections/REPORT.md`).
pub fn sections_only(dev: bool) -> Result<()> {
    sections::run_section(&repo_root(), &data_dir(), dev)
}

/// Only CREPE's evaluation (`models/crepe/REPORT.md`).
pub fn melody_only() -> Result<()> {
    melody::run_section(&repo_root(), &data_dir())
}

/// Only basic-pitch's evaluation (`models/basic_pitch/REPORT.md`).
pub fn notes_only() -> Result<()> {
    notes::run_section(&repo_root(), &data_dir())
}

/// The sections' parameters tried on the development songs.
pub fn sections_sweep() -> Result<()> {
    sections::sweep(&repo_root())
}

/// 4Q clip id to artist.
pub fn four_q_artists(data: &std::path::Path) -> Result<std::collections::HashMap<String, String>> {
    library::four_q_artists(data)
}

/// Writes `models/REPORT.md` (genre, mood, beats, key, explanations and cost, every peer in the same run),
/// `library/REPORT.md`, `models/basic_pitch/REPORT.md`, `models/crepe/REPORT.md`,
/// `models/chords/REPORT.md` and `models/sections/REPORT.md`.
pub fn run() -> Result<()> {
    let root = repo_root();
    let data = data_dir();
    let (mut fills, networks, outputs) = genre::section(&root, &data)?;
    fills.extend(mood::section(&root, &data, &networks, &outputs)?);
    fills.extend(beats::section(&root, &data)?);
    fills.extend(key::section(&root, &data)?);
    fills.extend(explain::section(&root, &data)?);
    fills.extend(cost::section(&root, &data)?);
    let report = markdown::fill(TEMPLATE, &fills)?;
    let path = root.join("models/REPORT.md");
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("eval: wrote {}", path.display());
    library::run(&root, &data)?;
    notes::run_section(&root, &data)?;
    melody::run_section(&root, &data)?;
    chords::run_section(&root, false)?;
    sections::run_section(&root, &data, false)
}
