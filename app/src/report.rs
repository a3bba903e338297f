//! Writing results: CSV with exactly the columns of GTZAN's `features_30_sec.csv` (`label`
//! only when a genre model predicts it), or JSON with the same values, each file's metadata
//! key, loudness, and what the models say.

use std::io::Write;

use mirador_dsp::clip::FeatureTable;
use mirador_dsp::pitch::key::{Mode, PITCH_NAMES};
use serde_json::{json, Map, Value};

use crate::batch::Analysis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// Writes one row (CSV) or object (JSON) per analysis; `model` names the genre model that
/// predicted the analyses' genres, if any.
pub fn write(
    format: Format,
    analyses: &[Analysis],
    model: Option<&str>,
    out: impl Write,
) -> Result<(), String> {
    match format {
        Format::Csv => write_csv(analyses, model.is_some(), out).map_err(|e| e.to_string()),
        Format::Json => write_json(analyses, model, out).map_err(|e| e.to_string()),
    }
}

/// The most probable of `(class, probability)` pairs.
fn most_probable(p: &[(String, f64)]) -> &str {
    p.iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("", |(c, _)| c.as_str())
}

fn probabilities(p: &[(String, f64)]) -> Map<String, Value> {
    p.iter().map(|(c, v)| (c.clone(), json!(v))).collect()
}

/// The CSV's `filename` is the bare file name, as in the GTZAN table, unless several files
/// share it: then each of those is named by its path as found.
fn file_names(analyses: &[Analysis]) -> Vec<String> {
    let bare = |a: &Analysis| {
        a.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut counts = std::collections::HashMap::new();
    for a in analyses {
        *counts.entry(bare(a)).or_insert(0) += 1;
    }
    analyses
        .iter()
        .map(|a| {
            let name = bare(a);
            if counts[&name] > 1 {
                a.path.to_string_lossy().into_owned()
            } else {
                name
            }
        })
        .collect()
}

fn write_csv(analyses: &[Analysis], with_label: bool, out: impl Write) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec!["filename".to_string()];
    header.extend(FeatureTable::column_names());
    if with_label {
        header.push("label".into());
    }
    writer.write_record(&header)?;
    for (a, name) in analyses.iter().zip(file_names(analyses)) {
        let mut row = vec![name, a.clip.table.length.to_string()];
        row.extend(a.clip.table.values().iter().skip(1).map(|v| v.to_string()));
        if with_label {
            row.push(
                a.clip
                    .genre
                    .as_deref()
                    .map_or("", most_probable)
                    .to_string(),
            );
        }
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

fn write_json(
    analyses: &[Analysis],
    model: Option<&str>,
    mut out: impl Write,
) -> std::io::Result<()> {
    let files: Vec<Value> = analyses
        .iter()
        .zip(file_names(analyses))
        .map(|(a, name)| {
            let features: Map<String, Value> = FeatureTable::column_names()
                .into_iter()
                .zip(a.clip.table.values())
                .map(|(name, value)| {
                    let value = if name == "length" {
                        json!(a.clip.table.length)
                    } else {
                        json!(value)
                    };
                    (name, value)
                })
                .collect();
            let genre = a.clip.genre.as_ref().map(|p| {
                json!({
                    "model": model,
                    "label": most_probable(p),
                    "probabilities": probabilities(p),
                })
            });
            let mood = a.clip.network_output.as_ref().map(|c| {
                json!({
                    "quadrant": most_probable(&c.mood),
                    "probabilities": probabilities(&c.mood),
                    "valence": c.valence,
                    "arousal": c.arousal,
                })
            });
            let tags = a.clip.network_output.as_ref().map(|c| {
                c.top_tags
                    .iter()
                    .map(|(t, v)| json!({ "tag": t, "likelihood": v }))
                    .collect::<Vec<_>>()
            });
            let rhythm = a.clip.beats.as_ref().map(|b| {
                let times = |downbeats_only: bool| {
                    b.beats
                        .iter()
                        .filter(|beat| !downbeats_only || beat.1 == 1)
                        .map(|beat| beat.0)
                        .collect::<Vec<_>>()
                };
                json!({
                    "model": "beatnet",
                    "tempo_bpm": b.tempo_bpm,
                    "beats_per_bar": b.beats_per_bar,
                    "beats": times(false),
                    "downbeats": times(true),
                })
            });
            let key = a.clip.key.map(|k| {
                json!({
                    "name": k.name(),
                    "tonic": PITCH_NAMES[k.tonic],
                    "mode": match k.mode {
                        Mode::Major => "major",
                        Mode::Minor => "minor",
                    },
                    "confidence": k.correlation,
                })
            });
            let l = &a.clip.loudness;
            let loudness = json!({
                "integrated_lufs": finite(l.integrated_lufs),
                "range_lu": finite(l.range_lu),
                "true_peak_dbtp": finite(l.true_peak_dbtp),
            });
            json!({
                "path": a.path.display().to_string(),
                "filename": name,
                "duration_seconds": a.frames as f64 / a.info.sample_rate as f64,
                "sample_rate": a.info.sample_rate,
                "channels": a.info.channels,
                "codec": a.info.codec,
                "container": a.info.container,
                "decoder": a.decoder,
                "warnings": a.warnings,
                "chroma_tuning": a.clip.table.tuning,
                "features": features,
                "key": key,
                "loudness": loudness,
                "not_enough_music": a.clip.not_enough_music,
                "non_finite_samples": a.clip.non_finite_samples,
                "genre": genre,
                "mood": mood,
                "tags": tags,
                "rhythm": rhythm,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut out, &files)?;
    writeln!(out)
}

/// JSON has no infinities: silence's loudness is `null`.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
