//! Key and mode from chroma. A clip's (or the last seconds') [`TonalProfile`] is the mean of
//! its chroma and bass chroma frames, each scaled to a peak of 1 (so loud passages do not
//! outvote quiet ones); [`estimate_key`] scores it in all 24 keys with a linear classifier
//! whose weights `mirador-models` fits to labelled music. [`key_correlations`] with
//! Temperley's (Kostka-Payne) profiles, which unlike Krumhansl-Kessler's do not mistake a
//! bare major triad for the relative-mediant minor, describes a chroma without fitted weights.

pub const PITCH_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// A MIDI note in scientific pitch notation: 60 is C4, 21 is A0.
pub fn note_name(midi: i32) -> String {
    format!(
        "{}{}",
        PITCH_NAMES[midi.rem_euclid(12) as usize],
        midi.div_euclid(12) - 1
    )
}

/// A major and a minor key profile, tonic first: how much each pitch class above the tonic
/// sounds in music in that key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyProfiles {
    pub major: [f32; 12],
    pub minor: [f32; 12],
}

/// Temperley's (Kostka-Payne corpus) profiles.
pub const TEMPERLEY: KeyProfiles = KeyProfiles {
    major: [5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0],
    minor: [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0],
};

/// Chroma frames at or below this peak are silence and left out of a tonal profile.
const SILENT_PEAK: f32 = 1e-6;

/// The mean of chroma frames each scaled to a peak of 1 (so loud passages do not outvote
/// quiet ones); older frames can fade.
#[derive(Debug, Clone, Copy, Default)]
struct PeakMean {
    sum: [f32; 12],
    weight: f32,
}

impl PeakMean {
    fn add(&mut self, chroma: &[f32; 12]) {
        let peak = chroma.iter().fold(0f32, |m, &c| m.max(c));
        if peak > SILENT_PEAK && peak.is_finite() && chroma.iter().all(|c| c.is_finite()) {
            for (s, c) in self.sum.iter_mut().zip(chroma) {
                *s += c.max(0.0) / peak;
            }
            self.weight += 1.0;
        }
    }

    fn fade(&mut self, keep: f32) {
        self.weight *= keep;
        if self.weight < 1e-6 {
            // Long silence: forget rather than drift into denormals.
            *self = Self::default();
        } else {
            self.sum.iter_mut().for_each(|s| *s *= keep);
        }
    }

    fn mean(&self) -> Option<[f32; 12]> {
        (self.weight > 0.0).then(|| self.sum.map(|s| s / self.weight))
    }
}

/// A key's evidence, summed frame by frame: the chroma and the bass chroma (where a chord's
/// root usually is), each frame scaled to a peak of 1; silent and non-finite frames are left
/// out; live, older frames can fade.
#[derive(Debug, Clone, Copy, Default)]
pub struct TonalProfile {
    chroma: PeakMean,
    bass: PeakMean,
}

/// What [`TonalProfile`] has heard: its mean chroma and mean bass chroma (zeros without
/// any bass).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tonality {
    pub chroma: [f32; 12],
    pub bass: [f32; 12],
}

impl TonalProfile {
    /// Adds a frame's chroma and bass chroma.
    pub fn add(&mut self, chroma: &[f32; 12], bass: &[f32; 12]) {
        self.chroma.add(chroma);
        self.bass.add(bass);
    }

    /// Scales what was added so far by `keep` (0 to 1): older frames count less.
    pub fn fade(&mut self, keep: f32) {
        self.chroma.fade(keep);
        self.bass.fade(keep);
    }

