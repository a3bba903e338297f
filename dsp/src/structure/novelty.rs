//! Live section changes: Foote's checkerboard novelty over the last columns, causal. Each
//! new column is standardized by running statistics and compared (cosine) with the columns
//! kept; the novelty of the point `half` columns back is the mean similarity within its two
//! sides minus that across them (a Gaussian-tapered checkerboard). A change is announced
//! when that novelty peaks, `peak` columns later, above its running mean by `threshold`
//! running deviations and above `floor`, and at least `min_gap` columns after the last; so a
//! change is known `half + peak` columns after it began (with the column that completes),
//! and placed where it was heard. The new section
//! takes the letter of the earlier material it is most like, or a new one. No allocation
//! after construction.

use super::{Features, DIMS};

/// Letters remembered; past that, new material reuses the least heard.
pub const MAX_LABELS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveParams {
    /// Columns on each side of the checkerboard.
    pub half: usize,
    /// Columns after a novelty value that must be lower before it counts as a peak.
    pub peak: usize,
    /// Running deviations above the running mean a peak must reach.
    pub threshold: f32,
    /// And the least novelty a peak must have (within-side minus across-side cosine), so
    /// the small peaks of steady music are not changes.
    pub floor: f32,
    /// Columns between changes, at least.
    pub min_gap: usize,
    /// Cosine similarity from which new material counts as a repeat.
    pub same: f32,
    /// Columns the running statistics (features and novelty) remember, about.
    pub memory: f32,
}

/// A section change, announced with the column `half + peak - 1` after the one it starts
/// at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// The column it starts at: its number since the start, and its time and position as
    /// the caller gave them.
    pub column: u64,
    pub time: f64,
    pub position: u64,
    pub label: usize,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    unit: Features,
    heard: Features,
    time: f64,
    position: u64,
}

pub struct LiveNovelty {
    params: LiveParams,
    /// The last columns: standardized and unit length, as heard, and their times and
    /// positions.
    ring: Vec<Slot>,
    /// Cosine similarities between ring slots.
    sims: Vec<f32>,
    /// Recent novelty values (ring), newest at `columns - half - 1`.
    curve: Vec<f32>,
    columns: u64,
    mean: Features,
    var: Features,
    novelty_mean: f32,
    novelty_var: f32,
    novelty_seen: u64,
    last_change: u64,
    label: usize,
    /// Per letter: the sum of its columns as heard and how many.
    letters: [(Features, f32); MAX_LABELS],
    letters_used: usize,
}

impl LiveNovelty {
    pub fn new(params: LiveParams) -> Self {
        let slots = 2 * params.half + params.peak + 1;
        Self {
            params,
            ring: vec![
                Slot {
                    unit: [0.0; DIMS],
                    heard: [0.0; DIMS],
                    time: 0.0,
                    position: 0,
                };
                slots
            ],
            sims: vec![0.0; slots * slots],
            curve: vec![0.0; 2 * params.peak + 1],
            columns: 0,
            mean: [0.0; DIMS],
            var: [1.0; DIMS],
            novelty_mean: 0.0,
            novelty_var: 0.0,
            novelty_seen: 0,
            last_change: 0,
            label: 0,
            letters: [([0.0; DIMS], 0.0); MAX_LABELS],
            letters_used: 1,
        }
    }

    /// The letter of the section being heard (0 for A).
    pub fn label(&self) -> usize {
        self.label
    }

    /// Forgets everything: a new stream.
    pub fn reset(&mut self) {
        *self = Self::new(self.params);
    }

