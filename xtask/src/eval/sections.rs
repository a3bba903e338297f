//! `models/sections/REPORT.md`: Mirador's sections on songs assembled from real recordings
//! in known patterns (`models/training/structure_songs.py`; the truth is known by
//! construction), next to MSAF's structural features, Foote novelty and spectral clustering
//! run on the same audio in the same eval, all scored with mir_eval
//! (`models/training/structure_score.py`); and on the one real annotated recording in
//! `../shared/data/structure`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use mirador_app::batch::analyze_file;
use mirador_dsp::clip::TableStyle;
use mirador_dsp::structure::letter;
use mirador_models::beats::BeatNet;
use mirador_models::clip::Models;

use super::markdown;
use crate::python::{run, venv_from_script};

const TEMPLATE: &str = include_str!("sections.md");
/// Songs made; their seeds are fixed, so the same songs every run.
const SONGS: usize = 24;

/// Mirador's two ways: on tracked beats (the default) and on fixed half-second columns.
const METHODS: [(&str, &str, bool); 2] = [
    ("beats", "Mirador (beats, downbeats)", true),
    ("fixed", "Mirador without beats (0.5 s columns)", false),
];

/// Writes the report; with `dev`, scores the development songs (other seeds, other source
/// recordings) and prints the table instead, so the report's songs stay unseen.
pub fn run_section(root: &Path, data: &Path, dev: bool) -> Result<()> {
    let python = venv_from_script("target/structure-venv", "models/training/structure_venv.sh")?;
    let (work, first_seed) = if dev {
        (root.join("target/sections-dev"), 5000)
    } else {
        (root.join("target/sections"), 1000)
    };
    let songs = work.join("songs");
    if !songs.join(format!("song_{:02}.lab", SONGS - 1)).exists() {
        eprintln!("eval: sections: assembling {SONGS} songs");
        run(std::process::Command::new(&python)
            .arg(root.join("models/training/structure_songs.py"))
            .arg(&songs)
            .arg(SONGS.to_string())
            .arg(first_seed.to_string())
            .env("MIRADOR_DATA", data))?;
    }
    let beatnet = Arc::new(BeatNet::load()?);
    let mut score = std::process::Command::new(&python);
    score
        .arg(root.join("models/training/structure_score.py"))
        .arg(&songs);
    for (name, label, beats) in METHODS {
        let out = work.join(format!("mirador-{name}"));
        std::fs::create_dir_all(&out)?;
        let models = Models {
            beats: beats.then(|| beatnet.clone()),
            ..Models::default()
        };
        for i in 0..SONGS {
            let wav = songs.join(format!("song_{i:02}.wav"));
            let a = analyze_file(&wav, TableStyle::Gtzan, &models).map_err(anyhow::Error::msg)?;
            std::fs::write(out.join(format!("song_{i:02}.lab")), lab(&a.clip.sections))?;
        }
        score.arg(format!("{label}={}", out.display()));
    }
    let result = json_of(&mut score)?;
    let table = table(&result)?;
    if dev {
        print!("{table}");
        return Ok(());
    }
    // The one real annotated recording: a smoke test, not a benchmark.
    let audio_path = data.join("structure/sargon_mindless_cut.mp3");
    let a = analyze_file(
        &audio_path,
        TableStyle::Gtzan,
        &Models {
            beats: Some(beatnet),
            ..Models::default()
        },
    )
    .map_err(anyhow::Error::msg)?;
    let lab_path = work.join("sargon.lab");
    std::fs::write(&lab_path, lab(&a.clip.sections))?;
    let real = json_of(
        std::process::Command::new(&python)
            .arg(root.join("models/training/structure_score.py"))
            .arg("--reference-jams")
            .arg(data.join("structure/sargon_mindless_cut.jams"))
            .arg(&audio_path)
            .arg(format!("{}={}", METHODS[0].1, lab_path.display())),
    )?;
    let fills = vec![
        ("sections_table", table),
        ("songs", result["songs"].to_string()),
        ("real_table", self::table(&real)?),
        (
            "real_sections",
            a.clip
                .sections
                .iter()
                .map(|s| {
                    format!(
                        "{} {:.1}-{:.1} s ({})",
                        letter(s.label),
                        s.start,
                        s.end,
                        s.role.name()
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    let report = markdown::fill(TEMPLATE, &fills)?;
    let path = root.join("models/sections/REPORT.md");
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("eval: wrote {}", path.display());
    Ok(())
}

/// Sections as `start end letter` lines.
fn lab(sections: &[mirador_dsp::structure::Section]) -> String {
    sections
        .iter()
        .map(|s| format!("{:.3}\t{:.3}\t{}\n", s.start, s.end, letter(s.label)))
        .collect()
}

fn json_of(command: &mut std::process::Command) -> Result<serde_json::Value> {
    let output = command.output().context("running structure_score.py")?;
    anyhow::ensure!(
        output.status.success(),
        "structure_score.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// One row per method, Mirador's first.
fn table(result: &serde_json::Value) -> Result<String> {
    let methods = result["methods"]
        .as_object()
        .context("structure_score.py gave no methods")?;
    let mut names: Vec<&String> = methods.keys().collect();
    names.sort_by_key(|n| (!n.starts_with("Mirador"), n.as_str()));
    let mut out = String::from(
        "| method | boundaries F @0.5 s | boundaries F @3 s | pairwise label F | NCE F |\n\
         |---|---:|---:|---:|---:|\n",
    );
    for name in names {
        let m = &methods[name];
        let get = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
        out += &format!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            get("hr_f_0.5"),
            get("hr_f_3"),
            get("pairwise_f"),
            get("nce_f")
        );
    }
    Ok(out)
}

/// `cargo xtask eval sections sweep`: every development song's units and beats computed
/// once, then segmented with each of a grid of parameters and scored (Mirador alone), best
/// first: what the shipped parameters were chosen with.
pub fn sweep(root: &Path) -> Result<()> {
    use mirador_dsp::clip::{feature_table_tapped, ClipTap};
    use mirador_dsp::structure::columns::{FrameView, Unit, Units};
    use mirador_dsp::{AnalyzerConfig, Frame};
    use mirador_models::beats::{summarize, BeatPipeline};
    use mirador_models::sections::{segment, SectionParams, FILE_UNIT_FRAMES, LIVE_UNIT_FRAMES};
    use mirador_models::Pipeline;

    struct Tap {
        units: Units,
        kept: Vec<Unit>,
        live_units: Units,
        live: Vec<Unit>,
        beats: BeatPipeline,
    }
    impl ClipTap for Tap {
        fn analysis(&mut self, samples: &[f32], position: u64) {
            self.beats.push(samples, position);
        }
        fn frame(&mut self, f: &Frame) {
            let view = FrameView::from(f);
            self.kept.extend(self.units.push(view));
            self.live.extend(self.live_units.push(view));
        }
    }

    let python = venv_from_script("target/structure-venv", "models/training/structure_venv.sh")?;
    let work = root.join("target/sections-dev");
    let songs = work.join("songs");
    anyhow::ensure!(
        songs.join(format!("song_{:02}.lab", SONGS - 1)).exists(),
        "run `cargo xtask eval sections dev` first: it makes the songs"
    );
    let beatnet = Arc::new(BeatNet::load()?);
    let (mut heard, mut live_heard) = (Vec::new(), Vec::new());
    for i in 0..SONGS {
        let mut file =
            mirador_app::decode::AudioFile::open(&songs.join(format!("song_{i:02}.wav")))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        use mirador_dsp::clip::Replay;
        let config = AnalyzerConfig::new(file.sample_rate(), file.channels());
        let mut tap = Tap {
            units: Units::new(FILE_UNIT_FRAMES),
            kept: Vec::new(),
            live_units: Units::new(LIVE_UNIT_FRAMES),
            live: Vec::new(),
            beats: BeatPipeline::for_clip(beatnet.clone()),
        };
        let table = feature_table_tapped(&mut file, &config, TableStyle::Gtzan, &mut tap)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tap.beats.finish();
        tap.kept.extend(tap.units.flush());
        let beats = summarize(&tap.beats.take_beats().collect::<Vec<_>>()).beats;
        let end = table.length as f64 / f64::from(config.analysis.sample_rate);
        heard.push((tap.kept, beats, end));
        live_heard.push((tap.live, end));
    }
    live_sweep(root, &python, &live_heard)?;
    let d = SectionParams::DEFAULT;
    let mut grid = Vec::new();
    for smooth_time in [8.0, 12.0, 16.0, 20.0] {
        for threshold_offset in [0.0, 0.05, 0.1] {
            for min_section in [4.0, 8.0] {
                for same_material in [0.25, 0.3] {
                    for snap_seconds in [0.0, 0.35] {
                        let mut p = d;
                        p.boundaries.smooth_time = smooth_time;
                        p.boundaries.threshold_offset = threshold_offset;
                        p.min_section = min_section;
                        p.same_material = same_material;
                        p.snap_seconds = snap_seconds;
                        grid.push(p);
                    }
                }
            }
        }
    }
    rank_grid(
        root,
        &python,
        "sweep",
        grid.len(),
        |k| {
            heard
                .iter()
                .map(|(units, beats, end)| lab(&segment(units, beats, *end, &grid[k])))
                .collect()
        },
        |s| (s.f_05 + s.f_3 + s.pairwise + s.nce) / 4.0,
        |k| {
            let p = &grid[k];
            let b = &p.boundaries;
            format!(
                "smooth {} offset {} min {} same {} snap {}",
                b.smooth_time, b.threshold_offset, p.min_section, p.same_material, p.snap_seconds
            )
        },
        &format!("mean | F@0.5 F@3 pairwise NCE | parameters (shipped: {d:?})"),
        25,
    )
}

/// The live novelty's parameters tried on the development songs' half-second columns.
fn live_sweep(
    root: &Path,
    python: &Path,
    heard: &[(Vec<mirador_dsp::structure::columns::Unit>, f64)],
) -> Result<()> {
    use mirador_dsp::structure::novelty::LiveNovelty;
    use mirador_models::sections::LIVE;
    let mut grid = Vec::new();
    for threshold in [1.0, 1.5, 2.0] {
        for floor in [0.1, 0.15, 0.2] {
            for min_gap in [12, 16, 24] {
                for same in [0.3, 0.5] {
                    let mut p = LIVE;
                    p.threshold = threshold;
                    p.floor = floor;
                    p.min_gap = min_gap;
                    p.same = same;
                    grid.push(p);
                }
            }
        }
    }
    rank_grid(
        root,
        python,
        "live-sweep",
        grid.len(),
        |k| {
            heard
                .iter()
                .map(|(units, end)| {
                    let mut live = LiveNovelty::new(grid[k]);
                    let mut starts = vec![(0.0, 0)];
                    for u in units {
                        if let Some(c) = live.push(&u.features, u.time, u.position) {
                            starts.push((c.time, c.label));
                        }
                    }
                    starts
                        .iter()
                        .enumerate()
                        .map(|(j, &(t, label))| {
                            let stop = starts.get(j + 1).map_or(*end, |n| n.0);
                            format!("{t:.3}\t{stop:.3}\t{}\n", letter(label))
                        })
                        .collect()
                })
                .collect()
        },
        |s| (s.f_3 + s.pairwise + s.nce) / 3.0,
        |k| {
            let p = &grid[k];
            format!(
                "threshold {} floor {} gap {} same {}",
                p.threshold, p.floor, p.min_gap, p.same
            )
        },
        &format!(
            "live: mean(F@3, pairwise, NCE) | F@0.5 F@3 pairwise NCE | parameters (shipped: {LIVE:?})"
        ),
        12,
    )
}

/// One grid point's scores on the development songs.
struct DevScores {
    f_05: f64,
    f_3: f64,
    pairwise: f64,
    nce: f64,
}

/// Writes each of `points` grid points' lab files (`labs(k)`: one per development song)
/// under `target/sections-dev/{dir}/k`, scores them all in one run of structure_score.py and
/// prints `header`, then the best `top` rows by `mean`, each with its scores and
/// `describe(k)`.
#[allow(clippy::too_many_arguments)]
fn rank_grid(
    root: &Path,
    python: &Path,
    dir: &str,
    points: usize,
    labs: impl Fn(usize) -> Vec<String>,
    mean: impl Fn(&DevScores) -> f64,
    describe: impl Fn(usize) -> String,
    header: &str,
    top: usize,
) -> Result<()> {
    let work = root.join("target/sections-dev");
    let mut score = std::process::Command::new(python);
    score
        .arg(root.join("models/training/structure_score.py"))
        .arg("--no-msaf")
        .arg(work.join("songs"));
    for k in 0..points {
        let out = work.join(format!("{dir}/{k}"));
        std::fs::create_dir_all(&out)?;
        for (i, text) in labs(k).iter().enumerate() {
            std::fs::write(out.join(format!("song_{i:02}.lab")), text)?;
        }
        score.arg(format!("{k}={}", out.display()));
    }
    let result = json_of(&mut score)?;
    let mut rows: Vec<(f64, String)> = (0..points)
        .map(|k| {
            let m = &result["methods"][k.to_string()];
            let get = |key: &str| m[key].as_f64().unwrap_or(0.0);
            let s = DevScores {
                f_05: get("hr_f_0.5"),
                f_3: get("hr_f_3"),
                pairwise: get("pairwise_f"),
                nce: get("nce_f"),
            };
            let mean = mean(&s);
            let row = format!(
                "{mean:.3} | {:.3} {:.3} {:.3} {:.3} | {}",
                s.f_05,
                s.f_3,
                s.pairwise,
                s.nce,
                describe(k)
            );
            (mean, row)
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("{header}");
    for (_, row) in rows.iter().take(top) {
        println!("{row}");
    }
    Ok(())
}
