//! CREPE tiny (`models/crepe/crepe_tiny.onnx`), run with tract one frame at a time (tract's
//! convolutions run a frame in 1.4 ms on one core, a batch of 64 in 13 ms per frame: its
//! im2col for a batch does not pay).

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::ModelError;

const ONNX: &[u8] = include_bytes!("../../crepe/crepe_tiny.onnx");

/// Samples per frame (64 ms at 16 kHz).
pub const FRAME: usize = 1024;
/// Pitch bins per frame.
pub const BINS: usize = 360;

/// The network, loaded once and shared by every pipeline.
pub struct CrepeNet {
    plan: Arc<TypedRunnableModel>,
}

impl CrepeNet {
    /// Loads and optimizes the shipped graph (do it once).
    pub fn load() -> Result<Self, ModelError> {
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &ONNX[..])?
            .with_input_fact(0, f32::fact([1, FRAME]).into())?
            .into_optimized()?
            .into_runnable()?;
        Ok(Self { plan })
    }

    /// Runs one [`FRAME`]-sample frame, normalized to zero mean and unit standard deviation:
    /// [`BINS`] probabilities.
    pub fn run(&self, frame: &[f32]) -> Result<Vec<f32>, ModelError> {
        if frame.len() != FRAME {
            return Err(ModelError::Input(format!(
                "CREPE: a frame is {FRAME} samples, got {}",
                frame.len()
            )));
        }
        let input = Tensor::from_shape(&[1, FRAME], frame)?;
        let outputs = self.plan.run(tvec![input.into()])?;
        Ok(outputs[0]
            .to_plain_array_view::<f32>()?
            .iter()
            .copied()
            .collect())
    }
}
