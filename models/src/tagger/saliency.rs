//! Why a patch network and its heads said what they said: occlusion saliency (Zeiler and
//! Fergus, 2014). tract runs inference only, so instead of gradients each cell of a patch's
//! time x mel grid is silenced in turn and the network and heads run again; a cell's
//! saliency for a class is how much the patch's probability of that class falls without it
//! (negative where the cell argued against the class).
//!
//! One run per cell gives every class at once, so each patch is occluded as it comes and a
//! long clip keeps only its cells' numbers; the class to explain is chosen at the end, from
//! the clip's mean probabilities.

use std::ops::Range;

use super::{Tagger, N_MELS, PATCH_FRAMES, SAMPLE_RATE};
use crate::ModelError;

/// Columns of a patch's grid: about 0.5 s each.
pub const TIME_CELLS: usize = 6;
/// Rows of a patch's grid: 12 mel bands each.
pub const BANDS: usize = 8;
/// Cells of one patch's grid, and the extra network runs a patch costs.
pub const CELLS: usize = TIME_CELLS * BANDS;

/// Seconds a patch spans.
pub fn patch_seconds() -> f64 {
    (PATCH_FRAMES * super::HOP_LENGTH) as f64 / f64::from(SAMPLE_RATE)
}

/// Seconds a cell spans (its frames vary by one; this is their mean).
pub fn cell_seconds() -> f64 {
    patch_seconds() / TIME_CELLS as f64
}

/// The patch frames of grid column `t`.
pub fn cell_frames(t: usize) -> Range<usize> {
    t * PATCH_FRAMES / TIME_CELLS..(t + 1) * PATCH_FRAMES / TIME_CELLS
}

/// The mel bands of grid row `b`.
pub fn band_mels(b: usize) -> Range<usize> {
    b * N_MELS / BANDS..(b + 1) * N_MELS / BANDS
}

/// The frequencies (Hz) where grid row `b` begins and ends: halfway, on the mel scale,
/// between its outer filters' centres and their neighbours', so the rows tile the spectrum.
pub fn band_hz(b: usize) -> (f64, f64) {
    use mirador_dsp::spectral::filters::{hz_to_mel, mel_to_hz};
    let top = hz_to_mel(f64::from(SAMPLE_RATE) / 2.0);
    // Filter m is centred on point m + 1 of n_mels + 2 points spread evenly in mel.
    let point = |p: f64| mel_to_hz(top * p / (N_MELS + 1) as f64);
    let mels = band_mels(b);
    (point(mels.start as f64 + 0.5), point(mels.end as f64 + 0.5))
}

/// Seconds from a patch's start to the start of its grid column `t`.
pub fn cell_offset_seconds(t: usize) -> f64 {
    cell_frames(t).start as f64 * frame_seconds()
}

/// Silences `cell` (`t * BANDS + b`) of a time-major patch: zero is what musicnn's
/// compression makes of no power.
pub fn silence(patch: &mut [f32], cell: usize) {
    let (t, b) = (cell / BANDS, cell % BANDS);
    for frame in cell_frames(t) {
        patch[frame * N_MELS..][band_mels(b)].fill(0.0);
    }
}

/// What silencing each cell of one patch does to its genre and mood probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchSaliency {
    /// `genre[class * CELLS + cell]`: the patch's probability of the class as heard, minus
    /// with the cell silenced.
    pub genre: Vec<f32>,
    /// The same for the mood quadrants.
    pub mood: Vec<f32>,
}

