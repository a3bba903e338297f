//! The pinned Python environment used to run the reference implementations (librosa).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `$MIRADOR_PYTHON` if set, else `target/pyenv`, created from `dsp/golden/requirements.txt`
/// on first use: librosa, the reference for the features.
pub fn python() -> Result<PathBuf> {
    if let Some(python) = std::env::var_os("MIRADOR_PYTHON") {
        return Ok(PathBuf::from(python));
    }
    venv("target/pyenv", "dsp/golden/requirements.txt")
}

/// The Python of the virtual environment at `dir` (relative to the repository), created with
/// the pinned `requirements` on first use.
pub fn venv(dir: &str, requirements: &str) -> Result<PathBuf> {
    let root = repo_root();
    let venv = root.join(dir);
    let python = venv.join("bin/python");
    if !python.exists() {
        eprintln!("xtask: creating {} from {requirements}", venv.display());
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "-r"])
            .arg(root.join(requirements)))?;
    }
    Ok(python)
}

pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}

/// The BeatNet reference environment (`target/beatnet-venv`): the original BeatNet package
/// with madmom and torch, librosa's beat tracker and mir_eval.
pub fn beatnet_python() -> Result<PathBuf> {
    venv_from_script("target/beatnet-venv", "models/training/beatnet_venv.sh")
}

/// The Python of the virtual environment at `dir` (relative to the repository), which
/// `script` creates when it is missing or broken.
pub fn venv_from_script(dir: &str, script: &str) -> Result<PathBuf> {
    let root = repo_root();
    let venv = root.join(dir);
    run(Command::new(root.join(script)).arg(&venv))?;
    Ok(venv.join("bin/python"))
}
