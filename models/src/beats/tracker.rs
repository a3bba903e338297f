//! Online beat and downbeat tracking: the forward pass of madmom's bar-pointer HMM
//! ([`BarSpace`]) over beat and downbeat activations, one frame at a time. Only the forward
//! probabilities are kept (no look-ahead), so a beat is announced at the frame the most
//! likely state enters a new beat. A small restart probability lets the tracker recover from
//! a tempo change or a seek.

use super::bar_space::{clean, BarSpace, Region, TrackerConfig};

/// Beats are only announced while the beat or downbeat probability has recently reached this.
const MIN_PULSE: f64 = 0.1;
/// Seconds for that recent peak to halve.
const PULSE_HALF_LIFE: f64 = 1.5;

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

pub struct BeatTracker {
    space: BarSpace,
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
        let space = BarSpace::new(config);
        let states = space.states();
        let fps = space.config.frames_per_second;
        let uniform = 1.0 / states as f64;
        let pulse_decay = 0.5f64.powf(1.0 / (PULSE_HALF_LIFE * fps));
        Self {
            space,
            forward: vec![uniform; states],
            next: vec![0.0; states],
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
        let block_index = self.space.block_of(best);
        let block = &self.space.blocks[block_index];
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
        if entered && spaced && self.space.region[best] != Region::None && self.pulse >= MIN_PULSE {
            self.last_beat = Some(frame);
            let entered = TrackedBeat {
                frame,
                beat_in_bar: beat_index as u8 + 1,
                beats_per_bar: block.beats as u8,
                tempo_bpm: self.space.bpm(block_index),
            };
            self.pending = Some((entered, strength));
        }
        settled
    }

    /// Advances every state one frame; the last state of each beat moves to the first state
    /// of the next beat at any tempo of the same meter.
    fn predict(&mut self) {
        let Self {
            space,
            forward,
            next,
            ..
        } = self;
        let (blocks, transitions) = (&space.blocks, &space.transitions);
        for b in blocks.iter() {
            let range = b.offset..b.offset + b.len();
            next[range.start + 1..range.end].copy_from_slice(&forward[range.start..range.end - 1]);
            for beat in 0..b.beats {
                next[b.beat_start(beat)] = 0.0;
            }
        }
        for meter in space.meters.iter() {
            let tempi = &blocks[meter.clone()];
            let n = tempi.len();
            let beats = tempi[0].beats;
            for beat in 0..beats {
                // Leaving beat `beat` (its last state) for beat `beat + 1`.
                let to_beat = (beat + 1) % beats;
                for (i, f) in tempi.iter().enumerate() {
                    let mass = forward[f.beat_end(beat)];
                    if mass == 0.0 {
                        continue;
                    }
                    for (t, &p) in tempi.iter().zip(&transitions[i * n..(i + 1) * n]) {
                        if p > 0.0 {
                            next[t.beat_start(to_beat)] += mass * p;
                        }
                    }
                }
            }
        }
        std::mem::swap(forward, next);
    }

    fn observe(&mut self, beat: f32, downbeat: f32) {
        let density = self.space.densities(beat, downbeat);
        let mut total = 0.0;
        for (f, &r) in self.forward.iter_mut().zip(&self.space.region) {
            *f *= density[r as usize];
            total += *f;
        }
        let restart = self.space.config.restart / self.forward.len() as f64;
        let keep = (1.0 - self.space.config.restart) / total.max(f64::MIN_POSITIVE);
        for f in &mut self.forward {
            *f = *f * keep + restart;
        }
    }
}

pub(super) fn argmax(values: &[f64]) -> usize {
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
