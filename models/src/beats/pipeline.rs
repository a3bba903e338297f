//! BeatNet's chain, the same for a file and a live stream: every 20 ms frame of the
//! log-filtered spectrogram goes through the network and the online tracker as soon as its
//! last sample is heard (no look-ahead), so a beat is announced within a frame of where it
//! falls.

use std::sync::Arc;

use mirador_dsp::spectral::log_filtered::{LogFilteredSpectrogram, HOP, SAMPLE_RATE};

use super::{BeatNet, BeatTracker, StreamState, TrackerConfig};
use crate::{ModelError, Pipeline};

const _: () = assert!(SAMPLE_RATE == crate::SAMPLE_RATE);

/// A beat the pipeline announced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineBeat {
    /// Analysis-rate sample index on the stream's timeline.
    pub position: u64,
    /// 1 on the downbeat.
    pub beat_in_bar: u8,
    pub beats_per_bar: u8,
    pub tempo_bpm: f64,
}

pub struct BeatPipeline {
    spectrogram: LogFilteredSpectrogram,
    rest: Chain,
}

/// What follows the spectrogram.
struct Chain {
    net: Arc<BeatNet>,
    state: StreamState,
    tracker: BeatTracker,
    /// Position of the first sample since the start or the last discontinuity.
    origin: Option<u64>,
    /// Announced and not yet taken, oldest first.
    beats: Vec<PipelineBeat>,
    error: Option<ModelError>,
}

impl Chain {
    /// Runs one spectrogram frame through the network and the tracker.
    fn frame(&mut self, features: &[f32]) {
        match self.net.step(features, &mut self.state) {
            Ok(a) => {
                if let Some(tracked) = self.tracker.step(a.beat, a.downbeat) {
                    // Frame i is centred on sample i * HOP of the stream since `origin`.
                    self.beats.push(PipelineBeat {
                        position: self.origin.unwrap_or(0) + tracked.frame * HOP as u64,
                        beat_in_bar: tracked.beat_in_bar,
                        beats_per_bar: tracked.beats_per_bar,
                        tempo_bpm: tracked.tempo_bpm,
                    });
                }
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }
}

impl BeatPipeline {
    pub fn new(net: Arc<BeatNet>) -> Self {
        Self {
            spectrogram: LogFilteredSpectrogram::new(),
            rest: Chain {
                net,
                state: StreamState::default(),
                tracker: BeatTracker::new(TrackerConfig::default()),
                origin: None,
                beats: Vec::new(),
                error: None,
            },
        }
    }

    /// The beats announced since the last call, oldest first.
    pub fn take_beats(&mut self) -> std::vec::Drain<'_, PipelineBeat> {
        self.rest.beats.drain(..)
    }

    /// Forgets everything, announced beats included (a new stream).
    pub fn reset(&mut self) {
        self.discontinuity(0);
        self.rest.beats.clear();
        self.rest.error = None;
    }
}

impl Pipeline for BeatPipeline {
    fn push(&mut self, block: &[f32], position: u64) {
        self.rest.origin.get_or_insert(position);
        let rest = &mut self.rest;
        self.spectrogram.process(block, &mut |f| rest.frame(f));
    }

    fn discontinuity(&mut self, _position: u64) {
        self.spectrogram.reset();
        self.rest.state = StreamState::default();
        self.rest.tracker.reset();
        self.rest.origin = None;
    }

    fn finish(&mut self) {
        let rest = &mut self.rest;
        self.spectrogram.finish(&mut |f| rest.frame(f));
    }

    fn take_error(&mut self) -> Option<ModelError> {
        self.rest.error.take()
    }
}

/// Beats, downbeats, tempo and meter of a whole clip.
#[derive(Debug, Clone, Default)]
pub struct ClipBeats {
    /// Seconds and beat in bar (1 on the downbeat) of every beat.
    pub beats: Vec<(f64, u8)>,
    /// From the median interval between the announced beats.
    pub tempo_bpm: Option<f64>,
    /// The meter most beats were announced in.
    pub beats_per_bar: Option<u8>,
}

/// Sums up the beats a pipeline announced over a clip.
pub fn summarize(beats: &[PipelineBeat]) -> ClipBeats {
    let mut intervals: Vec<u64> = beats
        .windows(2)
        .map(|w| w[1].position - w[0].position)
        .collect();
    intervals.sort_unstable();
    let tempo_bpm = intervals
        .get(intervals.len() / 2)
        .map(|&samples| 60.0 * SAMPLE_RATE as f64 / samples as f64);
    let mut meters = [0usize; 256];
    beats
        .iter()
        .for_each(|b| meters[b.beats_per_bar as usize] += 1);
    let meter = (0..meters.len())
        .max_by_key(|&m| meters[m])
        .filter(|&m| meters[m] > 0);
    ClipBeats {
        beats: beats
            .iter()
            .map(|b| (b.position as f64 / SAMPLE_RATE as f64, b.beat_in_bar))
            .collect(),
        tempo_bpm,
        beats_per_bar: meter.map(|m| m as u8),
    }
}
