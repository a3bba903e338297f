//! Song structure: where a song changes and which of its parts repeat.
//!
//! - [`columns`]: frames summarized into short units as they come, and those units into
//!   beat-synchronous columns of chroma and timbre, standardized.
//! - [`boundaries`]: Serrà et al.'s structural features (time-delay embedding, a
//!   nearest-neighbour recurrence plot read as a lag matrix, smoothed in time) and the
//!   peaks of their novelty: where a file's sections begin.
//! - [`labels`]: Serrà et al.'s segment similarity (the best-aligned diagonal of the
//!   affinity between two sections) and average-linkage clustering: which sections are the
//!   same material (A, B, C, ...).
//! - [`roles`]: a guess at each section's role (intro, verse, chorus, ...) from its
//!   repetitions, place and loudness.
//! - [`novelty`]: live, Foote's checkerboard novelty over the last seconds, causal, with a
//!   section's letter found by comparison with the sections heard before.
//!
//! References: J. Serrà, M. Müller, P. Grosche, J. Ll. Arcos, "Unsupervised music structure
//! annotation by time series structure features and segment similarity", IEEE Trans.
//! Multimedia 16(5), 2014; J. Foote, "Automatic audio segmentation using a measure of audio
//! novelty", ICME 2000.

pub mod boundaries;
pub mod columns;
pub mod labels;
pub mod novelty;
pub mod roles;

/// Chroma (12) and MFCC 1 to 13 (timbre). MFCC 0, the level, is left out: a louder repeat
/// is still the same material.
pub const DIMS: usize = 12 + TIMBRE;
/// MFCCs read, from the second.
pub const TIMBRE: usize = 13;

/// One column's features.
pub type Features = [f32; DIMS];

/// A section of a song: `start` and `end` in seconds, a repetition label (equal labels, the
/// same material) and a guess at its role.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub start: f64,
    pub end: f64,
    /// 0 for A, 1 for B, ...: in order of first appearance.
    pub label: usize,
    pub role: roles::Role,
    /// How sure the role guess is, 0 to 1.
    pub confidence: f32,
}

/// `A` .. `Z`, then `A1`, `B1`, ... for songs of more than 26 kinds of section.
pub fn letter(label: usize) -> String {
    let c = char::from(b'A' + (label % 26) as u8);
    match label / 26 {
        0 => c.to_string(),
        n => format!("{c}{n}"),
    }
}

/// Squared Euclidean distance.
fn distance(a: &Features, b: &Features) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_run_past_z() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "A1");
    }
}
