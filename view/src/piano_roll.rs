//! The piano roll: the notes transcribed lately, a bar per note from its start to its end
//! (to now while it sounds), one row per semitone over the range being played, lined up
//! with the spectrogram's columns as the chord lane is.

use egui::{Align2, Color32, FontId, Rect, Ui};
use mirador_dsp::pitch::key::note_name;
use mirador_engine::Snapshot;

/// Semitones shown at least (an octave and a half), so a single note is not a full-height bar.
const MIN_RANGE: u8 = 18;

/// Draws the notes into `rect`, whose width spans `columns` spectrogram columns ending at the
/// snapshot's newest frame.
pub fn draw(ui: &Ui, rect: Rect, s: &Snapshot, columns: usize) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_gray(22));
    let per_second = rect.width() * s.frame_rate as f32 / columns.max(1) as f32;
    let x = |t: f64| rect.right() - (s.time - t) as f32 * per_second;
    let shown: Vec<_> = s
        .notes
        .iter()
        .filter(|n| x(n.end.unwrap_or(s.time)) >= rect.left())
        .collect();
    let (low, high) = shown.iter().fold((u8::MAX, u8::MIN), |(l, h), n| {
        (l.min(n.pitch), h.max(n.pitch))
    });
    if low > high {
        return;
    }
    let pad = MIN_RANGE.saturating_sub(high - low) / 2;
    let (low, high) = (
        low.saturating_sub(pad),
        high.saturating_add(pad).max(low + MIN_RANGE),
    );
    let row = rect.height() / f32::from(high - low + 1);
    let y = |pitch: u8| rect.bottom() - f32::from(pitch - low + 1) * row;
    // A faint line on every C, named.
    for c in (low..=high).filter(|p| p % 12 == 0) {
        let top = y(c) + row;
        painter.hline(rect.x_range(), top, (1.0, Color32::from_gray(45)));
        painter.text(
            egui::pos2(rect.left() + 2.0, top),
            Align2::LEFT_BOTTOM,
            note_name(i32::from(c)),
            FontId::proportional(9.0),
            Color32::from_gray(110),
        );
    }
    for n in shown {
        let (left, right) = (x(n.start).max(rect.left()), x(n.end.unwrap_or(s.time)));
        let bar = Rect::from_min_max(
            egui::pos2(left, y(n.pitch)),
            egui::pos2(right.max(left + 2.0), y(n.pitch) + row.max(2.0)),
        );
        let loud = f32::from(n.velocity) / 127.0;
        let colour = Color32::from_rgb(80, 150, 255).lerp_to_gamma(Color32::WHITE, loud * 0.6);
        painter.rect_filled(bar.shrink2(egui::vec2(0.0, 0.5)), 1.0, colour);
    }
}