    /// Takes the next column, heard at `time` and `position`; returns the change it
    /// confirms, if any.
    pub fn push(&mut self, column: &Features, time: f64, position: u64) -> Option<Change> {
        let p = self.params;
        let slots = self.ring.len();
        // Running standardization (exact over the first `memory` columns, then exponential).
        let rate = 1.0 / (self.columns as f32 + 1.0).min(p.memory);
        let heard = column.map(|x| if x.is_finite() { x } else { 0.0 });
        for (d, &x) in heard.iter().enumerate() {
            let delta = x - self.mean[d];
            self.mean[d] += rate * delta;
            self.var[d] = (1.0 - rate) * (self.var[d] + rate * delta * delta);
        }
        let slot = (self.columns % slots as u64) as usize;
        self.ring[slot] = Slot {
            unit: unit(self.standardized(&heard)),
            heard,
            time,
            position,
        };
        for other in 0..slots {
            let s: f32 = self.ring[slot]
                .unit
                .iter()
                .zip(&self.ring[other].unit)
                .map(|(a, b)| a * b)
                .sum();
            self.sims[slot * slots + other] = s;
            self.sims[other * slots + slot] = s;
        }
        let letter = &mut self.letters[self.label];
        letter.0.iter_mut().zip(&heard).for_each(|(s, v)| *s += v);
        letter.1 += 1.0;
        self.columns += 1;
        if self.columns < 2 * p.half as u64 {
            return None;
        }
        // Novelty at the boundary between the last 2 * half columns' halves.
        let first = self.columns - 2 * p.half as u64;
        let value = self.checkerboard(first);
        let centre = first + p.half as u64;
        let n = self.curve.len() as u64;
        self.curve[(centre % n) as usize] = value;
        let seen = self.novelty_seen;
        self.novelty_seen += 1;
        let rate = 1.0 / (seen as f32 + 1.0).min(p.memory);
        let delta = value - self.novelty_mean;
        self.novelty_mean += rate * delta;
        self.novelty_var = (1.0 - rate) * (self.novelty_var + rate * delta * delta);
        // The candidate `peak` values back, with `peak` on either side known.
        let candidate = centre.checked_sub(p.peak as u64)?;
        if seen < 2 * p.peak as u64 || candidate < self.last_change + p.min_gap as u64 {
            return None;
        }
        let c = self.curve[(candidate % n) as usize];
        let is_peak = (candidate - p.peak as u64..=centre)
            .filter(|&i| i != candidate)
            .all(|i| self.curve[(i % n) as usize] < c);
        if !is_peak
            || c < p
                .floor
                .max(self.novelty_mean + p.threshold * self.novelty_var.sqrt())
        {
            return None;
        }
        self.last_change = candidate;
        self.label = self.letter_of(candidate);
        let at = self.ring[(candidate % slots as u64) as usize];
        Some(Change {
            column: candidate,
            time: at.time,
            position: at.position,
            label: self.label,
        })
    }

    /// `x` by the running statistics, each block (chroma, timbre) weighing alike.
    fn standardized(&self, x: &Features) -> Features {
        std::array::from_fn(|d| {
            let block = if d < 12 { 12f32 } else { (DIMS - 12) as f32 };
            (x[d] - self.mean[d]) / (self.var[d].sqrt() + 1e-3) / block.sqrt()
        })
    }

    /// The Gaussian-tapered checkerboard over the 2 * half columns from `first`.
    fn checkerboard(&self, first: u64) -> f32 {
        let half = self.params.half;
        let slots = self.ring.len();
        let sigma = half as f32 / 2.0;
        let (mut total, mut weights) = (0f32, 0f32);
        for i in 0..2 * half {
            for j in 0..2 * half {
                if i == j {
                    continue;
                }
                let (di, dj) = (i as f32 - half as f32 + 0.5, j as f32 - half as f32 + 0.5);
                let w = (-(di * di + dj * dj) / (2.0 * sigma * sigma)).exp();
                let sign = if (i < half) == (j < half) { 1.0 } else { -1.0 };
                let (a, b) = (
                    ((first + i as u64) % slots as u64) as usize,
                    ((first + j as u64) % slots as u64) as usize,
                );
                total += sign * w * self.sims[a * slots + b];
                weights += w;
            }
        }
        2.0 * total / weights.max(1e-9)
    }

