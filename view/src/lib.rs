//! The live view, one implementation for the plugin editor and the app window: a scrolling
//! mel spectrogram, a chromagram, MFCCs, a numeric panel with a beat indicator, and the
//! predictions area. It only reads a [`Snapshot`] and the engine's clock; what to show is
//! the engine's choice, how to show it the view's. [`tracks`] draws lists of library tracks
//! (the reference tracks in the snapshot, the app's search results).

mod colormap;
mod heatmap;
mod piano_roll;
mod saliency;
mod song_map;
pub mod tracks;

use egui::{Align2, Color32, FontId, Rect, RichText, Sense, Ui, Vec2};
use mirador_dsp::pitch::chords::Chord;
use mirador_dsp::pitch::key::{note_name, PITCH_NAMES};
use mirador_dsp::structure::letter;
use mirador_dsp::AnalysisParams;
use mirador_engine::{Pitch, RhythmSource, Snapshot, SnapshotReader, LIVE_MELS, LIVE_MFCCS};

use heatmap::Heatmap;

/// What the user chose to see; persisted by the plugin with the host session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewSettings {
    pub spectrogram: bool,
    pub chroma: bool,
    pub mfcc: bool,
    pub predictions: bool,
    /// The genre's saliency over the spectrogram (the engine explains only while asked:
    /// `Control::Explain`).
    pub why: bool,
    /// 0 (raw) to 0.99 (slow): exponential smoothing of the displayed numbers.
    pub smoothing: f32,
}

impl Default for ViewSettings {
    fn default() -> Self {
        Self {
            spectrogram: true,
            chroma: true,
            mfcc: true,
            predictions: true,
            why: false,
            smoothing: 0.8,
        }
    }
}

pub struct View {
    spectrogram: Heatmap,
    chroma: Heatmap,
    mfcc: Heatmap,
    shown_bpm: Option<f32>,
    shown_lufs: Option<f32>,
}

impl Default for View {
    fn default() -> Self {
        Self {
            spectrogram: Heatmap::new("mirador-spectrogram"),
            chroma: Heatmap::new("mirador-chroma"),
            mfcc: Heatmap::new("mirador-mfcc"),
            shown_bpm: None,
            shown_lufs: None,
        }
    }
}

const LABEL_WIDTH: f32 = 34.0;
const CHORD_LANE_HEIGHT: f32 = 18.0;
const PIANO_ROLL_HEIGHT: f32 = 96.0;

