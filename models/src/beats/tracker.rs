//! Online beat and downbeat tracking: the forward pass of a bar-pointer HMM over beat and
//! downbeat activations, one frame at a time.
//!
//! The state space is madmom's `BarStateSpace` for 3 and 4 beats per bar side by side: a
//! state is a (meter, tempo, position in the bar) triple; the position advances one frame per
//! frame, and at each beat boundary the tempo may change with probability `exp(-λ·|r − 1|)`
//! for the interval ratio `r` (madmom's `BarTransitionModel`). Observations follow madmom's
//! `RNNDownBeatTrackingObservationModel`: the first 1/16 of the bar is the downbeat region,
//! the first 1/16 of every other beat a beat region. Only the forward probabilities are kept
//! (no look-ahead), so a beat is announced at the frame the most likely state enters a new
//! beat. A small restart probability lets the tracker recover from a tempo change or a seek.

use std::ops::Range;

/// Beats are only announced while the beat or downbeat probability has recently reached this.
const MIN_PULSE: f64 = 0.1;
/// Seconds for that recent peak to halve.
const PULSE_HALF_LIFE: f64 = 1.5;

/// Tracker settings; the defaults follow madmom's downbeat DBN.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    pub frames_per_second: f64,
    pub min_bpm: f64,
    pub max_bpm: f64,
    pub num_tempi: usize,
    pub beats_per_bar: Vec<usize>,
    pub transition_lambda: f64,
    pub observation_lambda: f64,
    /// Share of probability mass spread over all states each frame.
    pub restart: f64,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            frames_per_second: 50.0,
            min_bpm: 55.0,
            max_bpm: 215.0,
            num_tempi: 60,
            beats_per_bar: vec![3, 4],
            transition_lambda: 100.0,
            observation_lambda: 16.0,
            restart: 1e-5,
        }
    }
}

/// A beat announced by the tracker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackedBeat {
    /// Frame index the beat falls on.
    pub frame: u64,
    /// 1 on the downbeat.
    pub beat_in_bar: u8,
    pub beats_per_bar: u8,
    pub tempo_bpm: f64,
}

/// One run of states: a meter at one tempo.
#[derive(Debug, Clone)]
struct Block {
    beats: usize,
    interval: usize,
    /// Index of the block's first state.
    offset: usize,
}

impl Block {
    fn len(&self) -> usize {
        self.beats * self.interval
    }
}

pub struct BeatTracker {
    config: TrackerConfig,
    blocks: Vec<Block>,
    /// Per meter, its blocks (one per tempo, in tempo order).
    meters: Vec<Range<usize>>,
    /// Tempo transition probabilities at a beat boundary, `[from tempo][to tempo]`; the same
    /// for every meter, since every meter has the same tempi.
    transitions: Vec<f64>,
    /// 0 none, 1 beat, 2 downbeat, per state.
    region: Vec<u8>,
    forward: Vec<f64>,
    next: Vec<f64>,
    frame: u64,
    last_best: Option<(usize, usize)>,
    last_beat: Option<u64>,
    /// A beat entered on the previous frame, with that frame's activation strength.
    pending: Option<(TrackedBeat, f64)>,
    /// Decaying peak of the beat and downbeat probabilities: no beats without a pulse.
    pulse: f64,
    pulse_decay: f64,
}

impl BeatTracker {
    pub fn new(config: TrackerConfig) -> Self {
        let fps = config.frames_per_second;
        let (min_interval, max_interval) =
            (60.0 * fps / config.max_bpm, 60.0 * fps / config.min_bpm);
        // madmom's BeatStateSpace: log-spaced intervals, rounded, duplicates removed.
        let mut intervals: Vec<usize> = (0..config.num_tempi)
            .map(|i| {
                let t = i as f64 / (config.num_tempi - 1).max(1) as f64;
                (min_interval.ln() + t * (max_interval.ln() - min_interval.ln()))
                    .exp()
                    .round() as usize
            })
            .collect();
        intervals.dedup();

        let mut blocks = Vec::new();
        let mut meters = Vec::new();
        let mut offset = 0;
        for &beats in &config.beats_per_bar {
            let first = blocks.len();
            for &interval in &intervals {
                blocks.push(Block {
                    beats,
                    interval,
                    offset,
                });
                offset += beats * interval;
            }
            meters.push(first..blocks.len());
        }
        let transitions = tempo_transitions(&intervals, config.transition_lambda);
        let mut region = vec![0u8; offset];
        for b in &blocks {
            for p in 0..b.len() {
                let position = p as f64 / b.interval as f64;
                if position.fract() < 1.0 / config.observation_lambda {
                    region[b.offset + p] = if position < 1.0 { 2 } else { 1 };
                }
            }
        }
        let uniform = 1.0 / offset as f64;
        let pulse_decay = 0.5f64.powf(1.0 / (PULSE_HALF_LIFE * fps));
        Self {
            config,
            blocks,
            meters,
            transitions,
            region,
            forward: vec![uniform; offset],
            next: vec![0.0; offset],
            frame: 0,
            last_best: None,
            last_beat: None,
            pending: None,
            pulse: 0.0,
            pulse_decay,
        }
    }

