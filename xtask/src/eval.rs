//! `cargo xtask eval`: runs the shipped Rust inference end to end (decode, `mirador-dsp`'s
//! feature table, the models) on labelled audio the models did not train on, and writes
//! `models/REPORT.md`.
//!
//! Held-out audio: GTZAN excerpts and originals whose clip ids are in the fault-filtered test
//! split (the classic models train on train+valid only), and Emotify clips of the genres GTZAN
//! shares (classical, pop, rock; Emotify is not in GTZAN at all).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mirador_dsp::clip::{FeatureTable, TableStyle};
use mirador_models::classic::{Classic, NAMES};
use mirador_models::musicnn::ClipModel;
use mirador_standalone::batch::{self, GenreModel};

use crate::python::repo_root;

struct Set {
    name: &'static str,
    /// (file, true genre)
    clips: Vec<(PathBuf, String)>,
}

fn data_dir(root: &Path) -> PathBuf {
    std::env::var_os("MIRADOR_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data"))
}

/// Only the beats section, printed (for working on the tracker).
pub fn beats_only() -> Result<()> {
    let root = repo_root();
    print!("{}", crate::beat_eval::section(&root, &data_dir(&root))?);
    Ok(())
}

pub fn run() -> Result<()> {
    let root = repo_root();
    let data = data_dir(&root);
    let test_ids = read_ids(&data.join("gtzan/splits/fault_filtered_test.txt"))?;
    let sets = [
        Set {
            name: "GTZAN test-split excerpts (2-3 s)",
            clips: gtzan_clips(&data.join("gtzan/excerpts"), &test_ids)?,
        },
        Set {
            name: "GTZAN test-split originals (30 s)",
            clips: gtzan_clips(&data.join("gtzan/full"), &test_ids)?,
        },
        Set {
            name: "Emotify classical/pop/rock (30 s)",
            clips: emotify_clips(&data.join("emotify"))?,
        },
    ];
    let columns = FeatureTable::column_names();
    let models: Vec<Classic> = NAMES
        .iter()
        .map(|name| Classic::builtin(name, &columns))
        .collect::<Result<_, _>>()?;
    let classes = models[0].classes.clone();
    let cnn = GenreModel::Cnn(Box::new(ClipModel::load()?));
    // Rows: the classic models, then the CNN.
    let names: Vec<String> = NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(["cnn".into()])
        .collect();

    let mut report = String::from(
        "# Model evaluation\n\nWritten by `cargo xtask eval`: the shipped Rust inference (symphonia \
         decoding, `mirador-dsp`'s feature table in GTZAN style, the models) on labelled audio \
         the models did not train on.\n\n## Genre: the classic feature-table models\n\n",
    );
    let training = read_json(&root.join("models/classic/evaluation.json"))?;
    let mut header = String::from("| model | hyperparameters |");
    let mut rule = String::from("|---|---|");
    for set in &sets {
        let _ = write!(header, " {} ({} clips) |", set.name, set.clips.len());
        rule.push_str("---|");
    }
    header.push_str(
        " features_30_sec.csv test split, 290 clips | 10-fold CV, 1000 clips | µs per clip |\n",
    );
    rule.push_str("---|---|---:|\n");
    report.push_str(&header);
    report.push_str(&rule);

    // confusion[model][set][truth][predicted]
    let mut confusion =
        vec![vec![vec![vec![0usize; classes.len()]; classes.len()]; sets.len()]; names.len()];
    let mut predict_time = vec![std::time::Duration::ZERO; models.len()];
    let mut predictions = 0u32;
    let mut failures = Vec::new();
    for (s, set) in sets.iter().enumerate() {
        eprintln!("eval: {} ({} clips)", set.name, set.clips.len());
        let paths: Vec<PathBuf> = set.clips.iter().map(|(p, _)| p.clone()).collect();
        let outcome = batch::run(&paths, TableStyle::Gtzan, Some(&cnn), None);
        if outcome.failures > 0 {
            failures.push(format!(
                "{}: {} files failed to decode",
                set.name, outcome.failures
            ));
        }
        for analysis in &outcome.analyses {
            let truth = &set
                .clips
                .iter()
                .find(|(p, _)| *p == analysis.path)
                .context("analysis of an unknown file")?
                .1;
            let t = classes
                .iter()
                .position(|c| c == truth)
                .context("unknown genre")?;
            let row = analysis.table.values();
            predictions += 1;
            for (m, model) in models.iter().enumerate() {
                let started = std::time::Instant::now();
                let p = model.predict(&row);
                predict_time[m] += started.elapsed();
                let best = (0..p.len())
                    .max_by(|&i, &j| p[i].total_cmp(&p[j]))
                    .unwrap_or(0);
                confusion[m][s][t][best] += 1;
            }
            let genre = analysis.genre.as_deref().context("the CNN's genre")?;
            let label = &genre
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .context("the CNN's genre")?
                .0;
            let best = classes
                .iter()
                .position(|c| c == label)
                .context("a CNN genre the classic models lack")?;
            confusion[models.len()][s][t][best] += 1;
        }
    }
    for (m, model) in models.iter().enumerate() {
        let _ = write!(report, "| {} | {} |", model.name, model.hyperparameters);
        for matrix in &confusion[m] {
            let (right, total) = accuracy(matrix);
            let _ = write!(report, " {} |", percent(right, total));
        }
        let t = &training[model.name.as_str()];
        let _ = writeln!(
            report,
            " {:.1} % | {:.1} ± {:.1} % | {:.0} |",
            100.0 * t["test_accuracy"].as_f64().unwrap_or(f64::NAN),
            100.0 * t["cv10_mean"].as_f64().unwrap_or(f64::NAN),
            100.0 * t["cv10_std"].as_f64().unwrap_or(f64::NAN),
            predict_time[m].as_secs_f64() * 1e6 / f64::from(predictions.max(1)),
        );
    }
    let _ = write!(report, "| cnn | musicnn (MSD) embedding + logistic head |");
    for matrix in &confusion[models.len()] {
        let (right, total) = accuracy(matrix);
        let _ = write!(report, " {} |", percent(right, total));
    }
    report.push_str(" — | — | see cost table |\n");
    report.push_str(
        "\nThe last two columns come from `models/training/classic.py` on the published \
         feature table (trained on train+valid of the fault-filtered split; the 10-fold \
         cross-validation mixes artists across folds and flatters every model). The Rust \
         models reproduce scikit-learn's and XGBoost's probabilities to 1e-5 \
         (`models/tests/classic_parity.rs`), so the Python peer scores the same on the same \
         features. Chance is 10 % on GTZAN and 33 % on the Emotify subset (whose clips are \
         predicted among all ten genres). µs per clip: one prediction from a ready feature \
         table, one thread, this machine; computing the table itself takes about 300 ms per \
         30 s clip.\n",
    );
    for f in &failures {
        let _ = writeln!(report, "\n{f}");
    }

    let best = (0..names.len())
        .max_by_key(|&m| accuracy(&confusion[m][0]).0)
        .unwrap_or(0);
    let _ = writeln!(
        report,
        "\n### Confusion matrix: {} on {}\n\nRows: true genre; columns: predicted.\n",
        names[best], sets[0].name
    );
    report.push_str(&confusion_table(&classes, &confusion[best][0]));
    report.push_str(&mood_section(&root, &data, &cnn)?);
    report.push_str(&crate::beat_eval::section(&root, &data)?);
    report.push_str(&cost_section(&root)?);

    let path = root.join("models/REPORT.md");
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("eval: wrote {}", path.display());
    Ok(())
}

