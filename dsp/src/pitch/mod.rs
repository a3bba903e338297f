//! Pitch: the key and mode of a chroma profile, chords from chroma frames, and librosa's
//! tuning estimate.

pub mod chords;
pub mod chroma_stream;
pub mod key;
pub mod tuning;
