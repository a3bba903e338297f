//! File analysis behind the `mirador` command: decoding with symphonia ([`decode`]), parallel
//! batch analysis of files and folders ([`batch`]), CSV/JSON output ([`report`]) and the
//! bundled demo signal ([`demo`]).

pub mod batch;
pub mod decode;
pub mod demo;
pub mod report;
