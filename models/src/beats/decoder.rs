//! Offline beat and downbeat decoding for files: the Viterbi path through madmom's
//! bar-pointer HMM ([`BarSpace`]), as madmom's `DBNDownBeatTrackingProcessor` finds it, with
//! each beat moved to the strongest activation inside its beat region (madmom's
//! `correct=True`). Unlike the online tracker it decides with hindsight: a beat's place,
//! tempo and bar position are chosen knowing what follows.
//!
//! Memory stays flat on long files: the path is decided with a fixed lag. Every [`CHUNK`]
//! frames the best path so far is traced back and the frames more than [`LAG`] behind the
//! newest are committed. Paths through this HMM merge within a few beats, so 30 s of lag
//! gives the whole-file Viterbi path (a test checks it); a clip up to 60 s long is decoded in
//! one piece.

use super::bar_space::{clean, BarSpace, Region, TrackerConfig};
use super::tracker::{argmax, TrackedBeat};

/// Frames (at 50 per second) a decision waits for: 30 s.
const LAG: usize = 1500;
/// Frames committed at a time.
const CHUNK: usize = 1500;
/// madmom's `threshold`: decoding starts at the first frame whose beat or downbeat
/// probability reaches it, and beats after the last such frame are dropped. Inside the music
/// a beat whose region stays below it is kept, as madmom keeps it (a quiet beat of a steady
/// groove), unless the weak beats last longer than [`MAX_WEAK_FRAMES`]: a silence.
const THRESHOLD: f32 = 0.05;
/// Frames (4 s) from a beat reaching [`THRESHOLD`] to the next one over which the weak beats
/// between them are still kept.
const MAX_WEAK_FRAMES: u64 = 200;

pub struct BeatDecoder {
    space: BarSpace,
    /// [`LAG`], but changeable in tests.
    lag: usize,
    /// ln of the tempo transitions, `[from][to]`.
    log_transitions: Vec<f64>,
    /// Per block, the index of its first backpointer (one per beat of the bar).
    first_slot: Vec<usize>,
    /// Backpointers per frame.
    slots: usize,
    /// Best log score of a path ending in each state (up to a constant).
    score: Vec<f64>,
    next: Vec<f64>,
    /// Undecided frames, oldest first: per frame, for the first state of every beat, the
    /// tempo index (within its meter) the best path came from.
    back: Vec<u8>,
    /// Undecided frames' beat and downbeat probabilities.
    activations: Vec<(f32, f32)>,
    /// Frame index (since the start or the last reset) of the oldest undecided frame.
    undecided_from: u64,
    /// Frames seen, decoding started or not.
    frames: u64,
    /// Traceback scratch.
    path: Vec<usize>,
    /// The beat region the committed path is in: its strongest frame so far.
    run: Option<Peak>,
    /// The newest beat that reached [`THRESHOLD`], and the weak beats since (kept if another
    /// strong one comes soon enough).
    last_strong: Option<u64>,
    weak: Vec<TrackedBeat>,
    beats: Vec<TrackedBeat>,
}

/// The strongest frame of a beat region and the path's state there.
#[derive(Debug, Clone, Copy)]
struct Peak {
    frame: u64,
    strength: f32,
    state: usize,
}

impl BeatDecoder {
    pub fn new(config: TrackerConfig) -> Self {
        let space = BarSpace::new(config);
        let log_transitions = space.transitions.iter().map(|p| p.ln()).collect();
        let mut first_slot = Vec::with_capacity(space.blocks.len());
        let mut slots = 0;
        for b in &space.blocks {
            first_slot.push(slots);
            slots += b.beats;
        }
        // Backpointers are tempo indices in a byte.
        assert!(space.tempi() <= 256, "at most 256 tempi");
        let states = space.states();
        Self {
            space,
            lag: LAG,
            log_transitions,
            first_slot,
            slots,
            score: vec![0.0; states],
            next: vec![0.0; states],
            back: Vec::new(),
            activations: Vec::new(),
            undecided_from: 0,
            frames: 0,
            path: Vec::new(),
            run: None,
            last_strong: None,
            weak: Vec::new(),
            beats: Vec::new(),
        }
    }

