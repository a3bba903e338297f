//! Mirador inside a DAW: a nice-plug VST3/CLAP plugin that passes audio through untouched,
//! runs `mirador-dsp` on the audio thread and draws the live view in an egui editor.
//!
//! Empty until the live-analyzer issue lands.
