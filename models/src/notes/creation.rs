//! basic-pitch's note creation (`basic_pitch/note_creation.py`, 0.4.0), ported: onsets are
//! peaks of the onset activation (with onsets inferred from jumps in the note activation);
//! from each, backwards in time, a note runs while the note activation stays above a
//! threshold; the "melodia trick" then turns the strongest energy no onset claimed into
//! notes too; each note gets its pitch bends from the contour. Arithmetic is done in f64
//! where the package's numpy promotes to it, so near-ties break the same way.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Activations, Note, CONTOUR_BINS, HOP, KEYS, LOWEST_KEY, WINDOW, WINDOW_FRAMES};
use crate::SAMPLE_RATE;

/// basic-pitch's knobs, with its defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteSettings {
    /// Onset activation a note needs to start.
    pub onset_threshold: f64,
    /// Note activation that keeps a note sounding.
    pub frame_threshold: f64,
    /// Notes this many frames long or shorter are dropped (11 frames: the package's 127.7 ms).
    pub min_note_frames: usize,
    /// Also start notes where the note activation jumps.
    pub infer_onsets: bool,
    /// Keys below this frequency are ignored.
    pub min_hz: Option<f64>,
    /// Keys from this frequency up are ignored.
    pub max_hz: Option<f64>,
    /// Turn strong energy that no onset claimed into notes as well.
    pub melodia_trick: bool,
    /// Read each note's pitch bends off the contour.
    pub pitch_bends: bool,
}

impl Default for NoteSettings {
    fn default() -> Self {
        Self {
            onset_threshold: 0.5,
            frame_threshold: 0.3,
            min_note_frames: 11,
            infer_onsets: true,
            min_hz: None,
            max_hz: None,
            melodia_trick: true,
            pitch_bends: true,
        }
    }
}

/// Frames below threshold a note may run through before it ends.
const ENERGY_TOLERANCE: usize = 11;
/// Contour bins either side of a note's pitch its bends are looked for in.
const BEND_RANGE: usize = 25;

/// The notes in `activations`, ordered by start, then end and pitch.
pub fn notes(activations: &Activations, settings: &NoteSettings) -> Vec<Note> {
    let frames = activations.frames();
    let events = note_events(activations, settings);
    let mut notes: Vec<Note> = events
        .into_iter()
        .map(|(start, end, key, amplitude)| Note {
            start: frame_time(start),
            end: frame_time(end),
            pitch: LOWEST_KEY + key as u8,
            amplitude,
            bends: if settings.pitch_bends {
                bends(&activations.contour, start, end, key)
            } else {
                Vec::new()
            },
        })
        .collect();
    debug_assert!(notes.iter().all(|n| n.end <= frame_time(frames)));
    notes.sort_by(|a, b| {
        (a.start, a.end, a.pitch)
            .partial_cmp(&(b.start, b.end, b.pitch))
            .unwrap()
    });
    notes
}

/// The time of frame `frame` as the package reckons it: each window's trimmed frames cover a
/// little less than their nominal length, which it corrects by a fixed (empirical) offset per
/// 172 frames.
pub fn frame_time(frame: usize) -> f64 {
    let hop = HOP as f64 / f64::from(SAMPLE_RATE);
    let window_offset = hop * (WINDOW_FRAMES as f64 - WINDOW as f64 / HOP as f64) + 0.0018;
    frame as f64 * hop - window_offset * (frame / WINDOW_FRAMES) as f64
}