/// 4Q quadrant accuracy and F1, and the signs of valence and arousal, on the clips of the
/// artists the mood head never saw (`models/musicnn/mood_test.txt`).
fn mood_section(root: &Path, data: &Path, cnn: &GenreModel) -> Result<String> {
    const QUADRANTS: [&str; 4] = ["Q1", "Q2", "Q3", "Q4"];
    let list = root.join("models/musicnn/mood_test.txt");
    let names =
        std::fs::read_to_string(&list).with_context(|| format!("reading {}", list.display()))?;
    let clips: Vec<(PathBuf, usize)> = names
        .lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let q = QUADRANTS.iter().position(|q| l.starts_with(q))?;
            Some((data.join("4q").join(l), q))
        })
        .collect();
    eprintln!("eval: 4Q held-out artists ({} clips)", clips.len());
    let paths: Vec<PathBuf> = clips.iter().map(|(p, _)| p.clone()).collect();
    let outcome = batch::run(&paths, TableStyle::Gtzan, Some(cnn), None);
    let mut matrix = vec![vec![0usize; 4]; 4];
    let (mut valence_right, mut arousal_right) = (0, 0);
    for analysis in &outcome.analyses {
        let truth = clips
            .iter()
            .find(|(p, _)| *p == analysis.path)
            .context("analysis of an unknown file")?
            .1;
        let c = analysis.cnn.as_ref().context("the CNN's mood")?;
        let best = (0..c.mood.len())
            .max_by(|&i, &j| c.mood[i].1.total_cmp(&c.mood[j].1))
            .unwrap_or(0);
        matrix[truth][best] += 1;
        // Q1 and Q4 are positive valence; Q1 and Q2 high arousal.
        valence_right += usize::from((c.valence > 0.0) == (truth == 0 || truth == 3));
        arousal_right += usize::from((c.arousal > 0.0) == (truth == 0 || truth == 1));
    }
    let (right, total) = accuracy(&matrix);
    let f1: f64 = (0..4)
        .map(|q| {
            let tp = matrix[q][q] as f64;
            let predicted: usize = (0..4).map(|t| matrix[t][q]).sum();
            let actual: usize = matrix[q].iter().sum();
            if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (predicted + actual) as f64
            }
        })
        .sum::<f64>()
        / 4.0;
    let reference = read_json(&root.join("models/musicnn/heads_evaluation.json"))?;
    let reference = reference["mood"]["reference_test_accuracy"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let mut out = format!(
        "\n## Mood: 4Q quadrants from musicnn's embedding\n\nHeld-out artists' clips ({total}), \
         Rust end to end (all 3 s patches of each 30 s clip, probabilities averaged):\n\n\
         | metric | Mirador (Rust) | Python reference (librosa + onnxruntime, 3 patches per clip) |\n\
         |---|---|---|\n\
         | quadrant accuracy | {} | {:.1} % |\n\
         | quadrant macro F1 | {f1:.3} | — |\n\
         | valence sign (Q1, Q4 positive) | {} | — |\n\
         | arousal sign (Q1, Q2 high) | {} | — |\n\n\
         Rows: true quadrant; columns: predicted.\n\n",
        percent(right, total),
        100.0 * reference,
        percent(valence_right, total),
        percent(arousal_right, total),
    );
    let names: Vec<String> = QUADRANTS.iter().map(|q| q.to_string()).collect();
    out.push_str(&confusion_table(&names, &matrix));
    Ok(out)
}

