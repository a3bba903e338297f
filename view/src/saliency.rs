//! The genre's saliency drawn over the live mel spectrogram (the "why" toggle): each 0.5 s
//! cell's bands tinted red where they supported the genre shown and blue where they argued
//! against it, lined up with the spectrogram's time and frequency axes.

use egui::{Align2, Color32, FontId, Rect, Ui};
use mirador_dsp::spectral::filters::hz_to_mel;
use mirador_engine::Snapshot;
use mirador_models::tagger::saliency::band_hz;

/// The fall in probability drawn at full strength: a band that alone takes a fifth off its
/// patch's probability (about the strongest 1 % of cells on GTZAN clips) is as red as it gets.
const FULL: f32 = 0.2;
/// The strongest tint's opacity, so the spectrogram stays visible under it.
const MAX_ALPHA: f32 = 0.8;
/// How much the explained stretch of the spectrogram is darkened, so the tints stand out
/// from the colormap's own reds.
const SHADE: f32 = 0.45;

/// Draws the snapshot's saliency cells into `rect`, the mel panel whose width spans
/// `columns` spectrogram columns ending at the newest frame and whose rows run up to
/// `top_hz`.
pub fn overlay(ui: &Ui, rect: Rect, s: &Snapshot, columns: usize, top_hz: f64) {
    let painter = ui.painter_at(rect);
    let per_second = rect.width() * s.frame_rate as f32 / columns.max(1) as f32;
    let x = |t: f64| rect.right() - (s.time - t) as f32 * per_second;
    // The live spectrogram's rows are spread evenly in mel up to `top_hz`.
    let top_mel = hz_to_mel(top_hz);
    let y = |hz: f64| rect.bottom() - (hz_to_mel(hz.min(top_hz)) / top_mel) as f32 * rect.height();
    for cell in s.saliency.iter() {
        let (left, right) = (x(cell.time), x(cell.time + f64::from(cell.seconds)));
        if right <= rect.left() {
            continue;
        }
        let column = Rect::from_min_max(
            egui::pos2(left, rect.top()),
            egui::pos2(right, rect.bottom()),
        );
        painter.rect_filled(column, 0.0, Color32::BLACK.gamma_multiply(SHADE));
        for (b, &v) in cell.values.iter().enumerate() {
            let (low, high) = band_hz(b);
            let alpha = MAX_ALPHA * (v.abs() / FULL).min(1.0);
            let tint = if v >= 0.0 {
                Color32::from_rgb(255, 40, 40)
            } else {
                Color32::from_rgb(40, 140, 255)
            };
            let block = Rect::from_min_max(egui::pos2(left, y(high)), egui::pos2(right, y(low)));
            painter.rect_filled(block, 0.0, tint.gamma_multiply(alpha));
        }
    }
    let class = s.saliency.newest().and_then(|c| {
        let genre = s.genre.as_ref()?;
        genre.classes.get(usize::from(c.class))
    });
    let label = match class {
        Some(class) => format!("why {class}: red for, blue against"),
        None => "why: after the next 3 s of music".into(),
    };
    painter.text(
        rect.right_top() + egui::vec2(-4.0, 2.0),
        Align2::RIGHT_TOP,
        label,
        FontId::proportional(11.0),
        Color32::WHITE,
    );
}
