//! Rhythm: onset strength, librosa's global tempo, and the tempo and beat phase of a recent
//! stretch of onset envelope.

pub mod beat_phase;
pub mod onset;
pub mod tempo;
