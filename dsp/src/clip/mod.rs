//! Clip-level analysis, for what librosa computes over a whole signal: harmonic/percussive
//! separation, global tempo, chroma tuning, and the GTZAN feature table built from them.

pub mod hpss;
pub mod table;
pub mod tempo;
pub mod tuning;

pub use table::{
    feature_table, scan, ClipScan, FeatureTable, MeanVar, Replay, Samples, TableError, TableStyle,
};
