//! What the library commands share: where the library is, the models that describe a file,
//! naming a track or a file as a query, and writing a list of tracks.

use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mirador_app::batch;
use mirador_app::indexing;
use mirador_dsp::clip::TableStyle;
use mirador_library::{Catalog, Facet, Hit, Library, Query, Track};
use serde_json::json;

use crate::cli::{LibraryArgs, ListFormat};

/// The message, and exit status 2.
pub fn fail(e: impl Display) -> ExitCode {
    eprintln!("mirador: {e}");
    ExitCode::from(2)
}

/// `--library`, else [`Library::default_path`].
pub fn library_path(args: &LibraryArgs) -> PathBuf {
    args.library.clone().unwrap_or_else(Library::default_path)
}

/// The library's analyzed tracks, ready to search; an empty library is an error that says
/// how to fill it.
pub fn open_catalog(args: &LibraryArgs) -> Result<Catalog, String> {
    Catalog::open(&library_path(args)).map_err(|e| e.to_string())
}

/// A query: a catalogued track, or a file described on the fly.
pub struct Named {
    /// Its place in the catalog, when it is there.
    pub index: Option<usize>,
    pub query: Query,
    pub genre: Option<String>,
    pub track: Track,
}

/// `text` as a query: a file (the library's own analysis when the library has it, else
/// analyzed now), `#ID`, or a part of one track's path, title or artist.
pub fn resolve(catalog: &Catalog, text: &str) -> Result<Named, String> {
    let path = Path::new(text);
    if path.is_file() {
        let canonical = path.canonicalize().map_err(|e| format!("{text}: {e}"))?;
        let key = canonical.to_string_lossy();
        if let Some(i) = catalog.tracks.iter().position(|t| t.path == key) {
            return Ok(named(catalog, i));
        }
        // Elsewhere on disk, perhaps a copy of a library track.
        let hash = indexing::hash_file(&canonical).map_err(|e| format!("{text}: {e}"))?;
        if let Some(i) = catalog.tracks.iter().position(|t| t.hash == hash) {
            return Ok(named(catalog, i));
        }
        eprintln!("mirador: {text} is not in the library: analyzing it");
        let (models, _) = indexing::models("cnn", false)?;
        let analysis = batch::analyze_file(&canonical, TableStyle::Gtzan, &models)
            .map_err(|e| format!("{text}: {e}"))?;
        let track = indexing::track(&key, &hash, &analysis);
        return Ok(Named {
            index: None,
            query: catalog.query(&track.vectors),
            genre: track.genre.as_ref().map(|g| g.0.clone()),
            track,
        });
    }
    if let Some(id) = text.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
        return catalog
            .tracks
            .iter()
            .position(|t| t.id == id)
            .map(|i| named(catalog, i))
            .ok_or_else(|| format!("no track #{id} in the library"));
    }
    let needle = text.to_lowercase();
    let matches: Vec<usize> = (0..catalog.len())
        .filter(|&i| {
            let t = &catalog.tracks[i];
            [Some(&t.path), t.title.as_ref(), t.artist.as_ref()]
                .into_iter()
                .flatten()
                .any(|s| s.to_lowercase().contains(&needle))
        })
        .collect();
    match matches.as_slice() {
        [i] => Ok(named(catalog, *i)),
        [] => Err(format!(
            "{text}: no such file, and no library track's path, title or artist contains it"
        )),
        many => {
            let listed: Vec<String> = many
                .iter()
                .take(5)
                .map(|&i| format!("#{} {}", catalog.tracks[i].id, catalog.tracks[i].path))
                .collect();
            Err(format!(
                "{text} names {} tracks; choose one by id or a longer part of its path: {}{}",
                many.len(),
                listed.join(", "),
                if many.len() > 5 { ", ..." } else { "" }
            ))
        }
    }
}

fn named(catalog: &Catalog, index: usize) -> Named {
    let track = catalog.tracks[index].clone();
    Named {
        index: Some(index),
        query: catalog.query_of(index),
        genre: track.genre.as_ref().map(|g| g.0.clone()),
        track,
    }
}

/// One line of a result list.
pub struct Row<'a> {
    pub track: &'a Track,
    pub score: Option<f32>,
    /// Per-facet similarities and the reasons, for similarity results.
    pub hit: Option<&'a Hit>,
    /// What matched, for word searches.
    pub matched: Option<String>,
}

