//! Clip-level analysis: what librosa computes over a whole signal, here the GTZAN feature
//! table, made in two passes over a [`Replay`]able clip.

pub mod replay;
pub mod table;

pub use replay::{ClipError, Replay, Samples};
pub use table::{
    feature_table, feature_table_tapped, scan, ClipScan, ClipTap, FeatureTable, MeanVar, TableStyle,
};
