//! BeatNet's chain, the same for a file and a live stream: every 20 ms frame of the
//! log-filtered spectrogram goes through the network as soon as its last sample is heard.
//! Live, the online tracker announces a beat within a frame of where it falls (no
//! look-ahead); for a file, the offline decoder places beats with hindsight, the bar's phase
//! is weighed again from the audio of the whole stretch ([`BarPhase`]), and they are handed
//! over at its end (the file's, or a discontinuity).

use std::sync::Arc;

use mirador_dsp::spectral::log_filtered::{LogFilteredSpectrogram, HOP, SAMPLE_RATE};

use super::bar_phase::BarPhase;
use super::{BeatDecoder, BeatNet, BeatTracker, StreamState, TrackedBeat, TrackerConfig};
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

/// What turns activations into beats.
enum Decoder {
    Online(BeatTracker),
    /// The Viterbi path, with the bar's phase weighed again from the audio.
    Offline {
        decoder: BeatDecoder,
        phase: Box<BarPhase>,
        /// The stretch's beats, held until its end: the phase is chosen from all of it, so a
        /// long file does not change it halfway (24 bytes a beat).
        decided: Vec<TrackedBeat>,
    },
}

/// What follows the spectrogram.
struct Chain {
    net: Arc<BeatNet>,
    state: StreamState,
    decoder: Decoder,
    /// Position of the first sample since the start or the last discontinuity.
    origin: Option<u64>,
    /// Announced and not yet taken, oldest first.
    beats: Vec<PipelineBeat>,
    error: Option<ModelError>,
}

impl Chain {
    /// Runs one spectrogram frame through the network and the decoder.
    fn frame(&mut self, features: &[f32]) {
        let a = match self.net.step(features, &mut self.state) {
            Ok(a) => a,
            Err(e) => {
                self.error.get_or_insert(e);
                return;
            }
        };
        match &mut self.decoder {
            Decoder::Online(tracker) => {
                let origin = self.origin.unwrap_or(0);
                let tracked = tracker.step(a.beat, a.downbeat);
                self.beats.extend(tracked.map(|t| placed(origin, t)));
            }
            Decoder::Offline {
                decoder,
                phase,
                decided,
            } => {
                decoder.push(a.beat, a.downbeat);
                phase.push_frame(features, a.beat, a.downbeat);
                take_decided(decoder, phase, decided);
            }
        }
    }

    /// Ends a stretch of stream (its end, or a discontinuity).
    fn end_stretch(&mut self) {
        let origin = self.origin.unwrap_or(0);
        match &mut self.decoder {
            Decoder::Online(tracker) => tracker.reset(),
            Decoder::Offline {
                decoder,
                phase,
                decided,
            } => {
                decoder.finish();
                take_decided(decoder, phase, decided);
                phase.renumber(decided);
                self.beats
                    .extend(decided.drain(..).map(|t| placed(origin, t)));
                phase.reset();
            }
        }
        self.state = StreamState::default();
        self.origin = None;
    }
}

/// Moves the beats `decoder` decided to `decided`, their cues to `phase`.
fn take_decided(decoder: &mut BeatDecoder, phase: &mut BarPhase, decided: &mut Vec<TrackedBeat>) {
    let new = decided.len();
    decided.extend(decoder.take_beats());
    phase.add(&decided[new..]);
}

/// A decoded beat on the stream's timeline: frame i is centred on sample i * HOP since
/// `origin`.
fn placed(origin: u64, tracked: TrackedBeat) -> PipelineBeat {
    PipelineBeat {
        position: origin + tracked.frame * HOP as u64,
        beat_in_bar: tracked.beat_in_bar,
        beats_per_bar: tracked.beats_per_bar,
        tempo_bpm: tracked.tempo_bpm,
    }
}

impl BeatPipeline {
    /// For a live stream: beats as they are heard.
    pub fn live(net: Arc<BeatNet>) -> Self {
        Self::with(
            net,
            Decoder::Online(BeatTracker::new(TrackerConfig::default())),
        )
    }

    /// For a whole file: beats placed with hindsight, handed over when decided.
    pub fn for_clip(net: Arc<BeatNet>) -> Self {
        Self::with(
            net,
            Decoder::Offline {
                decoder: BeatDecoder::new(TrackerConfig::default()),
                phase: Box::default(),
                decided: Vec::new(),
            },
        )
    }

    fn with(net: Arc<BeatNet>, decoder: Decoder) -> Self {
        Self {
            spectrogram: LogFilteredSpectrogram::new(),
            rest: Chain {
                net,
                state: StreamState::default(),
                decoder,
                origin: None,
                beats: Vec::new(),
                error: None,
            },
        }
    }

    /// The beats announced (live) or decided (files) since the last call, oldest first.
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
        self.rest.end_stretch();
    }

    fn finish(&mut self) {
        let rest = &mut self.rest;
        self.spectrogram.finish(&mut |f| rest.frame(f));
        self.rest.end_stretch();
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
