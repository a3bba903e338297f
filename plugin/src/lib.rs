//! Mirador inside a DAW: a nice-plug VST3/CLAP plugin that passes audio through untouched
//! (zero latency), runs `mirador-dsp`'s live engine on the audio thread, and draws [`view`]
//! in its editor. The view is the same one the standalone app shows.

mod plugin;
pub mod view;

pub use plugin::Mirador;
