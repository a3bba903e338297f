//! BeatNet in the live engine: its pipeline hears the stream on the worker; each beat it
//! announces is placed on the input timeline and published with the next snapshot.

use std::sync::Arc;

use mirador_models::beats::{BeatNet, BeatPipeline};
use mirador_models::{Pipeline, SAMPLE_RATE};

use crate::listener::{BarBeat, Heard, Listener};
use crate::snapshot::Beat;

pub struct BeatListener {
    pipeline: BeatPipeline,
    /// Input samples per analysis sample.
    ratio: f64,
    input_rate: f64,
    newest: Option<BarBeat>,
}

impl BeatListener {
    pub fn new(net: Arc<BeatNet>, input_rate: u32) -> Self {
        Self {
            pipeline: BeatPipeline::live(net),
            ratio: input_rate as f64 / SAMPLE_RATE as f64,
            input_rate: input_rate as f64,
            newest: None,
        }
    }
}

impl Listener for BeatListener {
    fn push(&mut self, block: &[f32], position: u64) {
        self.pipeline.push(block, position);
        for b in self.pipeline.take_beats() {
            let position = (b.position as f64 * self.ratio).round() as u64;
            self.newest = Some(BarBeat {
                beat: Beat {
                    position,
                    time: position as f64 / self.input_rate,
                    period: 60.0 / b.tempo_bpm,
                },
                beat_in_bar: b.beat_in_bar,
                beats_per_bar: b.beats_per_bar,
                tempo_bpm: b.tempo_bpm as f32,
            });
        }
    }

    fn discontinuity(&mut self, position: u64) {
        self.pipeline.discontinuity(position);
    }

    fn update(&mut self, heard: &mut Heard) {
        if let Some(e) = self.pipeline.take_error() {
            heard.error = Some(format!("beats: {e}"));
        }
        if self.newest.is_some() {
            heard.beat = self.newest;
        }
    }

    fn reset(&mut self) {
        self.pipeline.reset();
        self.newest = None;
    }
}
