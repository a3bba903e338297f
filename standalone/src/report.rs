//! Writing results: CSV with exactly the columns of GTZAN's `features_30_sec.csv` (less
//! `label`), or JSON with the same values and each file's metadata.

use std::io::Write;

use mirador_dsp::clip::FeatureTable;
use serde_json::{json, Map, Value};

use crate::batch::Analysis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

pub fn write(format: Format, analyses: &[Analysis], out: impl Write) -> Result<(), String> {
    match format {
        Format::Csv => write_csv(analyses, out).map_err(|e| e.to_string()),
        Format::Json => write_json(analyses, out).map_err(|e| e.to_string()),
    }
}

/// The CSV's `filename` is the bare file name, as in the GTZAN table.
fn file_name(a: &Analysis) -> String {
    a.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn write_csv(analyses: &[Analysis], out: impl Write) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec!["filename".to_string()];
    header.extend(FeatureTable::column_names());
    writer.write_record(&header)?;
    for a in analyses {
        let mut row = vec![file_name(a), a.table.length.to_string()];
        row.extend(a.table.values().iter().skip(1).map(|v| v.to_string()));
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

fn write_json(analyses: &[Analysis], mut out: impl Write) -> std::io::Result<()> {
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
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut out, &files)?;
    writeln!(out)
}
