//! The cost section: every graph in tract and onnxruntime, and the live models together.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mirador_dsp::clip::{Replay, Samples};

use mirador_app::decode::AudioFile;
use mirador_dsp::AnalyzerConfig;
use mirador_engine::listeners::tagger::{CNN_EVERY, MUSICNN_EVERY};
use mirador_engine::LiveModels;
use mirador_models::tagger::saliency::frame_seconds;
use mirador_models::tagger::{Network, PatchPipeline, Tagger, Variant};

use super::sets::*;
use super::Fills;

/// Each network's cost per run in tract (one thread) and in onnxruntime (one thread) on the
/// same golden input, measured in this run, and the live listeners' whole cost on real audio.
pub(super) fn section(root: &Path, data: &Path) -> Result<Fills> {
    let python = crate::python::venv("target/models-venv", "models/training/requirements.txt")?;
    let mut out = String::from(
        "| model | runtime | ms per run | batch: % of one core per second of audio | live: % of one core |\n\
         |---|---|---:|---:|---:|\n",
    );
    let mut int8 = String::from(
        "| graph | tract ms per patch | tract time vs fp32 | onnxruntime ms per patch | \
         genre head agrees with fp32 | mood head agrees | genre / mood accuracy, fp32 → int8 | \
         least embedding cosine | ships |\n\
         |---|---:|---:|---:|---:|---:|---|---:|---|\n",
    );
    // Batch: one patch per 3 s of audio; live: the CNN's one a second, musicnn's one per 5 s.
    for (variant, name, graphs, live_hop) in [
        (Variant::Cnn, "cnn", &["cnn"][..], CNN_EVERY),
        (
            Variant::Musicnn,
            "musicnn (MSD and MTT)",
            &["msd_musicnn", "mtt_musicnn"][..],
            MUSICNN_EVERY,
        ),
    ] {
        let (cost, checks) = network_costs(root, &python, variant, name, graphs, live_hop)?;
        out.push_str(&cost);
        int8.push_str(&checks);
    }
    let ms = beatnet_cost(root, &python)?;
    cost_rows(&mut out, "BeatNet, one 20 ms frame", ms, 50.0, 50.0, 3);
    let clip = data.join("gtzan/full/blues.00000.flac");
    let (live_percent, seconds) = live_cost(&clip, false)?;
    Ok(vec![
        ("cost_table", out),
        ("int8_table", int8),
        ("live_percent", format!("{live_percent:.2}")),
        ("live_seconds", format!("{seconds:.0}")),
    ])
}

/// One patch network's rows: its fp32 graphs and `quantize.py`'s int8 variants of them for the
/// cost table, and each variant against fp32 for the int8 table. A variant ships if it is
/// faster in tract, its heads agree with fp32's on 98 % of held-out clips and no metric of the
/// whole eval, run with it in place, falls by more than a point; that last check is not made
/// here (the report's text gives it), so which variant ships is `models::shipped_int8`.
fn network_costs(
    root: &Path,
    python: &Path,
    variant: Variant,
    name: &str,
    graphs: &[&str],
    live_hop: usize,
) -> Result<(String, String)> {
    let dir = root.join("models").join(variant.name());
    let int8_dir = root.join(crate::models::INT8_DIR);
    // The fp32 graphs (None), then each int8 variant quantize.py wrote.
    let mut sets = vec![(
        None,
        graphs
            .iter()
            .map(|g| dir.join(format!("{g}.onnx")))
            .collect::<Vec<_>>(),
    )];
    for (key, what) in crate::models::INT8_VARIANTS {
        let paths: Vec<_> = graphs
            .iter()
            .map(|g| int8_dir.join(format!("{g}.int8-{key}.onnx")))
            .collect();
        if paths.iter().all(|p| p.exists()) {
            sets.push((Some((key, what)), paths));
        }
    }
    let graph_sets: Vec<_> = sets.iter().map(|(_, paths)| paths.as_slice()).collect();
    let costs = patch_costs(root, python, variant, &graph_sets)?;
    let checks = read_json(&dir.join("quantization.json"))?;
    let (mut out, mut int8) = (String::new(), String::new());
    let live_seconds = live_hop as f64 * frame_seconds();
    let fp32 = costs[0];
    let shipped = crate::models::shipped_int8(variant);
    for ((int8_variant, _), &ms) in sets.iter().zip(&costs) {
        let label = match (int8_variant, shipped) {
            (None, None) => name.to_owned(),
            (None, Some(_)) => format!("{name} fp32 (not shipped)"),
            (Some((key, what)), _) if shipped == Some(*key) => {
                format!("{name} int8, {what} (shipped)")
            }
            (Some((_, what)), _) => format!("{name} int8, {what} (not shipped)"),
        };
        let label = format!("{label}, one 3 s patch (187 x 96)");
        cost_rows(&mut out, &label, ms, 1.0 / 3.0, 1.0 / live_seconds, 2);
        let Some((key, what)) = int8_variant else {
            let verdict = if shipped.is_some() {
                "no: its int8 graphs ship"
            } else {
                "yes"
            };
            let _ = writeln!(
                int8,
                "| {name} fp32 | {:.2} | 1.00 | {:.2} | — | — | — | — | {verdict} |",
                ms.0, ms.1
            );
            continue;
        };
        let check = &checks[key];
        let share = |key: &str| check[key].as_f64().unwrap_or(f64::NAN) * 100.0;
        let faster = ms.0 < fp32.0;
        let accurate = check["accurate_enough_to_ship"].as_bool() == Some(true);
        let _ = writeln!(
            int8,
            "| {name} int8, {what} | {:.2} | {:.2} | {:.2} | {:.1} % | {:.1} % | \
             {:.1} → {:.1} % / {:.1} → {:.1} % | {:.3} | {} |",
            ms.0,
            ms.0 / fp32.0,
            ms.1,
            share("genre_head_agreement"),
            share("mood_head_agreement"),
            share("genre_accuracy_fp32"),
            share("genre_accuracy_int8"),
            share("mood_accuracy_fp32"),
            share("mood_accuracy_int8"),
            check["embedding_cosine_min"].as_f64().unwrap_or(f64::NAN),
            match (faster, accurate) {
                (true, true) if shipped == Some(*key) => "yes",
                (true, true) => "faster and within 98 %; not shipped (text above)",
                (false, true) => "no: slower in tract",
                (true, false) => "no: below 98 % agreement",
                (false, false) => "no: slower and below 98 %",
            }
        );
    }
    Ok((out, int8))
}