/// musicnn's cost per 3 s patch in tract (one thread) and in onnxruntime (one thread) on the
/// same golden patch, measured in this run.
fn cost_section(root: &Path) -> Result<String> {
    const RUNS: u32 = 20;
    let golden = read_json(&root.join("models/musicnn/golden.json"))?;
    let patch: Vec<f32> = golden["cases"][0]["mel"]
        .as_array()
        .context("golden mel")?
        .iter()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .map(|v| v.as_f64().unwrap_or(0.0) as f32)
        .collect();
    let model = mirador_models::musicnn::Musicnn::load()?;
    model.run(&patch)?;
    let started = std::time::Instant::now();
    for _ in 0..RUNS {
        model.run(&patch)?;
    }
    let tract_ms = started.elapsed().as_secs_f64() * 1e3 / f64::from(RUNS);
    let python = crate::python::venv("target/models-venv", "models/training/requirements.txt")?;
    let ort_ms = onnxruntime_ms(
        &python,
        &root.join("models/musicnn/msd_musicnn.onnx"),
        &format!(
            "x=np.array(json.load(open('{golden}'))['cases'][0]['mel'],dtype=np.float32)[None]\n\
             s.run(None,{{'mel':x}})\n\
             t=time.perf_counter()\n\
             for _ in range({RUNS}): s.run(None,{{'mel':x}})\n\
             print((time.perf_counter()-t)*1e3/{RUNS})",
            golden = root.join("models/musicnn/golden.json").display(),
        ),
    )?;
    let (beat_tract_ms, beat_ort_ms) = beatnet_cost(root, &python)?;
    Ok(format!(
        "\n## Cost\n\nOne thread each, this machine, this run, after a warm-up.\n\n\
         | model | runtime | ms per run | batch: % of one core per second of audio | live: % of one core |\n\
         |---|---|---:|---:|---:|\n\
         | musicnn, one 3 s patch (187 x 96) | tract 0.23 (Mirador) | {tract_ms:.1} | {:.1} % | {:.1} % (a patch a second) |\n\
         | musicnn | onnxruntime 1.31 | {ort_ms:.1} | {:.1} % | {:.1} % |\n\
         | BeatNet, one 20 ms frame | tract 0.23 (Mirador) | {beat_tract_ms:.3} | {:.2} % | {:.2} % (50 frames a second) |\n\
         | BeatNet | onnxruntime 1.31 | {beat_ort_ms:.3} | {:.2} % | {:.2} % |\n",
        tract_ms / 30.0,
        tract_ms / 10.0,
        ort_ms / 30.0,
        ort_ms / 10.0,
        beat_tract_ms * 5.0,
        beat_tract_ms * 5.0,
        beat_ort_ms * 5.0,
        beat_ort_ms * 5.0,
    ))
}

