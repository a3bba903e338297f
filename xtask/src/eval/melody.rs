//! CREPE tiny in Mirador on the annotated solo singing, beside librosa's pYIN in the same
//! run (`models/crepe/REPORT.md`).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use mirador_app::decode::AudioFile;
use mirador_models::melody::{CrepeNet, MelodyPipeline, Pitch, VOICED};
use mirador_models::{run_clip, Pipeline};
use serde_json::{json, Value};

use super::score_in_python;
use crate::python::venv_from_script;

const ANNOTATED: [&str; 1] = ["melody/vocadito_1.flac"];

pub fn run_section(root: &Path, data: &Path) -> Result<()> {
    let net = Arc::new(CrepeNet::load()?);
    let mut ours = serde_json::Map::new();
    let mut cpu = Vec::new();
    for source in ANNOTATED {
        let mut clip = AudioFile::open(&data.join(source))?;
        let mut pipeline = MelodyPipeline::for_clip(net.clone())?;
        let started = Instant::now();
        run_clip(&mut clip, &mut [&mut pipeline])?;
        let seconds = started.elapsed().as_secs_f64();
        if let Some(e) = pipeline.take_error() {
            return Err(e.into());
        }
        let pitches: Vec<Pitch> = pipeline.take_pitches().collect();
        cpu.push(seconds);
        ours.insert(
            source.to_string(),
            json!({
                "times": pitches.iter().map(|p| p.time).collect::<Vec<_>>(),
                "hz": pitches.iter().map(|p| p.hz).collect::<Vec<_>>(),
                "confidence": pitches.iter().map(|p| p.confidence).collect::<Vec<_>>(),
            }),
        );
    }
    let python = venv_from_script("target/notes-venv", "models/training/notes_venv.sh")?;
    let scores = score_in_python(
        root,
        data,
        &python,
        "melody_score.py",
        "melody",
        &Value::Object(ours),
    )?;
    let mut table = String::from(
        "| recording | tracker | raw pitch accuracy | raw chroma accuracy | voicing recall | voicing false alarm | overall accuracy | x real time |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut sweep = String::from(
        "| confidence threshold | voicing recall | voicing false alarm | overall accuracy |\n|---:|---:|---:|---:|\n",
    );
    for (source, seconds) in ANNOTATED.iter().zip(&cpu) {
        let s = &scores[source];
        let audio = s["audio_seconds"].as_f64().unwrap_or(f64::NAN);
        let row = |name: &str, m: &Value, speed: f64| {
            let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
            format!(
                "| {source} | {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {speed:.1} |\n",
                f("raw_pitch_accuracy"),
                f("raw_chroma_accuracy"),
                f("voicing_recall"),
                f("voicing_false_alarm"),
                f("overall_accuracy"),
            )
        };
        let shipped = &s["mirador"][format!("{VOICED:.1}")];
        table.push_str(&row(
            &format!("Mirador, CREPE tiny (tract), confidence >= {VOICED}"),
            shipped,
            audio / seconds,
        ));
        let pyin_seconds = s["pyin"]["seconds"].as_f64().unwrap_or(f64::NAN);
        table.push_str(&row(
            "librosa.pyin (C2-C7)",
            &s["pyin"],
            audio / pyin_seconds,
        ));
        for (threshold, m) in s["mirador"].as_object().context("thresholds")? {
            let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
            sweep.push_str(&format!(
                "| {threshold} | {:.3} | {:.3} | {:.3} |\n",
                f("voicing_recall"),
                f("voicing_false_alarm"),
                f("overall_accuracy"),
            ));
        }
    }
    let report = format!(
        "# CREPE tiny in Mirador: evaluation\n\n\
         Written by `cargo xtask eval melody` (or `cargo xtask eval`). Mirador decodes the \
         recording with symphonia, resamples it to 22.05 kHz and then 16 kHz with rubato, \
         frames it every 10 ms as torchcrepe does, runs `models/crepe/crepe_tiny.onnx` with \
         tract on one thread and decodes each frame as CREPE does (the probability-weighted \
         mean of the 9 bins around the peak; the peak is the confidence). librosa's pYIN runs \
         on the same file in the same run. Scores: `mir_eval.melody` against vocadito's frame \
         annotations (solo singing, CC BY 4.0; CREPE never trained on vocadito: its training \
         sets are MIR-1K, Bach10, RWC-synth, MedleyDB, MDB-stem-synth and NSynth). Raw pitch \
         accuracy counts voiced reference frames within 50 cents, whatever the voicing said.\n\n\
         {table}\n\
         The voicing threshold, {VOICED}, is the one shipped; the only annotated recording \
         shows how the voicing trades with it (pitch accuracy does not depend on it):\n\n\
         {sweep}"
    );
    let path = root.join("models/crepe/REPORT.md");
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("eval: wrote {}", path.display());
    Ok(())
}