impl View {
    /// Draws the engine's newest snapshot into `ui`, the beat indicator in step with the
    /// engine's clock.
    pub fn ui(&mut self, ui: &mut Ui, reader: &mut SnapshotReader, settings: &ViewSettings) {
        let now = reader.now();
        let snapshot = reader.read();
        self.numbers(ui, snapshot, now, settings.smoothing);
        ui.separator();
        let panels = [settings.spectrogram, settings.chroma, settings.mfcc]
            .iter()
            .filter(|&&shown| shown)
            .count();
        let predictions_height = if settings.predictions { 120.0 } else { 0.0 };
        let free = (ui.available_height() - predictions_height - 24.0).max(60.0);
        let width = snapshot.spectrogram.capacity();
        if settings.spectrogram {
            let strip = self.panel(ui, CHORD_LANE_HEIGHT, "part", &[]);
            song_map::section_strip(ui, strip, snapshot, width);
            let lane = self.panel(ui, CHORD_LANE_HEIGHT, "chord", &[]);
            song_map::chord_lane(ui, lane, snapshot, width);
            let mut lanes = 2.0 * CHORD_LANE_HEIGHT;
            if !snapshot.notes.is_empty() {
                let roll = self.panel(ui, PIANO_ROLL_HEIGHT, "notes", &[]);
                piano_roll::draw(ui, roll, snapshot, width);
                lanes += PIANO_ROLL_HEIGHT;
            }
            let height = (free - lanes) * if panels == 1 { 1.0 } else { 0.5 };
            let rect = self.panel(ui, height, "mel", &[]);
            let columns: Vec<&[f32]> = snapshot.spectrogram.iter().map(|c| &c[..]).collect();
            // 80 dB below the loudest bin shown, but never above the -100 dB floor, so
            // silence draws dark rather than stretched to full scale.
            let top = columns
                .iter()
                .flat_map(|c| c.iter())
                .fold(-20f32, |a, &b| a.max(b));
            self.spectrogram
                .paint(ui, rect, &columns, width, LIVE_MELS, (top - 80.0, top));
            if settings.why {
                // The live analyzer runs at the default analysis rate (`engine::start`).
                let top_hz = f64::from(AnalysisParams::default().sample_rate) / 2.0;
                saliency::overlay(ui, rect, snapshot, width, top_hz);
            }
        }
        let rest = (panels - usize::from(settings.spectrogram)).max(1) as f32;
        let share = if settings.spectrogram {
            free * 0.5
        } else {
            free
        };
        if settings.chroma {
            let rect = self.panel(ui, share / rest, "chroma", &PITCH_NAMES);
            let columns: Vec<&[f32]> = snapshot.chroma.iter().map(|c| &c[..]).collect();
            self.chroma.paint(ui, rect, &columns, width, 12, (0.0, 1.0));
        }
        if settings.mfcc {
            let rect = self.panel(ui, share / rest, "mfcc", &[]);
            // Coefficient 0 is overall level; the shape lives in 1.. and means nothing in
            // silence, whose columns stay dark.
            let columns: Vec<&[f32]> = snapshot
                .mfcc
                .iter()
                .map(|c| if is_silent(c[0]) { &c[..0] } else { &c[1..] })
                .collect();
            self.mfcc
                .paint(ui, rect, &columns, width, LIVE_MFCCS - 1, (-60.0, 60.0));
        }
        if settings.predictions {
            ui.separator();
            predictions(ui, snapshot);
        }
        ui.label(
            RichText::new(format!(
                "{} frames analyzed, {} dropped",
                snapshot.frames_received, snapshot.frames_dropped
            ))
            .small()
            .color(if snapshot.frames_dropped > 0 {
                Color32::LIGHT_RED
            } else {
                Color32::GRAY
            }),
        );
    }

    /// Allocates a labelled panel row and returns the plot area.
    fn panel(&self, ui: &mut Ui, height: f32, title: &str, rows: &[&str]) -> Rect {
        let (rect, _) =
            ui.allocate_exact_size(Vec2::new(ui.available_width(), height), Sense::hover());
        let plot = Rect::from_min_max(rect.min + Vec2::new(LABEL_WIDTH, 0.0), rect.max);
        let painter = ui.painter();
        let font = FontId::proportional(10.0);
        // Panels with row names (chroma) need no title.
        if rows.is_empty() {
            painter.text(
                rect.left_top(),
                Align2::LEFT_TOP,
                title,
                font.clone(),
                Color32::GRAY,
            );
        }
        for (i, name) in rows.iter().enumerate() {
            let y = plot.bottom() - (i as f32 + 0.5) * plot.height() / rows.len() as f32;
            painter.text(
                egui::pos2(plot.left() - 4.0, y),
                Align2::RIGHT_CENTER,
                *name,
                font.clone(),
                Color32::LIGHT_GRAY,
            );
        }
        plot
    }

