//! The models' live listeners: thin wrappers that feed a model's pipeline on the worker (or,
//! for a network that costs more per run than the worker may stall, on its own thread) and
//! write what it says into the snapshot.

pub mod beats;
pub mod chords;
pub mod notes;
mod pipeline_thread;
pub mod references;
pub mod tagger;
pub mod tuner;
