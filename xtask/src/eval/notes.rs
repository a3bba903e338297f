//! basic-pitch in Mirador against the basic-pitch package (`models/basic_pitch/REPORT.md`):
//! the network's outputs at the golden positions, the notes scored with
//! `mir_eval.transcription` against the package's, and both on the annotated singing.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use mirador_app::decode::AudioFile;
use mirador_dsp::clip::Replay;
use mirador_models::notes::{
    LiveNotes, NoteEvent, NoteNet, NotePipeline, NoteSettings, CONTOUR_BINS, KEYS, RIGHT_TRIM,
};
use mirador_models::{run_clip, Pipeline, SAMPLE_RATE};
use serde_json::{json, Value};

use super::score_in_python;
use crate::python::venv_from_script;

/// The largest difference between `ours` (`width` values a frame) and the golden samples.
fn worst(ours: &[f32], width: usize, golden: &Value) -> f32 {
    golden
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let (t, i, v) = (s[0].as_u64()?, s[1].as_u64()?, s[2].as_f64()?);
            let ours = ours.get(t as usize * width + i as usize)?;
            Some((ours - v as f32).abs())
        })
        .fold(0.0, f32::max)
}

/// Frames between live windows, as the engine's note listener runs them.
const LIVE_HOP_FRAMES: usize = mirador_engine::listeners::notes::HOP_FRAMES;
/// Frames between the file path's windows (each window, one network run).
const WINDOW_HOP_FRAMES: f64 = 36_164.0 / 256.0;

/// The live transcriber over the recordings at 22.05 kHz: its notes per recording, and
/// (recording, notes, mean and longest wait from onset to announcement).
#[allow(clippy::type_complexity)]
fn live_section(
    data: &Path,
    net: &Arc<NoteNet>,
    golden: &Value,
) -> Result<(Value, Vec<(String, usize, f64, f64)>)> {
    let mut notes_by_source = serde_json::Map::new();
    let mut rows = Vec::new();
    for case in golden["cases"].as_array().context("golden cases")? {
        let source = case["source"].as_str().context("source")?;
        let mut clip = AudioFile::open(&data.join(source))?;
        if clip.info().sample_rate != SAMPLE_RATE {
            continue;
        }
        let mut mono = Vec::new();
        clip.play(&mut |block| mono.extend_from_slice(block))?;
        let mut live = LiveNotes::new(net.clone(), NoteSettings::default(), LIVE_HOP_FRAMES);
        let mut waits = Vec::new();
        for (i, block) in mono.chunks(512).enumerate() {
            let position = (i * 512) as u64;
            live.push(block, position);
            let now = (position + block.len() as u64) as f64 / f64::from(SAMPLE_RATE);
            for event in live.take_events() {
                if let NoteEvent::On { time, .. } = event {
                    waits.push(now - time);
                }
            }
        }
        live.finish();
        let notes: Vec<Value> = live
            .take_notes()
            .map(|n| json!([n.start, n.end, n.pitch, n.amplitude]))
            .collect();
        let mean = waits.iter().sum::<f64>() / waits.len().max(1) as f64;
        let longest = waits.iter().copied().fold(0.0, f64::max);
        rows.push((source.to_string(), notes.len(), mean, longest));
        notes_by_source.insert(source.to_string(), Value::Array(notes));
    }
    Ok((Value::Object(notes_by_source), rows))
}

