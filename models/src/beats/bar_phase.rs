//! Which beat of the bar is the downbeat, for the offline decoder. The Viterbi path counts
//! beats consistently (one meter, no skipped count), but on its own the fine-tuned network's
//! downbeat probability often starts the bar on its third beat (`models/beatnet/README.md`).
//! Three cues per beat are averaged over each beat of the bar, in units of their spread over
//! the stretch, and weighed: the network's downbeat share at the beat, the change of
//! pitch-class profile from the two beats before to the two after (chords change at bar
//! lines), and the onset in the bands under 150 Hz (the kick drum).
//! `models/training/bar_phase.py` chose the cues and fits the weights on the odd GTZAN ids,
//! decoded with networks fine-tuned without them.

use std::collections::VecDeque;

use mirador_dsp::spectral::log_filtered::band_centres_hz;

use super::TrackedBeat;

/// The cues' weights: downbeat share (log-odds), pitch-class change, low onset.
const WEIGHTS: [f64; CUES] = [0.66, 0.81, 0.64];
const CUES: usize = 3;
/// Bands under this many Hz are the kick drum's; those over it give the pitch classes (the
/// 1411-point FFT cannot tell semitones apart much lower).
const LOW_HZ: f64 = 150.0;
/// Beats either side of a beat whose pitch classes it compares.
const SPAN: usize = 2;
/// Frames kept at most (2 min at 50 per second): where beats are further apart (a long
/// silence), the pitch-class change of the beats beside it is not measured.
const MAX_FRAMES: usize = 6000;
const MAX_METER: usize = 8;

/// What one frame holds for the cues.
struct FrameCues {
    beat: f32,
    downbeat: f32,
    low_onset: f32,
    pitch_classes: [f32; 12],
}

/// A cue's sums over the stretch, overall and per beat of the decoder's bar.
#[derive(Clone, Copy, Default)]
struct CueSums {
    sum: f64,
    squares: f64,
    count: f64,
    at: [(f64, f64); MAX_METER],
}

impl CueSums {
    fn add(&mut self, value: f64, beat_in_bar: u8) {
        self.sum += value;
        self.squares += value * value;
        self.count += 1.0;
        let at = &mut self.at[beat_in_bar as usize - 1];
        at.0 += value;
        at.1 += 1.0;
    }

    /// The mean at `beat_in_bar`, in units of the cue's spread (0 where it was never
    /// measured).
    fn standardized(&self, beat_in_bar: usize) -> f64 {
        let (sum, count) = self.at[beat_in_bar - 1];
        if count == 0.0 {
            return 0.0;
        }
        let mean = self.sum / self.count;
        let spread = (self.squares / self.count - mean * mean).max(0.0).sqrt();
        sum / count / (spread + 1e-9)
    }
}

pub struct BarPhase {
    /// Per band: its pitch class if over [`LOW_HZ`], and whether it is under.
    band_pitch_class: Vec<Option<usize>>,
    band_is_low: Vec<bool>,
    frames: VecDeque<FrameCues>,
    /// Index of `frames[0]` since the stretch started.
    first_frame: u64,
    /// The newest beats' frames and bar positions, for the pitch-class change.
    recent: VecDeque<(u64, u8)>,
    meter: u8,
    sums: [CueSums; CUES],
}

impl Default for BarPhase {
    fn default() -> Self {
        Self::new()
    }
}

impl BarPhase {
    pub fn new() -> Self {
        let centres = band_centres_hz();
        Self {
            band_pitch_class: centres
                .iter()
                .map(|&hz| (hz > LOW_HZ).then(|| pitch_class(hz)))
                .collect(),
            band_is_low: centres.iter().map(|&hz| hz < LOW_HZ).collect(),
            frames: VecDeque::new(),
            first_frame: 0,
            recent: VecDeque::new(),
            meter: 0,
            sums: Default::default(),
        }
    }

