//! Lists of library tracks: the reference tracks the engine found for what was heard, and
//! the rows any track list is drawn with (the app's search results too).

use egui::{Color32, RichText, Ui};
use mirador_engine::{Reference, References};

/// One track as a list row: its title, clickable, over a line of details. Returns whether it
/// was clicked.
pub fn track_row(ui: &mut Ui, title: &str, details: &str, hover: &str) -> bool {
    let clicked = ui
        .selectable_label(false, RichText::new(title).strong())
        .on_hover_text(hover)
        .clicked();
    ui.label(RichText::new(details).small().color(Color32::GRAY));
    clicked
}

/// What a track is, for a list: its artist, genre, tempo and key as known.
pub struct Known<'a> {
    pub artist: Option<&'a str>,
    pub genre: Option<&'a str>,
    pub tempo: Option<f64>,
    pub key: Option<&'a str>,
}

/// "artist · genre · 120 BPM · C major · 0.87 (timbre, rhythm)": what a list says about a
/// track besides its title, with the score it was listed by and why.
pub fn details(known: Known, score: f32, why: &str) -> String {
    let mut parts: Vec<String> = [
        known.artist.map(str::to_owned),
        known.genre.map(str::to_owned),
        known.tempo.map(|t| format!("{t:.0} BPM")),
        known.key.map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .collect();
    parts.push(format!("{score:.2} ({why})"));
    parts.join(" · ")
}

/// The reference tracks, nearest first, leaving out the one at `skip` (what is playing);
/// returns the path of the one clicked.
pub fn references(ui: &mut Ui, found: Option<&References>, skip: Option<&str>) -> Option<String> {
    let Some(found) = found else {
        ui.label(
            RichText::new("Listening: library tracks like this after 10 s of music.")
                .italics()
                .color(Color32::GRAY),
        );
        return None;
    };
    ui.label(
        RichText::new(format!(
            "Like {}–{} heard",
            clock(found.from),
            clock(found.until)
        ))
        .small(),
    );
    if let Some(why) = &found.withheld {
        ui.label(RichText::new(why).italics().color(Color32::GRAY));
        return None;
    }
    let mut clicked = None;
    for track in found
        .tracks
        .iter()
        .filter(|t| Some(t.path.as_str()) != skip)
    {
        if reference_row(ui, track) {
            clicked = Some(track.path.clone());
        }
    }
    clicked
}

fn reference_row(ui: &mut Ui, t: &Reference) -> bool {
    let known = Known {
        artist: t.artist.as_deref(),
        genre: t.genre.as_deref(),
        tempo: t.tempo_bpm,
        key: t.key.as_deref(),
    };
    let line = details(known, t.score, &t.reasons.join(", "));
    track_row(ui, &t.title, &line, &t.path)
}

/// "1:05".
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}
