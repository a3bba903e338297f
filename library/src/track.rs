//! What the library keeps of one file.

use crate::facets::Vectors;

/// Size and modification time: a file with both unchanged is not read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        Stamp {
            size: meta.len(),
            mtime_ns,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Analyzed; its vectors are stored.
    Ok,
    /// Could not be analyzed; `error` says why.
    Failed,
    /// Gone from where it was indexed.
    Missing,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Missing => "missing",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        [Status::Ok, Status::Failed, Status::Missing]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// One track: the file, what the models said, and its vectors.
#[derive(Debug, Clone, Default)]
pub struct Track {
    /// Row id (0 for one not yet stored).
    pub id: i64,
    /// Absolute path.
    pub path: String,
    /// BLAKE3 of the file's bytes, in hex.
    pub hash: String,
    pub duration: f64,
    /// Codec and container, e.g. "flac/flac".
    pub format: String,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    /// The most probable GTZAN genre and its probability.
    pub genre: Option<(String, f64)>,
    /// The most probable 4Q quadrant and its probability.
    pub mood: Option<(String, f64)>,
    pub valence: Option<f64>,
    pub arousal: Option<f64>,
    /// The most likely MSD tags, most likely first.
    pub tags: Vec<String>,
    pub tempo: Option<f64>,
    pub meter: Option<u8>,
    pub key: Option<String>,
    pub loudness_lufs: Option<f64>,
    /// Raw facet vectors (see `facets::describe`).
    pub vectors: Vectors,
    /// Each 3 s patch's embedding, in order (none unless asked for).
    pub patch_embeddings: Vec<Vec<f32>>,
}

/// A file the library has seen, as the index run needs it.
#[derive(Debug, Clone)]
pub struct Known {
    pub id: i64,
    pub path: String,
    pub stamp: Stamp,
    pub hash: String,
    pub status: Status,
    /// The models and versions that made the stored vectors (see `Recipe`).
    pub recipe: String,
}
