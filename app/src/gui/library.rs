//! The window's library panel: word search, "more like this" for what is playing (the
//! whole file, or the last 30 s of the input), the reference tracks the engine keeps finding,
//! and a click on any track to play it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;

use egui::{Color32, RichText, Ui};
use mirador_dsp::clip::TableStyle;
use mirador_engine::References;
use mirador_library::text::{self, TextEncoder, Vocabulary};
use mirador_library::{Catalog, Query, Track};
use mirador_view::tracks::{details, references, track_row, Known};

use crate::{batch, indexing};

/// Tracks listed for a search or a "more like this".
const LISTED: usize = 25;
/// The panel's width, in points, before the user drags its edge.
pub const PANEL_WIDTH: f32 = 360.0;

/// What the window is analyzing, as the panel needs it.
pub enum Playing<'a> {
    /// A file, by its canonical path.
    File(&'a Path),
    Input,
}

pub struct LibraryPanel {
    catalog: Arc<Catalog>,
    vocabulary: Vocabulary,
    query: String,
    /// Blend the search with similarity to what is playing ("like this, but calmer").
    like_playing: bool,
    /// The playing file as a query, once described.
    described: Option<Described>,
    /// A file not in the library being analyzed on a helper thread.
    describing: Option<(PathBuf, Receiver<Result<Track, String>>)>,
    /// What to do once the playing file is described.
    after_describing: Wanted,
    listed: Listed,
}

struct Described {
    path: PathBuf,
    /// Its place in the catalog, when it is there.
    index: Option<usize>,
    track: Track,
    query: Query,
}

#[derive(Clone, Copy, PartialEq)]
enum Wanted {
    Nothing,
    Search,
    Similar,
}

/// The list on show: a heading, a note (what a search understood), and the tracks.
#[derive(Default)]
struct Listed {
    heading: String,
    note: Option<String>,
    rows: Vec<Row>,
}

struct Row {
    index: usize,
    score: f32,
    /// Why it is listed: the facets that made it close, or the search terms' scores.
    why: String,
}

impl LibraryPanel {
    pub fn new(catalog: Arc<Catalog>, genres: Vec<String>) -> Self {
        Self {
            catalog,
            vocabulary: Vocabulary::new(genres),
            query: String::new(),
            like_playing: false,
            described: None,
            describing: None,
            after_describing: Wanted::Nothing,
            listed: Listed::default(),
        }
    }

