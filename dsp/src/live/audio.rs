//! The audio-thread side of the live engine: analyzes each block, measures loudness, and
//! pushes one [`LiveFrame`] per hop into a bounded ring. When the worker lags and the ring is
//! full, the frame is dropped and counted; the audio thread never waits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ebur128::{EbuR128, Mode};
use rtrb::Producer;

use crate::analyzer::StreamingAnalyzer;
use crate::frame::Frame;
use crate::live::frame::LiveFrame;

/// Counters shared by the audio stage (writer) and everyone else (readers).
#[derive(Debug, Default)]
pub struct Counters {
    pub frames_sent: AtomicU64,
    pub frames_dropped: AtomicU64,
}

/// Real-time contract: `process_*` never allocates, locks, blocks or panics (tested).
pub struct AudioStage {
    analyzer: StreamingAnalyzer,
    loudness: EbuR128,
    producer: Producer<LiveFrame>,
    counters: Arc<Counters>,
    staging: LiveFrame,
    channels: usize,
    enabled: bool,
}

impl AudioStage {
    pub(crate) fn new(
        analyzer: StreamingAnalyzer,
        loudness: EbuR128,
        producer: Producer<LiveFrame>,
        counters: Arc<Counters>,
        channels: usize,
    ) -> Self {
        Self {
            analyzer,
            loudness,
            producer,
            counters,
            staging: LiveFrame::default(),
            channels,
            enabled: true,
        }
    }

    /// Pauses or resumes analysis; while paused, blocks cost nothing.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Analyzes interleaved samples.
    pub fn process_interleaved(&mut self, block: &[f32]) {
        if !self.enabled || block.len() < self.channels {
            return;
        }
        let usable = block.len() - block.len() % self.channels;
        // ebur128 rejects nothing we pass (frames are whole); an error would only skip metering.
        let _ = self.loudness.add_frames_f32(&block[..usable]);
        self.note_peak();
        let Self {
            analyzer,
            loudness,
            producer,
            counters,
            staging,
            ..
        } = self;
        analyzer.process_interleaved(block, &mut |frame| {
            send(frame, loudness, producer, counters, staging)
        });
    }

    /// Analyzes one slice per channel.
    pub fn process_planar(&mut self, planes: &[&[f32]]) {
        if !self.enabled || planes.len() != self.channels {
            return;
        }
        let _ = self.loudness.add_frames_planar_f32(planes);
        self.note_peak();
        let Self {
            analyzer,
            loudness,
            producer,
            counters,
            staging,
            ..
        } = self;
        analyzer.process_planar(planes, &mut |frame| {
            send(frame, loudness, producer, counters, staging)
        });
    }

    fn note_peak(&mut self) {
        for channel in 0..self.channels as u32 {
            if let Ok(peak) = self.loudness.prev_true_peak(channel) {
                self.staging.true_peak = self.staging.true_peak.max(peak as f32);
            }
        }
    }
}

fn send(
    frame: &Frame,
    loudness: &EbuR128,
    producer: &mut Producer<LiveFrame>,
    counters: &Counters,
    staging: &mut LiveFrame,
) {
    staging.copy_features(frame);
    staging.momentary_lufs = loudness.loudness_momentary().unwrap_or(f64::NEG_INFINITY) as f32;
    staging.short_term_lufs = loudness.loudness_shortterm().unwrap_or(f64::NEG_INFINITY) as f32;
    if producer.push(*staging).is_ok() {
        counters.frames_sent.fetch_add(1, Ordering::Relaxed);
    } else {
        counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
    }
    staging.true_peak = 0.0;
}

/// The loudness meter the audio stage runs: momentary, short-term and true peak.
pub(crate) fn loudness_meter(channels: usize, rate: u32) -> Result<EbuR128, ebur128::Error> {
    EbuR128::new(channels as u32, rate, Mode::M | Mode::S | Mode::TRUE_PEAK)
}