    pub fn reset(&mut self) {
        let uniform = 1.0 / self.forward.len() as f64;
        self.forward.fill(uniform);
        self.frame = 0;
        self.last_best = None;
        self.last_beat = None;
        self.pending = None;
        self.pulse = 0.0;
    }

    /// Takes one frame's beat and downbeat probabilities (a beat that is not a downbeat, and
    /// a downbeat); returns a beat on this frame or the one before, if any.
    ///
    /// The most likely state enters a beat on the rising edge of the activation, a frame or
    /// two before its peak; so the beat is placed one frame later, on whichever of the two
    /// frames has the stronger activation.
    pub fn step(&mut self, beat: f32, downbeat: f32) -> Option<TrackedBeat> {
        self.predict();
        self.observe(beat, downbeat);
        let strength = (clean(beat) + clean(downbeat)) as f64;
        self.pulse = strength.max(self.pulse * self.pulse_decay);
        let frame = self.frame;
        self.frame += 1;
        let settled = self.pending.take().map(|(mut b, entry_strength)| {
            if strength > entry_strength {
                b.frame = frame;
            }
            b
        });

        let best = argmax(&self.forward);
        let block_index = self.block_of(best);
        let block = &self.blocks[block_index];
        let beat_index = (best - block.offset) / block.interval;
        let entered = match self.last_best {
            Some((b, i)) => b != block_index || i != beat_index,
            None => false,
        };
        self.last_best = Some((block_index, beat_index));
        // A jump between tempi can also change the beat index; require most of a beat since
        // the last one.
        let spaced = self
            .last_beat
            .is_none_or(|last| (frame - last) as f64 >= 0.6 * block.interval as f64);
        if entered && spaced && self.region[best] != 0 && self.pulse >= MIN_PULSE {
            self.last_beat = Some(frame);
            let entered = TrackedBeat {
                frame,
                beat_in_bar: beat_index as u8 + 1,
                beats_per_bar: block.beats as u8,
                tempo_bpm: 60.0 * self.config.frames_per_second / block.interval as f64,
            };
            self.pending = Some((entered, strength));
        }
        settled
    }

    fn block_of(&self, state: usize) -> usize {
        self.blocks.partition_point(|b| b.offset + b.len() <= state)
    }

    /// Advances every state one frame; the last state of each beat moves to the first state
    /// of the next beat at any tempo of the same meter.
    fn predict(&mut self) {
        let Self {
            blocks,
            meters,
            transitions,
            forward,
            next,
            ..
        } = self;
        for b in blocks.iter() {
            let range = b.offset..b.offset + b.len();
            next[range.start + 1..range.end].copy_from_slice(&forward[range.start..range.end - 1]);
            for beat in 1..b.beats {
                next[b.offset + beat * b.interval] = 0.0;
            }
            next[b.offset] = 0.0;
        }
        for meter in meters.iter() {
            let tempi = &blocks[meter.clone()];
            let n = tempi.len();
            let beats = tempi[0].beats;
            for beat in 0..beats {
                // Leaving beat `beat` (its last state) for beat `beat + 1`.
                let to_beat = (beat + 1) % beats;
                for (i, f) in tempi.iter().enumerate() {
                    let mass = forward[f.offset + (beat + 1) * f.interval - 1];
                    if mass == 0.0 {
                        continue;
                    }
                    for (t, &p) in tempi.iter().zip(&transitions[i * n..(i + 1) * n]) {
                        if p > 0.0 {
                            next[t.offset + to_beat * t.interval] += mass * p;
                        }
                    }
                }
            }
        }
        std::mem::swap(forward, next);
    }

