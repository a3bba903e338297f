//! File analysis behind the `mirador` command: decoding with symphonia ([`decode`]), parallel
//! batch analysis of files and folders ([`batch`]) and CSV/JSON output ([`report`]).

pub mod batch;
pub mod decode;
pub mod report;
