//! A scrolling heat map (time left to right, rows bottom to top) drawn as one texture that is
//! rewritten in place each frame.

use egui::{Color32, ColorImage, Rect, TextureHandle, TextureOptions, Ui};

use super::colormap::magma;

pub struct Heatmap {
    name: &'static str,
    texture: Option<TextureHandle>,
    image: ColorImage,
}

impl Heatmap {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            texture: None,
            image: ColorImage::filled([1, 1], Color32::BLACK),
        }
    }

    /// Paints `columns` (oldest first, `width` slots, right-aligned so the newest is at the
    /// right edge) into `rect`, mapping `low..high` onto the colormap.
    pub fn paint(
        &mut self,
        ui: &Ui,
        rect: Rect,
        columns: &[&[f32]],
        width: usize,
        rows: usize,
        (low, high): (f32, f32),
    ) {
        let width = width.max(1);
        if self.image.size != [width, rows] {
            self.image = ColorImage::filled([width, rows], magma(0.0));
        }
        self.image.pixels.fill(magma(0.0));
        let offset = width.saturating_sub(columns.len());
        let span = (high - low).max(1e-6);
        for (x, column) in columns.iter().enumerate().take(width) {
            for (row, &v) in column.iter().enumerate().take(rows) {
                let y = rows - 1 - row;
                self.image.pixels[y * width + offset + x] = magma((v - low) / span);
            }
        }
        let texture = match &mut self.texture {
            Some(t) => {
                t.set(self.image.clone(), TextureOptions::LINEAR);
                t
            }
            None => self.texture.insert(ui.ctx().load_texture(
                self.name,
                self.image.clone(),
                TextureOptions::LINEAR,
            )),
        };
        let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
        ui.painter().image(texture.id(), rect, uv, Color32::WHITE);
    }
}