    fn numbers(&mut self, ui: &mut Ui, s: &Snapshot, now: f64, smoothing: f32) {
        let smooth = |shown: &mut Option<f32>, value: Option<f32>| {
            *shown = match (*shown, value) {
                (Some(old), Some(new)) if new.is_finite() && old.is_finite() => {
                    Some(old * smoothing + new * (1.0 - smoothing))
                }
                (_, new) => new,
            };
            *shown
        };
        let rhythm = s.rhythm;
        let bpm = smooth(&mut self.shown_bpm, rhythm.map(|r| r.tempo_bpm));
        let lufs = smooth(&mut self.shown_lufs, Some(s.loudness.short_term_lufs));
        ui.horizontal(|ui| {
            beat_indicator(ui, s, now);
            let big = |ui: &mut Ui, text: String| ui.label(RichText::new(text).size(20.0).strong());
            match (bpm, rhythm) {
                (Some(bpm), Some(r)) => {
                    big(ui, format!("{bpm:.1} BPM"));
                    match (r.counted_beat(now), r.confidence) {
                        (Some((beat, bar)), _) => ui.label(format!("beat {beat} of {bar}")),
                        (None, Some(c)) => ui.label(format!("{:.0}% sure", c * 100.0)),
                        (None, None) => ui.label(""),
                    };
                }
                _ => {
                    big(ui, "— BPM".into());
                }
            }
            ui.separator();
            big(ui, s.key.map_or("—".into(), |k| k.name()));
            ui.separator();
            // The chord now, in Harte's syntax; "N.C." (no chord) in silence and noise.
            let chord = s.chord.map_or("—".into(), |c| match c.chord {
                Chord::None => "N.C.".into(),
                chord => chord.name(),
            });
            big(ui, chord).on_hover_text("the chord being heard");
            if let Some((next, share)) = s.chord.and_then(|c| c.next) {
                ui.label(RichText::new(format!("next {}", next.name())).color(Color32::GRAY))
                    .on_hover_text(format!(
                        "the chord that followed this one {:.0}% of the time in this song",
                        share * 100.0
                    ));
            }
            ui.separator();
            tuner(ui, s.tuner);
            ui.separator();
            // The section's letter: equal letters, the same material.
            let section = s.section.map_or("—".into(), |p| letter(p.label));
            big(ui, section).on_hover_text(
                "the part of the song being heard (equal letters: the same material), \
                 known a few seconds after it begins",
            );
            ui.separator();
            ui.vertical(|ui| {
                ui.label(format!(
                    "{} LUFS short-term",
                    db(lufs.unwrap_or(f32::NEG_INFINITY))
                ));
                ui.label(format!(
                    "{} LUFS momentary, {} dBTP",
                    db(s.loudness.momentary_lufs),
                    db(s.loudness.true_peak_dbtp)
                ));
            });
            ui.separator();
            ui.vertical(|ui| {
                ui.label(format!("RMS {} dBFS", db(20.0 * s.rms.max(1e-10).log10())));
                ui.label(format!("centroid {:.0} Hz", s.centroid));
            });
        });
    }
}

/// The nearest note, and a needle on a -50..50 cent scale: green within 5 cents.
fn tuner(ui: &mut Ui, reading: Option<Pitch>) {
    let (rect, response) = ui.allocate_exact_size(Vec2::new(96.0, 40.0), Sense::hover());
    let painter = ui.painter();
    let Some(r) = reading else {
        painter.text(
            rect.center_top() + Vec2::new(0.0, 2.0),
            Align2::CENTER_TOP,
            "—",
            FontId::proportional(20.0),
            Color32::GRAY,
        );
        response.on_hover_text("tuner: no single pitch heard");
        return;
    };
    let (note, cents) = r.note_and_cents();
    let name = note_name(note);
    let colour = match cents.abs() {
        c if c < 5.0 => Color32::from_rgb(90, 220, 120),
        c if c < 15.0 => Color32::from_rgb(240, 200, 60),
        _ => Color32::from_rgb(255, 110, 80),
    };
    painter.text(
        rect.center_top(),
        Align2::CENTER_TOP,
        &name,
        FontId::proportional(20.0),
        colour,
    );
    painter.text(
        rect.right_top() + Vec2::new(-2.0, 4.0),
        Align2::RIGHT_TOP,
        format!("{cents:+.0}¢"),
        FontId::proportional(11.0),
        Color32::LIGHT_GRAY,
    );
    let scale = Rect::from_min_max(
        egui::pos2(rect.left() + 4.0, rect.bottom() - 10.0),
        egui::pos2(rect.right() - 4.0, rect.bottom() - 2.0),
    );
    painter.rect_filled(scale, 2.0, Color32::from_gray(50));
    let centre = scale.center().x;
    painter.line_segment(
        [
            egui::pos2(centre, scale.top()),
            egui::pos2(centre, scale.bottom()),
        ],
        (1.0, Color32::GRAY),
    );
    let x = centre + cents / 50.0 * scale.width() / 2.0;
    painter.line_segment(
        [
            egui::pos2(x, scale.top() - 3.0),
            egui::pos2(x, scale.bottom() + 1.0),
        ],
        (3.0, colour),
    );
    response.on_hover_text(format!(
        "tuner: {name} {cents:+.0} cents ({:.1} Hz, {:.0}% sure)",
        r.hz,
        r.confidence * 100.0
    ));
}