/// Writes `rows` to standard output in `format`.
pub fn write_rows(format: ListFormat, rows: &[Row]) -> Result<(), String> {
    let text = render_rows(format, rows)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

/// `rows` in `format`.
pub fn render_rows(format: ListFormat, rows: &[Row]) -> Result<String, String> {
    Ok(match format {
        ListFormat::Table => table(rows),
        ListFormat::M3u => m3u(rows.iter().map(|r| r.track)),
        ListFormat::Json => {
            let list: Vec<_> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| row_json(i, r))
                .collect();
            serde_json::to_string_pretty(&list).map_err(|e| e.to_string())? + "\n"
        }
        ListFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let mut header = vec!["rank", "score", "id", "path", "title", "artist", "genre"];
            header.extend(["tempo", "key", "reasons"]);
            header.extend(Facet::ALL.iter().map(|f| f.name()));
            writer.write_record(&header).map_err(|e| e.to_string())?;
            for (i, r) in rows.iter().enumerate() {
                let t = r.track;
                let mut record = vec![
                    (i + 1).to_string(),
                    r.score.map_or(String::new(), |s| format!("{s:.4}")),
                    t.id.to_string(),
                    t.path.clone(),
                    t.title.clone().unwrap_or_default(),
                    t.artist.clone().unwrap_or_default(),
                    t.genre.as_ref().map_or(String::new(), |g| g.0.clone()),
                    t.tempo.map_or(String::new(), |b| format!("{b:.1}")),
                    t.key.clone().unwrap_or_default(),
                    reasons(r),
                ];
                record.extend(Facet::ALL.iter().map(|f| {
                    r.hit
                        .and_then(|h| h.facets[f.index()])
                        .map_or(String::new(), |s| format!("{s:.4}"))
                }));
                writer.write_record(&record).map_err(|e| e.to_string())?;
            }
            String::from_utf8(writer.into_inner().map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?
        }
    })
}

/// An M3U8 playlist: what players read, with each track's length and name.
pub fn m3u<'a>(tracks: impl Iterator<Item = &'a Track>) -> String {
    let mut text = String::from("#EXTM3U\n");
    for t in tracks {
        let name = match (&t.artist, &t.title) {
            (Some(a), Some(title)) => format!("{a} - {title}"),
            (None, Some(title)) => title.clone(),
            _ => t.path.clone(),
        };
        text += &format!("#EXTINF:{},{name}\n{}\n", t.duration.round() as i64, t.path);
    }
    text
}

fn reasons(r: &Row) -> String {
    match (r.hit, &r.matched) {
        (Some(hit), _) => hit
            .reasons()
            .iter()
            .map(|f| format!("{} {:.2}", f.name(), hit.facets[f.index()].unwrap_or(0.0)))
            .collect::<Vec<_>>()
            .join(", "),
        (None, Some(m)) => m.clone(),
        (None, None) => String::new(),
    }
}

fn row_json(i: usize, r: &Row) -> serde_json::Value {
    let t = r.track;
    let facets: serde_json::Map<String, serde_json::Value> =
        r.hit.map_or_else(Default::default, |h| {
            Facet::ALL
                .iter()
                .filter_map(|f| h.facets[f.index()].map(|s| (f.name().to_string(), json!(s))))
                .collect()
        });
    json!({
        "rank": i + 1,
        "score": r.score,
        "id": t.id,
        "path": t.path,
        "title": t.title,
        "artist": t.artist,
        "album": t.album,
        "duration_seconds": t.duration,
        "genre": t.genre.as_ref().map(|g| &g.0),
        "mood": t.mood.as_ref().map(|m| &m.0),
        "tags": t.tags,
        "tempo_bpm": t.tempo,
        "beats_per_bar": t.meter,
        "key": t.key,
        "loudness_lufs": t.loudness_lufs,
        "facets": r.hit.map(|_| facets),
        "reasons": r.hit.map(|h| h.reasons().iter().map(|f| f.name()).collect::<Vec<_>>()),
        "matched": r.matched,
    })
}

fn table(rows: &[Row]) -> String {
    let name = |t: &Track| {
        let title = t.title.clone().unwrap_or_else(|| t.path.clone());
        match &t.artist {
            Some(a) => format!("{a} - {title}"),
            None => title,
        }
    };
    let width = rows
        .iter()
        .map(|r| name(r.track).chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 48);
    let mut text = format!(
        "{:>3}  {:>5}  {:<width$}  {:<9}  {:>5}  {:<9}  why\n",
        "#", "score", "track", "genre", "bpm", "key"
    );
    for (i, r) in rows.iter().enumerate() {
        let t = r.track;
        let mut shown: String = name(t).chars().take(width).collect();
        if name(t).chars().count() > width {
            shown.pop();
            shown.push('…');
        }
        text += &format!(
            "{:>3}  {:>5}  {:<width$}  {:<9}  {:>5}  {:<9}  {}\n",
            i + 1,
            r.score.map_or(String::new(), |s| format!("{s:.3}")),
            shown,
            t.genre.as_ref().map_or("", |g| g.0.as_str()),
            t.tempo.map_or(String::new(), |b| format!("{b:.0}")),
            t.key.as_deref().unwrap_or(""),
            reasons(r),
        );
    }
    text
}