    fn observe(&mut self, beat: f32, downbeat: f32) {
        let (beat, downbeat) = (clean(beat) as f64, clean(downbeat) as f64);
        let none = ((1.0 - beat - downbeat) / (self.config.observation_lambda - 1.0)).max(1e-7);
        let density = [none, beat.max(1e-7), downbeat.max(1e-7)];
        let mut total = 0.0;
        for (f, &r) in self.forward.iter_mut().zip(&self.region) {
            *f *= density[r as usize];
            total += *f;
        }
        let restart = self.config.restart / self.forward.len() as f64;
        let keep = (1.0 - self.config.restart) / total.max(f64::MIN_POSITIVE);
        for f in &mut self.forward {
            *f = *f * keep + restart;
        }
    }
}

/// madmom's `exponential_transition`, rows normalized; tiny probabilities dropped.
fn tempo_transitions(intervals: &[usize], lambda: f64) -> Vec<f64> {
    let n = intervals.len();
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let ratio = intervals[j] as f64 / intervals[i] as f64;
            let v = (-lambda * (ratio - 1.0).abs()).exp();
            p[i * n + j] = if v > f64::EPSILON { v } else { 0.0 };
        }
        let sum: f64 = p[i * n..(i + 1) * n].iter().sum();
        p[i * n..(i + 1) * n].iter_mut().for_each(|v| *v /= sum);
    }
    p
}

fn clean(p: f32) -> f32 {
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Activations of a steady pulse: two frames wide, `period` frames apart, every `bar`-th
    /// a downbeat.
    fn pulse(period: usize, bar: usize, frames: usize) -> Vec<(f32, f32)> {
        (0..frames)
            .map(
                |f| match (f % period < 2, (f / period).is_multiple_of(bar)) {
                    (true, true) => (0.05, 0.9),
                    (true, false) => (0.9, 0.05),
                    _ => (0.02, 0.01),
                },
            )
            .collect()
    }

    fn track(acts: &[(f32, f32)]) -> Vec<TrackedBeat> {
        let mut tracker = BeatTracker::new(TrackerConfig::default());
        acts.iter()
            .filter_map(|&(b, d)| tracker.step(b, d))
            .collect()
    }

    #[test]
    fn locks_onto_a_steady_4_4_pulse() {
        // 120 BPM at 50 fps: a beat every 25 frames, 20 s.
        let beats = track(&pulse(25, 4, 1000));
        let late: Vec<_> = beats.iter().filter(|b| b.frame >= 250).collect();
        assert!(late.len() >= 28 && late.len() <= 31, "{}", late.len());
        for b in &late {
            assert!(b.frame % 25 <= 1 || b.frame % 25 == 24, "{b:?}");
            assert_eq!(b.beats_per_bar, 4);
            assert!((b.tempo_bpm - 120.0).abs() < 5.0, "{b:?}");
            // Downbeats where the activations put them.
            assert_eq!(b.beat_in_bar == 1, (b.frame + 1) / 25 % 4 == 0, "{b:?}");
        }
    }

    #[test]
    fn tells_three_four_from_four_four() {
        let beats = track(&pulse(30, 3, 1500));
        let last = beats.last().unwrap();
        assert_eq!(last.beats_per_bar, 3);
        assert!((last.tempo_bpm - 100.0).abs() < 5.0, "{last:?}");
    }

    #[test]
    fn silence_and_garbage_give_no_beats_and_no_panic() {
        let mut tracker = BeatTracker::new(TrackerConfig::default());
        for i in 0..500 {
            let (b, d) = match i % 3 {
                0 => (f32::NAN, f32::INFINITY),
                1 => (-1.0, 2.0),
                _ => (0.0, 0.0),
            };
            let _ = tracker.step(b, d);
        }
        assert!(tracker.forward.iter().all(|p| p.is_finite()));
        let quiet = track(&vec![(0.01, 0.01); 500]);
        assert!(quiet.is_empty(), "{}", quiet.len());
    }

    #[test]
    fn follows_a_tempo_change() {
        let mut acts = pulse(25, 4, 1000);
        acts.extend(pulse(20, 4, 1000));
        let beats = track(&acts);
        let last = beats.last().unwrap();
        assert!((last.tempo_bpm - 150.0).abs() < 6.0, "{last:?}");
    }
}
