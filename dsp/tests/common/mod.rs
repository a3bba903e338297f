//! Shared helpers for the dsp integration tests: golden fixtures and running the analyzer.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mirador_dsp::{AnalyzerConfig, Frame, StreamingAnalyzer};

pub const FIXTURES: [&str; 7] = [
    "chord",
    "clicks",
    "chirp",
    "silence_then_tone",
    "odd_length",
    "vibe_ace",
    "hungarian_dance",
];

pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden/fixtures")
        .join(name)
}

/// A float32 array written by numpy, with its shape.
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Array {
    /// Column `t` of a `[rows, frames]` matrix.
    pub fn column(&self, t: usize) -> Vec<f32> {
        let (rows, cols) = (self.shape[0], self.shape[1]);
        (0..rows).map(|r| self.data[r * cols + t]).collect()
    }

    pub fn frames(&self) -> usize {
        *self.shape.last().unwrap()
    }
}

pub fn load(name: &str, array: &str) -> Array {
    let path = fixture_dir(name).join(format!("{array}.npy"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    let data = npy.into_vec::<f32>().unwrap();
    Array { shape, data }
}

pub fn exists(name: &str, array: &str) -> bool {
    fixture_dir(name).join(format!("{array}.npy")).exists()
}

/// Runs a fresh analyzer over `samples` in blocks of `block` frames and returns every frame.
pub fn analyze(config: &AnalyzerConfig, samples: &[f32], block: usize) -> Vec<Frame> {
    let mut analyzer = StreamingAnalyzer::new(config).unwrap();
    let mut frames = Vec::new();
    let mut sink = |f: &Frame| frames.push(f.clone());
    for chunk in samples.chunks(block * config.channels) {
        analyzer.process_interleaved(chunk, &mut sink);
    }
    analyzer.flush(&mut sink);
    frames
}

/// Largest error of `got` against `want` relative to the largest `|want|` of the same frame;
/// frames whose reference is all zero are compared absolutely.
pub fn frame_relative_error(got: &[f32], want: &[f32]) -> f64 {
    let scale = want.iter().fold(0f64, |a, &b| a.max(b.abs() as f64));
    let diff = got
        .iter()
        .zip(want)
        .fold(0f64, |a, (&g, &w)| a.max((g as f64 - w as f64).abs()));
    if scale > 0.0 {
        diff / scale
    } else {
        diff
    }
}

pub fn max_abs_error(got: &[f32], want: &[f32]) -> f64 {
    got.iter()
        .zip(want)
        .fold(0f64, |a, (&g, &w)| a.max((g as f64 - w as f64).abs()))
}

/// Relative error of scalars, with `floor` guarding references near zero.
pub fn scalar_relative_error(got: &[f32], want: &[f32], floor: f64) -> f64 {
    got.iter().zip(want).fold(0f64, |a, (&g, &w)| {
        a.max((g as f64 - w as f64).abs() / (w.abs() as f64).max(floor))
    })
}