/// The cost table's rows for one graph, tract then onnxruntime (ms per run), run `batch` and
/// `live` times per second of audio; `digits` after the point for the ms.
pub(super) fn cost_rows(
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

/// Median ms per 3 s patch of each set of graphs in `graph_sets` (`variant`'s interface, all
/// of a set run on each patch) on the first golden patch, tract then onnxruntime. tract runs
/// the sets in turn, round after round (at least 20 rounds and a second of the first set), so
/// that the machine's slower moments fall on all of them alike; the median, as its stalls
/// land in a few runs and would move a mean by tens of percent.
fn patch_costs(
    root: &Path,
    python: &Path,
    variant: Variant,
    graph_sets: &[&[PathBuf]],
) -> Result<Vec<(f64, f64)>> {
    let golden = root.join("models").join(variant.name()).join("golden.json");
    let patch: Vec<f32> = read_json(&golden)?["cases"][0]["mel"]
        .as_array()
        .context("golden mel")?
        .iter()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .map(|v| v.as_f64().unwrap_or(0.0) as f32)
        .collect();
    let mut models = Vec::new();
    for graphs in graph_sets {
        let bytes = graphs
            .iter()
            .map(std::fs::read)
            .collect::<Result<Vec<_>, _>>()?;
        let model = Network::from_onnx(
            variant,
            &bytes.iter().map(Vec::as_slice).collect::<Vec<_>>(),
        )?;
        model.run(&patch)?;
        models.push(model);
    }
    let mut times = vec![Vec::new(); models.len()];
    while times[0].len() < 20 || times[0].iter().sum::<f64>() < 1e3 {
        for (model, times) in models.iter().zip(&mut times) {
            let started = std::time::Instant::now();
            model.run(&patch)?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mut costs = Vec::new();
    for (graphs, mut times) in graph_sets.iter().zip(times) {
        times.sort_by(f64::total_cmp);
        let mut ort_ms = 0.0;
        for onnx in *graphs {
            ort_ms += onnxruntime_ms(
                python,
                &[
                    "patch".as_ref(),
                    onnx.as_os_str(),
                    golden.as_os_str(),
                    times.len().to_string().as_ref(),
                ],
            )?;
        }
        costs.push((times[times.len() / 2], ort_ms));
    }
    Ok(costs)
}

/// The live listeners' CPU time as a share of the audio time they were fed: (percent, s);
/// with `explain`, as while the view shows why. The worker's share is timed on this thread;
/// musicnn's pipeline, which runs on its own thread live, is timed alone on the same clip.
pub(super) fn live_cost(clip: &Path, explain: bool) -> Result<(f64, f64)> {
    let mut file = AudioFile::open(clip).with_context(|| format!("{}", clip.display()))?;
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut samples = Vec::new();
    file.play(&mut |block| samples.extend_from_slice(block))?;
    let models = LiveModels::load()?;
    let (mut audio, mut worker, _reader) =
        mirador_engine::build(&AnalyzerConfig::new(rate, channels))?;
    for listener in models.listeners(rate, None)? {
        worker = worker.with_listener(listener);
    }
    worker.explain(explain);
    // The whole engine, audio stage and worker, as it runs live.
    let started = std::time::Instant::now();
    for chunk in samples.chunks(512 * channels) {
        audio.process_interleaved(chunk);
        worker.poll();
    }
    let worker_cpu = started.elapsed().as_secs_f64();
    let musicnn = std::sync::Arc::new(Tagger::load(Variant::Musicnn)?);
    let mut pipeline = PatchPipeline::new(musicnn, MUSICNN_EVERY)?;
    let started = std::time::Instant::now();
    let mut decoded = Samples {
        samples: &samples,
        sample_rate: rate,
        channels,
    };
    mirador_models::run_clip(&mut decoded, &mut [&mut pipeline])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let musicnn_cpu = started.elapsed().as_secs_f64();
    let seconds = samples.len() as f64 / channels as f64 / f64::from(rate);
    Ok((100.0 * (worker_cpu + musicnn_cpu) / seconds, seconds))
}

/// BeatNet's one-step graph over the golden clip's frames, state carried, in tract and in
/// onnxruntime: mean ms per frame.
pub(super) fn beatnet_cost(root: &Path, python: &Path) -> Result<(f64, f64)> {
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
        &[
            "beatnet".as_ref(),
            root.join("models/beatnet/beatnet.onnx").as_os_str(),
            root.join("models/beatnet/golden.json").as_os_str(),
        ],
    )?;
    Ok((tract_ms, ort_ms))
}

/// `models/training/onnxruntime_cost.py` with `args`: milliseconds per run in a one-thread
/// onnxruntime session; NaN when it prints nothing usable.
pub(crate) fn onnxruntime_ms(python: &Path, args: &[&std::ffi::OsStr]) -> Result<f64> {
    let script = crate::python::repo_root().join("models/training/onnxruntime_cost.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(args)
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(f64::NAN))
}
