//! Everything behind the `mirador` command: decoding with symphonia ([`decode`]), parallel
//! batch analysis of files and folders ([`batch`]), CSV/JSON output ([`report`]), the bundled
//! demo signal ([`demo`]), and paced playback ([`player`]) into the live view ([`gui`]).

pub mod batch;
pub mod decode;
pub mod demo;
pub mod gui;
pub mod player;
pub mod report;