fn db(value: f32) -> String {
    if value.is_finite() && value > -99.0 {
        format!("{value:.1}")
    } else {
        "-inf".into()
    }
}

/// A dot that lights on each beat and fades over a quarter of the beat period; red on the
/// downbeat when the beat model is running.
fn beat_indicator(ui: &mut Ui, s: &Snapshot, now: f64) {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(28.0), Sense::hover());
    let glow = s.rhythm.map_or(0.0, |r| {
        let phase = ((now - r.beat.time) / r.beat.period).rem_euclid(1.0);
        (1.0 - phase * 4.0).max(0.0) as f32
    });
    let downbeat = s.rhythm.is_some_and(|r| {
        r.source == RhythmSource::BeatModel && r.counted_beat(now).is_some_and(|b| b.0 == 1)
    });
    let lit = if downbeat {
        Color32::from_rgb(255, 90, 60)
    } else {
        Color32::from_rgb(255, 200, 40)
    };
    let colour = Color32::from_rgb(60, 60, 60).lerp_to_gamma(lit, glow);
    ui.painter().circle_filled(rect.center(), 11.0, colour);
}

fn predictions(ui: &mut Ui, s: &Snapshot) {
    if let Some(error) = &s.model_error {
        ui.colored_label(Color32::LIGHT_RED, format!("model error: {error}"));
    }
    if s.genre.is_none() && s.mood.is_none() {
        let note = s.predictions_withheld.unwrap_or(
            "No model loaded: genre and mood predictions appear here once models are installed.",
        );
        ui.label(RichText::new(note).italics().color(Color32::GRAY));
        return;
    }
    ui.horizontal(|ui| {
        for (title, probabilities) in [("genre", &s.genre), ("mood", &s.mood)] {
            let Some(probabilities) = probabilities else {
                continue;
            };
            ui.vertical(|ui| {
                ui.label(RichText::new(format!("{title} ({})", probabilities.model)).strong());
                for (class, probability) in probabilities.ranked().into_iter().take(4) {
                    ui.add(
                        egui::ProgressBar::new(probability)
                            .desired_width(160.0)
                            .text(format!("{class} {:.0}%", probability * 100.0)),
                    );
                }
            });
        }
    });
}

/// Whether a frame's MFCC 0 (the orthonormal DCT's mean term, `sqrt(n_mels)` times the mean
/// log-mel) says every band is within 10 dB of the analyzer's -100 dB floor.
fn is_silent(mfcc0: f32) -> bool {
    mfcc0 / (LIVE_MELS as f32).sqrt() < -90.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_the_analyzer_floor_and_quiet_music_is_not() {
        let mfcc0 = |mean_db: f32| mean_db * (LIVE_MELS as f32).sqrt();
        assert!(is_silent(mfcc0(-100.0)));
        assert!(!is_silent(mfcc0(-70.0)));
    }
}
