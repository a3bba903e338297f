//! Sections, one chain for files and live input, on the feature engine's frames (chroma and
//! MFCCs, which `analyze` and the live engine compute anyway, so sections cost no spectrum
//! of their own), summarized into short units as they come. A file keeps its units and is
//! segmented whole at the end (`mirador-dsp`'s structure: beat-synchronous columns,
//! structural-feature boundaries snapped to downbeats, segment-similarity letters, roles);
//! live, Foote's novelty over half-second columns announces each change a few seconds after
//! it is heard, placed where it was heard ([`SectionPipeline::current`]).

use std::ops::Range;

use mirador_dsp::structure::boundaries::{boundaries, refine, BoundaryParams, Embedded};
use mirador_dsp::structure::columns::{standardize, synchronize, FrameView, Unit, Units};
use mirador_dsp::structure::labels::labels;
use mirador_dsp::structure::novelty::{LiveNovelty, LiveParams};
use mirador_dsp::structure::roles::{roles, Part};
use mirador_dsp::structure::{Features, Section, DIMS};

/// Frames per unit a file keeps (~93 ms at the analysis defaults: 512-sample hops at
/// 22.05 kHz).
pub const FILE_UNIT_FRAMES: usize = 4;
/// Frames per live column (~0.51 s).
pub const LIVE_UNIT_FRAMES: usize = 22;

/// What a file's segmentation is tuned by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SectionParams {
    /// Serrà et al.'s structural features, in columns (beats).
    pub boundaries: BoundaryParams,
    /// Segment similarity: diagonals over at least this share of the shorter section, and
    /// sections at least this alike share a letter.
    pub min_overlap: f32,
    pub same_material: f32,
    /// Sections shorter than this (seconds) are merged into a neighbour (the weaker
    /// boundary goes).
    pub min_section: f64,
    /// A boundary moves to the sharpest change at most this far (seconds), read on a
    /// checkerboard of this many units (93 ms) a side, ...
    pub refine_seconds: f64,
    pub refine_units: usize,
    /// ... then to a downbeat at most this far (seconds).
    pub snap_seconds: f64,
}

impl SectionParams {
    /// MSAF's embedding and neighbours; the rest chosen on the development songs
    /// (`cargo xtask eval sections dev`).
    pub const DEFAULT: Self = Self {
        boundaries: BoundaryParams {
            embedding: 3,
            neighbours: 0.04,
            smooth_time: 12.0,
            smooth_lag: 0.5,
            threshold_window: 28,
            threshold_offset: 0.05,
        },
        min_overlap: 0.6,
        same_material: 0.25,
        min_section: 4.0,
        refine_seconds: 1.0,
        refine_units: 16,
        snap_seconds: 0.35,
    };
}

/// Columns without beats (no beat model, or none found): this many seconds each.
const STEP_SECONDS: f64 = 0.5;
/// At most this many columns (beats are grouped past it): the cost grows with its square.
const MAX_COLUMNS: usize = 1000;

/// Live: 4 s either side of a change (8 columns), a peak confirmed 2 columns later, so a
/// change is announced about 5.1 s after it is heard; changes at least 6 s apart.
pub const LIVE: LiveParams = LiveParams {
    half: 8,
    peak: 2,
    threshold: 1.5,
    floor: 0.2,
    min_gap: 12,
    same: 0.3,
    memory: 120.0,
};

/// Seconds between a change and its announcement, live.
pub fn live_latency_seconds() -> f64 {
    ((LIVE.half + LIVE.peak) * LIVE_UNIT_FRAMES) as f64 * 512.0 / crate::SAMPLE_RATE as f64
}

/// The section being heard, live.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveSection {
    /// 0 for A, ...
    pub label: usize,
    /// Seconds and timeline position where it began.
    pub since: f64,
    pub position: u64,
}

pub struct SectionPipeline {
    units: Units,
    /// Files: every unit, for segmentation at the end.
    kept: Option<Vec<Unit>>,
    live: Option<LiveNovelty>,
    current: Option<LiveSection>,
}

impl SectionPipeline {
    pub fn for_clip() -> Self {
        Self {
            units: Units::new(FILE_UNIT_FRAMES),
            kept: Some(Vec::new()),
            live: None,
            current: None,
        }
    }

    pub fn live() -> Self {
        Self {
            units: Units::new(LIVE_UNIT_FRAMES),
            kept: None,
            live: Some(LiveNovelty::new(LIVE)),
            current: None,
        }
    }

