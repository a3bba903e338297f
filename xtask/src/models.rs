//! `cargo xtask models`: rebuilds every shipped model from pinned inputs, in a virtual
//! environment made from `models/training/requirements.txt` (`target/models-venv`); BeatNet
//! in its own (`models/training/beatnet_venv.sh`), since madmom needs numpy < 2. The distilled
//! CNN is trained with torch, which only the BeatNet environment has.

use std::process::Command;

use anyhow::Result;

use crate::python::{beatnet_python, repo_root, run, venv};

/// The int8 CNN `quantize.py` writes for `cargo xtask eval` to time (not shipped).
pub const INT8_CNN: &str = "target/quantized/cnn.int8.onnx";

pub fn run_all() -> Result<()> {
    let root = repo_root();
    let data = mirador_tests::data_dir();
    let python = venv("target/models-venv", "models/training/requirements.txt")?;
    let training = root.join("models/training");
    let script = |name: &str| {
        let mut command = Command::new(&python);
        command
            .current_dir(&training)
            .args(["-W", "ignore::FutureWarning"])
            .arg(training.join(name));
        command
    };
    eprintln!("xtask: training the classic genre models");
    run(script("classic.py")
        .arg("--data")
        .arg(data.join("gtzan"))
        .arg("--out")
        .arg(root.join("models/classic")))?;
    eprintln!("xtask: converting musicnn (PyPI musicnn 0.1.0) to ONNX");
    run(script("musicnn_export.py")
        .arg("--out")
        .arg(root.join("models/musicnn"))
        .arg("--data")
        .arg(&data)
        .arg("--librosa-python")
        .arg(&python))?;
    let heads = |model: &str, onnx: &str| {
        let mut command = script("heads.py");
        command
            .arg("--data")
            .arg(&data)
            .arg("--model")
            .arg(root.join("models").join(model))
            .args(["--onnx", onnx]);
        command
    };
    eprintln!("xtask: training the genre and mood heads on musicnn's embedding");
    run(&mut heads("musicnn", "msd_musicnn.onnx"))?;
    let torch_python = beatnet_python()?;
    eprintln!("xtask: distilling musicnn into Mirador's CNN");
    run(Command::new(&torch_python)
        .current_dir(&training)
        .arg(training.join("distill.py"))
        .arg("--data")
        .arg(&data)
        .arg("--teacher")
        .arg(root.join("models/musicnn"))
        .arg("--out")
        .arg(root.join("models/cnn")))?;
    eprintln!("xtask: training the genre and mood heads on the CNN's embedding");
    run(&mut heads("cnn", "cnn.onnx"))?;
    eprintln!("xtask: checking the CNN in int8 against fp32 on real audio");
    run(script("quantize.py")
        .arg("--data")
        .arg(&data)
        .arg("--model")
        .arg(root.join("models/cnn"))
        .arg("--onnx")
        .arg("cnn.onnx")
        .arg("--out")
        .arg(root.join(INT8_CNN)))?;
    eprintln!("xtask: converting BeatNet (PyPI BeatNet 1.1.3) to a one-step ONNX graph");
    run(Command::new(&torch_python)
        .arg(training.join("beatnet_export.py"))
        .arg("--data")
        .arg(&data))?;
    Ok(())
}
