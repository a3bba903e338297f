//! `cargo xtask eval`: runs the shipped Rust inference end to end (decode, `mirador-dsp`'s
//! features, the models) on labelled audio the models did not train on, and writes
//! `models/REPORT.md`.
//!
//! Held-out audio: GTZAN excerpts and originals whose clip ids are in the fault-filtered test
//! split (every genre model trains on train+valid only), Emotify clips of the genres GTZAN
//! shares (classical, pop, rock; Emotify is not in GTZAN at all), and the clips of the 4Q
//! artists held out from the mood heads and the distillation (`models/musicnn/mood_test.txt`),
//! for mood and, where their AllMusic genres map onto GTZAN's, for genre.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mirador_dsp::clip::Replay;
use mirador_dsp::clip::{FeatureTable, TableStyle};
use std::sync::Arc;

use mirador_app::batch::{self, GenreModel, Models};
use mirador_app::decode::AudioFile;
use mirador_dsp::AnalyzerConfig;
use mirador_engine::LiveModels;
use mirador_models::classic::{Classic, NAMES};
use mirador_models::tagger::{ClipPredictions, Network, Tagger, Variant};

use mirador_tests::data_dir;

use crate::python::repo_root;

struct Set {
    name: &'static str,
    clips: Vec<Clip>,
}

struct Clip {
    path: PathBuf,
    /// The genre its confusion-matrix row is under.
    genre: String,
    /// The GTZAN genres counted as right: the genre itself, or for a 4Q clip every GTZAN
    /// genre its AllMusic genres map onto.
    accepted: Vec<String>,
}

impl Clip {
    fn labelled(path: PathBuf, genre: String) -> Self {
        Self {
            path,
            accepted: vec![genre.clone()],
            genre,
        }
    }
}

/// The patch networks evaluated, in table order.
const NETWORKS: [Variant; 2] = [Variant::Cnn, Variant::Musicnn];

/// Only the beats section, printed (for working on the tracker).
pub fn beats_only() -> Result<()> {
    let root = repo_root();
    print!("{}", crate::beat_eval::section(&root, &data_dir())?);
    Ok(())
}