    /// Takes the next feature frame.
    pub fn push(&mut self, frame: FrameView<'_>) {
        let Some(unit) = self.units.push(frame) else {
            return;
        };
        if let Some(kept) = &mut self.kept {
            kept.push(unit);
        }
        if let Some(live) = &mut self.live {
            let current = self.current.get_or_insert(LiveSection {
                label: 0,
                since: unit.time,
                position: unit.position,
            });
            if let Some(change) = live.push(&unit.features, unit.time, unit.position) {
                *current = LiveSection {
                    label: change.label,
                    since: change.time,
                    position: change.position,
                };
            }
        }
    }

    /// Live: the section being heard, once a column has been.
    pub fn current(&self) -> Option<LiveSection> {
        self.current
    }

    /// A new stream (a seek, a gap): what came before is forgotten.
    pub fn discontinuity(&mut self) {
        self.units.reset();
        if let Some(live) = &mut self.live {
            live.reset();
        }
        self.current = None;
    }

    /// Files: the clip's sections, covering 0 to `end` seconds; on the beats (seconds and
    /// beat in bar, 1 on a downbeat) when there are some, and starting on downbeats where
    /// one is near.
    pub fn sections(&mut self, beats: &[(f64, u8)], end: f64) -> Vec<Section> {
        if let (Some(unit), Some(kept)) = (self.units.flush(), &mut self.kept) {
            kept.push(unit);
        }
        match &self.kept {
            Some(units) => segment(units, beats, end, &SectionParams::DEFAULT),
            None => Vec::new(),
        }
    }
}

/// The sections of a file whose frames made `units`, covering 0 to `end` seconds, with
/// `params`: [`SectionPipeline::sections`] with other parameters (to tune them).
pub fn segment(
    units: &[Unit],
    beats: &[(f64, u8)],
    end: f64,
    params: &SectionParams,
) -> Vec<Section> {
    let beat_times: Vec<f64> = beats.iter().map(|b| b.0).collect();
    let mut columns = synchronize(units, &beat_times, end, STEP_SECONDS, MAX_COLUMNS);
    standardize(&mut columns.features);
    let n = columns.len();
    let embedded = Embedded::new(
        &columns.features,
        params.boundaries.embedding,
        params.boundaries.neighbours,
    );
    let found = embedded
        .as_ref()
        .map_or_else(Vec::new, |e| boundaries(e, n, &params.boundaries));
    // Each boundary placed on the sharpest change near it, then on a downbeat if one
    // is near that.
    let mut unit_features: Vec<_> = units.iter().map(|u| u.features).collect();
    standardize(&mut unit_features);
    let unit_times: Vec<f64> = units.iter().map(|u| u.time).collect();
    let downbeats: Vec<f64> = beats.iter().filter(|b| b.1 == 1).map(|b| b.0).collect();
    let mut cuts: Vec<(f64, f32)> = found
        .into_iter()
        .map(|(c, strength)| {
            let t = refine(
                &unit_features,
                &unit_times,
                columns.starts[c],
                params.refine_seconds,
                params.refine_units,
            );
            (snap(t, &downbeats, params.snap_seconds), strength)
        })
        .filter(|&(t, _)| t > 0.0 && t < end)
        .collect();
    cuts.sort_by(|a, b| a.0.total_cmp(&b.0));
    merge_short(&mut cuts, end, params.min_section);
    merge_alike(&mut cuts, units, end);
    // The column each section starts at, for the letters.
    let column_of = |t: f64| {
        let i = columns.starts.partition_point(|&s| s < t).min(n - 1);
        if i > 0 && t - columns.starts[i - 1] < columns.starts[i] - t {
            i - 1
        } else {
            i
        }
    };
    // Cuts closer than a column (long files group beats) keep the first.
    let mut starts: Vec<usize> = Vec::with_capacity(cuts.len());
    cuts.retain(|c| {
        let column = column_of(c.0);
        let new = column > starts.last().copied().unwrap_or(0);
        if new {
            starts.push(column);
        }
        new
    });
    let ranges: Vec<Range<usize>> = std::iter::once(0)
        .chain(starts.iter().copied())
        .zip(starts.iter().copied().chain(std::iter::once(n)))
        .map(|(a, b)| a..b)
        .collect();
    let times: Vec<f64> = std::iter::once(0.0)
        .chain(cuts.iter().map(|c| c.0))
        .chain(std::iter::once(end))
        .collect();
    let letters = match &embedded {
        Some(e) => labels(e, &ranges, params.min_overlap, params.same_material),
        None => vec![0; ranges.len()],
    };
    let parts: Vec<Part> = ranges
        .iter()
        .zip(&letters)
        .enumerate()
        .map(|(i, (r, &label))| Part {
            start: times[i],
            end: times[i + 1],
            label,
            loudness: columns.loudness[r.clone()].iter().sum::<f32>() / r.len() as f32,
        })
        .collect();
    roles(&parts)
        .into_iter()
        .zip(&parts)
        .map(|((role, confidence), p)| Section {
            start: p.start,
            end: p.end,
            label: p.label,
            role,
            confidence,
        })
        .collect()
}