    /// The (weighted) means of the frames added, `None` without any chroma.
    pub fn mean(&self) -> Option<Tonality> {
        Some(Tonality {
            chroma: self.chroma.mean()?,
            bass: self.bass.mean().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Major,
    Minor,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Key {
    /// Pitch class of the tonic, 0 = C.
    pub tonic: usize,
    pub mode: Mode,
    /// How sure: this key's probability among the 24, 0 to 1.
    pub confidence: f32,
}

impl Key {
    pub fn name(&self) -> String {
        let mode = match self.mode {
            Mode::Major => "major",
            Mode::Minor => "minor",
        };
        format!("{} {mode}", PITCH_NAMES[self.tonic])
    }
}

/// A linear key classifier: each of the 24 keys scores the tonality turned to its tonic
/// (both halves standardized, [`key_features`]) with its mode's weights, the minor keys
/// adding a bias; the softmax of the scores is each key's probability. Fitted to labelled
/// music in `mirador-models`; a pair of key profiles is the special case of chroma-only
/// weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyWeights {
    pub major: [f32; 24],
    pub minor: [f32; 24],
    pub minor_bias: f32,
}

/// The tonality seen from `tonic`: its chroma and bass chroma turned so `tonic` comes first,
/// each standardized (mean 0, standard deviation 1; zeros where flat).
pub fn key_features(t: &Tonality, tonic: usize) -> [f32; 24] {
    let chroma = standardized(&std::array::from_fn(|pc| t.chroma[(pc + tonic) % 12]));
    let bass = standardized(&std::array::from_fn(|pc| t.bass[(pc + tonic) % 12]));
    std::array::from_fn(|i| if i < 12 { chroma[i] } else { bass[i - 12] })
}

fn standardized(v: &[f32; 12]) -> [f32; 12] {
    let mean = v.iter().sum::<f32>() / 12.0;
    let spread = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / 12.0).sqrt();
    if spread < 1e-9 {
        return [0.0; 12];
    }
    v.map(|x| (x - mean) / spread)
}

/// Each key's score: C to B major, then C to B minor.
pub fn key_scores(t: &Tonality, weights: &KeyWeights) -> [f32; 24] {
    std::array::from_fn(|i| {
        let features = key_features(t, i % 12);
        let (w, bias) = if i < 12 {
            (&weights.major, 0.0)
        } else {
            (&weights.minor, weights.minor_bias)
        };
        bias + features.iter().zip(w).map(|(x, w)| x * w).sum::<f32>()
    })
}

/// The most probable key, `None` when the chroma is flat (silence) or not finite.
pub fn estimate_key(t: &Tonality, weights: &KeyWeights) -> Option<Key> {
    if !t.chroma.iter().sum::<f32>().is_finite() || is_flat(&t.chroma) {
        return None;
    }
    let scores = key_scores(t, weights);
    let best = (0..24).fold(0, |b, i| if scores[i] > scores[b] { i } else { b });
    let total: f32 = scores.iter().map(|s| (s - scores[best]).exp()).sum();
    Some(Key {
        tonic: best % 12,
        mode: if best < 12 { Mode::Major } else { Mode::Minor },
        confidence: 1.0 / total,
    })
}

/// The chroma's correlation with every key's profile: C to B major, then C to B minor;
/// `None` when the chroma is flat. Keys a fifth apart or relative share most of their
/// profile, so these correlations place related keys close together.
pub fn key_correlations(chroma: &[f32; 12], profiles: &KeyProfiles) -> Option<[f32; 24]> {
    if is_flat(chroma) {
        return None;
    }
    Some(std::array::from_fn(|i| {
        let (profile, tonic) = if i < 12 {
            (&profiles.major, i)
        } else {
            (&profiles.minor, i - 12)
        };
        let rotated: [f32; 12] = std::array::from_fn(|pc| profile[(pc + 12 - tonic) % 12]);
        pearson(chroma, &rotated)
    }))
}

/// Whether every pitch class is within 1e-6 of the mean: silence, or no key to read.
fn is_flat(chroma: &[f32; 12]) -> bool {
    let mean = chroma.iter().sum::<f32>() / 12.0;
    chroma.iter().all(|&c| (c - mean).abs() < 1e-6)
}

fn pearson(a: &[f32; 12], b: &[f32; 12]) -> f32 {
    let (ma, mb) = (a.iter().sum::<f32>() / 12.0, b.iter().sum::<f32>() / 12.0);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    ab / (aa * bb).sqrt().max(f32::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_named_in_scientific_pitch_notation() {
        let named: Vec<String> = [21, 59, 60, 69, 108].map(note_name).to_vec();
        assert_eq!(named, ["A0", "B3", "C4", "A4", "C8"]);
    }

    /// Chroma with `pcs` lit, the first brightest.
    fn lit(pcs: &[usize]) -> [f32; 12] {
        let mut c = [0.1f32; 12];
        pcs.iter().for_each(|&pc| c[pc] = 1.0);
        c[pcs[0]] = 1.2;
        c
    }

    /// Temperley's profiles as chroma-only weights.
    fn temperley() -> KeyWeights {
        let half = |p: &[f32; 12]| {
            let z = standardized(p);
            std::array::from_fn(|i| if i < 12 { z[i] } else { 0.0 })
        };
        KeyWeights {
            major: half(&TEMPERLEY.major),
            minor: half(&TEMPERLEY.minor),
            minor_bias: 0.0,
        }
    }

    #[test]
    fn triads_name_their_keys_and_silence_none() {
        let key = |chroma| {
            let t = Tonality {
                chroma,
                bass: [0.0; 12],
            };
            estimate_key(&t, &temperley()).map(|k| k.name())
        };
        assert_eq!(key(lit(&[0, 4, 7])).as_deref(), Some("C major"));
        assert_eq!(key(lit(&[9, 0, 4])).as_deref(), Some("A minor"));
        assert_eq!(key([0.0; 12]), None);
        assert_eq!(key([f32::NAN; 12]), None);
    }

    #[test]
    fn bass_weights_tell_relative_keys_apart_and_confidence_is_a_probability() {
        // C, E, G and A equally loud: C major or A minor, the bass says which.
        let chroma = [1.0, 0.1, 0.1, 0.1, 1.0, 0.1, 0.1, 1.0, 0.1, 1.0, 0.1, 0.1];
        let mut weights = temperley();
        // A tonic in the bass counts for its key.
        weights.major[12] = 2.0;
        weights.minor[12] = 2.0;
        for (root, name) in [(0, "C major"), (9, "A minor")] {
            let mut bass = [0.0; 12];
            bass[root] = 1.0;
            let key = estimate_key(&Tonality { chroma, bass }, &weights).unwrap();
            assert_eq!(key.name(), name);
            assert!(key.confidence > 1.0 / 24.0 && key.confidence < 1.0);
        }
    }

    #[test]
    fn a_tonal_profile_weighs_quiet_frames_like_loud_ones_and_skips_silence() {
        let mut profile = TonalProfile::default();
        assert_eq!(profile.mean(), None);
        let mut loud = [0.0f32; 12];
        loud[0] = 100.0;
        let mut quiet = [0.0f32; 12];
        quiet[7] = 0.01;
        let none = [0.0; 12];
        profile.add(&loud, &none);
        profile.add(&quiet, &quiet);
        profile.add(&none, &none);
        profile.add(&[f32::NAN; 12], &none);
        let mean = profile.mean().unwrap();
        assert_eq!((mean.chroma[0], mean.chroma[7]), (0.5, 0.5));
        // The bass counts its own frames.
        assert_eq!(mean.bass[7], 1.0);
        // Faded, the older frames count less than a new one.
        profile.fade(0.5);
        profile.add(&loud, &none);
        let mean = profile.mean().unwrap().chroma;
        assert_eq!((mean[0], mean[7]), (0.75, 0.25));
        // Faded to nothing, it is empty.
        (0..100).for_each(|_| profile.fade(0.5));
        assert_eq!(profile.mean(), None);
    }
}
