//! Mirador's signal processing: algorithms only, array in and array out, with librosa's
//! definitions. No threads, rings or model vocabulary live here.
//!
//! - [`StreamingAnalyzer`]: blocks of any size in, one [`Frame`] of features per hop out, no
//!   allocation after construction ([`input`] downmixes and resamples, [`framing`] frames,
//!   `frame_features` computes each [`Frame`]).
//! - [`framing`]: the framer, windows and overlap-add; [`resampler`]: the one resampler.
//! - [`spectral`], [`rhythm`], [`pitch`], [`separation`]: the algorithms by what they compute.
//! - [`loudness`]: EBU R128 loudness and true peak (the `ebur128` crate).
//! - [`clip`]: what needs a whole clip, the GTZAN feature table.
//! - [`structure`]: sections of a song, for a file and live.

pub mod analyzer;
pub mod clip;
pub mod config;
pub mod frame;
mod frame_features;
pub mod framing;
pub mod input;
pub mod loudness;
pub mod pitch;
pub mod resampler;
pub mod rhythm;
pub mod separation;
pub mod spectral;
pub mod structure;

pub use analyzer::StreamingAnalyzer;
pub use config::{AnalysisParams, AnalyzerConfig, ConfigError, PadMode};
pub use frame::Frame;