    /// Takes a frame: BeatNet's input features (bands, then their positive differences) and
    /// its beat and downbeat probabilities.
    pub fn push_frame(&mut self, features: &[f32], beat: f32, downbeat: f32) {
        let bands = self.band_is_low.len();
        let (spectrum, differences) = features.split_at(bands.min(features.len()));
        let mut pitch_classes = [0.0; 12];
        for (&x, pc) in spectrum.iter().zip(&self.band_pitch_class) {
            if let Some(pc) = pc {
                pitch_classes[*pc] += x;
            }
        }
        let low_onset = differences
            .iter()
            .zip(&self.band_is_low)
            .filter(|(_, &low)| low)
            .map(|(&d, _)| d)
            .sum();
        if self.frames.len() == MAX_FRAMES {
            self.frames.pop_front();
            self.first_frame += 1;
        }
        self.frames.push_back(FrameCues {
            beat,
            downbeat,
            low_onset,
            pitch_classes,
        });
    }

    /// Takes the cues of `beats` (newly decided, oldest first, on the frames pushed).
    pub fn add(&mut self, beats: &[TrackedBeat]) {
        for beat in beats {
            self.add_beat(beat);
        }
    }

    /// Renumbers each beat's place in the bar from the cues taken so far.
    pub fn renumber(&self, beats: &mut [TrackedBeat]) {
        let meter = self.meter as usize;
        if meter == 0 {
            return;
        }
        let score = |b: usize| {
            (0..CUES)
                .map(|c| WEIGHTS[c] * self.sums[c].standardized(b))
                .sum::<f64>()
        };
        // The first of equals: without cues the decoder's numbering stands.
        let mut downbeat = 1;
        for b in 2..=meter {
            if score(b) > score(downbeat) {
                downbeat = b;
            }
        }
        for beat in beats.iter_mut().filter(|b| b.beats_per_bar == self.meter) {
            let from_downbeat = (beat.beat_in_bar as usize + meter - downbeat) % meter;
            beat.beat_in_bar = from_downbeat as u8 + 1;
        }
    }

    /// Forgets the stretch.
    pub fn reset(&mut self) {
        self.frames.clear();
        self.first_frame = 0;
        self.recent.clear();
        self.meter = 0;
        self.sums = Default::default();
    }

    fn add_beat(&mut self, beat: &TrackedBeat) {
        let meter = beat.beats_per_bar as usize;
        if !(1..=MAX_METER).contains(&meter) || !(1..=meter).contains(&(beat.beat_in_bar as usize))
        {
            return;
        }
        if self.meter != beat.beats_per_bar {
            // A path keeps its meter; a new one starts the count again.
            self.sums = Default::default();
            self.recent.clear();
            self.meter = beat.beats_per_bar;
        }
        let f = beat.frame;
        let near = |before: u64, after: u64| self.span(f.saturating_sub(before), f + after + 1);
        let (mut beat_peak, mut downbeat_peak) = (0f32, 0f32);
        for cues in near(2, 2) {
            beat_peak = beat_peak.max(cues.beat);
            downbeat_peak = downbeat_peak.max(cues.downbeat);
        }
        let share = (downbeat_peak / (beat_peak + downbeat_peak).max(1e-9)).clamp(1e-4, 1.0 - 1e-4);
        let low_onset = near(1, 1).map(|c| c.low_onset).fold(0f32, f32::max);
        self.sums[0].add((share / (1.0 - share)).ln() as f64, beat.beat_in_bar);
        self.sums[2].add(low_onset as f64, beat.beat_in_bar);

        self.recent.push_back((f, beat.beat_in_bar));
        if self.recent.len() > 2 * SPAN + 1 {
            self.recent.pop_front();
        }
        if self.recent.len() == 2 * SPAN + 1 {
            let (start, _) = self.recent[0];
            let (middle, beat_in_bar) = self.recent[SPAN];
            let (end, _) = self.recent[2 * SPAN];
            if start >= self.first_frame {
                let change = pitch_class_change(
                    &profile(self.span(start, middle)),
                    &profile(self.span(middle, end)),
                );
                self.sums[1].add(change, beat_in_bar);
            }
        }
        // Frames before the oldest beat kept are not needed again.
        let keep_from = self.recent[0].0.saturating_sub(2);
        while self.first_frame < keep_from && !self.frames.is_empty() {
            self.frames.pop_front();
            self.first_frame += 1;
        }
    }

