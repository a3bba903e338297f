//! Mirador's predictions. [`classic`]: the five classifiers of the GTZAN feature-table
//! pipeline, run on `mirador-dsp`'s feature table. The deep models (genre and mood CNNs, the
//! beat tracker) run with tract on the worker thread; their training code is in
//! `models/training/` and each model has a card in `models/<name>/README.md`.

pub mod classic;
