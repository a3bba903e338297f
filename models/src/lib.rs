//! Mirador's predictions: genre, mood and beat models run with tract on the worker thread,
//! fed by `mirador-dsp` features, with their post-processing (smoothing, beat tracking).
//!
//! Empty until the predictions issue lands; the models, their training code
//! (`models/training/`) and their cards will live here.
