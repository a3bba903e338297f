//! The library on disk: one SQLite database (bundled SQLite, WAL journal), one row per file
//! and one per stored vector. Every track is written in one transaction, so a run stopped at
//! any moment, `kill -9` included, leaves the library as it was after the last finished
//! track. Only one writer at a time: `mirador index` holds `<library>.lock`.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::facets::{Facet, Vectors, FACETS_VERSION};
use crate::track::{Known, Stamp, Status, Track};
use crate::LibraryError;

/// The library format this Mirador writes; a library of a later format is refused.
pub const SCHEMA_VERSION: i64 = 1;
/// SQLite's `application_id` of a Mirador library ("MIRA").
const APPLICATION_ID: i64 = 0x4D49_5241;

const SCHEMA: &str = "
CREATE TABLE tracks (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'missing')),
    error TEXT,
    recipe TEXT NOT NULL,
    indexed_at INTEGER NOT NULL,
    duration REAL,
    format TEXT,
    title TEXT,
    artist TEXT,
    album TEXT,
    genre TEXT,
    genre_probability REAL,
    mood TEXT,
    mood_probability REAL,
    valence REAL,
    arousal REAL,
    tags TEXT,
    tempo REAL,
    meter INTEGER,
    key TEXT,
    loudness_lufs REAL
);
CREATE INDEX tracks_hash ON tracks (hash);
CREATE TABLE vectors (
    track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    rows INTEGER NOT NULL,
    dim INTEGER NOT NULL,
    encoding TEXT NOT NULL CHECK (encoding IN ('f32', 'f16')),
    data BLOB NOT NULL,
    PRIMARY KEY (track_id, kind)
);
";

/// What made a track's vectors: the patch network and the beat tracker, by name and
/// fingerprint, and the facets' version. A track made by another recipe is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// E.g. ("cnn", its fingerprint).
    pub network: (String, String),
    /// BeatNet's fingerprint, when beats were tracked (tempo and meter in the rhythm facet).
    pub beats: Option<String>,
}

impl Recipe {
    pub fn text(&self) -> String {
        let beats = self.beats.as_deref().unwrap_or("none");
        format!(
            "{}:{} beatnet:{beats} {FACETS_VERSION}",
            self.network.0, self.network.1
        )
    }

    /// The model and version a facet's vector is recorded as made by.
    pub fn made_by(&self, facet: Facet) -> (String, String) {
        match facet {
            f if f.from_network() => self.network.clone(),
            Facet::Rhythm => (
                "mirador-dsp+beatnet".into(),
                format!(
                    "{FACETS_VERSION}+{}",
                    self.beats.as_deref().unwrap_or("none")
                ),
            ),
            _ => ("mirador-dsp".into(), FACETS_VERSION.into()),
        }
    }
}

/// An open library.
pub struct Library {
    conn: Connection,
    path: PathBuf,
    /// Held while the library is open for update.
    _lock: Option<File>,
}

/// Counts of tracks by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub ok: usize,
    pub failed: usize,
    pub missing: usize,
}

impl Library {
    /// Where the library is when none is named: `$MIRADOR_LIBRARY`, else `library.db` in
    /// the user's data directory (`~/.local/share/mirador/` on Linux).
    pub fn default_path() -> PathBuf {
        if let Some(path) = std::env::var_os("MIRADOR_LIBRARY").filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("mirador")
            .join("library.db")
    }

    /// Opens an existing library to read.
    pub fn open(path: &Path) -> Result<Library, LibraryError> {
        if !path.exists() {
            return Err(LibraryError::Missing { path: path.into() });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| not_a_library(path, e))?;
        let library = Library {
            conn,
            path: path.into(),
            _lock: None,
        };
        library.configure()?;
        match library.format()? {
            Format::Empty => Err(LibraryError::Missing { path: path.into() }),
            Format::Mirador => Ok(library),
        }
    }

