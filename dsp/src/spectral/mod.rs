//! Spectral features: filterbanks and transforms, per-frame features on a spectrum, and
//! madmom's log-filtered spectrogram.

pub mod features;
pub mod filters;
pub mod log_filtered;
