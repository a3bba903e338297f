//! Key and mode from chroma: a clip's (or the last seconds') tonal profile, the mean of its
//! chroma frames each scaled to a peak of 1 (so loud passages do not outvote quiet ones),
//! correlated with a major and a minor key profile in all twelve transpositions. Which
//! profiles is the caller's choice: Temperley's (Kostka-Payne) here, which unlike
//! Krumhansl-Kessler's do not mistake a bare major triad for the relative-mediant minor, or
//! the ones `mirador-models` fits to labelled music.

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

/// Sums chroma frames into a tonal profile, each frame scaled to a peak of 1; live, older
/// frames can fade.
#[derive(Debug, Clone, Copy, Default)]
pub struct TonalProfile {
    sum: [f32; 12],
    weight: f32,
}

impl TonalProfile {
    /// Adds a frame; silent and non-finite ones are left out.
    pub fn add(&mut self, chroma: &[f32; 12]) {
        let peak = chroma.iter().fold(0f32, |m, &c| m.max(c));
        if peak > SILENT_PEAK && peak.is_finite() && chroma.iter().all(|c| c.is_finite()) {
            for (s, c) in self.sum.iter_mut().zip(chroma) {
                *s += c.max(0.0) / peak;
            }
            self.weight += 1.0;
        }
    }

    /// Scales what was added so far by `keep` (0 to 1): older frames count less.
    pub fn fade(&mut self, keep: f32) {
        self.weight *= keep;
        if self.weight < 1e-6 {
            // Long silence: forget rather than drift into denormals.
            *self = Self::default();
        } else {
            self.sum.iter_mut().for_each(|s| *s *= keep);
        }
    }

    /// The (weighted) mean of the frames added, `None` without any.
    pub fn mean(&self) -> Option<[f32; 12]> {
        (self.weight > 0.0).then(|| self.sum.map(|s| s / self.weight))
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
    /// Pearson correlation of the chroma with the winning profile, -1 to 1.
    pub correlation: f32,
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

/// The best-correlated key for a tonal profile, `None` when it is flat (silence).
pub fn estimate_key(chroma: &[f32; 12], profiles: &KeyProfiles) -> Option<Key> {
    let correlations = key_correlations(chroma, profiles)?;
    let mut best: Option<Key> = None;
    for (i, &correlation) in correlations.iter().enumerate() {
        if best.is_none_or(|b| correlation > b.correlation) {
            best = Some(Key {
                tonic: i % 12,
                mode: if i < 12 { Mode::Major } else { Mode::Minor },
                correlation,
            });
        }
    }
    best
}

/// The chroma's correlation with every key's profile: C to B major, then C to B minor;
/// `None` when the chroma is flat. Keys a fifth apart or relative share most of their
/// profile, so these correlations place related keys close together.
pub fn key_correlations(chroma: &[f32; 12], profiles: &KeyProfiles) -> Option<[f32; 24]> {
    let mean = chroma.iter().sum::<f32>() / 12.0;
    if chroma.iter().all(|&c| (c - mean).abs() < 1e-6) {
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

    #[test]
    fn triads_name_their_keys() {
        let mut c_major = [0.1f32; 12];
        for pc in [0, 4, 7] {
            c_major[pc] = 1.0;
        }
        assert_eq!(
            estimate_key(&c_major, &TEMPERLEY).unwrap().name(),
            "C major"
        );
        let mut a_minor = [0.1f32; 12];
        for pc in [9, 0, 4] {
            a_minor[pc] = 1.0;
        }
        a_minor[9] = 1.2;
        assert_eq!(
            estimate_key(&a_minor, &TEMPERLEY).unwrap().name(),
            "A minor"
        );
        assert!(estimate_key(&[0.0; 12], &TEMPERLEY).is_none());
    }

    #[test]
    fn a_tonal_profile_weighs_quiet_frames_like_loud_ones_and_skips_silence() {
        let mut profile = TonalProfile::default();
        assert_eq!(profile.mean(), None);
        let mut loud = [0.0f32; 12];
        loud[0] = 100.0;
        let mut quiet = [0.0f32; 12];
        quiet[7] = 0.01;
        profile.add(&loud);
        profile.add(&quiet);
        profile.add(&[0.0; 12]);
        profile.add(&[f32::NAN; 12]);
        let mean = profile.mean().unwrap();
        assert_eq!((mean[0], mean[7]), (0.5, 0.5));
        // Faded, the older frames count less than a new one.
        profile.fade(0.5);
        profile.add(&loud);
        let mean = profile.mean().unwrap();
        assert_eq!((mean[0], mean[7]), (0.75, 0.25));
        // Faded to nothing, it is empty.
        (0..100).for_each(|_| profile.fade(0.5));
        assert_eq!(profile.mean(), None);
    }
}