pub fn run() -> Result<()> {
    let root = repo_root();
    let data = data_dir();
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
        Set {
            name: "4Q held-out artists, AllMusic genre in GTZAN's (30 s)",
            clips: four_q_genre_clips(&root, &data)?,
        },
    ];
    let columns = FeatureTable::column_names();
    let models: Vec<Classic> = NAMES
        .iter()
        .map(|name| Classic::builtin(name, &columns))
        .collect::<Result<_, _>>()?;
    let classes = models[0].classes.clone();
    let networks: Vec<Models> = NETWORKS
        .iter()
        .map(|&v| {
            Ok(Models {
                genre: Some(GenreModel::Patches(Arc::new(Tagger::load(v)?))),
                beats: None,
            })
        })
        .collect::<Result<_>>()?;
    // Rows: the classic models, then the patch networks.
    let names: Vec<String> = NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(NETWORKS.iter().map(|v| v.name().to_string()))
        .collect();

    let mut report = String::from(
        "# Model evaluation\n\nWritten by `cargo xtask eval`: the shipped Rust inference (symphonia \
         decoding, `mirador-dsp`'s features, the models) on labelled audio the models did not \
         train on.\n\n## Genre\n\n",
    );
    let training = read_json(&root.join("models/classic/evaluation.json"))?;
    let mut header = String::from("| model | what |");
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

    // confusion[model][set][truth][predicted]; right[model][set]
    let mut confusion =
        vec![vec![vec![vec![0usize; classes.len()]; classes.len()]; sets.len()]; names.len()];
    let mut right = vec![vec![0usize; sets.len()]; names.len()];
    let mut predict_time = vec![std::time::Duration::ZERO; models.len()];
    let mut predictions = 0u32;
    let mut failures = Vec::new();
    // Per network, what it said of each clip, so the mood section does not run them again.
    let mut outputs = vec![HashMap::new(); networks.len()];
    let index = |genre: &str| {
        classes
            .iter()
            .position(|c| c == genre)
            .with_context(|| format!("unknown genre {genre}"))
    };
    for (s, set) in sets.iter().enumerate() {
        eprintln!("eval: {} ({} clips)", set.name, set.clips.len());
        let paths: Vec<PathBuf> = set.clips.iter().map(|c| c.path.clone()).collect();
        for (n, network) in networks.iter().enumerate() {
            let outcome = batch::run(&paths, TableStyle::Gtzan, network);
            if outcome.failures > 0 {
                failures.push(format!(
                    "{}: {} files failed to decode",
                    set.name, outcome.failures
                ));
            }
            for analysis in &outcome.analyses {
                let clip = set
                    .clips
                    .iter()
                    .find(|c| c.path == analysis.path)
                    .context("analysis of an unknown file")?;
                let t = index(&clip.genre)?;
                let mut score = |m: usize, predicted: usize| {
                    confusion[m][s][t][predicted] += 1;
                    right[m][s] += usize::from(clip.accepted.contains(&classes[predicted]));
                };
                // The feature table is the same in every network's run: score it once.
                if n == 0 {
                    let row = analysis.clip.table.values();
                    predictions += 1;
                    for (m, model) in models.iter().enumerate() {
                        let started = std::time::Instant::now();
                        let p = model.predict(&row);
                        predict_time[m] += started.elapsed();
                        score(m, argmax(&p));
                    }
                }
                let genre = analysis
                    .clip
                    .genre
                    .as_deref()
                    .context("the network's genre")?;
                let p: Vec<f64> = genre.iter().map(|(_, p)| *p).collect();
                score(models.len() + n, index(&genre[argmax(&p)].0)?);
                let output = analysis.clip.network_output.clone();
                outputs[n].insert(
                    analysis.path.clone(),
                    output.context("the network's output")?,
                );
            }
        }
    }
    let cell = |m: usize, s: usize| {
        let total = confusion[m][s].iter().flatten().sum();
        percent(right[m][s], total)
    };
    for (m, model) in models.iter().enumerate() {
        let _ = write!(report, "| {} | {} |", model.name, model.hyperparameters);
        for s in 0..sets.len() {
            let _ = write!(report, " {} |", cell(m, s));
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
    for (n, network) in NETWORKS.iter().enumerate() {
        let what = match network {
            Variant::Cnn => "Mirador's CNN distilled from musicnn, logistic head",
            Variant::Musicnn => "musicnn (MSD) embedding, logistic head",
        };
        let _ = write!(report, "| {} | {what} |", network.name());
        for s in 0..sets.len() {
            let _ = write!(report, " {} |", cell(models.len() + n, s));
        }
        report.push_str(" — | — | see cost table |\n");
    }
    report.push_str(
        "\nThe classic models read `mirador-dsp`'s feature table; the last three columns for them \
         come from `models/training/classic.py` on the published feature table (trained on \
         train+valid of the fault-filtered split; the 10-fold cross-validation mixes artists \
         across folds and flatters every model). The Rust models reproduce scikit-learn's and \
         XGBoost's probabilities to 1e-5 (`models/tests/classic_parity.rs`), so the Python peer \
         scores the same on the same features. cnn and musicnn average their heads' \
         probabilities over a clip's 3 s patches. Chance is 10 % on GTZAN and 33 % on the \
         Emotify subset (whose clips are predicted among all ten genres). The 4Q set: clips of \
         the artists no model saw (`models/musicnn/mood_test.txt`) whose AllMusic genres map \
         onto GTZAN's (Blues, Classical, Country, Jazz, Rap as hiphop, Reggae; Pop/Rock, which \
         AllMusic files metal under, as pop, rock or metal); a prediction of any genre the \
         clip maps onto is right. µs per clip: one prediction from a ready feature table, one \
         thread, this machine; computing the table itself takes about 300 ms per 30 s clip.\n",
    );
    report.push_str(
        "\nThe Python reference pipeline (musicnn's librosa front end, onnxruntime, the same \
         heads; `models/training/heads.py`) on the GTZAN test-split excerpts:",
    );
    for network in NETWORKS {
        let name = network.name();
        let heads = read_json(&root.join(format!("models/{name}/heads_evaluation.json")))?;
        let _ = write!(
            report,
            " {name} {:.1} %;",
            100.0
                * heads["genre"]["reference_test_accuracy"]
                    .as_f64()
                    .unwrap_or(f64::NAN)
        );
    }
    report.pop();
    report.push_str(".\n");
    for f in &failures {
        let _ = writeln!(report, "\n{f}");
    }

    for n in 0..NETWORKS.len() {
        let _ = writeln!(
            report,
            "\n### Confusion matrix: {} on {}\n\nRows: true genre; columns: predicted.\n",
            names[models.len() + n],
            sets[0].name
        );
        report.push_str(&confusion_table(&classes, &confusion[models.len() + n][0]));
    }
    report.push_str(&mood_section(&root, &data, &networks, &outputs)?);
    report.push_str(&crate::beat_eval::section(&root, &data)?);
    report.push_str(&cost_section(&root, &data)?);

    let path = root.join("models/REPORT.md");
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("eval: wrote {}", path.display());
    Ok(())
}

/// 4Q quadrant accuracy and F1, and the signs of valence and arousal, on the clips of the
/// artists the mood heads never saw (`models/musicnn/mood_test.txt`), for each network;
/// `known` holds each network's output for clips it has already been run on.
fn mood_section(
    root: &Path,
    data: &Path,
    networks: &[Models],
    known: &[HashMap<PathBuf, ClipPredictions>],
) -> Result<String> {
    const QUADRANTS: [&str; 4] = ["Q1", "Q2", "Q3", "Q4"];
    let clips: Vec<(PathBuf, usize)> = held_out_4q(root)?
        .iter()
        .filter_map(|l| {
            let q = QUADRANTS.iter().position(|q| l.starts_with(q))?;
            Some((data.join("4q").join(l), q))
        })
        .collect();
    eprintln!("eval: 4Q held-out artists ({} clips)", clips.len());
    let paths: Vec<PathBuf> = clips.iter().map(|(p, _)| p.clone()).collect();
    let mut rows = [
        String::from("| quadrant accuracy |"),
        String::from("| quadrant macro F1 |"),
        String::from("| valence sign (Q1, Q4 positive) |"),
        String::from("| arousal sign (Q1, Q2 high) |"),
        String::from(
            "| Python reference quadrant accuracy (librosa + onnxruntime, 3 patches per clip) |",
        ),
    ];
    let mut matrices = String::new();
    let mut header = String::from("| metric |");
    for (network, known) in networks.iter().zip(known) {
        let missing: Vec<PathBuf> = paths
            .iter()
            .filter(|p| !known.contains_key(*p))
            .cloned()
            .collect();
        let fresh = batch::run(&missing, TableStyle::Gtzan, network);
        let fresh: HashMap<&PathBuf, &ClipPredictions> = fresh
            .analyses
            .iter()
            .map(|a| {
                Ok((
                    &a.path,
                    a.clip
                        .network_output
                        .as_ref()
                        .context("the network's mood")?,
                ))
            })
            .collect::<Result<_>>()?;
        let mut matrix = vec![vec![0usize; 4]; 4];
        let (mut valence_right, mut arousal_right) = (0, 0);
        for (path, truth) in &clips {
            // A clip that failed to decode has no output, as in the genre sets.
            let Some(c) = known.get(path).or_else(|| fresh.get(path).copied()) else {
                continue;
            };
            let truth = *truth;
            let p: Vec<f64> = c.mood.iter().map(|(_, p)| *p).collect();
            matrix[truth][argmax(&p)] += 1;
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
        let name = network.genre.as_ref().map_or("", GenreModel::name);
        let reference = read_json(&root.join(format!("models/{name}/heads_evaluation.json")))?;
        let reference = reference["mood"]["reference_test_accuracy"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let _ = write!(header, " {name} (Rust, {total} clips) |");
        let _ = write!(rows[0], " {} |", percent(right, total));
        let _ = write!(rows[1], " {f1:.3} |");
        let _ = write!(rows[2], " {} |", percent(valence_right, total));
        let _ = write!(rows[3], " {} |", percent(arousal_right, total));
        let _ = write!(rows[4], " {:.1} % |", 100.0 * reference);
        let _ = writeln!(
            matrices,
            "\n{name}: rows true quadrant, columns predicted.\n"
        );
        let names: Vec<String> = QUADRANTS.iter().map(|q| q.to_string()).collect();
        matrices.push_str(&confusion_table(&names, &matrix));
    }
    let mut out = String::from(
        "\n## Mood: 4Q quadrants\n\nHeld-out artists' clips, Rust end to end (all 3 s patches of \
         each 30 s clip, probabilities averaged); each network has its own mood head.\n\n",
    );
    out.push_str(&header);
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(networks.len()));
    out.push('\n');
    for row in rows {
        out.push_str(&row);
        out.push('\n');
    }
    out.push_str(&matrices);
    Ok(out)
}

/// Each network's cost per run in tract (one thread) and in onnxruntime (one thread) on the
/// same golden input, measured in this run, and the live listeners' whole cost on real audio.
fn cost_section(root: &Path, data: &Path) -> Result<String> {
    let python = crate::python::venv("target/models-venv", "models/training/requirements.txt")?;
    let mut out = String::from(
        "\n## Cost\n\nOne thread each, this machine, this run, after a warm-up. Live, the patch \
         networks run once a second on the last 3 s; BeatNet runs on every 20 ms frame.\n\n\
         | model | runtime | ms per run | batch: % of one core per second of audio | live: % of one core |\n\
         |---|---|---:|---:|---:|\n",
    );
    let int8 = root.join(crate::models::INT8_CNN);
    let mut graphs = vec![
        (
            Variant::Cnn,
            "cnn".to_string(),
            root.join("models/cnn/cnn.onnx"),
        ),
        (
            Variant::Musicnn,
            "musicnn".to_string(),
            root.join("models/musicnn/msd_musicnn.onnx"),
        ),
    ];
    if int8.exists() {
        graphs.insert(1, (Variant::Cnn, "cnn int8 (not shipped)".into(), int8));
    }
    for (variant, name, onnx) in graphs {
        let ms = patch_cost(root, &python, variant, &onnx)?;
        // Batch: one patch per 3 s of audio; live: one a second.
        let what = format!("{name}, one 3 s patch (187 x 96)");
        cost_rows(&mut out, &what, ms, 1.0 / 3.0, 1.0, 2);
    }
    let ms = beatnet_cost(root, &python)?;
    cost_rows(&mut out, "BeatNet, one 20 ms frame", ms, 50.0, 50.0, 3);
    let clip = data.join("gtzan/full/blues.00000.flac");
    let (live_percent, seconds) = live_cost(&clip)?;
    let _ = writeln!(
        out,
        "\n**Live, all models together:** the listeners the plugin and the standalone app attach \
         (the distilled CNN with its heads, BeatNet with its tracker, and their `mirador-dsp` \
         front ends) cost {live_percent:.2} % of one core over {seconds:.0} s of \
         `gtzan/full/blues.00000` fed in 512-sample blocks at 22 050 Hz (one thread, CPU time \
         over audio time)."
    );
    Ok(out)
}

/// The cost table's rows for one graph, tract then onnxruntime (ms per run), run `batch` and
/// `live` times per second of audio; `digits` after the point for the ms.
fn cost_rows(
    out: &mut String,
    what: &str,
    (tract_ms, ort_ms): (f64, f64),
    batch: f64,
    live: f64,
    digits: usize,
) {
    for (runtime, ms) in [
        ("tract 0.23 (Mirador)", tract_ms),
        ("onnxruntime 1.31", ort_ms),
    ] {
        // ms per run x runs per second / 1000 ms, as a percentage.
        let _ = writeln!(
            out,
            "| {what} | {runtime} | {ms:.digits$} | {:.2} % | {:.2} % |",
            ms * batch / 10.0,
            ms * live / 10.0
        );
    }
}

/// Mean ms per 3 s patch of the graph `onnx` (`variant`'s interface) on the first golden
/// patch: tract, then onnxruntime.
fn patch_cost(root: &Path, python: &Path, variant: Variant, onnx: &Path) -> Result<(f64, f64)> {
    const RUNS: u32 = 20;
    let golden = root.join("models").join(variant.name()).join("golden.json");
    let patch: Vec<f32> = read_json(&golden)?["cases"][0]["mel"]
        .as_array()
        .context("golden mel")?
        .iter()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .map(|v| v.as_f64().unwrap_or(0.0) as f32)
        .collect();
    let model = Network::from_onnx(variant, &std::fs::read(onnx)?)?;
    model.run(&patch)?;
    let started = std::time::Instant::now();
    for _ in 0..RUNS {
        model.run(&patch)?;
    }
    let tract_ms = started.elapsed().as_secs_f64() * 1e3 / f64::from(RUNS);
    let ort_ms = onnxruntime_ms(
        python,
        onnx,
        &format!(
            "x=np.array(json.load(open('{}'))['cases'][0]['mel'],dtype=np.float32)[None]\n\
             s.run(None,{{'mel':x}})\n\
             t=time.perf_counter()\n\
             for _ in range({RUNS}): s.run(None,{{'mel':x}})\n\
             print((time.perf_counter()-t)*1e3/{RUNS})",
            golden.display(),
        ),
    )?;
    Ok((tract_ms, ort_ms))
}

/// The live listeners' CPU time as a share of the audio time they were fed: (percent, s).
fn live_cost(clip: &Path) -> Result<(f64, f64)> {
    let mut file = AudioFile::open(clip).with_context(|| format!("{}", clip.display()))?;
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut samples = Vec::new();
    file.play(&mut |block| samples.extend_from_slice(block))?;
    let models = LiveModels::load()?;
    let (mut audio, mut worker, _reader) =
        mirador_engine::build(&AnalyzerConfig::new(rate, channels))?;
    for listener in models.listeners(rate)? {
        worker = worker.with_listener(listener);
    }
    // The whole engine, audio stage and worker, as it runs live.
    let started = std::time::Instant::now();
    for chunk in samples.chunks(512 * channels) {
        audio.process_interleaved(chunk);
        worker.poll();
    }
    let cpu = started.elapsed().as_secs_f64();
    let seconds = samples.len() as f64 / channels as f64 / f64::from(rate);
    Ok((100.0 * cpu / seconds, seconds))
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
fn gtzan_clips(dir: &Path, ids: &HashSet<String>) -> Result<Vec<Clip>> {
    let mut clips = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if ids.contains(stem) {
            let genre = stem.split('.').next().unwrap_or_default().to_string();
            clips.push(Clip::labelled(path, genre));
        }
    }
    clips.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(clips)
}

/// Emotify's folders of the genres GTZAN also has.
fn emotify_clips(dir: &Path) -> Result<Vec<Clip>> {
    let mut clips = Vec::new();
    for genre in ["classical", "pop", "rock"] {
        let folder = dir.join(genre);
        for entry in
            std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?
        {
            clips.push(Clip::labelled(entry?.path(), genre.to_string()));
        }
    }
    clips.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(clips)
}

/// The GTZAN genres an AllMusic genre maps onto.
fn gtzan_genres(allmusic: &str) -> &'static [&'static str] {
    match allmusic {
        "Blues" => &["blues"],
        "Classical" => &["classical"],
        "Country" => &["country"],
        "Jazz" => &["jazz"],
        "Rap" => &["hiphop"],
        "Reggae" => &["reggae"],
        "Pop/Rock" => &["pop", "rock", "metal"],
        _ => &[],
    }
}

/// 4Q clips of the held-out artists whose AllMusic genres map onto GTZAN's; the row genre is
/// the first one listed that maps.
fn four_q_genre_clips(root: &Path, data: &Path) -> Result<Vec<Clip>> {
    let metadata = data.join("4q/panda_dataset_taffc_metadata.csv");
    let mut genres = std::collections::HashMap::new();
    let mut reader = csv::Reader::from_path(&metadata)
        .with_context(|| format!("reading {}", metadata.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .context(name.to_string())
    };
    let (song, listed) = (column("Song")?, column("GenresStr")?);
    for row in reader.records() {
        let row = row?;
        genres.insert(row[song].to_string(), row[listed].to_string());
    }
    let mut clips = Vec::new();
    for name in held_out_4q(root)? {
        let stem = Path::new(&name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let Some(listed) = genres.get(stem) else {
            continue;
        };
        let mapped: Vec<&str> = listed
            .split(';')
            .flat_map(|g| gtzan_genres(g.trim()).iter().copied())
            .collect();
        if let Some(first) = mapped.first() {
            clips.push(Clip {
                path: data.join("4q").join(&name),
                genre: first.to_string(),
                accepted: mapped.iter().map(|g| g.to_string()).collect(),
            });
        }
    }
    Ok(clips)
}

/// `Q1/MT0000....ogg` names of the 4Q clips whose artists no model trained on.
fn held_out_4q(root: &Path) -> Result<Vec<String>> {
    let list = root.join("models/musicnn/mood_test.txt");
    let names =
        std::fs::read_to_string(&list).with_context(|| format!("reading {}", list.display()))?;
    Ok(names
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

fn argmax(p: &[f64]) -> usize {
    (0..p.len())
        .max_by(|&i, &j| p[i].total_cmp(&p[j]))
        .unwrap_or(0)
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