    /// Forgets everything but the beats not yet taken.
    pub fn reset(&mut self) {
        self.back.clear();
        self.activations.clear();
        self.undecided_from = 0;
        self.frames = 0;
        self.run = None;
        self.last_strong = None;
        self.weak.clear();
    }

    /// Takes one frame's beat (not a downbeat) and downbeat probabilities.
    pub fn push(&mut self, beat: f32, downbeat: f32) {
        let (beat, downbeat) = (clean(beat), clean(downbeat));
        let frame = self.frames;
        self.frames += 1;
        if !self.activations.is_empty() {
            self.advance(beat, downbeat);
            if self.activations.len() >= self.lag + CHUNK {
                let best = argmax(&self.score);
                self.commit(best, CHUNK);
            }
        } else if beat.max(downbeat) >= THRESHOLD {
            self.undecided_from = frame;
            self.start(beat, downbeat);
        }
    }

    /// Decides the rest of the path and starts afresh: the stream ended or broke.
    pub fn finish(&mut self) {
        if !self.activations.is_empty() {
            let best = argmax(&self.score);
            self.commit(best, self.activations.len());
        }
        self.close_run();
        self.reset();
    }

    /// The beats decided since the last call, oldest first.
    pub fn take_beats(&mut self) -> std::vec::Drain<'_, TrackedBeat> {
        self.beats.drain(..)
    }

    /// The first frame: every state equally likely before it.
    fn start(&mut self, beat: f32, downbeat: f32) {
        let density = self.space.densities(beat, downbeat);
        for (s, &r) in self.score.iter_mut().zip(&self.space.region) {
            *s = density[r as usize].ln();
        }
        self.back.resize(self.slots, 0);
        self.activations.push((beat, downbeat));
    }

    /// One Viterbi step.
    fn advance(&mut self, beat: f32, downbeat: f32) {
        let Self {
            space,
            log_transitions,
            first_slot,
            score,
            next,
            back,
            ..
        } = self;
        let row = back.len();
        back.resize(row + self.slots, 0);
        let row = &mut back[row..];
        for b in &space.blocks {
            next[b.offset + 1..b.offset + b.len()]
                .copy_from_slice(&score[b.offset..b.offset + b.len() - 1]);
        }
        let n = space.tempi();
        for meter in &space.meters {
            let tempi = &space.blocks[meter.clone()];
            let beats = tempi[0].beats;
            for (to, t) in tempi.iter().enumerate() {
                for beat in 0..beats {
                    let from_beat = (beat + beats - 1) % beats;
                    let mut best = (f64::NEG_INFINITY, 0);
                    for (from, f) in tempi.iter().enumerate() {
                        let v = score[f.beat_end(from_beat)] + log_transitions[from * n + to];
                        if v > best.0 {
                            best = (v, from);
                        }
                    }
                    next[t.beat_start(beat)] = best.0;
                    row[first_slot[meter.start + to] + beat] = best.1 as u8;
                }
            }
        }
        let density = space.densities(beat, downbeat).map(f64::ln);
        let mut top = f64::NEG_INFINITY;
        for (s, &r) in next.iter_mut().zip(&space.region) {
            *s += density[r as usize];
            top = top.max(*s);
        }
        // Keep the scores near zero; only their differences matter.
        if top.is_finite() {
            next.iter_mut().for_each(|s| *s -= top);
        }
        std::mem::swap(score, next);
        self.activations.push((beat, downbeat));
    }

    /// Traces the best path back from `state` at the newest frame and commits its oldest
    /// `count` frames.
    fn commit(&mut self, state: usize, count: usize) {
        let frames = self.activations.len();
        self.path.clear();
        self.path.resize(frames, 0);
        let mut state = state;
        for f in (0..frames).rev() {
            self.path[f] = state;
            if f > 0 {
                state = self.predecessor(state, f);
            }
        }
        for f in 0..count {
            let (beat, downbeat) = self.activations[f];
            let frame = self.undecided_from + f as u64;
            let state = self.path[f];
            if self.space.region[state] == Region::None {
                self.close_run();
                continue;
            }
            let strength = beat.max(downbeat);
            match &mut self.run {
                Some(peak) if peak.strength >= strength => {}
                run => {
                    *run = Some(Peak {
                        frame,
                        strength,
                        state,
                    })
                }
            }
        }
        self.activations.drain(..count);
        self.back.drain(..count * self.slots);
        self.undecided_from += count as u64;
    }

    /// The state before `state` on the best path into frame `f` (of the undecided ones).
    fn predecessor(&self, state: usize, f: usize) -> usize {
        let space = &self.space;
        let block = space.block_of(state);
        let b = &space.blocks[block];
        let position = state - b.offset;
        if !position.is_multiple_of(b.interval) {
            return state - 1;
        }
        let beat = position / b.interval;
        let from = self.back[f * self.slots + self.first_slot[block] + beat] as usize;
        let meter = &space.meters[space.meters.partition_point(|m| m.end <= block)];
        let from_beat = (beat + b.beats - 1) % b.beats;
        space.blocks[meter.start + from].beat_end(from_beat)
    }

    /// Ends the beat region the committed path was in: a beat at its strongest frame.
    fn close_run(&mut self) {
        let Some(peak) = self.run.take() else {
            return;
        };
        let block = self.space.block_of(peak.state);
        let b = &self.space.blocks[block];
        let beat = TrackedBeat {
            frame: peak.frame,
            beat_in_bar: ((peak.state - b.offset) / b.interval) as u8 + 1,
            beats_per_bar: b.beats as u8,
            tempo_bpm: self.space.bpm(block),
        };
        let within = self
            .last_strong
            .is_some_and(|last| peak.frame - last <= MAX_WEAK_FRAMES);
        if peak.strength < THRESHOLD {
            // Held while it may still be inside the music.
            if within {
                self.weak.push(beat);
            }
            return;
        }
        if within {
            self.beats.append(&mut self.weak);
        }
        self.weak.clear();
        self.last_strong = Some(peak.frame);
        self.beats.push(beat);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Activations of a steady pulse: two frames wide, `period` frames apart, every `bar`-th
    /// a downbeat, with a little deterministic noise.
    fn pulse(period: usize, bar: usize, frames: usize) -> Vec<(f32, f32)> {
        let mut seed = 7u32;
        (0..frames)
            .map(|f| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1 << 24) as f32 * 0.04;
                match (f % period < 2, (f / period).is_multiple_of(bar)) {
                    (true, true) => (0.05, 0.9 - noise),
                    (true, false) => (0.9 - noise, 0.05),
                    _ => (0.02 + noise, 0.01),
                }
            })
            .collect()
    }

    fn decode_with(acts: &[(f32, f32)], lag: usize) -> Vec<TrackedBeat> {
        let mut decoder = BeatDecoder::new(TrackerConfig::default());
        decoder.lag = lag;
        let mut beats = Vec::new();
        for &(b, d) in acts {
            decoder.push(b, d);
            beats.extend(decoder.take_beats());
            assert!(decoder.activations.len() < lag + CHUNK);
        }
        decoder.finish();
        beats.extend(decoder.take_beats());
        beats
    }

    fn decode(acts: &[(f32, f32)]) -> Vec<TrackedBeat> {
        decode_with(acts, LAG)
    }

    #[test]
    fn finds_every_beat_of_a_steady_4_4_pulse_from_the_first() {
        // 120 BPM at 50 fps: a beat every 25 frames, 20 s.
        let beats = decode(&pulse(25, 4, 1000));
        assert_eq!(beats.len(), 40, "{beats:?}");
        for (i, b) in beats.iter().enumerate() {
            assert_eq!(
                b.frame,
                25 * i as u64 + u64::from(b.frame % 25 == 1),
                "{b:?}"
            );
            assert_eq!(b.beats_per_bar, 4);
            assert_eq!(b.beat_in_bar as usize, i % 4 + 1, "{b:?}");
            assert!((b.tempo_bpm - 120.0).abs() < 3.0, "{b:?}");
        }
    }

    #[test]
    fn tells_three_four_from_four_four() {
        let beats = decode(&pulse(30, 3, 1500));
        assert_eq!(beats.len(), 50);
        assert!(beats.iter().all(|b| b.beats_per_bar == 3));
        assert!(beats
            .iter()
            .enumerate()
            .all(|(i, b)| b.beat_in_bar as usize == i % 3 + 1));
    }

    #[test]
    fn follows_a_tempo_change_on_both_sides() {
        let mut acts = pulse(25, 4, 1000);
        acts.extend(pulse(20, 4, 1000));
        let beats = decode(&acts);
        let (before, after): (Vec<&TrackedBeat>, Vec<_>) =
            beats.iter().partition(|b| b.frame < 1000);
        assert_eq!(before.len(), 40);
        assert_eq!(after.len(), 50);
        assert!(after
            .iter()
            .all(|b| (b.frame - 1000) % 20 <= 1 && (b.tempo_bpm - 150.0).abs() < 6.0));
    }

    #[test]
    fn a_long_lag_free_decode_agrees_with_the_fixed_lag_one() {
        // 3 minutes with tempo and meter-free changes: the fixed-lag decoder commits five
        // times; with an endless lag it is whole-file Viterbi.
        let mut acts = Vec::new();
        for (period, bar) in [(25, 4), (24, 4), (31, 3), (18, 4), (25, 4), (22, 4)] {
            acts.extend(pulse(period, bar, 1500));
        }
        let fixed = decode_with(&acts, LAG);
        let whole = decode_with(&acts, usize::MAX / 2);
        assert!(fixed.len() > 300, "{}", fixed.len());
        assert_eq!(fixed, whole);
    }

    #[test]
    fn silence_gives_no_beats_at_either_end_or_inside() {
        assert!(decode(&vec![(0.01, 0.01); 3000]).is_empty());
        let mut acts = vec![(0.01, 0.0); 500];
        acts.extend(pulse(25, 4, 1000));
        acts.extend(vec![(0.01, 0.0); 4000]);
        acts.extend(pulse(25, 4, 1000));
        acts.extend(vec![(0.01, 0.0); 500]);
        let beats = decode(&acts);
        assert!(beats
            .iter()
            .all(|b| (500..1500).contains(&b.frame) || (5500..6500).contains(&b.frame)));
        assert!(beats.len() >= 78, "{}", beats.len());
    }

    #[test]
    fn keeps_a_quiet_beat_of_a_steady_groove() {
        // Every eighth beat well under the threshold, as in a syncopated groove.
        let mut acts = pulse(25, 4, 1000);
        for (f, a) in acts.iter_mut().enumerate() {
            if f % 200 == 100 || f % 200 == 101 {
                *a = (0.02, 0.0);
            }
        }
        assert_eq!(decode(&acts).len(), 40);
    }

    #[test]
    fn garbage_gives_no_panic_and_finite_scores() {
        let mut decoder = BeatDecoder::new(TrackerConfig::default());
        for i in 0..4000 {
            let (b, d) = match i % 3 {
                0 => (f32::NAN, f32::INFINITY),
                1 => (-1.0, 2.0),
                _ => (1.0, 1.0),
            };
            decoder.push(b, d);
        }
        assert!(decoder.score.iter().any(|s| s.is_finite()));
        decoder.finish();
        let _ = decoder.take_beats().count();
    }
}
