//! `mirador analyze --explain`'s picture: the mel spectrogram the network read, once for the
//! genre and once for the mood, with each cell's saliency over it (red where silencing the
//! cell lowered the class's probability, blue where it raised it) and a yellow bar over the
//! 3 s that supported the class most, with a tick every second (taller every ten).

use std::io::BufWriter;
use std::path::Path;

use mirador_models::tagger::saliency::{
    cell_seconds, frame_seconds, Explanation, SaliencyMap, BANDS,
};
use mirador_models::tagger::N_MELS;

/// Columns at most: longer clips average several mel frames per column.
const MAX_WIDTH: usize = 1600;
/// Pixel rows per mel band.
const MEL_ROWS: usize = 2;
/// The evidence bar above each panel, and the gap between panels.
const BAR: usize = 6;
const GAP: usize = 8;
/// How strongly the largest saliency tints its cells.
const MAX_TINT: f32 = 0.65;

/// An RGB image.
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

/// Draws the genre panel above the mood panel.
pub fn draw(e: &Explanation) -> Image {
    let width = e.mel.len().clamp(1, MAX_WIDTH);
    let panel = BAR + N_MELS * MEL_ROWS;
    let height = 2 * panel + GAP;
    let mut image = Image {
        width,
        height,
        rgb: vec![255; width * height * 3],
    };
    let loudest = e.mel.iter().flatten().fold(0f32, |m, &v| m.max(v));
    for (i, map) in [&e.genre, &e.mood].into_iter().enumerate() {
        draw_panel(&mut image, i * (panel + GAP), e, map, loudest);
    }
    image
}

fn draw_panel(image: &mut Image, top: usize, e: &Explanation, map: &SaliencyMap, loudest: f32) {
    let frames = e.mel.len();
    let seconds = frames as f64 * frame_seconds();
    let strongest = map
        .rows
        .iter()
        .flat_map(|(_, r)| r.iter())
        .fold(0f32, |m, &v| m.max(v.abs()));
    for x in 0..image.width {
        let (first, last) = (x * frames / image.width, ((x + 1) * frames / image.width));
        let columns = &e.mel[first..last.max(first + 1).min(frames)];
        let time = (x as f64 + 0.5) / image.width as f64 * seconds;
        let in_evidence = map
            .evidence
            .is_some_and(|(start, end)| (start..end).contains(&time));
        // Ticks every second, taller every ten.
        let second = |x: usize| (x as f64 / image.width as f64 * seconds).floor() as u64;
        let tick =
            (second(x + 1) > second(x)).then(|| if second(x + 1) % 10 == 0 { 0 } else { BAR - 2 });
        for y in 0..BAR {
            let colour = match tick {
                Some(from) if y >= from => [90, 90, 90],
                _ if in_evidence => [240, 200, 0],
                _ => [255, 255, 255],
            };
            put(image, x, top + y, colour);
        }
        // The cell this column falls in (rows start in order).
        let row = map.rows.partition_point(|(start, _)| *start <= time);
        let cell = row
            .checked_sub(1)
            .map(|r| &map.rows[r])
            .filter(|(start, _)| time < start + cell_seconds());
        for mel in 0..N_MELS {
            let level = columns.iter().map(|c| c[mel]).sum::<f32>() / columns.len() as f32;
            let grey = 255.0 * (1.0 - (level / loudest.max(1e-6)).clamp(0.0, 1.0));
            let mut colour = [grey; 3];
            if let Some((_, values)) = cell {
                let s = values[mel * BANDS / N_MELS] / strongest.max(1e-6);
                let tint = if s >= 0.0 {
                    [230.0, 30.0, 30.0]
                } else {
                    [30.0, 90.0, 230.0]
                };
                let a = MAX_TINT * s.abs().min(1.0);
                for (c, t) in colour.iter_mut().zip(tint) {
                    *c += a * (t - *c);
                }
            }
            // Low bands at the bottom.
            let y0 = top + BAR + (N_MELS - 1 - mel) * MEL_ROWS;
            for y in y0..y0 + MEL_ROWS {
                put(image, x, y, colour.map(|c| c.round() as u8));
            }
        }
    }
}

fn put(image: &mut Image, x: usize, y: usize, colour: [u8; 3]) {
    let i = (y * image.width + x) * 3;
    image.rgb[i..i + 3].copy_from_slice(&colour);
}

/// Draws `e` and writes it to `path` as a PNG.
pub fn write_png(e: &Explanation, path: &Path) -> Result<(), String> {
    let image = draw(e);
    let fail = |err: &dyn std::fmt::Display| format!("{}: {err}", path.display());
    let file = std::fs::File::create(path).map_err(|err| fail(&err))?;
    let mut encoder = png::Encoder::new(
        BufWriter::new(file),
        image.width as u32,
        image.height as u32,
    );
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|err| fail(&err))?;
    writer
        .write_image_data(&image.rgb)
        .map_err(|err| fail(&err))?;
    writer.finish().map_err(|err| fail(&err))
}
