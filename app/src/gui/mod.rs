//! The standalone window: the shared live view under a bar for its source, a file's
//! transport controls or the input device being listened to, and beside it the library
//! panel when there is a library.

mod library;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use mirador_dsp::structure::letter;
use mirador_engine::{ClassProbabilities, Control, RhythmSource, Snapshot, SnapshotReader};
use mirador_view::tracks::clock;
use mirador_view::{View, ViewSettings};

pub use library::{LibraryPanel, Playing, PANEL_WIDTH};

use crate::live::{Capture, Input};
use crate::player::Transport;

/// What the window analyzes. Dropping it ends the playback or the recording.
pub enum Source {
    /// A file, by its canonical path, and its playback.
    File(PathBuf, Arc<Transport>),
    Input(Capture),
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Source::File(_, t) = self {
            t.stop();
        }
    }
}

/// What the window shows: a source and the engine analyzing it.
pub struct Session {
    pub title: String,
    pub reader: SnapshotReader,
    pub source: Source,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reader.send(Control::Shutdown);
    }
}

/// Opens a file for the window to play (a click on a library track).
pub type Opener = Box<dyn FnMut(&Path) -> Result<Session, String>>;

pub struct App {
    pub session: Session,
    pub opener: Opener,
    pub library: Option<LibraryPanel>,
    /// Why the last file clicked could not be played.
    pub open_error: Option<String>,
    /// Close the window after this many seconds (for unattended runs).
    pub exit_after: Option<f64>,
    /// Where to write the last snapshot's summary as JSON when the window closes, however
    /// it closes (`exit_after`, the window's close button, Ctrl-C).
    pub report: Option<PathBuf>,
    pub view: View,
    pub settings: ViewSettings,
    /// Whether the session's engine was asked to explain (`settings.why` as last sent).
    pub explaining: bool,
    pub started: Instant,
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let session = &mut self.session;
        if let Source::File(_, t) = &session.source {
            if t.take_seeked() {
                session.reader.send(Control::Reset);
            }
        }
        let mut clicked = None;
        egui::Frame::central_panel(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                match &session.source {
                    Source::File(_, t) => transport_bar(ui, t, &session.title),
                    Source::Input(c) => input_bar(ui, &c.input, session.reader.now()),
                }
                ui.separator();
                let s = &mut self.settings;
                ui.checkbox(&mut s.spectrogram, "mel");
                ui.checkbox(&mut s.chroma, "chroma");
                ui.checkbox(&mut s.mfcc, "MFCC");
                ui.checkbox(&mut s.predictions, "predictions");
                ui.checkbox(&mut s.why, "why").on_hover_text(
                    "what the genre rests on: each half second's mel bands silenced in turn; \
                     red where that lowered the genre's probability, blue where it raised it",
                );
            });
            if self.settings.why != self.explaining {
                session.reader.send(Control::Explain(self.settings.why));
                self.explaining = self.settings.why;
            }
            if let Some(e) = &self.open_error {
                ui.colored_label(egui::Color32::LIGHT_RED, e);
            }
            ui.separator();
            if let Some(panel) = &mut self.library {
                let heard = session.reader.read().references.clone();
                let playing = match &session.source {
                    Source::File(path, _) => Playing::File(path),
                    Source::Input(_) => Playing::Input,
                };
                egui::Panel::right("library")
                    .default_size(PANEL_WIDTH)
                    .size_range(240.0..=640.0)
                    .show(ui, |ui| clicked = panel.ui(ui, playing, heard.as_deref()));
            }
            self.view.ui(ui, &mut session.reader, &self.settings);
        });
        if let Some(path) = clicked {
            self.open(ui.ctx(), &path);
        }
        let timed_out = self
            .exit_after
            .is_some_and(|s| self.started.elapsed().as_secs_f64() >= s);
        if timed_out || interrupted() {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        ui.ctx().request_repaint();
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(path) = &self.report {
            let summary = summary(self.session.reader.read()).to_string();
            if let Err(e) = std::fs::write(path, summary) {
                eprintln!("mirador: cannot write {}: {e}", path.display());
            }
        }
    }
}

impl App {
    /// Plays `path` in place of what the window shows now, which stops.
    fn open(&mut self, ctx: &egui::Context, path: &Path) {
        match (self.opener)(path) {
            Ok(session) => {
                let title = format!("Mirador - {}", session.title);
                ctx.send_viewport_cmd(egui::ViewportCommand::Title(title));
                self.session = session;
                self.explaining = false;
                self.open_error = None;
            }
            Err(e) => self.open_error = Some(format!("cannot play {}: {e}", path.display())),
        }
    }
}

/// Set by Ctrl-C (see [`close_on_interrupt`]): the window closes as if its close button had
/// been pressed, so the report is written.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C closed the window.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Makes Ctrl-C (SIGINT) close the window showing `ctx` instead of killing the process.
pub fn close_on_interrupt(ctx: egui::Context) {
    let _ = ctrlc::set_handler(move || {
        INTERRUPTED.store(true, Ordering::Relaxed);
        ctx.request_repaint();
    });
}

