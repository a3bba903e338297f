//! Batch analysis: finds the audio files under the given paths and analyzes them in parallel,
//! reporting each failure on one line and carrying on with the rest. Each file is decoded
//! twice: the feature table's first pass, and its second with every model's pipeline and the
//! loudness meter riding along.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use mirador_dsp::clip::TableStyle;
use mirador_models::clip::{analyze_clip, ClipAnalysis, Models};
use rayon::prelude::*;

use crate::decode::{AudioFile, AudioInfo};

/// Extensions picked up when searching folders (a file named explicitly is always tried).
const AUDIO_EXTENSIONS: [&str; 23] = [
    "wav", "wave", "w64", "aif", "aiff", "aifc", "caf", "flac", "mp3", "mp2", "ogg", "oga", "opus",
    "m4a", "m4b", "mp4", "aac", "mka", "webm", "wv", "ape", "wma", "alac",
];

/// One analyzed file.
pub struct Analysis {
    pub path: PathBuf,
    pub info: AudioInfo,
    /// Decoded frames per channel.
    pub frames: u64,
    /// Which decoder read the file ("symphonia", "ffmpeg", "symphonia+ffmpeg").
    pub decoder: &'static str,
    /// What decoding skipped or found amiss (also printed, one line each).
    pub warnings: Vec<String>,
    pub clip: ClipAnalysis,
}

/// The audio files to analyze, and how many paths or folder entries could not be searched
/// (each named on one line).
pub struct Found {
    pub files: Vec<PathBuf>,
    pub problems: usize,
}

/// Finds the audio files under `paths`: a file named explicitly is always tried; folders are
/// searched recursively (symlinks followed, loops detected), and an entry that cannot be read
/// is reported and skipped, not the rest of its folder.
pub fn find(paths: &[PathBuf]) -> Found {
    let mut found = Found {
        files: Vec::new(),
        problems: 0,
    };
    for path in paths {
        if let Err(e) = find_audio(path, &mut found) {
            eprintln!("mirador: {}: {e}", path.display());
            found.problems += 1;
        }
    }
    found
}

/// Set (by Ctrl-C) to stop starting files; those already running finish and are handed on.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Analyzes `files` in parallel on at most `jobs` threads (never more than there are files
/// or cores) and hands each result to `done` in input order as soon as it and those before
/// it are finished (a small reorder buffer), so output grows as the work does. Each failure
/// is named on one line; the rest carry on. Returns how many files were handed on; after
/// [`STOP`], fewer than `files.len()`.
pub fn run(
    files: &[PathBuf],
    style: TableStyle,
    models: &Models,
    jobs: Option<usize>,
    mut done: impl FnMut(&Path, Result<Analysis, String>),
) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = jobs.unwrap_or(cores).min(cores).min(files.len()).max(1);
    let progress = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files, {elapsed} elapsed, {eta} left {wide_msg}",
        )
        .expect("static template"),
    );
    let (sender, receiver) = std::sync::mpsc::channel();
    let analyze = || {
        files
            .par_iter()
            .enumerate()
            .for_each_with(sender, |sender, (i, path)| {
                if STOP.load(Ordering::Relaxed) {
                    return;
                }
                let result = analyze_file(path, style, models);
                progress.suspend(|| match &result {
                    Err(e) => eprintln!("mirador: {}: {e}", path.display()),
                    Ok(a) => a
                        .warnings
                        .iter()
                        .for_each(|w| eprintln!("mirador: {}: warning: {w}", path.display())),
                });
                progress.inc(1);
                let _ = sender.send((i, result));
            })
    };
    let mut handed = 0;
    std::thread::scope(|scope| {
        scope.spawn(
            || match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(pool) => pool.install(analyze),
                // No threads to be had: the global pool does the work.
                Err(_) => analyze(),
            },
        );
        let mut waiting = std::collections::BTreeMap::new();
        for (i, result) in receiver {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&handed) {
                // The bar steps aside, so a summary on the same terminal stays readable.
                progress.suspend(|| done(&files[handed], result));
                handed += 1;
            }
        }
        // Stopped: files after one that never started are finished too; hand them on.
        for (i, result) in waiting {
            progress.suspend(|| done(&files[i], result));
            handed += 1;
        }
    });
    progress.finish_and_clear();
    handed
}

/// A file as is (if it can be read twice); a folder's audio files, recursively, in sorted
/// order, each entry that cannot be searched reported on its own line.
fn find_audio(path: &Path, found: &mut Found) -> Result<(), String> {
    const SEEKABLE: &str = "Mirador reads a file twice (the feature table's two passes), so it \
                            needs a regular file: save the stream to a file first";
    if path.as_os_str() == "-" {
        return Err(format!("standard input cannot be analyzed: {SEEKABLE}"));
    }
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        if !meta.is_file() {
            return Err(format!("not a regular file: {SEEKABLE}"));
        }
        found.files.push(path.to_path_buf());
        return Ok(());
    }
    let (before, mut others) = (found.files.len(), 0);
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                // A dangling link, a loop, a folder without permission: this entry only.
                let at = e.path().unwrap_or(path);
                let reason = e
                    .io_error()
                    .map_or_else(|| e.to_string(), |io| io.to_string());
                let reason = if e.loop_ancestor().is_some() {
                    "symlink loop, not followed".to_string()
                } else {
                    reason
                };
                eprintln!("mirador: {}: {reason}", at.display());
                found.problems += 1;
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let is_audio = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_audio {
            found.files.push(entry.into_path());
        } else {
            others += 1;
        }
    }
    if found.files.len() == before {
        return Err(format!(
            "no audio files here ({others} other files; looked for .{})",
            AUDIO_EXTENSIONS.join(", .")
        ));
    }
    Ok(())
}

/// Analyzes one file.
pub fn analyze_file(path: &Path, style: TableStyle, models: &Models) -> Result<Analysis, String> {
    let mut file = AudioFile::open(path).map_err(|e| e.to_string())?;
    let clip = analyze_clip(&mut file, style, models)?;
    Ok(Analysis {
        path: path.to_path_buf(),
        info: file.info().clone(),
        frames: file.decoded_frames,
        decoder: file.decoder,
        warnings: std::mem::take(&mut file.warnings),
        clip,
    })
}
