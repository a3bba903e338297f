//! Mirador's predictions: inference and post-processing, on `mirador-dsp`'s features.
//!
//! Each model has one [`Pipeline`] that serves files and live input alike:
//! - [`beats`]: BeatNet's beat and downbeat network (tract, frame by frame), an online
//!   bar-pointer tracker for live input and an offline Viterbi decoder for files
//!   ([`beats::BeatPipeline`]).
//! - [`tagger`]: the networks that read 3 s log-mel patches (Mirador's CNN distilled from
//!   musicnn, and musicnn itself), run with tract, with genre and mood heads on their
//!   embeddings ([`tagger::PatchPipeline`]).
//! - [`classic`]: the five classifiers of the GTZAN feature-table pipeline, on
//!   `mirador-dsp`'s feature table (no pipeline of their own: they read the table).
//!
//! - [`chords`]: chords from chroma frames through an HMM (no learned weights), Viterbi for a
//!   file and the forward filter live ([`chords::ChordPipeline`]).
//! - [`key`]: key and mode from a tonal profile with profiles fitted to labelled music.
//! - [`sections`]: a song's sections from the feature frames' chroma and MFCCs (no learned
//!   weights), structural features for a file and Foote novelty live
//!   ([`sections::SectionPipeline`]).
//! - [`notes`]: Spotify's basic-pitch transcription network (tract, 2 s windows) and its note
//!   creation, ported ([`notes::NotePipeline`]).
//! - [`melody`]: CREPE's tiny pitch network (tract) for a monophonic f0 track and the tuner
//!   ([`melody::MelodyPipeline`]).
//! - [`clip`]: a whole clip through the feature table with every pipeline riding along.
//!
//! Training and conversion code is in `models/training/` (`cargo xtask models`); each model
//! has a card beside its files (`models/classic/README.md`, `models/musicnn/README.md`,
//! `models/cnn/README.md`, `models/beatnet/README.md`, `models/chords/README.md`,
//! `models/sections/README.md`, `models/basic_pitch/README.md`, `models/crepe/README.md`).

pub mod abstain;
pub mod beats;
pub mod chords;
pub mod classic;
pub mod clip;
mod dense;
mod error;
pub mod key;
pub mod melody;
pub mod notes;
mod onnx;
pub mod pipeline;
pub mod sections;
mod standardizer;
pub mod tagger;

pub use error::ModelError;

/// 16 hex digits of 64-bit FNV-1a over `parts`: tells shipped model files apart (not a
/// security hash).
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}
pub use pipeline::{run_clip, Pipeline, SAMPLE_RATE};
