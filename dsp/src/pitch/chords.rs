//! Chords from chroma: binary chord templates scored by cosine similarity, and an HMM whose
//! states are the chords (and "no chord"), with a self-transition prior, decoded by Viterbi
//! for a whole clip ([`ChordModel::decode`]) or followed frame by frame for live input
//! ([`ChordFollower`]). The vocabulary is the 12 roots times [`QUALITIES`], plus N; labels
//! follow Harte et al.'s syntax (`C:maj`, `A:min7`, `N`), which `mir_eval` and Sonic
//! Visualiser read.

use crate::pitch::key::PITCH_NAMES;

/// A chord's quality, by its intervals above the root in semitones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    Major,
    Minor,
    Dominant7,
    Major7,
    Minor7,
    Diminished,
    Augmented,
    Sus2,
    Sus4,
}

pub const QUALITIES: [Quality; 9] = [
    Quality::Major,
    Quality::Minor,
    Quality::Dominant7,
    Quality::Major7,
    Quality::Minor7,
    Quality::Diminished,
    Quality::Augmented,
    Quality::Sus2,
    Quality::Sus4,
];

impl Quality {
    pub fn intervals(self) -> &'static [usize] {
        match self {
            Quality::Major => &[0, 4, 7],
            Quality::Minor => &[0, 3, 7],
            Quality::Dominant7 => &[0, 4, 7, 10],
            Quality::Major7 => &[0, 4, 7, 11],
            Quality::Minor7 => &[0, 3, 7, 10],
            Quality::Diminished => &[0, 3, 6],
            Quality::Augmented => &[0, 4, 8],
            Quality::Sus2 => &[0, 2, 7],
            Quality::Sus4 => &[0, 5, 7],
        }
    }

    /// Harte's shorthand.
    pub fn name(self) -> &'static str {
        match self {
            Quality::Major => "maj",
            Quality::Minor => "min",
            Quality::Dominant7 => "7",
            Quality::Major7 => "maj7",
            Quality::Minor7 => "min7",
            Quality::Diminished => "dim",
            Quality::Augmented => "aug",
            Quality::Sus2 => "sus2",
            Quality::Sus4 => "sus4",
        }
    }
}

/// A chord, or none (silence, noise, drums alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chord {
    None,
    /// A root pitch class (0 = C) and a quality.
    Some(usize, Quality),
}

impl Chord {
    /// `C:maj`, `F#:min7`, `N`.
    pub fn name(self) -> String {
        match self {
            Chord::None => "N".into(),
            Chord::Some(root, quality) => format!("{}:{}", PITCH_NAMES[root], quality.name()),
        }
    }

    /// Its pitch classes.
    pub fn pitch_classes(self) -> Vec<usize> {
        match self {
            Chord::None => Vec::new(),
            Chord::Some(root, q) => q.intervals().iter().map(|i| (root + i) % 12).collect(),
        }
    }
}

/// What a chord is recognized from: one frame's (or beat's) chroma, and the chroma of its
/// bass alone.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Harmony {
    pub chroma: [f32; 12],
    pub bass: [f32; 12],
}

impl Harmony {
    /// Silence.
    pub const SILENT: Harmony = Harmony {
        chroma: [0.0; 12],
        bass: [0.0; 12],
    };
}

/// A stretch of time with one chord.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChordSegment {
    pub start: f64,
    pub end: f64,
    pub chord: Chord,
}

/// How sharply the emission prefers the best-matching template: log-likelihoods are this
/// times the cosine similarity (a von Mises-Fisher model on the unit chroma sphere).
const CONCENTRATION: f32 = 25.0;
/// The cosine the "no chord" state scores when the chroma matches no template well: a flat
/// or noisy chroma's best chord scores about this much.
const NO_CHORD_COSINE: f32 = 0.62;
/// What a four-note chord's cosine must beat its triad's by: a triad's partials and passing
/// notes add a little of a seventh, which alone is no seventh chord.
const SEVENTH_MARGIN: f32 = 0.025;
/// Log-likelihood a chord gains when its root is the bass's strongest pitch class (less as
/// the root is weaker): the bass tells C:maj from A:min7, which chroma alone barely can.
const BASS_WEIGHT: f32 = 1.0;

/// The templates and the HMM.
#[derive(Debug, Clone)]
pub struct ChordModel {
    chords: Vec<Chord>,
    /// Unit-norm pitch-class templates, one per chord but N, and the cosine each gives up
    /// (see [`SEVENTH_MARGIN`]).
    templates: Vec<([f32; 12], f32)>,
    log_stay: f32,
    log_switch: f32,
}

