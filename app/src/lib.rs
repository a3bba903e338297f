//! Everything behind the `mirador` command: decoding with symphonia ([`decode`]), parallel
//! batch analysis of files and folders ([`batch`]), keeping a library of them
//! ([`indexing`]), CSV/JSON output ([`report`]) with explanations drawn as PNGs
//! ([`saliency_image`]) and transcribed notes written as MIDI files ([`midi_file`]), the
//! terminal summary ([`summary`]), the bundled demo recording ([`demo`]), sound devices
//! ([`device`], [`convert`]), file playback ([`player`]) and live input ([`live`]) into the
//! live view ([`gui`]), and OSC out ([`osc`]).

pub mod batch;
pub mod beat_clock;
pub mod convert;
pub mod decode;
pub mod demo;
pub mod device;
pub mod gui;
pub mod indexing;
pub mod live;
pub mod midi_file;
pub mod midi_out;
pub mod osc;
pub mod player;
pub mod report;
pub mod saliency_image;
pub mod summary;