impl PatchSaliency {
    /// Occludes every cell of `patch`, whose probabilities as heard are `genre` and `mood`.
    pub fn of(
        tagger: &Tagger,
        patch: &[f32],
        genre: &[f64],
        mood: &[f64],
    ) -> Result<Self, ModelError> {
        let mut saliency = Self {
            genre: vec![0.0; genre.len() * CELLS],
            mood: vec![0.0; mood.len() * CELLS],
        };
        let mut occluded = patch.to_vec();
        for cell in 0..CELLS {
            occluded.copy_from_slice(patch);
            silence(&mut occluded, cell);
            let (g, m) = tagger.probabilities(&occluded)?;
            for (class, (&heard, without)) in genre.iter().zip(g).enumerate() {
                saliency.genre[class * CELLS + cell] = (heard - without) as f32;
            }
            for (class, (&heard, without)) in mood.iter().zip(m).enumerate() {
                saliency.mood[class * CELLS + cell] = (heard - without) as f32;
            }
        }
        Ok(saliency)
    }

    /// The values for `head`'s classes.
    pub fn of_head(&self, head: HeadKind) -> &[f32] {
        head.of(&self.genre, &self.mood)
    }

    /// The [`CELLS`] values of `head`'s class `class` (`t * BANDS + b`); none for a class
    /// the head does not have.
    pub fn cells(&self, head: HeadKind, class: usize) -> Option<&[f32]> {
        self.of_head(head).get(class * CELLS..(class + 1) * CELLS)
    }
}

/// Which head a map explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    Genre,
    Mood,
}

impl HeadKind {
    /// This head's one of a (genre, mood) pair.
    pub fn of<T>(self, genre: T, mood: T) -> T {
        match self {
            HeadKind::Genre => genre,
            HeadKind::Mood => mood,
        }
    }
}

/// The mean over a clip's `patches` (time-major, as the network read them) of `head`'s
/// probability of `class`, with `cells` (patch index, cell) silenced: what the deletion test
/// compares.
pub fn probability_without(
    tagger: &Tagger,
    patches: &[Vec<f32>],
    head: HeadKind,
    class: usize,
    cells: &[(usize, usize)],
) -> Result<f64, ModelError> {
    let mut patches = patches.to_vec();
    for &(k, cell) in cells {
        silence(&mut patches[k], cell);
    }
    let mut total = 0.0;
    for patch in &patches {
        let (genre, mood) = tagger.probabilities(patch)?;
        total += head.of(genre, mood)[class];
    }
    Ok(total / patches.len().max(1) as f64)
}

/// A clip's saliency for one class: one row of [`BANDS`] values (lowest band first) per
/// 0.5 s cell, each the fall in its patch's probability of the class when the cell is
/// silenced.
#[derive(Debug, Clone, PartialEq)]
pub struct SaliencyMap {
    pub class: String,
    /// The clip's probability of the class.
    pub probability: f64,
    /// Where each cell starts, in seconds from the clip's start, with its values.
    pub rows: Vec<(f64, [f32; BANDS])>,
    /// The 3 s stretch (start, end in seconds) whose cells supported the class most.
    pub evidence: Option<(f64, f64)>,
}

impl SaliencyMap {
    /// The stretch of [`TIME_CELLS`] consecutive cells with the largest summed saliency.
    fn strongest_stretch(rows: &[(f64, [f32; BANDS])]) -> Option<(f64, f64)> {
        let sums: Vec<f32> = rows.iter().map(|(_, r)| r.iter().sum()).collect();
        let width = TIME_CELLS.min(sums.len());
        if width == 0 {
            return None;
        }
        let best = (0..=sums.len() - width)
            .map(|i| (i, sums[i..i + width].iter().sum::<f32>()))
            .max_by(|a, b| a.1.total_cmp(&b.1))?
            .0;
        let last = rows[best + width - 1].0;
        Some((rows[best].0, last + cell_seconds()))
    }
}

/// A clip's patches, kept as they are occluded: what [`Explanation`]s are made from.
#[derive(Debug, Default, Clone)]
pub struct Explainer {
    /// Each patch's start (seconds) and saliency, in order.
    patches: Vec<(f64, PatchSaliency)>,
    /// The patches' compressed mel frames, in order (for drawing the map over them).
    mel: Vec<[f32; N_MELS]>,
}

