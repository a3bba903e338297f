//! Mirador's predictions.
//!
//! - [`classic`]: the five classifiers of the GTZAN feature-table pipeline, run on
//!   `mirador-dsp`'s feature table.
//! - [`beats`]: BeatNet's beat and downbeat network (tract, frame by frame) and an online
//!   bar-pointer tracker.
//! - [`musicnn`]: the networks that read log-mel patches (musicnn, and Mirador's CNN distilled
//!   from it), run with tract, and the genre and mood heads on their embeddings.
//!
//! Training and conversion code is in `models/training/` (`cargo xtask models`); each model
//! has a card beside its files (`models/classic/README.md`, `models/musicnn/README.md`,
//! `models/cnn/README.md`, `models/beatnet/README.md`).

pub mod beats;
pub mod classic;
mod dense;
pub mod live;
pub mod musicnn;
mod onnx;
