//! `models/chords/REPORT.md`: Mirador's chords (frame by frame, and beat by beat) on songs
//! whose chords are known by construction (`models/training/chord_songs.py`, rendered with
//! real General MIDI instrument samples), scored with mir_eval next to a plain
//! template-matching peer (librosa's CQT chroma, no smoothing) run in the same eval
//! (`models/training/chord_score.py`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use mirador_app::batch::analyze_file;
use mirador_dsp::clip::TableStyle;
use mirador_models::beats::BeatNet;
use mirador_models::clip::Models;

use super::markdown;
use crate::python::{beatnet_python, run};

const TEMPLATE: &str = include_str!("chords.md");
/// Songs made; their seeds are fixed, so the same songs every run.
const SONGS: usize = 24;
/// Debian's `fluid-soundfont-gm` (with `fluidsynth`; not needed to build or test).
const SOUNDFONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

/// Writes the report; with `dev`, scores the songs choices are tried on (other seeds) and
/// prints the table instead, so the report's songs stay unseen.
pub fn run_section(root: &Path, dev: bool) -> Result<()> {
    let python = beatnet_python()?;
    let (work, first_seed) = if dev {
        (root.join("target/chords-dev"), 5000)
    } else {
        (root.join("target/chords"), 1000)
    };
    let songs = work.join("songs");
    if !songs.join(format!("song_{:02}.lab", SONGS - 1)).exists() {
        anyhow::ensure!(
            Path::new(SOUNDFONT).exists(),
            "the chord songs are rendered with FluidSynth and {SOUNDFONT}: \
             apt-get install fluidsynth fluid-soundfont-gm"
        );
        eprintln!("eval: chords: rendering {SONGS} songs (FluidSynth)");
        run(std::process::Command::new(&python)
            .arg(root.join("models/training/chord_songs.py"))
            .arg(&songs)
            .arg(SONGS.to_string())
            .arg(first_seed.to_string()))?;
    }
    let beats = Some(Arc::new(BeatNet::load()?));
    let mut methods = Vec::new();
    let mut seconds = (0.0, 0.0);
    for (name, beat_chords) in [("frames", false), ("beats", true)] {
        let out = work.join(format!("mirador-{name}"));
        std::fs::create_dir_all(&out)?;
        let models = Models {
            genre: None,
            beats: beats.clone(),
            beat_chords,
            ..Models::default()
        };
        for i in 0..SONGS {
            let wav = songs.join(format!("song_{i:02}.wav"));
            let started = Instant::now();
            let a = analyze_file(&wav, TableStyle::Gtzan, &models).map_err(anyhow::Error::msg)?;
            if !beat_chords {
                seconds.0 += started.elapsed().as_secs_f64();
                seconds.1 += a.frames as f64 / f64::from(a.info.sample_rate);
            }
            let lab: String = a
                .clip
                .chords
                .iter()
                .map(|c| format!("{:.3}\t{:.3}\t{}\n", c.start, c.end, c.chord.name()))
                .collect();
            std::fs::write(out.join(format!("song_{i:02}.lab")), lab)?;
        }
        methods.push((name, out));
    }
    let mut score = std::process::Command::new(&python);
    score
        .arg(root.join("models/training/chord_score.py"))
        .arg(&songs);
    let labels = [
        ("frames", "Mirador, frame by frame (default)"),
        ("beats", "Mirador, beat by beat (--beat-chords)"),
    ];
    for (name, dir) in &methods {
        let label = labels.iter().find(|l| l.0 == *name).map_or(*name, |l| l.1);
        score.arg(format!("{label}={}", dir.display()));
    }
    let output = score.output().context("running chord_score.py")?;
    anyhow::ensure!(
        output.status.success(),
        "chord_score.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let mut table = String::from("| method | root | majmin | sevenths |\n|---|---:|---:|---:|\n");
    let order = [labels[0].1, labels[1].1, "template matching (librosa)"];
    for name in order {
        let m = &result["methods"][name];
        let get = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
        table += &format!(
            "| {name} | {:.3} | {:.3} | {:.3} |\n",
            get("root"),
            get("majmin"),
            get("sevenths")
        );
    }
    let fills = vec![
        ("chord_table", table),
        ("songs", result["songs"].to_string()),
        (
            "analyze_speed",
            format!("{:.0}", seconds.1 / seconds.0.max(1e-9)),
        ),
    ];
    if dev {
        print!("{}", fills[0].1);
        return Ok(());
    }
    let report = markdown::fill(TEMPLATE, &fills)?;
    let path: PathBuf = root.join("models/chords/REPORT.md");
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("eval: wrote {}", path.display());
    Ok(())
}
