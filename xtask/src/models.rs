//! `cargo xtask models`: rebuilds every shipped model from pinned inputs, in a virtual
//! environment made from `models/training/requirements.txt` (`target/models-venv`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::python::{repo_root, run, venv};

pub fn run_all() -> Result<()> {
    let root = repo_root();
    let data = std::env::var_os("MIRADOR_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data"));
    let python = venv("target/models-venv", "models/training/requirements.txt")?;
    eprintln!("xtask: training the classic genre models");
    run(Command::new(&python)
        .arg("-W")
        .arg("ignore::FutureWarning")
        .arg(root.join("models/training/classic.py"))
        .arg("--data")
        .arg(data.join("gtzan"))
        .arg("--out")
        .arg(root.join("models/classic")))?;
    Ok(())
}