/// BeatNet's one-step graph over the golden clip's frames, state carried, in tract and in
/// onnxruntime: mean ms per frame.
fn beatnet_cost(root: &Path, python: &Path) -> Result<(f64, f64)> {
    let golden = read_json(&root.join("models/beatnet/golden.json"))?;
    let frames: Vec<Vec<f32>> = golden["features"]
        .as_array()
        .context("golden features")?
        .iter()
        .map(|row| {
            row.as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_f64().unwrap_or(0.0) as f32)
                .collect()
        })
        .collect();
    let net = mirador_models::beats::BeatNet::load()?;
    let mut state = mirador_models::beats::StreamState::default();
    net.step(&frames[0], &mut state)?;
    let started = std::time::Instant::now();
    for frame in &frames {
        net.step(frame, &mut state)?;
    }
    let tract_ms = started.elapsed().as_secs_f64() * 1e3 / frames.len() as f64;
    let ort_ms = onnxruntime_ms(
        python,
        &root.join("models/beatnet/beatnet.onnx"),
        &format!(
            "f=np.array(json.load(open('{golden}'))['features'],dtype=np.float32)\n\
             h=np.zeros((2,1,150),np.float32);c=h.copy()\n\
             s.run(None,{{'features':f[:1],'h':h,'c':c}})\n\
             t=time.perf_counter()\n\
             for x in f: p,h,c=s.run(None,{{'features':x[None],'h':h,'c':c}})\n\
             print((time.perf_counter()-t)*1e3/len(f))",
            golden = root.join("models/beatnet/golden.json").display(),
        ),
    )?;
    Ok((tract_ms, ort_ms))
}

/// Runs `timing`, Python that finds `onnx` open in a one-thread onnxruntime session `s` and
/// prints milliseconds per run; NaN when it prints nothing usable.
fn onnxruntime_ms(python: &Path, onnx: &Path, timing: &str) -> Result<f64> {
    let script = format!(
        "import json,time,numpy as np,onnxruntime as ort\n\
         o=ort.SessionOptions();o.intra_op_num_threads=1;o.inter_op_num_threads=1\n\
         s=ort.InferenceSession('{}',o)\n{timing}",
        onnx.display()
    );
    let out = std::process::Command::new(python)
        .args(["-c", &script])
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(f64::NAN))
}

fn read_ids(path: &Path) -> Result<HashSet<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// Files named `genre.000NN.*` whose id is in `ids`, with the genre from the name.
fn gtzan_clips(dir: &Path, ids: &HashSet<String>) -> Result<Vec<(PathBuf, String)>> {
    let mut clips = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if ids.contains(stem) {
            let genre = stem.split('.').next().unwrap_or_default().to_string();
            clips.push((path, genre));
        }
    }
    clips.sort();
    Ok(clips)
}

/// Emotify's folders of the genres GTZAN also has.
fn emotify_clips(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut clips = Vec::new();
    for genre in ["classical", "pop", "rock"] {
        let folder = dir.join(genre);
        for entry in
            std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?
        {
            clips.push((entry?.path(), genre.to_string()));
        }
    }
    clips.sort();
    Ok(clips)
}

fn accuracy(matrix: &[Vec<usize>]) -> (usize, usize) {
    let right = (0..matrix.len()).map(|i| matrix[i][i]).sum();
    let total = matrix.iter().flatten().sum();
    (right, total)
}

fn percent(right: usize, total: usize) -> String {
    if total == 0 {
        "—".into()
    } else {
        format!("{:.1} %", 100.0 * right as f64 / total as f64)
    }
}

fn confusion_table(classes: &[String], matrix: &[Vec<usize>]) -> String {
    let mut out = String::from("| |");
    for c in classes {
        let _ = write!(out, " {c} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(classes.len()));
    out.push('\n');
    for (c, row) in classes.iter().zip(matrix) {
        let _ = write!(out, "| {c} |");
        for n in row {
            let _ = write!(out, " {n} |");
        }
        out.push('\n');
    }
    out
}