impl ChordModel {
    /// The model for chroma columns between which a chord stays with probability
    /// `self_transition` (longer columns, beats say, want less).
    pub fn new(self_transition: f32) -> Self {
        let mut chords = vec![Chord::None];
        let mut templates = Vec::new();
        for quality in QUALITIES {
            for root in 0..12 {
                let chord = Chord::Some(root, quality);
                let mut t = [0f32; 12];
                let pcs = chord.pitch_classes();
                for &pc in &pcs {
                    t[pc] = 1.0 / (pcs.len() as f32).sqrt();
                }
                let margin = if pcs.len() > 3 { SEVENTH_MARGIN } else { 0.0 };
                chords.push(chord);
                templates.push((t, margin));
            }
        }
        let p = self_transition.clamp(1e-6, 1.0 - 1e-6);
        let n = chords.len() as f32;
        Self {
            chords,
            templates,
            log_stay: p.ln(),
            log_switch: ((1.0 - p) / (n - 1.0)).ln(),
        }
    }

    /// The states, N first.
    pub fn chords(&self) -> &[Chord] {
        &self.chords
    }

    /// Log emission scores of one frame for every state, into `out`. A frame whose chroma
    /// is zero or not finite (silence) can only be N.
    pub fn emissions(&self, frame: &Harmony, out: &mut [f32]) {
        let chroma = &frame.chroma;
        let norm = chroma.iter().map(|c| c * c).sum::<f32>().sqrt();
        if !norm.is_finite() || norm < 1e-9 {
            out.fill(f32::NEG_INFINITY);
            out[0] = 0.0;
            return;
        }
        // The bass relative to its strongest pitch class; nothing when there is no bass.
        let top = frame.bass.iter().copied().fold(0f32, f32::max);
        let bass = |pc: usize| {
            if top.is_finite() && top > 1e-9 * norm {
                frame.bass[pc] / top
            } else {
                0.0
            }
        };
        let mean_bass = (0..12).map(bass).sum::<f32>() / 12.0;
        out[0] = CONCENTRATION * NO_CHORD_COSINE + BASS_WEIGHT * mean_bass;
        for ((o, (t, margin)), chord) in out[1..]
            .iter_mut()
            .zip(&self.templates)
            .zip(&self.chords[1..])
        {
            let cosine = t.iter().zip(chroma).map(|(a, b)| a * b).sum::<f32>() / norm;
            let root = match chord {
                Chord::Some(root, _) => *root,
                Chord::None => 0,
            };
            *o = CONCENTRATION * (cosine - margin) + BASS_WEIGHT * bass(root);
        }
    }

    /// The most likely chord of every frame (Viterbi).
    pub fn decode(&self, chroma: &[Harmony]) -> Vec<Chord> {
        let k = self.chords.len();
        if chroma.is_empty() {
            return Vec::new();
        }
        let mut delta = vec![0f32; k];
        let mut emission = vec![0f32; k];
        // Back-pointers: the previous state of each state at each frame.
        let mut back: Vec<u16> = Vec::with_capacity(chroma.len() * k);
        self.emissions(&chroma[0], &mut delta);
        back.extend(std::iter::repeat_n(0, k));
        let mut next = vec![0f32; k];
        for frame in &chroma[1..] {
            self.emissions(frame, &mut emission);
            // With a uniform switch probability, the best way into a state is staying in
            // it or switching from the overall best: O(states) per frame.
            let (best, best_score) = argmax(&delta);
            for s in 0..k {
                let stay = delta[s] + self.log_stay;
                let switch = best_score + self.log_switch;
                let (from, score) = if stay >= switch || s == best {
                    (s, stay)
                } else {
                    (best, switch)
                };
                next[s] = score + emission[s];
                back.push(from as u16);
            }
            std::mem::swap(&mut delta, &mut next);
        }
        let mut state = argmax(&delta).0;
        let mut path = vec![Chord::None; chroma.len()];
        for t in (0..chroma.len()).rev() {
            path[t] = self.chords[state];
            state = back[t * k + state] as usize;
        }
        path
    }
}

fn argmax(v: &[f32]) -> (usize, f32) {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
            if x > best.1 {
                (i, x)
            } else {
                best
            }
        })
}

/// Frame chords joined into segments: frame `i` spans `times[i]` to `times[i + 1]`, the last
/// to `end`.
pub fn segments(chords: &[Chord], times: &[f64], end: f64) -> Vec<ChordSegment> {
    let mut out: Vec<ChordSegment> = Vec::new();
    for (i, &chord) in chords.iter().enumerate() {
        let start = times[i];
        let stop = times.get(i + 1).copied().unwrap_or(end).max(start);
        match out.last_mut() {
            Some(last) if last.chord == chord => last.end = stop,
            _ => out.push(ChordSegment {
                start,
                end: stop,
                chord,
            }),
        }
    }
    out
}

