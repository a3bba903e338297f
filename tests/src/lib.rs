//! End-to-end tests of Mirador on real audio (see `tests/tests/`): whole files through
//! decoding, analysis and the models, checked against published reference data. The library
//! itself only locates the shared data set, for these tests, the plugin's and `cargo xtask`,
//! and makes the tests' scratch folders.

use std::path::PathBuf;

/// The ten GTZAN genres, in the order the genre heads list them.
pub const GTZAN_GENRES: [&str; 10] = [
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
];

/// `../shared/data` beside the repository, or `$MIRADOR_DATA`. The repository is where this
/// crate was built, or else (a build reused from a checkout elsewhere) the nearest folder
/// above the working directory with `shared/data` beside it.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIRADOR_DATA") {
        return PathBuf::from(dir);
    }
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if built.is_dir() {
        return built;
    }
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            cwd.ancestors()
                .map(|a| a.join("shared/data"))
                .find(|d| d.is_dir())
        })
        .unwrap_or(built)
}

/// A fresh scratch folder named `mirador-{name}-…` in the temp dir, removed when dropped (so
/// also when a test fails).
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("mirador-{name}-"))
        .tempdir()
        .unwrap()
}
