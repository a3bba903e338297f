//! Batch analysis: finds the audio files under the given paths and analyzes them in parallel,
//! reporting each failure on one line and carrying on with the rest.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use mirador_dsp::clip::{feature_table, FeatureTable, Replay, TableStyle};
use mirador_dsp::AnalyzerConfig;
use mirador_models::beats::{self, BeatNet, ClipBeats};
use mirador_models::classic::Classic;
use mirador_models::musicnn::{ClipModel, ClipPredictions};
use rayon::prelude::*;

use crate::decode::{AudioFile, AudioInfo};

/// Extensions picked up when searching folders (a file named explicitly is always tried).
const AUDIO_EXTENSIONS: [&str; 8] = ["wav", "wave", "flac", "mp3", "ogg", "oga", "m4a", "mp4"];

/// What predicts each file's genre (`mirador analyze --model`).
pub enum GenreModel {
    /// A classic model over the feature table.
    Classic(Box<Classic>),
    /// A patch network (the distilled CNN or musicnn) over the clip's log-mel patches, with
    /// its genre and mood heads.
    Patches(Box<ClipModel>),
}

impl GenreModel {
    pub fn name(&self) -> &str {
        match self {
            GenreModel::Classic(m) => &m.name,
            GenreModel::Patches(m) => m.network.variant.name(),
        }
    }
}

/// One analyzed file.
pub struct Analysis {
    pub path: PathBuf,
    pub info: AudioInfo,
    /// Decoded frames per channel.
    pub frames: u64,
    pub table: FeatureTable,
    /// GTZAN genre probabilities, when a model was asked for.
    pub genre: Option<Vec<(String, f64)>>,
    /// Mood, valence, arousal and tags, with `--model cnn` or `musicnn`.
    pub network_output: Option<ClipPredictions>,
    /// Beats, downbeats, tempo and meter, when a beat model was given.
    pub beats: Option<ClipBeats>,
}

pub struct Outcome {
    /// In path order.
    pub analyses: Vec<Analysis>,
    pub failures: usize,
}

pub fn run(
    paths: &[PathBuf],
    style: TableStyle,
    model: Option<&GenreModel>,
    beat_model: Option<&BeatNet>,
) -> Outcome {
    let mut failures = 0;
    let mut files = Vec::new();
    for path in paths {
        match find_audio(path) {
            Ok(found) => files.extend(found),
            Err(e) => {
                eprintln!("mirador: {}: {e}", path.display());
                failures += 1;
            }
        }
    }
    let progress = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files, {elapsed} {wide_msg}")
            .expect("static template"),
    );
    let results: Vec<Result<Analysis, String>> = files
        .par_iter()
        .map(|path| {
            let result = analyze_file(path, style, model, beat_model);
            if let Err(e) = &result {
                progress.suspend(|| eprintln!("mirador: {}: {e}", path.display()));
            }
            progress.inc(1);
            result
        })
        .collect();
    progress.finish_and_clear();
    let mut analyses = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(a) => analyses.push(a),
            Err(_) => failures += 1,
        }
    }
    Outcome { analyses, failures }
}

/// Genre probabilities (and a patch network's whole output) from `model`, if any, for a clip
/// whose feature table is `table`.
pub type Predictions = (Option<Vec<(String, f64)>>, Option<ClipPredictions>);

pub fn predict<R: Replay>(
    model: Option<&GenreModel>,
    table: &FeatureTable,
    clip: &mut R,
) -> Result<Predictions, String>
where
    R::Error: std::fmt::Display,
{
    Ok(match model {
        None => (None, None),
        Some(GenreModel::Classic(m)) => {
            let p = m.predict(&table.values());
            (Some(m.classes.iter().cloned().zip(p).collect()), None)
        }
        Some(GenreModel::Patches(m)) => {
            let predictions = m.predict(clip).map_err(|e| e.to_string())?;
            (Some(predictions.genre.clone()), Some(predictions))
        }
    })
}

/// A file as is; a folder's audio files, recursively, in sorted order.
fn find_audio(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| e.to_string())?;
        let is_audio = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if entry.file_type().is_file() && is_audio {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

fn analyze_file(
    path: &Path,
    style: TableStyle,
    model: Option<&GenreModel>,
    beat_model: Option<&BeatNet>,
) -> Result<Analysis, String> {
    let mut file = AudioFile::open(path).map_err(|e| e.to_string())?;
    let config = AnalyzerConfig::new(file.info().sample_rate, file.info().channels);
    let table = feature_table(&mut file, &config, style).map_err(|e| e.to_string())?;
    let (genre, network_output) = predict(model, &table, &mut file)?;
    let beats = beat_model
        .map(|net| beats::track(net, &mut file).map_err(|e| e.to_string()))
        .transpose()?;
    Ok(Analysis {
        path: path.to_path_buf(),
        info: file.info().clone(),
        frames: file.decoded_frames,
        table,
        genre,
        network_output,
        beats,
    })
}