/// The mean chroma between consecutive `boundaries` (frame indices, ascending): one column
/// per beat for beat-synchronous chords. Frames before the first boundary form a column of
/// their own, as do those after the last.
pub fn synchronize(chroma: &[Harmony], boundaries: &[usize]) -> (Vec<Harmony>, Vec<usize>) {
    let mut cuts: Vec<usize> = std::iter::once(0)
        .chain(
            boundaries
                .iter()
                .copied()
                .filter(|&b| b > 0 && b < chroma.len()),
        )
        .collect();
    cuts.dedup();
    let mut columns = Vec::with_capacity(cuts.len());
    for (i, &from) in cuts.iter().enumerate() {
        let to = cuts.get(i + 1).copied().unwrap_or(chroma.len());
        let n = (to - from).max(1) as f32;
        let mut mean = Harmony::SILENT;
        for frame in &chroma[from..to] {
            for i in 0..12 {
                mean.chroma[i] += frame.chroma[i] / n;
                mean.bass[i] += frame.bass[i] / n;
            }
        }
        columns.push(mean);
    }
    (columns, cuts)
}

/// Live chords: the HMM's forward probabilities, one chroma frame at a time. The current
/// chord is the most probable state; it is announced once it has led for `hold` frames, so
/// a passing tone does not flicker the display. No allocation after construction.
pub struct ChordFollower {
    model: ChordModel,
    log_alpha: Vec<f32>,
    emission: Vec<f32>,
    leader: usize,
    led_for: usize,
    hold: usize,
    current: usize,
}

impl ChordFollower {
    pub fn new(model: ChordModel, hold: usize) -> Self {
        let k = model.chords.len();
        Self {
            model,
            log_alpha: vec![-(k as f32).ln(); k],
            emission: vec![0.0; k],
            leader: 0,
            led_for: 0,
            hold,
            current: 0,
        }
    }

    /// Takes one frame; returns the chord now announced and its probability.
    pub fn push(&mut self, chroma: &Harmony) -> (Chord, f32) {
        self.model.emissions(chroma, &mut self.emission);
        // Forward step with the uniform-switch transition, in the log domain, normalized.
        let total = log_sum_exp(&self.log_alpha);
        let switch = total + self.model.log_switch;
        for (a, e) in self.log_alpha.iter_mut().zip(&self.emission) {
            let stay = *a + self.model.log_stay;
            *a = log_add(stay, switch) + e;
        }
        let total = log_sum_exp(&self.log_alpha);
        self.log_alpha.iter_mut().for_each(|a| *a -= total);
        let (best, _) = argmax(&self.log_alpha);
        if best == self.leader {
            self.led_for += 1;
        } else {
            self.leader = best;
            self.led_for = 1;
        }
        if self.led_for >= self.hold {
            self.current = self.leader;
        }
        let p = self.log_alpha[self.current].exp();
        (self.model.chords[self.current], p)
    }

    pub fn reset(&mut self) {
        let k = self.log_alpha.len();
        self.log_alpha.fill(-(k as f32).ln());
        self.leader = 0;
        self.led_for = 0;
        self.current = 0;
    }
}

fn log_add(a: f32, b: f32) -> f32 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if hi == f32::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

