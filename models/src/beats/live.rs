//! BeatNet in the live engine: on the worker thread, every 20 ms frame of the input goes
//! through the front end, the network and the tracker as soon as its last sample is heard,
//! so a beat is published within one analysis hop of the frame it falls on.

use std::sync::Arc;

use mirador_dsp::input::InputStage;
use mirador_dsp::live::{BarBeat, Beat, Listener, Predictions};
use mirador_dsp::log_filtered::{LogFilteredSpectrogram, HOP, SAMPLE_RATE};
use mirador_dsp::ConfigError;

use super::{BeatNet, BeatTracker, StreamState, TrackerConfig};

pub struct LiveBeats {
    net: Arc<BeatNet>,
    input: InputStage,
    input_rate: u32,
    channels: usize,
    spectrogram: LogFilteredSpectrogram,
    state: StreamState,
    tracker: BeatTracker,
    /// Input-rate position of the first sample since the last reset.
    origin: Option<u64>,
    newest: Option<BarBeat>,
    error: Option<String>,
}

impl LiveBeats {
    pub fn new(net: Arc<BeatNet>, input_rate: u32, channels: usize) -> Result<Self, ConfigError> {
        Ok(Self {
            net,
            input: InputStage::new(input_rate, SAMPLE_RATE, channels)?,
            input_rate,
            channels,
            spectrogram: LogFilteredSpectrogram::new(),
            state: StreamState::default(),
            tracker: BeatTracker::new(TrackerConfig::default()),
            origin: None,
            newest: None,
            error: None,
        })
    }
}

impl Listener for LiveBeats {
    fn listen(&mut self, samples: &[f32], position: u64) {
        let origin = *self.origin.get_or_insert(position);
        let Self {
            net,
            input,
            input_rate,
            spectrogram,
            state,
            tracker,
            newest,
            error,
            ..
        } = self;
        let mut frame = |features: &[f32]| {
            let activation = match net.step(features, state) {
                Ok(a) => a,
                Err(e) => {
                    *error = Some(e.to_string());
                    return;
                }
            };
            let Some(tracked) = tracker.step(activation.beat, activation.downbeat) else {
                return;
            };
            // Frame i is centred on analysis sample i * HOP.
            let seconds = (tracked.frame * HOP as u64) as f64 / SAMPLE_RATE as f64;
            let offset = (seconds * *input_rate as f64).round() as u64;
            let position = origin + offset;
            *newest = Some(BarBeat {
                beat: Beat {
                    position,
                    time: position as f64 / *input_rate as f64,
                    period: 60.0 / tracked.tempo_bpm,
                },
                beat_in_bar: tracked.beat_in_bar,
                beats_per_bar: tracked.beats_per_bar,
                tempo_bpm: tracked.tempo_bpm as f32,
            });
        };
        input.push_interleaved(samples, &mut |mono| spectrogram.process(mono, &mut frame));
    }

    fn update(&mut self, predictions: &mut Predictions) {
        if let Some(e) = self.error.take() {
            eprintln!("mirador: {e}");
        }
        if self.newest.is_some() {
            predictions.beat = self.newest;
        }
    }

    fn reset(&mut self) {
        if let Ok(fresh) = InputStage::new(self.input_rate, SAMPLE_RATE, self.channels) {
            self.input = fresh;
        }
        self.spectrogram.reset();
        self.state = StreamState::default();
        self.tracker.reset();
        self.origin = None;
        self.newest = None;
    }
}
