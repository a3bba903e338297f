//! Mirador's DSP core: turns audio into librosa-compatible features frame by frame.
//!
//! [`StreamingAnalyzer`] is built once from an [`AnalyzerConfig`], then fed blocks of any size;
//! it downmixes, resamples to the analysis rate and emits a [`Frame`] per hop into a caller's
//! sink, without allocating after construction. [`clip`] adds what needs a whole clip:
//! harmonic/percussive separation, global tempo, tuning and the GTZAN feature table.
//! [`live`] runs the analyzer on an audio thread and the live analyses on a worker.

pub mod analyzer;
pub mod clip;
pub mod config;
pub mod features;
pub mod filters;
pub mod frame;
pub mod input;
pub mod live;
pub mod log_filtered;
pub mod onset;

pub use analyzer::StreamingAnalyzer;
pub use config::{AnalysisParams, AnalyzerConfig, ConfigError, PadMode};
pub use frame::Frame;