    /// The frames kept from `start` (inclusive) to `end` (exclusive).
    fn span(&self, start: u64, end: u64) -> impl Iterator<Item = &FrameCues> {
        let from = start.saturating_sub(self.first_frame) as usize;
        let to = end.saturating_sub(self.first_frame) as usize;
        self.frames
            .range(from.min(self.frames.len())..to.min(self.frames.len()))
    }
}

/// The nearest pitch class to `hz`, counted from A.
fn pitch_class(hz: f64) -> usize {
    (12.0 * (hz / 440.0).log2()).round().rem_euclid(12.0) as usize
}

fn profile<'a>(frames: impl Iterator<Item = &'a FrameCues>) -> [f64; 12] {
    let mut sum = [0.0; 12];
    for f in frames {
        for (s, &x) in sum.iter_mut().zip(&f.pitch_classes) {
            *s += x as f64;
        }
    }
    sum
}

/// Cosine distance of two pitch-class profiles.
fn pitch_class_change(a: &[f64; 12], b: &[f64; 12]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f64; 12]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    1.0 - dot / (norm(a) * norm(b) + 1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(frame: u64, beat_in_bar: u8) -> TrackedBeat {
        TrackedBeat {
            frame,
            beat_in_bar,
            beats_per_bar: 4,
            tempo_bpm: 120.0,
        }
    }

    /// 16 bars of 4/4 at 120 BPM (25 frames a beat) whose decoder numbering puts the
    /// downbeat `shift` beats late; `cue` sets each frame's features and downbeat probability
    /// from the beat it is in and the frame within the beat.
    fn stretch(shift: u8, cue: impl Fn(&mut [f32], &mut f32, u64, u64)) -> Vec<TrackedBeat> {
        let mut phase = BarPhase::new();
        let mut beats = Vec::new();
        for b in 0..64u64 {
            for f in 0..25 {
                let mut features = vec![0.5f32; 272];
                let mut downbeat = 0.0;
                cue(&mut features, &mut downbeat, b, f);
                phase.push_frame(&features, if f == 0 { 0.5 } else { 0.0 }, downbeat);
            }
            let numbered = ((b + 4 - shift as u64) % 4) as u8 + 1;
            beats.push(beat(b * 25, numbered));
        }
        phase.add(&beats);
        phase.renumber(&mut beats);
        beats
    }

    fn downbeats(beats: &[TrackedBeat]) -> Vec<u64> {
        beats
            .iter()
            .filter(|b| b.beat_in_bar == 1)
            .map(|b| b.frame / 25)
            .take(3)
            .collect()
    }

    #[test]
    fn the_downbeat_share_moves_the_bar() {
        let beats = stretch(2, |_, downbeat, b, f| {
            if f == 0 {
                *downbeat = if b % 4 == 0 { 0.5 } else { 0.01 }
            }
        });
        assert_eq!(downbeats(&beats), [0, 4, 8]);
        assert!(beats.iter().all(|b| b.beats_per_bar == 4));
    }

    #[test]
    fn a_kick_on_the_bar_moves_it() {
        let centres = band_centres_hz();
        let beats = stretch(3, |features, _, b, f| {
            if b % 4 == 0 && f == 0 {
                for (i, &hz) in centres.iter().enumerate() {
                    if hz < LOW_HZ {
                        features[136 + i] = 2.0;
                    }
                }
            }
        });
        assert_eq!(downbeats(&beats), [0, 4, 8]);
    }

    #[test]
    fn a_chord_change_on_the_bar_moves_it() {
        // C major and F major bars in turn.
        let centres = band_centres_hz();
        let beats = stretch(1, |features, _, b, _| {
            let chord: [usize; 3] = if b / 4 % 2 == 0 { [0, 4, 7] } else { [5, 9, 0] };
            for (i, &hz) in centres.iter().enumerate() {
                // Pitch classes from A = 0: C is 3.
                features[i] = if chord.contains(&((pitch_class(hz) + 9) % 12)) {
                    2.0
                } else {
                    0.1
                };
            }
        });
        assert_eq!(downbeats(&beats), [0, 4, 8]);
    }

    #[test]
    fn without_cues_the_decoders_numbering_stands() {
        let beats = stretch(0, |_, _, _, _| {});
        assert_eq!(downbeats(&beats), [0, 4, 8]);
        BarPhase::new().renumber(&mut []);
    }
}
