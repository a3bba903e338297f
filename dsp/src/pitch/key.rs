//! Key and mode from chroma: the averaged chroma of the last seconds correlated with
//! Temperley's (Kostka-Payne) major and minor profiles in all twelve transpositions. Unlike
//! Krumhansl-Kessler's, they do not mistake a bare major triad for the relative-mediant minor.

pub const PITCH_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

const MAJOR: [f32; 12] = [5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0];
const MINOR: [f32; 12] = [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0];

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

/// The best-correlated key for a chroma vector, `None` when it is flat (silence).
pub fn estimate_key(chroma: &[f32; 12]) -> Option<Key> {
    let correlations = key_correlations(chroma)?;
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
pub fn key_correlations(chroma: &[f32; 12]) -> Option<[f32; 24]> {
    let mean = chroma.iter().sum::<f32>() / 12.0;
    if chroma.iter().all(|&c| (c - mean).abs() < 1e-6) {
        return None;
    }
    Some(std::array::from_fn(|i| {
        let (profile, tonic) = if i < 12 {
            (&MAJOR, i)
        } else {
            (&MINOR, i - 12)
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
    fn triads_name_their_keys() {
        let mut c_major = [0.1f32; 12];
        for pc in [0, 4, 7] {
            c_major[pc] = 1.0;
        }
        assert_eq!(estimate_key(&c_major).unwrap().name(), "C major");
        let mut a_minor = [0.1f32; 12];
        for pc in [9, 0, 4] {
            a_minor[pc] = 1.0;
        }
        a_minor[9] = 1.2;
        assert_eq!(estimate_key(&a_minor).unwrap().name(), "A minor");
        assert!(estimate_key(&[0.0; 12]).is_none());
    }
}