fn log_sum_exp(v: &[f32]) -> f32 {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    max + v.iter().map(|x| (x - max).exp()).sum::<f32>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chord's chance to last one more 93 ms frame, as `mirador-models` sets it.
    const FRAME_SELF_TRANSITION: f32 = 0.885;

    /// A chord's notes over some noise, its root in the bass.
    fn chroma_of(chord: Chord, noise: f32, seed: u32) -> Harmony {
        let mut h = Harmony::SILENT;
        let mut x = seed.wrapping_mul(2_654_435_761);
        for (v, b) in h.chroma.iter_mut().zip(h.bass.iter_mut()) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *v = noise * (x % 1000) as f32 / 1000.0;
            *b = *v;
        }
        for pc in chord.pitch_classes() {
            h.chroma[pc] += 1.0;
        }
        if let Chord::Some(root, _) = chord {
            h.bass[root] += 1.0;
        }
        h
    }

    #[test]
    fn every_chord_of_the_vocabulary_is_recognized_from_its_own_notes() {
        let model = ChordModel::new(FRAME_SELF_TRANSITION);
        for &chord in &model.chords()[1..] {
            let frames: Vec<Harmony> = (0..20).map(|i| chroma_of(chord, 0.1, i)).collect();
            // Chords of the same notes (C:aug and E:aug, C:sus2 and G:sus4) are told apart
            // by the bass.
            let decoded = model.decode(&frames);
            assert!(
                decoded.iter().all(|&c| c == chord),
                "{}: {}",
                chord.name(),
                decoded[0].name()
            );
        }
    }

    #[test]
    fn a_progression_is_decoded_with_its_changes_and_a_passing_tone_is_smoothed_over() {
        let model = ChordModel::new(FRAME_SELF_TRANSITION);
        let progression = [
            Chord::Some(0, Quality::Major),
            Chord::Some(9, Quality::Minor),
            Chord::Some(5, Quality::Major),
            Chord::Some(7, Quality::Dominant7),
        ];
        let mut frames = Vec::new();
        for (i, &chord) in progression.iter().enumerate() {
            for j in 0..40 {
                let mut c = chroma_of(chord, 0.2, (i * 100 + j) as u32);
                if let (20..23, Chord::Some(root, _)) = (j, chord) {
                    // A walking bass through the sixth: C-E-G over A alone reads as A:min7.
                    c.chroma[(root + 9) % 12] += 1.0;
                    c.bass[(root + 9) % 12] += 1.5;
                }
                frames.push(c);
            }
        }
        // Frame by frame, the passing tone wins; the HMM must smooth it over.
        let mut scores = vec![0f32; model.chords().len()];
        model.emissions(&frames[20], &mut scores);
        assert_ne!(model.chords()[argmax(&scores).0], progression[0]);
        let times: Vec<f64> = (0..frames.len()).map(|i| i as f64 * 0.1).collect();
        let found = segments(&model.decode(&frames), &times, frames.len() as f64 * 0.1);
        let names: Vec<String> = found.iter().map(|s| s.chord.name()).collect();
        assert_eq!(names, ["C:maj", "A:min", "F:maj", "G:7"]);
        for (segment, i) in found.iter().zip(0..) {
            assert!((segment.start - i as f64 * 4.0).abs() < 0.25, "{found:?}");
        }
    }

    #[test]
    fn silence_and_noise_are_no_chord() {
        let model = ChordModel::new(FRAME_SELF_TRANSITION);
        let silence = vec![Harmony::SILENT; 30];
        assert!(model.decode(&silence).iter().all(|&c| c == Chord::None));
        let nan = vec![
            Harmony {
                chroma: [f32::NAN; 12],
                bass: [f32::NAN; 12],
            };
            5
        ];
        assert!(model.decode(&nan).iter().all(|&c| c == Chord::None));
        // White noise: every pitch class about equally strong.
        let noise: Vec<Harmony> = (0..30)
            .map(|i| {
                let h = chroma_of(Chord::None, 1.0, i);
                Harmony {
                    chroma: h.chroma.map(|x| 0.8 + 0.2 * x),
                    bass: h.bass.map(|x| 0.8 + 0.2 * x),
                }
            })
            .collect();
        assert!(model.decode(&noise).iter().all(|&c| c == Chord::None));
    }

    #[test]
    fn the_follower_announces_a_change_after_its_hold_and_agrees_with_viterbi() {
        let model = ChordModel::new(FRAME_SELF_TRANSITION);
        let mut follower = ChordFollower::new(model, 5);
        let (c_major, g_major) = (
            Chord::Some(0, Quality::Major),
            Chord::Some(7, Quality::Major),
        );
        let mut announced = Vec::new();
        for i in 0..60 {
            let chord = if i < 30 { c_major } else { g_major };
            announced.push(follower.push(&chroma_of(chord, 0.1, i)).0);
        }
        assert_eq!(announced[29], c_major);
        let switched = announced.iter().position(|&c| c == g_major).unwrap();
        assert!(
            (30..=40).contains(&switched),
            "announced at frame {switched}"
        );
        assert!(announced[switched..].iter().all(|&c| c == g_major));
    }

    #[test]
    fn beat_columns_average_the_frames_between_boundaries() {
        let frames: Vec<Harmony> = (0..10)
            .map(|i| Harmony {
                chroma: [i as f32; 12],
                bass: [2.0 * i as f32; 12],
            })
            .collect();
        let (columns, cuts) = synchronize(&frames, &[3, 3, 7, 12]);
        assert_eq!(cuts, [0, 3, 7]);
        let means: Vec<(f32, f32)> = columns.iter().map(|c| (c.chroma[0], c.bass[5])).collect();
        assert_eq!(means, [(1.0, 2.0), (4.5, 9.0), (8.0, 16.0)]);
    }
}
