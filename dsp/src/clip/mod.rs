//! Clip-level analysis: what librosa computes over a whole signal, here the GTZAN feature
//! table ([`table`]), made in two passes ([`passes`]) over a [`Replay`]able clip.

pub mod mean_var;
pub mod passes;
pub mod replay;
pub mod table;

pub use mean_var::MeanVar;
pub use passes::{feature_table, feature_table_tapped, scan, ClipScan, ClipTap, TableStyle};
pub use replay::{ClipError, Replay, Samples};
pub use table::{FeatureTable, TABLE_MFCCS};
