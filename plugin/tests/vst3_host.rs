//! Loads the built `.vst3` in a second real host, Spotify's pedalboard (JUCE's VST3 hosting,
//! driven from Python by `pedalboard_host.py`): a real GTZAN recording at 44.1 and 48 kHz, in
//! stereo and mono, with blocks of 1 to 4096 samples, must come back bit-exact, and the state
//! must survive a save and restore into a fresh instance.
//!
//! The bundle is `MIRADOR_VST3` when set (CI points it at the `Mirador.vst3` that
//! `cargo xtask bundle mirador --release` made), otherwise the cdylib cargo built beside this
//! test, laid out as the bundler does on Linux: `Mirador.vst3/Contents/<arch>-linux/Mirador.so`.
//! The interpreter is `MIRADOR_PYTHON`, else `python3`; `scripts/setup.sh` installs pedalboard.

mod common;

use std::path::{Path, PathBuf};

use mirador_tests::data_dir;
use std::process::Command;

fn bundle_path() -> PathBuf {
    if let Some(bundle) = common::bundle_from_env("MIRADOR_VST3") {
        return bundle;
    }
    let (library, folder) = common::built_library("vst3-host-test");
    // The VST3 architecture folder names, as nice-plug-xtask writes them.
    let arch = match std::env::consts::ARCH {
        "x86" => "i386",
        arch => arch,
    };
    let bundle = folder.join("Mirador.vst3");
    let binary_dir = bundle.join("Contents").join(format!("{arch}-linux"));
    std::fs::create_dir_all(&binary_dir).unwrap();
    std::fs::copy(&library, binary_dir.join("Mirador.so")).unwrap();
    bundle
}

fn python() -> std::ffi::OsString {
    std::env::var_os("MIRADOR_PYTHON").unwrap_or_else(|| "python3".into())
}

#[test]
fn pedalboard_hosts_the_vst3_bit_exact_and_restores_state() {
    let python = python();
    let probe = Command::new(&python)
        .args([
            "-c",
            "import numpy, pedalboard; print(pedalboard.__version__)",
        ])
        .output()
        .unwrap_or_else(|e| panic!("running {python:?}: {e}; run scripts/setup.sh"));
    assert!(
        probe.status.success(),
        "pedalboard is not importable by {python:?} (run scripts/setup.sh, or point \
         MIRADOR_PYTHON at an interpreter that has it):\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );

    let audio = data_dir().join("gtzan/full/rock.00000.flac");
    assert!(audio.exists(), "test clip missing: {audio:?}");
    let bundle = bundle_path();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pedalboard_host.py");

    let output = Command::new(&python)
        .arg(&script)
        .arg(&bundle)
        .arg(&audio)
        .output()
        .unwrap_or_else(|e| panic!("running {script:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "pedalboard_host.py failed ({}) on {bundle:?}:\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("all checks passed"),
        "pedalboard_host.py exited cleanly without finishing:\n{stdout}"
    );
}
