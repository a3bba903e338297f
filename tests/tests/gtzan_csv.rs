//! The feature table of the 10 GTZAN originals in `shared/data/gtzan/full`, decoded and
//! analyzed as `mirador analyze` does, against their rows in `features_30_sec.csv` (librosa
//! on the same audio). Run with `--nocapture` for the error of every column.

use std::collections::HashMap;
use std::path::PathBuf;

use mirador_app::batch;
use mirador_dsp::clip::{FeatureTable, TableStyle};
use mirador_tests::data_dir;

/// Largest relative error accepted per column (means are taken relative to the column's
/// standard deviation when that is larger: harmony and perceptr means sit near zero).
/// Measured: at most 2.3e-6, except rolloff_var at 9e-6, where one frame's 85 % crossing
/// lands one FFT bin away.
fn tolerance(column: &str) -> f64 {
    match column {
        "length" | "tempo" => 0.0,
        c if c.starts_with("rolloff") => 5e-5,
        _ => 1e-5,
    }
}

#[test]
fn feature_table_matches_features_30_sec_csv() {
    let data = data_dir().join("gtzan");
    assert!(
        data.is_dir(),
        "GTZAN data not found at {}; set MIRADOR_DATA",
        data.display()
    );
    let mut reader = csv::Reader::from_path(data.join("features_30_sec.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: HashMap<String, Vec<String>> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].trim_end_matches(".wav").to_string(),
                r.iter().map(String::from).collect(),
            )
        })
        .collect();

    // The ten lossless originals (`genre.00000.flac`); the folder's Ogg clips are lossy.
    let mut originals: Vec<PathBuf> = std::fs::read_dir(data.join("full"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".00000.flac"))
        .collect();
    originals.sort();
    let mut analyses = Vec::new();
    batch::run(
        &originals,
        TableStyle::Gtzan,
        &mirador_models::clip::Models::default(),
        None,
        |path, result| analyses.push(result.unwrap_or_else(|e| panic!("{path:?}: {e}"))),
    );
    assert_eq!(analyses.len(), 10);

    let columns = FeatureTable::column_names();
    let mut worst = vec![(0f64, String::new()); columns.len()];
    for analysis in &analyses {
        let stem = analysis
            .path
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let row = &rows[&stem];
        let value = |column: &str| -> f64 {
            let i = header.iter().position(|h| h == column).unwrap();
            row[i].parse().unwrap()
        };
        for ((column, got), slot) in columns
            .iter()
            .zip(analysis.clip.table.values())
            .zip(&mut worst)
        {
            let want = value(column);
            let scale = match column.strip_suffix("_mean") {
                Some(base) => value(&format!("{base}_var")).sqrt().max(want.abs()),
                None => want.abs(),
            };
            let error = (got - want).abs() / scale.max(1e-12);
            if error >= slot.0 {
                *slot = (error, stem.clone());
            }
        }
    }
    println!("{:<26} {:>10}  clip", "column", "max error");
    let mut failed = Vec::new();
    for (column, (error, clip)) in columns.iter().zip(&worst) {
        println!("{column:<26} {error:>10.2e}  {clip}");
        if error.is_nan() || *error > tolerance(column) {
            failed.push(format!("{column}: {error:.2e} ({clip})"));
        }
    }
    assert!(failed.is_empty(), "over tolerance: {failed:?}");
}
