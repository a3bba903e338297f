//! Source separation: librosa's harmonic/percussive separation, streamed.

pub mod hpss;