fn transport_bar(ui: &mut egui::Ui, t: &Transport, title: &str) {
    let label = if t.is_paused() { "Play" } else { "Pause" };
    if ui.button(label).clicked() {
        t.set_paused(!t.is_paused());
    }
    let rate = t.sample_rate as f64;
    let length = t.length.map(|l| l as f64 / rate);
    let end = length.unwrap_or(0.0).max(t.time());
    let mut at = t.time();
    let slider = ui.add(
        egui::Slider::new(&mut at, 0.0..=end.max(0.001))
            .show_value(false)
            .trailing_fill(true),
    );
    if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
        t.seek((at * rate) as u64);
    }
    ui.label(position(t.time(), length));
    ui.label(egui::RichText::new(title).strong())
        .on_hover_text(&t.output);
    if t.underruns() > 0 {
        ui.label(format!("{} underruns", t.underruns()))
            .on_hover_text("device callbacks that found no decoded audio and played silence");
    }
    if let Some(error) = t.error() {
        ui.colored_label(egui::Color32::LIGHT_RED, error);
    }
}

fn input_bar(ui: &mut egui::Ui, input: &Input, listened: f64) {
    ui.label(egui::RichText::new(format!("Listening: {}", input.device)).strong());
    ui.label(format!(
        "{} Hz, {} ch, {}",
        input.sample_rate,
        input.channels,
        clock(listened)
    ));
    if let Some(error) = input.error() {
        ui.colored_label(egui::Color32::LIGHT_RED, error);
    }
}

/// "1:05 / 3:20"; a stream that does not say how long it is (raw ADTS, some Oggs) plays on
/// to its end, and says so.
fn position(time: f64, length: Option<f64>) -> String {
    let total = length.map_or_else(|| "unknown length".to_owned(), clock);
    format!("{} / {total}", clock(time))
}

/// The numbers of a snapshot, for unattended checks.
pub fn summary(s: &Snapshot) -> serde_json::Value {
    serde_json::json!({
        "time": s.time,
        "frames_received": s.frames_received,
        "frames_dropped": s.frames_dropped,
        "tempo_bpm": s.rhythm.map(|r| r.tempo_bpm),
        "tempo_confidence": s.rhythm.and_then(|r| r.confidence),
        "rhythm_source": s.rhythm.map(|r| match r.source {
            RhythmSource::BeatModel => "beat model",
            RhythmSource::Onsets => "onsets",
        }),
        "key": s.key.map(|k| k.name()),
        "key_confidence": s.key.map(|k| k.confidence),
        "chord": s.chord.map(|c| c.chord.name()),
        "next_chord": s.chord.and_then(|c| c.next).map(|(c, _)| c.name()),
        "section": s.section.map(|p| letter(p.label)),
        "sections": s.sections.iter().map(|p| serde_json::json!({
            "since": p.since,
            "label": letter(p.label),
        })).collect::<Vec<_>>(),
        "mean_chroma": s.mean_chroma(usize::MAX),
        "momentary_lufs": finite(s.loudness.momentary_lufs),
        "short_term_lufs": finite(s.loudness.short_term_lufs),
        "true_peak_dbtp": finite(s.loudness.true_peak_dbtp),
        "genre": top_class(s.genre.as_ref()),
        "mood": top_class(s.mood.as_ref()),
        "predictions_withheld": s.predictions_withheld,
        "beats_per_bar": s.rhythm.and_then(|r| r.beats_per_bar),
        "last_beat_time": s.rhythm.map(|r| r.beat.time),
        "model_error": s.model_error,
        "references": s.references.as_ref().map(|r| {
            r.tracks
                .iter()
                .map(|t| serde_json::json!({"path": t.path, "score": t.score}))
                .collect::<Vec<_>>()
        }),
        "tuner": s.tuner.map(|t| {
            let (note, cents) = t.note_and_cents();
            serde_json::json!({
                "hz": t.hz,
                "note": note,
                "cents": cents,
                "confidence": t.confidence,
            })
        }),
        "rms": s.rms,
        "centroid_hz": s.centroid,
        // What "why" shows: the genre explained and the 0.5 s cells on screen.
        "why": s.saliency.newest().map(|c| serde_json::json!({
            "class": s.genre.as_ref().and_then(|g| g.classes.get(usize::from(c.class))),
            "cells": s.saliency.len(),
        })),
    })
}

fn top_class(p: Option<&ClassProbabilities>) -> Option<&str> {
    p?.top().map(|(class, _)| class)
}

fn finite(x: f32) -> Option<f32> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::position;

    #[test]
    fn an_unknown_length_is_shown_as_unknown() {
        assert_eq!(position(65.4, Some(200.0)), "1:05 / 3:20");
        assert_eq!(position(65.4, None), "1:05 / unknown length");
    }
}