/// Why a clip got its genre and mood.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub genre: SaliencyMap,
    pub mood: SaliencyMap,
    /// The compressed log-mel frames the network read ([`PATCH_FRAMES`] per patch,
    /// [`N_MELS`] each, lowest first), one every [`frame_seconds`] from the clip's start.
    pub mel: Vec<[f32; N_MELS]>,
}

/// Seconds between two mel frames.
pub fn frame_seconds() -> f64 {
    super::HOP_LENGTH as f64 / f64::from(SAMPLE_RATE)
}

impl Explainer {
    /// Keeps one patch (time-major, as the network read it) starting `start` seconds in.
    pub fn add(&mut self, start: f64, patch: &[f32], saliency: PatchSaliency) {
        self.patches.push((start, saliency));
        self.mel.extend(patch.chunks_exact(N_MELS).map(|f| {
            let mut frame = [0.0; N_MELS];
            frame.copy_from_slice(f);
            frame
        }));
    }

    /// The map of `head`'s class `class` (an index into its classes, named `name`), whose
    /// clip probability is `probability`.
    pub fn map(&self, head: HeadKind, class: usize, name: &str, probability: f64) -> SaliencyMap {
        let rows: Vec<(f64, [f32; BANDS])> = self
            .patches
            .iter()
            .flat_map(|(start, s)| {
                let cells = s.cells(head, class);
                (0..TIME_CELLS).map(move |t| {
                    let mut row = [0.0; BANDS];
                    if let Some(cells) = cells {
                        row.copy_from_slice(&cells[t * BANDS..(t + 1) * BANDS]);
                    }
                    (start + cell_offset_seconds(t), row)
                })
            })
            .collect();
        SaliencyMap {
            class: name.to_string(),
            probability,
            evidence: SaliencyMap::strongest_stretch(&rows),
            rows,
        }
    }

    /// Explains the most probable genre and mood of `genre` and `mood` (the clip's
    /// probabilities, labelled); none before any patch.
    pub fn explain(self, genre: &[(String, f64)], mood: &[(String, f64)]) -> Option<Explanation> {
        if self.patches.is_empty() {
            return None;
        }
        let top = |p: &[(String, f64)], head| {
            let (i, (name, probability)) = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1))?;
            Some(self.map(head, i, name, *probability))
        };
        let (genre, mood) = (top(genre, HeadKind::Genre)?, top(mood, HeadKind::Mood)?);
        Some(Explanation {
            genre,
            mood,
            mel: self.mel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_tile_the_patch_once() {
        let mut covered = vec![0u8; PATCH_FRAMES * N_MELS];
        for cell in 0..CELLS {
            let mut patch = vec![1.0; PATCH_FRAMES * N_MELS];
            silence(&mut patch, cell);
            for (c, &v) in covered.iter_mut().zip(&patch) {
                *c += u8::from(v == 0.0);
            }
        }
        assert!(covered.iter().all(|&c| c == 1));
    }

    #[test]
    fn bands_rise_and_stay_below_nyquist() {
        let edges: Vec<(f64, f64)> = (0..BANDS).map(band_hz).collect();
        assert!(edges.iter().all(|(low, high)| low < high));
        assert!(edges.windows(2).all(|w| w[0].1 == w[1].0));
        assert!(edges[BANDS - 1].1 < f64::from(SAMPLE_RATE) / 2.0);
        assert!(edges[0].0 > 0.0);
    }

    #[test]
    fn the_strongest_stretch_is_where_the_saliency_is() {
        let step = cell_seconds();
        let rows: Vec<(f64, [f32; BANDS])> = (0..24)
            .map(|i| {
                let v = if (10..16).contains(&i) { 0.1 } else { -0.01 };
                (i as f64 * step, [v; BANDS])
            })
            .collect();
        let (start, end) = SaliencyMap::strongest_stretch(&rows).unwrap();
        assert!((start - 10.0 * step).abs() < 1e-9);
        assert!((end - 16.0 * step).abs() < 1e-9);
        assert_eq!(SaliencyMap::strongest_stretch(&[]), None);
    }
}