    /// The letter for material starting at column `from`: the earlier letter it is most
    /// like, if like enough and not the one just heard, else a new one.
    fn letter_of(&mut self, from: u64) -> usize {
        let slots = self.ring.len() as u64;
        let mut heard = [0f32; DIMS];
        for i in from..self.columns {
            let slot = &self.ring[(i % slots) as usize];
            heard.iter_mut().zip(&slot.heard).for_each(|(h, v)| *h += v);
        }
        let n = (self.columns - from).max(1) as f32;
        let heard = unit(self.standardized(&heard.map(|h| h / n)));
        let cosine = |(sum, count): &(Features, f32)| {
            let mean = unit(self.standardized(&sum.map(|s| s / count.max(1.0))));
            mean.iter().zip(&heard).map(|(x, y)| x * y).sum::<f32>()
        };
        let best = (0..self.letters_used)
            .filter(|&l| l != self.label && self.letters[l].1 > 0.0)
            .map(|l| (l, cosine(&self.letters[l])))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let new = match best {
            Some((l, s)) if s >= self.params.same => l,
            _ if self.letters_used < MAX_LABELS => {
                self.letters_used += 1;
                self.letters_used - 1
            }
            _ => {
                let least = (0..MAX_LABELS)
                    .filter(|&l| l != self.label)
                    .min_by(|&a, &b| self.letters[a].1.total_cmp(&self.letters[b].1))
                    .unwrap_or(0);
                self.letters[least] = ([0.0; DIMS], 0.0);
                least
            }
        };
        // The columns since the change were counted in the old letter: move them.
        for i in from..self.columns {
            let heard = self.ring[(i % slots) as usize].heard;
            let old = &mut self.letters[self.label];
            old.0.iter_mut().zip(&heard).for_each(|(s, v)| *s -= v);
            old.1 = (old.1 - 1.0).max(0.0);
            let new = &mut self.letters[new];
            new.0.iter_mut().zip(&heard).for_each(|(s, v)| *s += v);
            new.1 += 1.0;
        }
        new
    }
}

/// `x` scaled to unit length (zero stays zero).
fn unit(x: Features) -> Features {
    let norm = x.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 1e-6 {
        x.map(|v| v / norm)
    } else {
        [0.0; DIMS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::boundaries::tests::song;

    const PARAMS: LiveParams = LiveParams {
        half: 8,
        peak: 2,
        threshold: 1.5,
        floor: 0.15,
        min_gap: 12,
        same: 0.5,
        memory: 120.0,
    };

    #[test]
    fn changes_are_announced_where_they_happened_with_their_letters() {
        let columns = song("ABACAB", 24);
        let mut live = LiveNovelty::new(PARAMS);
        let mut changes = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            if let Some(change) = live.push(c, i as f64 * 0.5, 1000 + i as u64) {
                // Known with the column `half + peak - 1` after the change's.
                assert_eq!(
                    i as u64,
                    change.column + (PARAMS.half + PARAMS.peak - 1) as u64
                );
                changes.push(change);
            }
        }
        let starts: Vec<u64> = changes.iter().map(|c| c.column).collect();
        assert_eq!(changes.len(), 5, "{starts:?}");
        for (change, truth) in changes.iter().zip([24, 48, 72, 96, 120]) {
            assert!(change.column.abs_diff(truth) <= 2, "{starts:?}");
            assert_eq!(change.position, 1000 + change.column);
            assert_eq!(change.time, change.column as f64 * 0.5);
        }
        let letters: Vec<usize> = changes.iter().map(|c| c.label).collect();
        assert_eq!(letters, [1, 0, 2, 0, 1]);
    }

    #[test]
    fn a_steady_stream_has_no_change_and_nan_is_harmless() {
        let mut live = LiveNovelty::new(PARAMS);
        // One 8-column bar played over and over, with noise.
        let bar = song("A", 8);
        let noisy = song("BBBBBBBBBBBBBBBBBBBBBBBBB", 8);
        for i in 0..200 {
            let mut c: Features = std::array::from_fn(|d| bar[i % 8][d] + 0.2 * noisy[i][d]);
            if i % 7 == 0 {
                c[3] = f32::NAN;
            }
            assert!(live.push(&c, 0.0, i as u64).is_none(), "change at {i}");
        }
        assert_eq!(live.label(), 0);
        live.reset();
        assert!(live.push(&[0.0; DIMS], 0.0, 0).is_none());
    }
}