/// (start frame, end frame, key, amplitude) of each note, as `output_to_notes_polyphonic`.
fn note_events(
    activations: &Activations,
    settings: &NoteSettings,
) -> Vec<(usize, usize, usize, f32)> {
    let n = activations.frames();
    let mut frames = activations.note.clone();
    let mut onsets: Vec<f64> = activations.onset.iter().map(|&v| f64::from(v)).collect();
    let keys = key_range(settings);
    for t in 0..n {
        for k in (0..KEYS).filter(|k| !keys.contains(k)) {
            frames[t * KEYS + k] = 0.0;
            onsets[t * KEYS + k] = 0.0;
        }
    }
    let onsets = if settings.infer_onsets {
        inferred_onsets(&onsets, &frames, n)
    } else {
        Some(onsets)
    };
    let at = |t: usize, k: usize| t * KEYS + k;
    let threshold = settings.frame_threshold;
    let mut remaining = frames.clone();
    let mut events = Vec::new();
    let mean = |from: usize, to: usize, k: usize| -> f32 {
        let sum: f64 = (from..to).map(|t| f64::from(frames[at(t, k)])).sum();
        (sum / (to - from) as f64) as f32
    };
    let clear = |remaining: &mut [f32], t: usize, k: usize| {
        remaining[at(t, k)] = 0.0;
        if k + 1 < KEYS {
            remaining[at(t, k + 1)] = 0.0;
        }
        if k > 0 {
            remaining[at(t, k - 1)] = 0.0;
        }
    };

    // Onset peaks (strict local maxima in time), latest first.
    let mut starts = Vec::new();
    if let Some(onsets) = &onsets {
        for t in 1..n.saturating_sub(1) {
            for k in 0..KEYS {
                let v = onsets[at(t, k)];
                if v > onsets[at(t - 1, k)]
                    && v > onsets[at(t + 1, k)]
                    && v >= settings.onset_threshold
                {
                    starts.push((t, k));
                }
            }
        }
    }
    for &(start, k) in starts.iter().rev() {
        if start + 1 >= n {
            continue;
        }
        let mut i = start + 1;
        let mut below = 0;
        while i + 1 < n && below < ENERGY_TOLERANCE {
            if f64::from(remaining[at(i, k)]) < threshold {
                below += 1;
            } else {
                below = 0;
            }
            i += 1;
        }
        i -= below;
        if i - start <= settings.min_note_frames {
            continue;
        }
        for t in start..i {
            clear(&mut remaining, t, k);
        }
        events.push((start, i, k, mean(start, i, k)));
    }

    if settings.melodia_trick {
        // The package takes the global argmax each round; values only ever drop to zero, so
        // a heap of the candidates, skipping those zeroed since, finds the same ones.
        let mut heap: BinaryHeap<(OrderedF32, Reverse<usize>)> = remaining
            .iter()
            .enumerate()
            .filter(|(_, &v)| f64::from(v) > threshold)
            .map(|(i, &v)| (OrderedF32(v), Reverse(i)))
            .collect();
        while let Some((OrderedF32(v), Reverse(index))) = heap.pop() {
            if remaining[index] != v {
                continue;
            }
            let (mid, k) = (index / KEYS, index % KEYS);
            remaining[index] = 0.0;
            let n = n as isize;
            let step = |remaining: &mut [f32], i: isize, below: &mut usize| {
                if f64::from(remaining[at(i as usize, k)]) < threshold {
                    *below += 1;
                } else {
                    *below = 0;
                }
                clear(remaining, i as usize, k);
            };
            let mut i = mid as isize + 1;
            let mut below = 0;
            while i < n - 1 && below < ENERGY_TOLERANCE {
                step(&mut remaining, i, &mut below);
                i += 1;
            }
            let end = i - 1 - below as isize;
            let mut i = mid as isize - 1;
            let mut below = 0;
            while i > 0 && below < ENERGY_TOLERANCE {
                step(&mut remaining, i, &mut below);
                i -= 1;
            }
            let start = i + 1 + below as isize;
            if end - start <= settings.min_note_frames as isize {
                continue;
            }
            let (start, end) = (start as usize, end as usize);
            events.push((start, end, k, mean(start, end, k)));
        }
    }
    events
}

/// The keys `min_hz`..`max_hz` leave, as `constrain_frequency` rounds them.
fn key_range(settings: &NoteSettings) -> std::ops::Range<usize> {
    let key = |hz: f64| (12.0 * (hz / 440.0).log2() + 69.0 - f64::from(LOWEST_KEY)).round();
    let low = settings.min_hz.map_or(0.0, key).clamp(0.0, KEYS as f64) as usize;
    let high = settings
        .max_hz
        .map_or(KEYS as f64, key)
        .clamp(0.0, KEYS as f64) as usize;
    low..high.max(low)
}

/// The onsets with onsets inferred from jumps in the note activation (the smaller of its
/// rises over one and two frames, scaled to the onsets' peak), as `get_infered_onsets`; none
/// when the activation never rises (the package divides 0 by 0 there, and NaN is no peak).
fn inferred_onsets(onsets: &[f64], frames: &[f32], n: usize) -> Option<Vec<f64>> {
    let at = |t: usize, k: usize| t * KEYS + k;
    let before = |t: usize, lag: usize, k: usize| {
        if t >= lag {
            f64::from(frames[at(t - lag, k)])
        } else {
            0.0
        }
    };
    let mut rises = vec![0.0f64; n * KEYS];
    for t in 2..n {
        for k in 0..KEYS {
            let now = f64::from(frames[at(t, k)]);
            let rise = (now - before(t, 1, k)).min(now - before(t, 2, k));
            rises[at(t, k)] = rise.max(0.0);
        }
    }
    let peak_rise = rises.iter().copied().fold(0.0, f64::max);
    if peak_rise <= 0.0 {
        return None;
    }
    let peak_onset = onsets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(
        onsets
            .iter()
            .zip(&rises)
            .map(|(&onset, &rise)| onset.max(peak_onset * rise / peak_rise))
            .collect(),
    )
}

/// A note's pitch bends, frame by frame: where the contour, weighted by a Gaussian (σ = 5
/// bins) around the note's pitch, peaks, in bins (thirds of a semitone) from the pitch.
fn bends(contour: &[f32], start: usize, end: usize, key: usize) -> Vec<i32> {
    let center = 3 * key;
    let first = center.saturating_sub(BEND_RANGE);
    let last = (center + BEND_RANGE + 1).min(CONTOUR_BINS);
    let weight = |bin: usize| {
        let offset = bin as f64 - center as f64;
        (-0.5 * (offset / 5.0).powi(2)).exp()
    };
    (start..end)
        .map(|t| {
            let row = &contour[t * CONTOUR_BINS..(t + 1) * CONTOUR_BINS];
            let mut best = first;
            let mut best_value = f64::NEG_INFINITY;
            for (bin, &salience) in row.iter().enumerate().take(last).skip(first) {
                let value = f64::from(salience) * weight(bin);
                if value > best_value {
                    best = bin;
                    best_value = value;
                }
            }
            best as i32 - center as i32
        })
        .collect()
}

/// An f32 ordered by value (the activations are finite).
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrderedF32(f32);

impl Eq for OrderedF32 {}

impl PartialOrd for OrderedF32 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedF32 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
