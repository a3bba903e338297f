//! `mirador index`'s work: which files are new, changed, moved, unchanged or gone, then the
//! analysis of those that need it, each stored in its own transaction as soon as it is done
//! (so an interrupted run resumes where it stopped).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use mirador_dsp::clip::TableStyle;
use mirador_library::track::Known;
use mirador_library::{describe, Description, Library, LibraryError, Recipe, Stamp, Status, Track};
use mirador_models::beats::BeatNet;
use mirador_models::tagger::{Tagger, Variant};
use rayon::prelude::*;

use mirador_models::clip::Models;

use crate::batch::{self, Analysis};

/// What an index run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    /// Analyzed and stored: new files, and changed or stale ones.
    pub analyzed: usize,
    /// Found unchanged (by size and modification time, or by content).
    pub unchanged: usize,
    /// Found at a new path with the same content; kept their vectors.
    pub moved: usize,
    /// Could not be analyzed (each has a row saying why).
    pub failed: usize,
    /// Indexed before under the given folders and gone now.
    pub vanished: usize,
    /// Paths that could not be searched.
    pub unreadable: usize,
    /// Files that were to be analyzed but were not, because the run was stopped.
    pub not_started: usize,
    pub audio_seconds: f64,
}

/// One file found, as it is now.
struct Found {
    path: PathBuf,
    key: String,
    stamp: Stamp,
}

