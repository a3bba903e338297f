//! Writing results: CSV with exactly the columns of GTZAN's `features_30_sec.csv` (`label`
//! only when a genre model predicts it), or JSON with the same values, each file's metadata
//! and the genre model's class probabilities.

use std::io::Write;

use mirador_dsp::clip::FeatureTable;
use mirador_models::classic::Classic;
use serde_json::{json, Map, Value};

use crate::batch::Analysis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// Writes one row (CSV) or object (JSON) per analysis; with `genre`, adds its prediction.
pub fn write(
    format: Format,
    analyses: &[Analysis],
    genre: Option<&Classic>,
    out: impl Write,
) -> Result<(), String> {
    match format {
        Format::Csv => write_csv(analyses, genre, out).map_err(|e| e.to_string()),
        Format::Json => write_json(analyses, genre, out).map_err(|e| e.to_string()),
    }
}

/// The most probable class and every class's probability.
fn predict<'m>(model: &'m Classic, a: &Analysis) -> (&'m str, Vec<f64>) {
    let probabilities = model.predict(&a.table.values());
    let best = (0..probabilities.len())
        .max_by(|&i, &j| probabilities[i].total_cmp(&probabilities[j]))
        .unwrap_or(0);
    (&model.classes[best], probabilities)
}

/// The CSV's `filename` is the bare file name, as in the GTZAN table.
fn file_name(a: &Analysis) -> String {
    a.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn write_csv(analyses: &[Analysis], genre: Option<&Classic>, out: impl Write) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec!["filename".to_string()];
    header.extend(FeatureTable::column_names());
    if genre.is_some() {
        header.push("label".into());
    }
    writer.write_record(&header)?;
    for a in analyses {
        let mut row = vec![file_name(a), a.table.length.to_string()];
        row.extend(a.table.values().iter().skip(1).map(|v| v.to_string()));
        if let Some(model) = genre {
            row.push(predict(model, a).0.to_string());
        }
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

fn write_json(
    analyses: &[Analysis],
    genre: Option<&Classic>,
    mut out: impl Write,
) -> std::io::Result<()> {
    let files: Vec<Value> = analyses
        .iter()
        .map(|a| {
            let features: Map<String, Value> = FeatureTable::column_names()
                .into_iter()
                .zip(a.table.values())
                .map(|(name, value)| {
                    let value = if name == "length" {
                        json!(a.table.length)
                    } else {
                        json!(value)
                    };
                    (name, value)
                })
                .collect();
            let genre = genre.map(|model| {
                let (label, probabilities) = predict(model, a);
                let probabilities: Map<String, Value> = model
                    .classes
                    .iter()
                    .zip(probabilities)
                    .map(|(class, p)| (class.clone(), json!(p)))
                    .collect();
                json!({ "model": model.name, "label": label, "probabilities": probabilities })
            });
            json!({
                "path": a.path.display().to_string(),
                "filename": file_name(a),
                "duration_seconds": a.frames as f64 / a.info.sample_rate as f64,
                "sample_rate": a.info.sample_rate,
                "channels": a.info.channels,
                "codec": a.info.codec,
                "container": a.info.container,
                "chroma_tuning": a.table.tuning,
                "features": features,
                "genre": genre,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut out, &files)?;
    writeln!(out)
}
