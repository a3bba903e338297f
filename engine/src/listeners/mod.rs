//! The models' live listeners: thin wrappers that feed a model's pipeline on the worker and
//! write what it says into the snapshot.

pub mod beats;
pub mod chords;
pub mod notes;
pub mod references;
pub mod tagger;
pub mod tuner;
