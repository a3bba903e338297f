//! basic-pitch's network (`models/basic_pitch/nmp.onnx`), run with tract on one window of
//! audio at a time.

use std::sync::Arc;

use tract_onnx::prelude::*;

use super::{CONTOUR_BINS, KEYS};
use crate::ModelError;

const ONNX: &[u8] = include_bytes!("../../basic_pitch/nmp.onnx");

/// Samples the network reads at once: 2 s at 22.05 kHz less one hop.
pub const WINDOW: usize = 43_844;
/// Frames it gives per window (86 a second).
pub const WINDOW_FRAMES: usize = 172;

/// The network, loaded once and shared by every pipeline.
pub struct NoteNet {
    plan: Arc<TypedRunnableModel>,
}

/// What one window gives, frame-major: [`WINDOW_FRAMES`] rows each.
pub struct WindowActivations {
    /// Whether a note sounds, per piano key.
    pub note: Vec<f32>,
    /// Whether a note starts, per piano key.
    pub onset: Vec<f32>,
    /// Pitch salience in thirds of a semitone ([`CONTOUR_BINS`] per frame).
    pub contour: Vec<f32>,
}

impl NoteNet {
    /// Loads and optimizes the shipped graph for one window at a time (do it once).
    pub fn load() -> Result<Self, ModelError> {
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &ONNX[..])?
            .with_input_fact(0, f32::fact([1, WINDOW, 1]).into())?
            .into_optimized()?
            .into_runnable()?;
        Ok(Self { plan })
    }

    /// Runs one window of [`WINDOW`] mono samples at 22.05 kHz.
    pub fn run(&self, window: &[f32]) -> Result<WindowActivations, ModelError> {
        if window.len() != WINDOW {
            return Err(ModelError::Input(format!(
                "basic-pitch: a window is {WINDOW} samples, got {}",
                window.len()
            )));
        }
        let input = Tensor::from_shape(&[1, WINDOW, 1], window)?;
        let outputs = self.plan.run(tvec![input.into()])?;
        // The graph's outputs, in order: onsets, notes, contours.
        let flat = |i: usize, width: usize| -> Result<Vec<f32>, ModelError> {
            let values: Vec<f32> = outputs[i]
                .to_plain_array_view::<f32>()?
                .iter()
                .copied()
                .collect();
            if values.len() != WINDOW_FRAMES * width {
                return Err(ModelError::Graph(format!(
                    "basic-pitch: output {i} has {} values, expected {}",
                    values.len(),
                    WINDOW_FRAMES * width
                )));
            }
            Ok(values)
        };
        Ok(WindowActivations {
            onset: flat(0, KEYS)?,
            note: flat(1, KEYS)?,
            contour: flat(2, CONTOUR_BINS)?,
        })
    }
}
