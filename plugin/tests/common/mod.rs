//! What both hosted-plugin tests need: the plugin to load.

use std::path::PathBuf;

/// The bundle `variable` names (a `cargo xtask bundle` output), else `None`.
pub fn bundle_from_env(variable: &str) -> Option<PathBuf> {
    let path = std::env::var_os(variable)?;
    // dlopen needs a path with a slash, and tests run in the crate's folder.
    Some(std::fs::canonicalize(&path).unwrap_or_else(|e| panic!("{variable}={path:?}: {e}")))
}

/// The plugin library `cargo test` built in this run, and a fresh folder beside it named
/// `folder` to lay a bundle out in.
pub fn built_library(folder: &str) -> (PathBuf, PathBuf) {
    // `cargo test` builds the cdylib next to this test binary (target/<profile>/deps/) in the
    // same run, but only `cargo build` copies it up to target/<profile>/.
    let exe = std::env::current_exe().unwrap();
    let deps_dir = exe.parent().unwrap();
    let library = deps_dir.join(format!(
        "{}mirador_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(library.exists(), "plugin library not built: {library:?}");
    (library, deps_dir.parent().unwrap().join(folder))
}
