//! Pitch: the key and mode of a chroma profile, and librosa's tuning estimate.

pub mod key;
pub mod tuning;