pub fn run_section(root: &Path, data: &Path) -> Result<()> {
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(
        root.join("models/basic_pitch/golden.json"),
    )?)?;
    let net = Arc::new(NoteNet::load()?);
    let mut ours = serde_json::Map::new();
    let mut rows = Vec::new();
    let (mut audio_seconds, mut cpu_seconds) = (0.0, 0.0);
    for case in golden["cases"].as_array().context("golden cases")? {
        let source = case["source"].as_str().context("source")?;
        let mut clip = AudioFile::open(&data.join(source))?;
        let native = clip.info().sample_rate == SAMPLE_RATE;
        let mut pipeline = NotePipeline::for_clip(net.clone(), NoteSettings::default());
        let started = Instant::now();
        run_clip(&mut clip, &mut [&mut pipeline])?;
        cpu_seconds += started.elapsed().as_secs_f64();
        if let Some(e) = pipeline.take_error() {
            return Err(e.into());
        }
        let out = pipeline.activations();
        audio_seconds += out.frames() as f64 * 256.0 / f64::from(SAMPLE_RATE);
        let notes: Vec<Value> = pipeline
            .notes()
            .iter()
            .map(|n| json!([n.start, n.end, n.pitch, n.amplitude]))
            .collect();
        let difference = native.then(|| {
            [
                worst(&out.note, KEYS, &case["note"]),
                worst(&out.onset, KEYS, &case["onset"]),
                worst(&out.contour, CONTOUR_BINS, &case["contour"]),
            ]
            .into_iter()
            .fold(0.0, f32::max)
        });
        let package = case["notes"].as_array().map_or(0, Vec::len);
        rows.push((source.to_string(), notes.len(), package, difference));
        ours.insert(source.to_string(), Value::Array(notes));
    }
    let (live_notes, live_rows) = live_section(data, &net, &golden)?;
    let python = venv_from_script("target/notes-venv", "models/training/notes_venv.sh")?;
    let scores = score_in_python(
        root,
        data,
        &python,
        "notes_score.py",
        "notes",
        &json!({ "file": ours, "live": live_notes }),
    )?;
    let mut live = String::from(
        "| recording | notes (live) | onset F | onset-offset F | mean wait after onset | longest wait |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for (source, n, mean, longest) in &live_rows {
        let s = &scores["live"][source];
        live.push_str(&format!(
            "| {source} | {n} | {:.3} | {:.3} | {:.0} ms | {:.0} ms |\n",
            s["f_onset"].as_f64().unwrap_or(f64::NAN),
            s["f_onset_offset"].as_f64().unwrap_or(f64::NAN),
            mean * 1e3,
            longest * 1e3,
        ));
    }
    let mut parity = String::from(
        "| recording | notes (package) | notes (Mirador) | onset-offset F | onset F | outputs, max abs diff |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for (source, n, package, difference) in &rows {
        let s = &scores["parity"][source];
        parity.push_str(&format!(
            "| {source} | {package} | {n} | {:.4} | {:.4} | {} |\n",
            s["f_onset_offset"].as_f64().unwrap_or(f64::NAN),
            s["f_onset"].as_f64().unwrap_or(f64::NAN),
            difference.map_or("resampled: not compared".into(), |d| format!("{d:.1e}")),
        ));
    }
    let mut annotated = String::from(
        "| annotation | Mirador onset F | Mirador onset-offset F | package onset F | package onset-offset F |\n|---|---:|---:|---:|---:|\n",
    );
    for (path, s) in scores["annotated"].as_object().into_iter().flatten() {
        let f = |who: &str, what: &str| s[who][what].as_f64().unwrap_or(f64::NAN);
        annotated.push_str(&format!(
            "| {path} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            f("mirador", "f_onset"),
            f("mirador", "f_onset_offset"),
            f("package", "f_onset"),
            f("package", "f_onset_offset"),
        ));
    }
    let report = format!(
        "# basic-pitch in Mirador: evaluation\n\n\
         Written by `cargo xtask eval notes` (or `cargo xtask eval`). Mirador decodes each \
         recording with symphonia (rubato resamples the one not at 22.05 kHz), runs \
         `models/basic_pitch/nmp.onnx` with tract and makes notes with the Rust port of the \
         package's note creation, defaults as the package's (onset threshold 0.5, frame \
         threshold 0.3, notes over 11 frames, inferred onsets, melodia trick). The package \
         (basic-pitch 0.4.0: librosa decoding, onnxruntime) wrote its outputs and notes into \
         `golden.json` (`models/training/notes_export.py`). The scores are \
         `mir_eval.transcription.precision_recall_f1_overlap` (onset within 50 ms, offset \
         within 20 % or 50 ms; onset F ignores offsets).\n\n\
         ## Parity with the package\n\n{parity}\n\
         ## Live\n\n\
         `LiveNotes` runs the network every {LIVE_HOP_FRAMES} frames ({:.0} ms) on the 2 s \
         ending at the newest sample and tracks notes forward (onset peaks and the frame \
         threshold; no melodia trick or inferred onsets, which need the whole file), fed \
         512-sample blocks. Scored against the package's notes for the file; the wait is \
         from each announced note's onset to the end of the block that announced it: the \
         wait for the next window, the {RIGHT_TRIM} frames at its edge left for the next, and \
         the 12 frames a note must last before it is announced (shorter ones are dropped, as \
         the package drops them). The network costs {:.1} % of a core at this hop.\n\n\
         {live}\n\
         ## Accuracy on annotated singing\n\n\
         vocadito's first track (33 s of solo singing, CC BY 4.0), against each annotator's \
         notes. basic-pitch never trained on vocadito (its training sets: GuitarSet, iKala, \
         MAESTRO, MedleyDB-Pitch, Slakh).\n\n{annotated}\n\
         ## Cost\n\n\
         {audio_seconds:.0} s of audio in {cpu_seconds:.1} s on one thread, decoding included: \
         {:.0}x real time. `cargo xtask bench` times one window in tract and onnxruntime.\n",
        LIVE_HOP_FRAMES as f64 * 256.0 / f64::from(SAMPLE_RATE) * 1e3,
        100.0 * cpu_seconds / audio_seconds * WINDOW_HOP_FRAMES / LIVE_HOP_FRAMES as f64,
        audio_seconds / cpu_seconds
    );
    let path = root.join("models/basic_pitch/REPORT.md");
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("eval: wrote {}", path.display());
    Ok(())
}