/// Brings `library` up to date with the audio files under `paths`.
pub fn index(
    library: &mut Library,
    paths: &[PathBuf],
    models: &Models,
    recipe: &Recipe,
    jobs: Option<usize>,
) -> Result<Outcome, LibraryError> {
    let mut outcome = Outcome::default();
    let found = batch::find(paths);
    outcome.unreadable = found.problems;
    let mut files = Vec::new();
    for path in found.files {
        match std::fs::metadata(&path) {
            Ok(meta) => {
                let path = path.canonicalize().unwrap_or(path);
                files.push(Found {
                    key: path.to_string_lossy().into_owned(),
                    stamp: Stamp::of(&meta),
                    path,
                });
            }
            Err(e) => {
                eprintln!("mirador: {}: {e}", path.display());
                outcome.unreadable += 1;
            }
        }
    }
    let known = library.known()?;
    let recipe_text = recipe.text();
    let current = |k: &Known| k.recipe == recipe_text;
    // Unchanged by size and time: a failure stays failed until the file changes.
    let (unchanged, candidates): (Vec<&Found>, Vec<&Found>) = files.iter().partition(|f| {
        known.get(&f.key).is_some_and(|k| {
            k.stamp == f.stamp
                && match k.status {
                    Status::Ok => current(k),
                    Status::Failed => true,
                    Status::Missing => false,
                }
        })
    });
    outcome.unchanged = unchanged.len();
    let hashes: Vec<Result<String, String>> = candidates
        .par_iter()
        .map(|f| hash_file(&f.path).map_err(|e| e.to_string()))
        .collect();
    let seen: HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
    // Tracks whose file is gone, by content: where a moved file comes from.
    let mut gone: HashMap<&str, &Known> = known
        .values()
        .filter(|k| {
            k.status != Status::Failed
                && !seen.contains(k.path.as_str())
                && !Path::new(&k.path).exists()
        })
        .map(|k| (k.hash.as_str(), k))
        .collect();
    let mut to_analyze = Vec::new();
    for (file, hash) in candidates.into_iter().zip(hashes) {
        let hash = match hash {
            Ok(hash) => hash,
            Err(e) => {
                eprintln!("mirador: {}: {e}", file.path.display());
                library.put_failure(&file.key, file.stamp, "", &e, recipe)?;
                outcome.failed += 1;
                continue;
            }
        };
        let same = known.get(&file.key);
        if let Some(k) = same.filter(|k| k.hash == hash && k.status != Status::Failed && current(k))
        {
            // Touched, or back where it was after going missing: the same content.
            if k.status == Status::Missing {
                library.move_track(k.id, &file.key, file.stamp)?;
            } else {
                library.touch(k.id, file.stamp)?;
            }
            outcome.unchanged += 1;
        } else if let Some(k) = gone.remove(hash.as_str()).filter(|k| current(k)) {
            library.move_track(k.id, &file.key, file.stamp)?;
            outcome.moved += 1;
        } else {
            to_analyze.push((file, hash));
        }
    }
    // Gone from a folder that was searched, and not found elsewhere.
    let roots: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let vanished: Vec<i64> = gone
        .values()
        .filter(|k| {
            k.status == Status::Ok && roots.iter().any(|r| Path::new(&k.path).starts_with(r))
        })
        .map(|k| k.id)
        .collect();
    library.mark_missing(&vanished)?;
    outcome.vanished = vanished.len();

    let analyze: Vec<PathBuf> = to_analyze.iter().map(|(f, _)| f.path.clone()).collect();
    let by_path: HashMap<&Path, (&Found, &str)> = to_analyze
        .iter()
        .map(|(f, h)| (f.path.as_path(), (*f, h.as_str())))
        .collect();
    let mut store_error = None;
    let handed = batch::run(&analyze, TableStyle::Gtzan, models, jobs, |path, result| {
        if store_error.is_some() {
            return;
        }
        let (file, hash) = by_path[path];
        let stored = match result {
            Ok(analysis) => {
                outcome.audio_seconds +=
                    analysis.frames as f64 / f64::from(analysis.info.sample_rate);
                outcome.analyzed += 1;
                let track = track(&file.key, hash, &analysis);
                library.put_track(&track, file.stamp, recipe).map(|_| ())
            }
            Err(e) => {
                outcome.failed += 1;
                library.put_failure(&file.key, file.stamp, hash, &e, recipe)
            }
        };
        if let Err(e) = stored {
            // Nowhere to write (a full disk, say): stop starting files.
            store_error = Some(e);
            batch::STOP.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    if let Some(e) = store_error {
        return Err(e);
    }
    outcome.not_started = analyze.len() - handed;
    Ok(outcome)
}

/// The models a library's tracks are described by (the patch network `network`, "cnn" or
/// "musicnn", and BeatNet), and what they are recorded as.
pub fn models(network: &str, keep_patches: bool) -> Result<(Models, Recipe), String> {
    let variant = match network {
        "musicnn" => Variant::Musicnn,
        _ => Variant::Cnn,
    };
    let tagger = Tagger::load(variant).map_err(|e| e.to_string())?;
    let beats = BeatNet::load().map_err(|e| e.to_string())?;
    let recipe = Recipe {
        network: (variant.name().into(), variant.fingerprint()),
        beats: Some(BeatNet::fingerprint()),
    };
    let models = Models {
        keep_patch_embeddings: keep_patches,
        ..Models::for_library(std::sync::Arc::new(tagger), std::sync::Arc::new(beats))
    };
    Ok((models, recipe))
}

/// BLAKE3 of a file's bytes, in hex.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// What the library keeps of one analysis.
pub fn track(path: &str, hash: &str, a: &Analysis) -> Track {
    let clip = &a.clip;
    let network = clip.network_output.as_ref();
    let best = |p: &[(String, f64)]| {
        p.iter()
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .map(|(c, v)| (c.clone(), *v))
    };
    let beats = clip.beats.as_ref();
    let finite = |x: f64| x.is_finite().then_some(x);
    let title = a.info.tags.title.clone().or_else(|| {
        Path::new(path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
    });
    Track {
        id: 0,
        path: path.to_string(),
        hash: hash.to_string(),
        duration: a.frames as f64 / f64::from(a.info.sample_rate),
        format: format!("{}/{}", a.info.codec, a.info.container),
        title,
        artist: a.info.tags.artist.clone(),
        album: a.info.tags.album.clone(),
        genre: network.and_then(|n| best(&n.genre)),
        mood: network.and_then(|n| best(&n.mood)),
        valence: network.map(|n| n.valence),
        arousal: network.map(|n| n.arousal),
        tags: network.map_or(Vec::new(), |n| {
            n.top_tags.iter().map(|t| t.0.to_string()).collect()
        }),
        tempo: beats
            .and_then(|b| b.tempo_bpm)
            .or((clip.table.tempo > 0.0).then_some(clip.table.tempo)),
        meter: beats.and_then(|b| b.beats_per_bar),
        key: clip.key.map(|k| k.name()),
        loudness_lufs: finite(clip.loudness.integrated_lufs),
        vectors: describe(&Description {
            table: &clip.table,
            network,
            beats,
        }),
        patch_embeddings: clip.patch_embeddings.clone(),
    }
}
