//! End-to-end tests of Mirador on real audio (see `tests/tests/`): whole files through
//! decoding, analysis and the models, checked against published reference data. The library
//! itself only locates the shared data set, for these tests, the plugin's and `cargo xtask`.

use std::path::PathBuf;

/// `../shared/data` beside the repository, or `$MIRADOR_DATA`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("MIRADOR_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}
