//! The live view, one implementation for the plugin editor and the standalone window: a
//! scrolling mel spectrogram, a chromagram, MFCCs, a numeric panel with a beat indicator,
//! and the predictions area. It only reads a [`Snapshot`]; nothing is computed here.

mod colormap;
mod heatmap;

use egui::{Align2, Color32, FontId, Rect, RichText, Sense, Ui, Vec2};
use mirador_dsp::live::key::PITCH_NAMES;
use mirador_dsp::live::{BarBeat, Snapshot, LIVE_MFCCS};

use heatmap::Heatmap;

/// What the user chose to see; persisted by the plugin with the host session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewSettings {
    pub spectrogram: bool,
    pub chroma: bool,
    pub mfcc: bool,
    pub predictions: bool,
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

impl View {
    /// Draws the whole view into `ui`. `now` is the time being heard, in seconds on the
    /// snapshot's timeline (drives the beat indicator).
    pub fn ui(&mut self, ui: &mut Ui, snapshot: &Snapshot, now: f64, settings: &ViewSettings) {
        self.numbers(ui, snapshot, now, settings.smoothing);
        ui.separator();
        let panels = [settings.spectrogram, settings.chroma, settings.mfcc]
            .iter()
            .filter(|&&shown| shown)
            .count();
        let predictions_height = if settings.predictions { 90.0 } else { 0.0 };
        let free = (ui.available_height() - predictions_height - 24.0).max(60.0);
        let width = snapshot.spectrogram.capacity();
        if settings.spectrogram {
            let height = free * if panels == 1 { 1.0 } else { 0.5 };
            let rect = self.panel(ui, height, "mel", &[]);
            let columns: Vec<&[f32]> = snapshot.spectrogram.iter().map(|c| &c[..]).collect();
            // 80 dB below the loudest bin shown, but never above the -100 dB floor, so
            // silence draws dark rather than stretched to full scale.
            let top = columns
                .iter()
                .flat_map(|c| c.iter())
                .fold(-20f32, |a, &b| a.max(b));
            self.spectrogram
                .paint(ui, rect, &columns, width, 128, (top - 80.0, top));
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
            // Coefficient 0 is overall level; the shape lives in 1..
            let columns: Vec<&[f32]> = snapshot.mfcc.iter().map(|c| &c[1..]).collect();
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
        // The beat model's tempo when it is running, else the onset autocorrelation's.
        let model_beat = s.predictions.beat;
        let tempo = model_beat.map(|b| b.tempo_bpm).or(s.tempo.map(|t| t.bpm));
        let bpm = smooth(&mut self.shown_bpm, tempo);
        let lufs = smooth(&mut self.shown_lufs, Some(s.loudness.short_term_lufs));
        ui.horizontal(|ui| {
            beat_indicator(ui, s, now);
            let big = |ui: &mut Ui, text: String| ui.label(RichText::new(text).size(20.0).strong());
            match (bpm, model_beat, s.tempo) {
                (Some(bpm), Some(b), _) => {
                    big(ui, format!("{bpm:.1} BPM"));
                    let (beat, bar) = counted_beat(&b, now);
                    ui.label(format!("beat {beat} of {bar}"));
                }
                (Some(bpm), None, Some(t)) => {
                    big(ui, format!("{bpm:.1} BPM"));
                    ui.label(format!("{:.0}% sure", t.confidence * 100.0));
                }
                _ => {
                    big(ui, "— BPM".into());
                }
            }
            ui.separator();
            big(ui, s.key.map_or("—".into(), |k| k.name()));
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

fn db(value: f32) -> String {
    if value.is_finite() && value > -99.0 {
        format!("{value:.1}")
    } else {
        "-inf".into()
    }
}

/// Which beat of the bar `now` is in, counting on from the model's newest beat.
fn counted_beat(b: &BarBeat, now: f64) -> (u8, u8) {
    let bar = b.beats_per_bar.max(1);
    let since = ((now - b.beat.time) / b.beat.period).floor().max(0.0) as u64;
    let beat = (u64::from(b.beat_in_bar.max(1)) - 1 + since) % u64::from(bar);
    (beat as u8 + 1, bar)
}

/// A dot that lights on each beat and fades over a quarter of the beat period; red on the
/// downbeat when the beat model is running.
fn beat_indicator(ui: &mut Ui, s: &Snapshot, now: f64) {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(28.0), Sense::hover());
    let model_beat = s.predictions.beat;
    let glow = model_beat.map(|b| b.beat).or(s.beat).map_or(0.0, |beat| {
        let phase = ((now - beat.time) / beat.period).rem_euclid(1.0);
        (1.0 - phase * 4.0).max(0.0) as f32
    });
    let downbeat = model_beat.is_some_and(|b| counted_beat(&b, now).0 == 1);
    let lit = if downbeat {
        Color32::from_rgb(255, 90, 60)
    } else {
        Color32::from_rgb(255, 200, 40)
    };
    let colour = Color32::from_rgb(60, 60, 60).lerp_to_gamma(lit, glow);
    ui.painter().circle_filled(rect.center(), 11.0, colour);
}

fn predictions(ui: &mut Ui, s: &Snapshot) {
    let p = &s.predictions;
    if p.genre.is_none() && p.mood.is_none() {
        ui.label(
            RichText::new("No model loaded: genre and mood predictions appear here once models are installed.")
                .italics()
                .color(Color32::GRAY),
        );
        return;
    }
    ui.horizontal(|ui| {
        let panels = [("genre", &p.genre), ("mood", &p.mood)];
        for (title, probabilities) in panels {
            let Some(probabilities) = probabilities else {
                continue;
            };
            ui.vertical(|ui| {
                ui.label(RichText::new(format!("{title} ({})", probabilities.model)).strong());
                let mut ranked: Vec<&(String, f32)> = probabilities.classes.iter().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                for (class, probability) in ranked.into_iter().take(4) {
                    ui.add(
                        egui::ProgressBar::new(*probability)
                            .desired_width(160.0)
                            .text(format!("{class} {:.0}%", probability * 100.0)),
                    );
                }
            });
        }
    });
}