    /// Opens a library to update, creating it (and its folder) if need be, and takes the
    /// writer's lock: a second writer gets [`LibraryError::Busy`].
    pub fn open_for_update(path: &Path) -> Result<Library, LibraryError> {
        let io = |e: std::io::Error| LibraryError::Io {
            path: path.into(),
            reason: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let lock_path = lock_path(path);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| LibraryError::Io {
                path: lock_path.clone(),
                reason: e.to_string(),
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LibraryError::Busy { path: path.into() })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let conn = Connection::open(path).map_err(|e| not_a_library(path, e))?;
        let mut library = Library {
            conn,
            path: path.into(),
            _lock: Some(lock),
        };
        library.configure()?;
        if library.format()? == Format::Empty {
            library.create()?;
        }
        library
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| not_a_library(path, e))?;
        // WAL with NORMAL: a crash loses at most the last transactions, never consistency.
        library.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(library)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> Result<(), LibraryError> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| not_a_library(&self.path, e))?;
        self.conn
            .pragma_update(None, "foreign_keys", true)
            .map_err(|e| not_a_library(&self.path, e))?;
        Ok(())
    }

    /// Whether this is an empty database, a Mirador library this version reads, or an error.
    fn format(&self) -> Result<Format, LibraryError> {
        let read = |pragma: &str| -> Result<i64, LibraryError> {
            self.conn
                .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
                .map_err(|e| not_a_library(&self.path, e))
        };
        let (application, version) = (read("application_id")?, read("user_version")?);
        let tables: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| not_a_library(&self.path, e))?;
        if application == 0 && tables == 0 {
            return Ok(Format::Empty);
        }
        if application != APPLICATION_ID {
            return Err(LibraryError::NotALibrary {
                path: self.path.clone(),
                reason: "another program's SQLite database".into(),
            });
        }
        if version > SCHEMA_VERSION {
            return Err(LibraryError::Newer {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Format::Mirador)
    }

    fn create(&mut self) -> Result<(), LibraryError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(SCHEMA)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    /// Every file the library has seen, by path.
    pub fn known(&self) -> Result<HashMap<String, Known>, LibraryError> {
        let mut statement = self
            .conn
            .prepare("SELECT id, path, size, mtime_ns, hash, status, recipe FROM tracks")?;
        let rows = statement.query_map([], |r| {
            Ok(Known {
                id: r.get(0)?,
                path: r.get(1)?,
                stamp: Stamp {
                    size: r.get::<_, i64>(2)? as u64,
                    mtime_ns: r.get(3)?,
                },
                hash: r.get(4)?,
                status: Status::from_name(&r.get::<_, String>(5)?).unwrap_or(Status::Failed),
                recipe: r.get(6)?,
            })
        })?;
        let mut known = HashMap::new();
        for row in rows {
            let row = row?;
            known.insert(row.path.clone(), row);
        }
        Ok(known)
    }

    /// Stores an analyzed track and its vectors in one transaction, replacing what was stored
    /// for its path; returns its id.
    pub fn put_track(
        &mut self,
        track: &Track,
        stamp: Stamp,
        recipe: &Recipe,
    ) -> Result<i64, LibraryError> {
        let tx = self.conn.transaction()?;
        let id = upsert(
            &tx,
            &track.path,
            stamp,
            &track.hash,
            Status::Ok,
            None,
            recipe,
        )?;
        tx.execute(
            "UPDATE tracks SET duration = ?2, format = ?3, title = ?4, artist = ?5, album = ?6,
                genre = ?7, genre_probability = ?8, mood = ?9, mood_probability = ?10,
                valence = ?11, arousal = ?12, tags = ?13, tempo = ?14, meter = ?15, key = ?16,
                loudness_lufs = ?17
             WHERE id = ?1",
            params![
                id,
                track.duration,
                track.format,
                track.title,
                track.artist,
                track.album,
                track.genre.as_ref().map(|g| &g.0),
                track.genre.as_ref().map(|g| g.1),
                track.mood.as_ref().map(|m| &m.0),
                track.mood.as_ref().map(|m| m.1),
                track.valence,
                track.arousal,
                track.tags.join(", "),
                track.tempo,
                track.meter,
                track.key,
                track.loudness_lufs,
            ],
        )?;
        tx.execute("DELETE FROM vectors WHERE track_id = ?1", [id])?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO vectors (track_id, kind, model, version, rows, dim, encoding, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for facet in Facet::ALL {
                if let Some(v) = track.vectors.get(facet) {
                    let (model, version) = recipe.made_by(facet);
                    insert.execute(params![
                        id,
                        facet.name(),
                        model,
                        version,
                        1,
                        v.len() as i64,
                        "f32",
                        f32_bytes(v)
                    ])?;
                }
            }
            if let Some(first) = track.patch_embeddings.first() {
                // Half precision: a 4-minute track's 80 patches take 32 KB.
                let data: Vec<u8> = track
                    .patch_embeddings
                    .iter()
                    .flatten()
                    .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
                    .collect();
                let (model, version) = recipe.network.clone();
                insert.execute(params![
                    id,
                    "patches",
                    model,
                    version,
                    track.patch_embeddings.len() as i64,
                    first.len() as i64,
                    "f16",
                    data
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// Records a file that could not be analyzed, and why (its old vectors are dropped).
    pub fn put_failure(
        &mut self,
        path: &str,
        stamp: Stamp,
        hash: &str,
        error: &str,
        recipe: &Recipe,
    ) -> Result<(), LibraryError> {
        let tx = self.conn.transaction()?;
        let id = upsert(&tx, path, stamp, hash, Status::Failed, Some(error), recipe)?;
        tx.execute("DELETE FROM vectors WHERE track_id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// A known track found at another path (same content): it keeps its id and vectors. A
    /// row already at the new path (a failure, say) gives way.
    pub fn move_track(&mut self, id: i64, path: &str, stamp: Stamp) -> Result<(), LibraryError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM tracks WHERE path = ?1 AND id != ?2",
            params![path, id],
        )?;
        tx.execute(
            "UPDATE tracks SET path = ?2, size = ?3, mtime_ns = ?4, status = 'ok' WHERE id = ?1",
            params![id, path, stamp.size as i64, stamp.mtime_ns],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A file touched but not changed (same hash): only its stamp is updated.
    pub fn touch(&mut self, id: i64, stamp: Stamp) -> Result<(), LibraryError> {
        self.conn.execute(
            "UPDATE tracks SET size = ?2, mtime_ns = ?3 WHERE id = ?1",
            params![id, stamp.size as i64, stamp.mtime_ns],
        )?;
        Ok(())
    }

    /// Marks tracks whose files are gone; they stay (with their vectors) until found again.
    pub fn mark_missing(&mut self, ids: &[i64]) -> Result<(), LibraryError> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute("UPDATE tracks SET status = 'missing' WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn counts(&self) -> Result<Counts, LibraryError> {
        let mut counts = Counts::default();
        let mut statement = self
            .conn
            .prepare("SELECT status, count(*) FROM tracks GROUP BY status")?;
        let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
        for row in rows {
            let (status, n): (String, i64) = row?;
            match Status::from_name(&status) {
                Some(Status::Ok) => counts.ok = n as usize,
                Some(Status::Failed) => counts.failed = n as usize,
                Some(Status::Missing) => counts.missing = n as usize,
                None => {}
            }
        }
        Ok(counts)
    }

    /// Every analyzed track (status ok) with its facet vectors, in id order; patch embeddings
    /// are not loaded (see [`Library::patch_embeddings`]).
    pub fn tracks(&self) -> Result<Vec<Track>, LibraryError> {
        let mut statement = self.conn.prepare(
            "SELECT id, path, hash, duration, format, title, artist, album, genre,
                    genre_probability, mood, mood_probability, valence, arousal, tags, tempo,
                    meter, key, loudness_lufs
             FROM tracks WHERE status = 'ok' ORDER BY id",
        )?;
        let rows = statement.query_map([], |r| {
            let pair = |name: Option<String>, p: Option<f64>| name.map(|n| (n, p.unwrap_or(0.0)));
            let tags: Option<String> = r.get(14)?;
            Ok(Track {
                id: r.get(0)?,
                path: r.get(1)?,
                hash: r.get(2)?,
                duration: r.get::<_, Option<f64>>(3)?.unwrap_or(0.0),
                format: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                title: r.get(5)?,
                artist: r.get(6)?,
                album: r.get(7)?,
                genre: pair(r.get(8)?, r.get(9)?),
                mood: pair(r.get(10)?, r.get(11)?),
                valence: r.get(12)?,
                arousal: r.get(13)?,
                tags: tags
                    .unwrap_or_default()
                    .split(", ")
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
                tempo: r.get(15)?,
                meter: r.get(16)?,
                key: r.get(17)?,
                loudness_lufs: r.get(18)?,
                vectors: Vectors::default(),
                patch_embeddings: Vec::new(),
            })
        })?;
        let mut tracks = Vec::new();
        let mut index = HashMap::new();
        for row in rows {
            let track = row?;
            index.insert(track.id, tracks.len());
            tracks.push(track);
        }
        let mut statement = self.conn.prepare(
            "SELECT v.track_id, v.kind, v.data FROM vectors v JOIN tracks t ON t.id = v.track_id
             WHERE t.status = 'ok' AND v.encoding = 'f32'",
        )?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        for row in rows {
            let (id, kind, data) = row?;
            if let (Some(&i), Some(facet)) = (index.get(&id), Facet::from_name(&kind)) {
                let v = f32_values(&data);
                if v.len() == facet.dims() {
                    tracks[i].vectors.0[facet.index()] = v;
                }
            }
        }
        Ok(tracks)
    }

    /// A track's 3 s patch embeddings, oldest first.
    pub fn patch_embeddings(&self, id: i64) -> Result<Vec<Vec<f32>>, LibraryError> {
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT dim, data FROM vectors WHERE track_id = ?1 AND kind = 'patches'",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((dim, data)) = row else {
            return Ok(Vec::new());
        };
        let values: Vec<f32> = data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        Ok(values
            .chunks_exact(dim.max(1) as usize)
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// The (kind, model, version) of each vector stored for a track.
    pub fn vector_versions(&self, id: i64) -> Result<Vec<(String, String, String)>, LibraryError> {
        let mut statement = self.conn.prepare(
            "SELECT kind, model, version FROM vectors WHERE track_id = ?1 ORDER BY kind",
        )?;
        let rows = statement.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Why a file failed, for those that did.
    pub fn failures(&self) -> Result<Vec<(String, String)>, LibraryError> {
        let mut statement = self.conn.prepare(
            "SELECT path, coalesce(error, '') FROM tracks WHERE status = 'failed' ORDER BY path",
        )?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Format {
    Empty,
    Mirador,
}

/// The writer's lock file beside a library.
pub fn lock_path(library: &Path) -> PathBuf {
    let mut name = library.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn upsert(
    tx: &rusqlite::Transaction,
    path: &str,
    stamp: Stamp,
    hash: &str,
    status: Status,
    error: Option<&str>,
    recipe: &Recipe,
) -> Result<i64, LibraryError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ok(tx.query_row(
        "INSERT INTO tracks (path, size, mtime_ns, hash, status, error, recipe, indexed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (path) DO UPDATE SET size = ?2, mtime_ns = ?3, hash = ?4, status = ?5,
             error = ?6, recipe = ?7, indexed_at = ?8
         RETURNING id",
        params![
            path,
            stamp.size as i64,
            stamp.mtime_ns,
            hash,
            status.name(),
            error,
            recipe.text(),
            now
        ],
        |r| r.get(0),
    )?)
}

fn not_a_library(path: &Path, e: rusqlite::Error) -> LibraryError {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => LibraryError::Busy { path: path.into() },
        Some(CannotOpen | PermissionDenied | ReadOnly) => LibraryError::Io {
            path: path.into(),
            reason: e.to_string(),
        },
        _ => LibraryError::NotALibrary {
            path: path.into(),
            reason: e.to_string(),
        },
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32_values(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A library file in a fresh folder, which is removed when the test ends.
    fn temp(name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::Builder::new()
            .prefix(&format!("mirador-store-{name}-"))
            .tempdir()
            .unwrap();
        let path = dir.path().join("library.db");
        (dir, path)
    }

    fn recipe() -> Recipe {
        Recipe {
            network: ("cnn".into(), "0123".into()),
            beats: Some("4567".into()),
        }
    }

    fn track(path: &str) -> Track {
        let mut vectors = Vectors::default();
        vectors.0[Facet::Timbre.index()] = (0..Facet::Timbre.dims()).map(|i| i as f32).collect();
        vectors.0[Facet::Mood.index()] = vec![0.5; Facet::Mood.dims()];
        Track {
            path: path.into(),
            hash: format!("hash of {path}"),
            duration: 30.0,
            genre: Some(("rock".into(), 0.8)),
            tags: vec!["rock".into(), "guitar".into()],
            tempo: Some(120.0),
            meter: Some(4),
            vectors,
            patch_embeddings: vec![vec![0.25; 200], vec![-0.5; 200]],
            ..Track::default()
        }
    }

    const STAMP: Stamp = Stamp {
        size: 10,
        mtime_ns: 20,
    };

    #[test]
    fn tracks_and_vectors_survive_reopening() {
        let (_dir, path) = temp("roundtrip");
        let mut library = Library::open_for_update(&path).unwrap();
        let id = library
            .put_track(&track("/a.flac"), STAMP, &recipe())
            .unwrap();
        library
            .put_failure("/b.flac", STAMP, "h", "no audio track", &recipe())
            .unwrap();
        // Stored again under the same path: replaced, not duplicated.
        assert_eq!(
            library
                .put_track(&track("/a.flac"), STAMP, &recipe())
                .unwrap(),
            id
        );
        drop(library);
        let library = Library::open(&path).unwrap();
        assert_eq!(
            library.counts().unwrap(),
            Counts {
                ok: 1,
                failed: 1,
                missing: 0
            }
        );
        let tracks = library.tracks().unwrap();
        let t = &tracks[0];
        assert_eq!((t.tempo, t.meter, t.tags.len()), (Some(120.0), Some(4), 2));
        assert_eq!(t.vectors, track("/a.flac").vectors);
        let patches = library.patch_embeddings(id).unwrap();
        assert_eq!((patches.len(), patches[1][0]), (2, -0.5));
        let versions = library.vector_versions(id).unwrap();
        assert!(versions.contains(&("mood".into(), "cnn".into(), "0123".into())));
        assert!(versions.contains(&("timbre".into(), "mirador-dsp".into(), FACETS_VERSION.into())));
        assert_eq!(library.failures().unwrap()[0].1, "no audio track");
        assert_eq!(library.known().unwrap()["/a.flac"].recipe, recipe().text());
    }

    #[test]
    fn moves_and_missing_files_keep_the_track() {
        let (_dir, path) = temp("moves");
        let mut library = Library::open_for_update(&path).unwrap();
        let id = library
            .put_track(&track("/a.flac"), STAMP, &recipe())
            .unwrap();
        library.mark_missing(&[id]).unwrap();
        assert_eq!(library.counts().unwrap().missing, 1);
        library.move_track(id, "/new/a.flac", STAMP).unwrap();
        let known = library.known().unwrap();
        assert_eq!(known["/new/a.flac"].id, id);
        assert_eq!(known["/new/a.flac"].status, Status::Ok);
        assert_eq!(library.patch_embeddings(id).unwrap().len(), 2);
    }

    #[test]
    fn one_writer_at_a_time_and_foreign_files_are_left_alone() {
        let (_dir, path) = temp("lock");
        let first = Library::open_for_update(&path).unwrap();
        assert!(matches!(
            Library::open_for_update(&path),
            Err(LibraryError::Busy { .. })
        ));
        // Readers are welcome while it writes.
        assert!(Library::open(&path).is_ok());
        drop(first);
        assert!(Library::open_for_update(&path).is_ok());

        let text = path.with_file_name("notes.db");
        std::fs::write(&text, "not a database at all, but someone's notes").unwrap();
        for result in [Library::open(&text), Library::open_for_update(&text)] {
            assert!(matches!(result, Err(LibraryError::NotALibrary { .. })));
        }
        assert_eq!(
            std::fs::read_to_string(&text).unwrap(),
            "not a database at all, but someone's notes"
        );

        let other = path.with_file_name("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE songs (name TEXT)")
            .unwrap();
        let e = Library::open_for_update(&other).err().unwrap();
        assert!(e.to_string().contains("another program's"), "{e}");

        assert!(matches!(
            Library::open(&path.with_file_name("none.db")),
            Err(LibraryError::Missing { .. })
        ));
    }

    #[test]
    fn a_library_from_a_newer_mirador_is_refused() {
        let (_dir, path) = temp("newer");
        drop(Library::open_for_update(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        for result in [Library::open(&path), Library::open_for_update(&path)] {
            let e = result.err().unwrap();
            assert!(matches!(e, LibraryError::Newer { .. }), "{e}");
            assert!(e.to_string().contains("newer Mirador"));
        }
    }
}
