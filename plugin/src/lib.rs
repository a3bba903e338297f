//! Mirador inside a DAW: a nice-plug VST3/CLAP shell that passes audio through untouched
//! (zero latency), runs `mirador-engine` on the audio thread, and draws `mirador-view` in its
//! editor, the same view the app shows. Parameters and the editor are all that live here.

mod plugin;

pub use plugin::Mirador;
