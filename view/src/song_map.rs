//! The song map over the spectrogram: a strip of the sections heard (a block per section,
//! one colour per letter) and a lane of the chords named lately, each a block from when it
//! began to when the next did, lined up with the spectrogram's columns.

use egui::{Align2, Color32, FontId, Rect, Ui};
use mirador_dsp::pitch::chords::Chord;
use mirador_dsp::structure::letter;
use mirador_engine::Snapshot;

/// Draws the section strip into `rect`, lined up as [`chord_lane`] is.
pub fn section_strip(ui: &Ui, rect: Rect, s: &Snapshot, columns: usize) {
    let painter = ui.painter_at(rect);
    let per_second = rect.width() * s.frame_rate as f32 / columns.max(1) as f32;
    let x = |t: f64| rect.right() - (s.time - t) as f32 * per_second;
    let sections: Vec<_> = s.sections.iter().collect();
    for (i, section) in sections.iter().enumerate() {
        let end = sections.get(i + 1).map_or(s.time, |next| next.since);
        let (left, right) = (x(section.since).max(rect.left()), x(end).min(rect.right()));
        if right <= left {
            continue;
        }
        let block = Rect::from_min_max(
            egui::pos2(left, rect.top()),
            egui::pos2(right, rect.bottom()),
        );
        painter.rect_filled(
            block.shrink2(egui::vec2(0.5, 1.0)),
            2.0,
            section_colour(section.label),
        );
        if right - left > 14.0 {
            painter.text(
                egui::pos2(left + 3.0, rect.center().y),
                Align2::LEFT_CENTER,
                letter(section.label),
                FontId::proportional(12.0),
                Color32::WHITE,
            );
        }
    }
}

/// One hue per letter, spread by the golden angle so neighbouring letters differ.
pub fn section_colour(label: usize) -> Color32 {
    let hue = (label as f32 * 0.618_034).fract();
    egui::ecolor::Hsva::new(hue, 0.6, 0.55, 1.0).into()
}

/// Draws the chord lane into `rect`, whose width spans `columns` spectrogram columns ending
/// at the snapshot's newest frame.
pub fn chord_lane(ui: &Ui, rect: Rect, s: &Snapshot, columns: usize) {
    let painter = ui.painter_at(rect);
    let per_second = rect.width() * s.frame_rate as f32 / columns.max(1) as f32;
    let x = |t: f64| rect.right() - (s.time - t) as f32 * per_second;
    let changes: Vec<_> = s.chords.iter().collect();
    for (i, c) in changes.iter().enumerate() {
        let end = changes.get(i + 1).map_or(s.time, |next| next.since);
        let (left, right) = (x(c.since).max(rect.left()), x(end).min(rect.right()));
        if right <= left {
            continue;
        }
        let block = Rect::from_min_max(
            egui::pos2(left, rect.top()),
            egui::pos2(right, rect.bottom()),
        );
        painter.rect_filled(block.shrink2(egui::vec2(0.5, 1.0)), 2.0, colour(c.chord));
        if right - left > 30.0 && c.chord != Chord::None {
            painter.text(
                egui::pos2(left + 3.0, rect.center().y),
                Align2::LEFT_CENTER,
                c.chord.name(),
                FontId::proportional(11.0),
                Color32::WHITE,
            );
        }
    }
}

/// One hue per root, darker for minor-third chords, grey for none.
fn colour(chord: Chord) -> Color32 {
    match chord {
        Chord::None => Color32::from_gray(45),
        Chord::Some(root, quality) => {
            let minor = quality.intervals().contains(&3);
            let hue = root as f32 / 12.0;
            let value = if minor { 0.45 } else { 0.6 };
            egui::ecolor::Hsva::new(hue, 0.55, value, 1.0).into()
        }
    }
}
