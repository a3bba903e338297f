//! Mirador inside a DAW: a nice-plug VST3/CLAP plugin that passes audio through untouched,
//! runs `mirador-dsp`'s live engine and draws [`view`] in its editor. The view is the one
//! the standalone app shows too.
//!
//! The plugin itself is still to come; the view is here.

pub mod view;
