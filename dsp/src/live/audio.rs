//! The audio-thread side of the live engine: analyzes each block, pushes one [`LiveFrame`]
//! per hop into a bounded ring, and copies the samples into a second ring for the worker's
//! loudness meter. When the worker lags and a ring is full, what does not fit is dropped and
//! counted; the audio thread never waits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rtrb::Producer;

use crate::analyzer::StreamingAnalyzer;
use crate::frame::Frame;
use crate::live::frame::LiveFrame;

/// Counters shared by the audio stage (writer) and everyone else (readers).
#[derive(Debug, Default)]
pub struct Counters {
    pub frames_sent: AtomicU64,
    pub frames_dropped: AtomicU64,
    /// Interleaved samples the loudness ring had no room for.
    pub samples_dropped: AtomicU64,
}

/// Real-time contract: `process_*` never allocates, locks, blocks or panics (tested).
pub struct AudioStage {
    analyzer: StreamingAnalyzer,
    producer: Producer<LiveFrame>,
    samples: Producer<f32>,
    counters: Arc<Counters>,
    staging: LiveFrame,
    channels: usize,
    enabled: bool,
}

impl AudioStage {
    pub(crate) fn new(
        analyzer: StreamingAnalyzer,
        producer: Producer<LiveFrame>,
        samples: Producer<f32>,
        counters: Arc<Counters>,
        channels: usize,
    ) -> Self {
        Self {
            analyzer,
            producer,
            samples,
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
        self.forward(usable, block[..usable].iter().copied());
        self.analyze(|analyzer, mut sink| analyzer.process_interleaved(block, &mut sink));
    }

    /// Analyzes one slice per channel.
    pub fn process_planar(&mut self, planes: &[&[f32]]) {
        if !self.enabled || planes.len() != self.channels {
            return;
        }
        let frames = planes.iter().map(|p| p.len()).min().unwrap_or(0);
        let interleaved = (0..frames).flat_map(|i| planes.iter().map(move |p| p[i]));
        self.forward(frames * self.channels, interleaved);
        self.analyze(|analyzer, mut sink| analyzer.process_planar(planes, &mut sink));
    }

    /// Runs the analyzer with a sink that sends each frame to the worker.
    fn analyze(&mut self, run: impl FnOnce(&mut StreamingAnalyzer, &mut dyn FnMut(&Frame))) {
        let Self {
            analyzer,
            producer,
            counters,
            staging,
            ..
        } = self;
        run(analyzer, &mut |frame| {
            send(frame, producer, counters, staging)
        });
    }

    /// Copies whole frames of samples to the worker's loudness ring, or counts them dropped.
    fn forward(&mut self, n: usize, samples: impl Iterator<Item = f32>) {
        let room = self.samples.slots() - self.samples.slots() % self.channels;
        let fits = n.min(room);
        if let Ok(chunk) = self.samples.write_chunk_uninit(fits) {
            chunk.fill_from_iter(samples);
        }
        if fits < n {
            let lost = (n - fits) as u64;
            self.counters
                .samples_dropped
                .fetch_add(lost, Ordering::Relaxed);
        }
    }
}

fn send(
    frame: &Frame,
    producer: &mut Producer<LiveFrame>,
    counters: &Counters,
    staging: &mut LiveFrame,
) {
    staging.copy_features(frame);
    if producer.push(*staging).is_ok() {
        counters.frames_sent.fetch_add(1, Ordering::Relaxed);
    } else {
        counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
    }
}
