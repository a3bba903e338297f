//! Beats, downbeats, tempo and meter. BeatNet's activation network (Heydari, Cwitkowitz and
//! Duan, 2021; PyPI `BeatNet` 1.1.3, CC BY 4.0), converted by
//! `models/training/beatnet_export.py` to a one-step ONNX graph with its LSTM state as
//! explicit inputs and outputs, runs with tract on every 20 ms frame of `mirador-dsp`'s
//! [`LogFilteredSpectrogram`](mirador_dsp::spectral::log_filtered::LogFilteredSpectrogram);
//! the online [`BeatTracker`] (live) or the offline [`BeatDecoder`] (files) turns its beat and
//! downbeat probabilities into beat events. [`BeatPipeline`] is the whole chain, for files
//! and live input.

mod bar_phase;
mod bar_space;
mod decoder;
mod pipeline;
mod tracker;

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::ModelError;

pub use bar_space::TrackerConfig;
pub use decoder::BeatDecoder;
pub use pipeline::{summarize, BeatPipeline, ClipBeats, PipelineBeat};
pub use tracker::{BeatTracker, TrackedBeat};

const ONNX: &[u8] = include_bytes!("../../beatnet/beatnet.onnx");
const LAYERS: usize = 2;
const HIDDEN: usize = 150;
pub const FEATURES: usize = 272;

pub struct BeatNet {
    plan: Arc<TypedRunnableModel>,
}

/// The LSTM's memory of one stream.
#[derive(Clone)]
pub struct StreamState {
    h: Tensor,
    c: Tensor,
}

impl Default for StreamState {
    fn default() -> Self {
        let zeros = || Tensor::zero::<f32>(&[LAYERS, 1, HIDDEN]).expect("a small zero tensor");
        Self {
            h: zeros(),
            c: zeros(),
        }
    }
}

/// One frame's probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Activation {
    /// A beat that is not a downbeat.
    pub beat: f32,
    pub downbeat: f32,
    pub none: f32,
}

impl BeatNet {
    /// A short digest of the shipped graph (see `tagger::Variant::fingerprint`).
    pub fn fingerprint() -> String {
        crate::fingerprint(&[ONNX])
    }

    /// Loads and optimizes the shipped graph (do it once).
    pub fn load() -> Result<Self, ModelError> {
        Ok(Self {
            plan: crate::onnx::runnable(ONNX)?,
        })
    }

    /// Runs one frame of [`FEATURES`] values, carrying `state` to the next.
    pub fn step(
        &self,
        features: &[f32],
        state: &mut StreamState,
    ) -> Result<Activation, ModelError> {
        if features.len() != FEATURES {
            return Err(ModelError::Input(format!(
                "BeatNet: a frame is {FEATURES} values, got {}",
                features.len()
            )));
        }
        let input = Tensor::from_shape(&[1, FEATURES], features)?;
        let mut outputs = self.plan.run(tvec![
            input.into(),
            state.h.clone().into(),
            state.c.clone().into()
        ])?;
        state.c = outputs.remove(2).into_tensor();
        state.h = outputs.remove(1).into_tensor();
        let p = outputs[0].to_plain_array_view::<f32>()?;
        let p: Vec<f32> = p.iter().copied().collect();
        Ok(Activation {
            beat: p[0],
            downbeat: p[1],
            none: p[2],
        })
    }
}