    /// Draws the panel; returns the path of a track the user clicked to play.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        playing: Playing,
        heard: Option<&References>,
    ) -> Option<PathBuf> {
        self.take_description(&playing);
        ui.horizontal(|ui| {
            ui.heading("Library");
            ui.label(RichText::new(format!("{} tracks", self.catalog.len())).small());
        });
        let search = ui.horizontal(|ui| {
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.query)
                    .hint_text("calm acoustic, fast metal, 90-110 bpm")
                    .desired_width(PANEL_WIDTH - 90.0),
            );
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.button("Search").clicked() || entered
        });
        let is_file = matches!(playing, Playing::File(_));
        ui.horizontal(|ui| {
            ui.add_enabled(
                is_file,
                egui::Checkbox::new(&mut self.like_playing, "like what is playing"),
            );
            if ui.button("More like this").clicked() {
                self.want(Wanted::Similar, &playing, heard);
            }
        });
        if search.inner {
            self.want(Wanted::Search, &playing, heard);
        }
        if let Some((path, _)) = &self.describing {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("describing {}", file_name(path)));
            });
        }
        let mut clicked = None;
        ui.separator();
        if !self.listed.heading.is_empty() {
            ui.label(RichText::new(&self.listed.heading).strong());
        }
        if let Some(note) = &self.listed.note {
            ui.label(RichText::new(note).small().color(Color32::GRAY));
        }
        let list_height = (ui.available_height() * 0.6).max(80.0);
        egui::ScrollArea::vertical()
            .id_salt("library-results")
            .max_height(list_height)
            .show(ui, |ui| {
                for row in &self.listed.rows {
                    let t = &self.catalog.tracks[row.index];
                    let known = Known {
                        artist: t.artist.as_deref(),
                        genre: t.genre.as_ref().map(|g| g.0.as_str()),
                        tempo: t.tempo,
                        key: t.key.as_deref(),
                    };
                    let line = details(known, row.score, &row.why);
                    if track_row(ui, &title(t), &line, &t.path) {
                        clicked = Some(PathBuf::from(&t.path));
                    }
                }
            });
        ui.separator();
        ui.label(RichText::new("Sounds like now").strong());
        let skip = match playing {
            Playing::File(path) => Some(path.to_string_lossy()),
            Playing::Input => None,
        };
        egui::ScrollArea::vertical()
            .id_salt("library-references")
            .show(ui, |ui| {
                if let Some(path) = references(ui, heard, skip.as_deref()) {
                    clicked = Some(PathBuf::from(path));
                }
            });
        clicked
    }

    /// Does `wanted` now, or once the playing file is described.
    fn want(&mut self, wanted: Wanted, playing: &Playing, heard: Option<&References>) {
        let needs_file = match wanted {
            Wanted::Search => self.like_playing,
            Wanted::Similar => true,
            Wanted::Nothing => false,
        };
        if let (true, Playing::File(path)) = (needs_file, playing) {
            if self.described.as_ref().is_none_or(|d| d.path != *path) {
                self.describe(path);
                if self.describing.is_some() {
                    self.after_describing = wanted;
                    return;
                }
            }
        }
        match wanted {
            Wanted::Search => self.search(playing),
            Wanted::Similar => self.similar(playing, heard),
            Wanted::Nothing => {}
        }
    }

    /// The playing file as a query: the library's own description when it holds the file,
    /// else an analysis on a helper thread (as `mirador similar FILE` does).
    fn describe(&mut self, path: &Path) {
        let key = path.to_string_lossy();
        if let Some(index) = self.catalog.tracks.iter().position(|t| t.path == key) {
            self.described = Some(Described {
                path: path.to_path_buf(),
                index: Some(index),
                track: self.catalog.tracks[index].clone(),
                query: self.catalog.query_of(index),
            });
            return;
        }
        let (sender, receiver) = mpsc::channel();
        let file = path.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("mirador-describe".into())
            .spawn(move || {
                let described = indexing::models("cnn", false).and_then(|(models, _)| {
                    let analysis = batch::analyze_file(&file, TableStyle::Gtzan, &models)?;
                    Ok(indexing::track(&file.to_string_lossy(), "", &analysis))
                });
                let _ = sender.send(described);
            });
        match spawned {
            Ok(_) => self.describing = Some((path.to_path_buf(), receiver)),
            Err(e) => self.show_note(format!("cannot describe {}: {e}", file_name(path))),
        }
    }

    /// Picks up a finished description, and does what was waiting for it.
    fn take_description(&mut self, playing: &Playing) {
        let Some((path, receiver)) = &self.describing else {
            return;
        };
        let result = match receiver.try_recv() {
            Ok(result) => result,
            Err(mpsc::TryRecvError::Empty) => return,
            Err(mpsc::TryRecvError::Disconnected) => Err("the analysis stopped".into()),
        };
        let path = path.clone();
        self.describing = None;
        match result {
            Ok(track) => {
                self.described = Some(Described {
                    query: self.catalog.query(&track.vectors),
                    path,
                    index: None,
                    track,
                });
                match std::mem::replace(&mut self.after_describing, Wanted::Nothing) {
                    Wanted::Search => self.search(playing),
                    Wanted::Similar => self.similar(playing, None),
                    Wanted::Nothing => {}
                }
            }
            Err(e) => self.show_note(format!("{}: {e}", file_name(&path))),
        }
    }

    fn search(&mut self, playing: &Playing) {
        let encoded = self.vocabulary.encode(&self.query);
        let reference = self
            .described
            .as_ref()
            .filter(|d| self.like_playing && is_playing(playing, d));
        let mut note = format!(
            "understood: {}",
            encoded.understood(&self.vocabulary.genres)
        );
        if !encoded.ignored.is_empty() {
            note += &format!("; ignored: {}", encoded.ignored.join(", "));
        }
        if encoded.terms.is_empty() && reference.is_none() {
            self.listed = Listed {
                heading: "No word of the search is in the vocabulary".into(),
                note: Some(
                    "the vocabulary: genres, MSD tags, moods, tempo, key, loudness and length"
                        .into(),
                ),
                rows: Vec::new(),
            };
            return;
        }
        let skip = reference.and_then(|d| d.index);
        let ranked = text::rank(
            &self.catalog,
            &encoded,
            reference.map(|d| (&d.track, &d.query)),
            None,
            LISTED,
            |i| Some(i) == skip,
        );
        let rows = ranked
            .iter()
            .map(|r| Row {
                index: r.index,
                score: r.score,
                why: encoded.matched(r, &self.vocabulary.genres),
            })
            .collect();
        let like = reference.map_or(String::new(), |d| format!(", like {}", title(&d.track)));
        self.listed = Listed {
            heading: format!("\"{}\"{like}", self.query.trim()),
            note: Some(note),
            rows,
        };
    }

    /// Tracks like the playing file, or like the last 30 s of the input.
    fn similar(&mut self, playing: &Playing, heard: Option<&References>) {
        if let Some(d) = self.described.as_ref().filter(|d| is_playing(playing, d)) {
            let hits = self
                .catalog
                .nearest(&d.query, self.catalog.all(), LISTED, |i| {
                    Some(i) != d.index && self.catalog.tracks[i].hash != d.track.hash
                });
            self.listed = Listed {
                heading: format!("Like {}", title(&d.track)),
                note: None,
                rows: hits
                    .iter()
                    .map(|h| Row {
                        index: h.index,
                        score: h.score,
                        why: reasons(h.reasons().iter().map(|f| f.name())),
                    })
                    .collect(),
            };
            return;
        }
        let Some(found) = heard else {
            return self.show_note("listening: the input is compared after 10 s of music".into());
        };
        let rows = found
            .tracks
            .iter()
            .filter_map(|r| {
                let index = self.catalog.tracks.iter().position(|t| t.id == r.id)?;
                Some(Row {
                    index,
                    score: r.score,
                    why: reasons(r.reasons.iter().copied()),
                })
            })
            .collect();
        self.listed = Listed {
            heading: "Like the last 30 s heard".into(),
            note: found.withheld.clone(),
            rows,
        };
    }

    fn show_note(&mut self, note: String) {
        self.listed = Listed {
            heading: String::new(),
            note: Some(note),
            rows: Vec::new(),
        };
    }
}

fn is_playing(playing: &Playing, d: &Described) -> bool {
    matches!(playing, Playing::File(path) if *path == d.path)
}

fn reasons<'a>(facets: impl Iterator<Item = &'a str>) -> String {
    facets.collect::<Vec<_>>().join(", ")
}

fn title(t: &Track) -> String {
    t.title
        .clone()
        .unwrap_or_else(|| file_name(Path::new(&t.path)))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}