/// The downbeat nearest `t`, if one is within `within` seconds.
fn snap(t: f64, downbeats: &[f64], within: f64) -> f64 {
    downbeats
        .iter()
        .copied()
        .filter(|d| (d - t).abs() <= within)
        .min_by(|a, b| (a - t).abs().total_cmp(&(b - t).abs()))
        .unwrap_or(t)
}

/// Neighbouring sections whose mean chroma differs by less than this (L2; chroma is 0 to 1)
/// and whose mean MFCCs differ by less than this (RMS over MFCC 1 to 13) are one: the
/// standardized features find "changes" in anything, white noise or one held chord
/// included, so a boundary must also change the music in absolute terms.
const ALIKE_CHROMA: f32 = 0.1;
const ALIKE_TIMBRE: f32 = 1.5;

/// Drops the boundaries (seconds, ascending) between sections that sound alike in absolute
/// terms, the most alike first.
fn merge_alike(cuts: &mut Vec<(f64, f32)>, units: &[Unit], end: f64) {
    let mean = |from: f64, to: f64| {
        let (mut sum, mut n) = ([0f32; DIMS], 0f32);
        for u in units.iter().filter(|u| u.time >= from && u.time < to) {
            sum.iter_mut().zip(&u.features).for_each(|(s, x)| *s += x);
            n += 1.0;
        }
        sum.map(|s| s / n.max(1.0))
    };
    loop {
        let edges: Vec<f64> = std::iter::once(0.0)
            .chain(cuts.iter().map(|c| c.0))
            .chain(std::iter::once(end))
            .collect();
        let means: Vec<Features> = edges.windows(2).map(|w| mean(w[0], w[1])).collect();
        // Per boundary: how far above the "alike" line its larger change is.
        let contrast = |i: usize| {
            let (a, b) = (&means[i], &means[i + 1]);
            let chroma = (0..12).map(|d| (a[d] - b[d]).powi(2)).sum::<f32>().sqrt();
            let timbre = ((12..DIMS).map(|d| (a[d] - b[d]).powi(2)).sum::<f32>()
                / (DIMS - 12) as f32)
                .sqrt();
            (chroma / ALIKE_CHROMA).max(timbre / ALIKE_TIMBRE)
        };
        let Some((i, c)) = (0..cuts.len())
            .map(|i| (i, contrast(i)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
        else {
            return;
        };
        if c >= 1.0 {
            return;
        }
        cuts.remove(i);
    }
}

/// Drops boundaries (seconds, ascending, with their strength) until no section is shorter
/// than `shortest` seconds: of a short section's two ends, the weaker goes.
fn merge_short(cuts: &mut Vec<(f64, f32)>, end: f64, shortest: f64) {
    cuts.dedup_by(|a, b| {
        b.1 = b.1.max(a.1);
        a.0 == b.0
    });
    while !cuts.is_empty() {
        let edges: Vec<f64> = std::iter::once(0.0)
            .chain(cuts.iter().map(|c| c.0))
            .chain(std::iter::once(end))
            .collect();
        let Some(short) = (0..edges.len() - 1)
            .filter(|&i| edges[i + 1] - edges[i] < shortest)
            .min_by(|&a, &b| (edges[a + 1] - edges[a]).total_cmp(&(edges[b + 1] - edges[b])))
        else {
            return;
        };
        // Section `short` lies between cut short - 1 (its start) and cut short (its end).
        let drop = match (short.checked_sub(1), (short < cuts.len()).then_some(short)) {
            (Some(b), Some(a)) => {
                if cuts[b].1 < cuts[a].1 {
                    b
                } else {
                    a
                }
            }
            (Some(b), None) => b,
            (None, Some(a)) => a,
            (None, None) => return,
        };
        cuts.remove(drop);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_sections_lose_their_weaker_boundary() {
        // Cuts at 10 s (strong), 12 s (weak), 30 s; the song ends at 32 s.
        let mut cuts = vec![(10.0, 0.9), (12.0, 0.2), (30.0, 0.5)];
        merge_short(&mut cuts, 32.0, 4.0);
        assert_eq!(cuts, vec![(10.0, 0.9)]);
        let mut none: Vec<(f64, f32)> = Vec::new();
        merge_short(&mut none, 1.0, 4.0);
        assert!(none.is_empty());
    }

    /// A file's sections from `seconds` of frames made by `frame(time)`, with beats every
    /// half second when `beats`.
    fn file(
        seconds: f64,
        beats: bool,
        frame: impl Fn(f64) -> ([f32; 12], [f32; 20], f32),
    ) -> Vec<Section> {
        let mut p = SectionPipeline::for_clip();
        let hop = 512.0 / 22_050.0;
        for i in 0..(seconds / hop) as usize {
            let t = i as f64 * hop;
            let (chroma, mfcc, rms) = frame(t);
            p.push(FrameView {
                time: t,
                position: i as u64 * 512,
                chroma: &chroma,
                mfcc: &mfcc,
                rms,
            });
        }
        let beats: Vec<(f64, u8)> = (1..(seconds * 2.0) as usize)
            .filter(|_| beats)
            .map(|i| (i as f64 * 0.5, (i % 4 + 1) as u8))
            .collect();
        p.sections(&beats, seconds)
    }

    fn covers(sections: &[Section], seconds: f64) {
        assert_eq!(sections[0].start, 0.0);
        assert_eq!(sections.last().unwrap().end, seconds);
        assert!(sections
            .windows(2)
            .all(|w| w[0].end == w[1].start && w[0].start < w[0].end));
        assert!(sections.iter().all(|s| (0.0..=1.0).contains(&s.confidence)));
    }

    #[test]
    fn silence_short_clips_and_broken_frames_give_one_section() {
        let silence = |_| ([0.0; 12], [-1000.0; 20], 0.0);
        for (seconds, beats) in [(60.0, true), (2.0, false), (0.05, false), (0.0, false)] {
            let s = file(seconds, beats, silence);
            assert_eq!(s.len(), 1, "{seconds} s: {s:?}");
            assert_eq!((s[0].start, s[0].end, s[0].label), (0.0, seconds, 0));
        }
        let broken = file(30.0, true, |t| {
            let x = if ((t * 10.0) as usize).is_multiple_of(3) {
                f32::NAN
            } else {
                f32::INFINITY
            };
            ([x; 12], [x; 20], x)
        });
        covers(&broken, 30.0);
    }

    #[test]
    fn noise_and_a_held_chord_are_one_section() {
        // Frames of noise: chroma and MFCCs drawn anew every frame.
        let noise = |t: f64| {
            let r = |k: f64| ((t * 7919.0 + k * 104.729).sin() * 43758.5453).fract() as f32;
            let chroma: [f32; 12] = std::array::from_fn(|i| r(i as f64).abs());
            let mfcc: [f32; 20] =
                std::array::from_fn(|i| -200.0 * (i == 0) as u8 as f32 + 3.0 * r(20.0 + i as f64));
            (chroma, mfcc, 0.1)
        };
        let s = file(60.0, true, noise);
        assert_eq!(s.len(), 1, "{s:?}");
        // A major triad held, with a little vibrato in the timbre.
        let held = |t: f64| {
            let mut chroma = [0.05; 12];
            for p in [9, 1, 4] {
                chroma[p] = 1.0;
            }
            let mut mfcc = [0.0; 20];
            mfcc[1] = 50.0 + (t * 5.0).sin() as f32;
            (chroma, mfcc, 0.1)
        };
        assert_eq!(file(60.0, true, held).len(), 1);
    }

    #[test]
    fn a_two_hour_file_is_segmented_in_bounded_columns() {
        // A part changes every 40 s; each has its own chroma and timbre.
        let s = file(7200.0, true, |t| {
            let part = (t / 40.0) as usize % 7;
            let mut chroma = [0.1; 12];
            chroma[part] = 1.0;
            let mut mfcc = [0.0; 20];
            mfcc[1 + part] = 30.0;
            mfcc[5] += (t * 3.0).sin() as f32;
            (chroma, mfcc, 0.1)
        });
        covers(&s, 7200.0);
        assert!(s.len() > 20, "{}", s.len());
        assert!(s.iter().all(|s| s.start.is_finite() && s.end.is_finite()));
    }

    #[test]
    fn boundaries_move_to_a_near_downbeat() {
        assert_eq!(snap(10.1, &[8.0, 10.0, 12.0], 0.35), 10.0);
        assert_eq!(snap(11.0, &[8.0, 12.0], 0.35), 11.0);
        assert_eq!(snap(5.0, &[], 0.35), 5.0);
    }
}
