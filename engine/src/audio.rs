//! The audio-thread side of the live engine: analyzes each block, pushes one [`LiveFrame`]
//! per hop and the analysis-rate signal in [`SampleBlock`]s into bounded rings, and copies
//! the input into a third ring for the worker's loudness meter. When the worker lags and a
//! ring is full, what does not fit is dropped and counted; the audio thread never waits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mirador_dsp::{Frame, StreamingAnalyzer};
use mirador_models::notes::NoteEvent;
use rtrb::{Consumer, Producer};

use crate::beat_grid::BeatPredictor;
use crate::frame::{LiveFrame, SampleBlock, BLOCK_SAMPLES};

/// Counters shared by the audio stage (writer) and everyone else (readers).
#[derive(Debug, Default)]
pub struct Counters {
    pub frames_dropped: AtomicU64,
    /// Sample blocks the listeners' ring had no room for.
    pub blocks_dropped: AtomicU64,
    /// Interleaved samples the loudness ring had no room for.
    pub samples_dropped: AtomicU64,
    /// Input frames analyzed so far: the engine's timeline of what is heard.
    pub analyzed: AtomicU64,
}

/// The rings the audio stage writes.
pub(crate) struct Producers {
    pub frames: Producer<LiveFrame>,
    pub blocks: Producer<SampleBlock>,
    pub samples: Producer<f32>,
}

/// Real-time contract: `process_*` never allocates, locks, blocks or panics (tested).
pub struct AudioStage {
    analyzer: StreamingAnalyzer,
    out: Producers,
    counters: Arc<Counters>,
    frame: LiveFrame,
    block: SampleBlock,
    channels: usize,
    enabled: bool,
    /// Analysis was off since the last block went out.
    gap: bool,
    beats: BeatPredictor,
    notes: Consumer<NoteEvent>,
}

impl AudioStage {
    pub(crate) fn new(
        analyzer: StreamingAnalyzer,
        out: Producers,
        counters: Arc<Counters>,
        channels: usize,
        beats: BeatPredictor,
        notes: Consumer<NoteEvent>,
    ) -> Self {
        Self {
            beats,
            notes,
            analyzer,
            out,
            counters,
            frame: LiveFrame::default(),
            block: SampleBlock::default(),
            channels,
            enabled: true,
            gap: false,
        }
    }

    /// Pauses or resumes analysis; while paused, blocks cost nothing and the engine's clock
    /// stands still, so what is drawn stays in phase with what is heard after resuming.
    pub fn set_enabled(&mut self, enabled: bool) {
        if self.enabled && !enabled {
            self.gap = true;
        }
        self.enabled = enabled;
    }

    /// Analyzes interleaved samples.
    pub fn process_interleaved(&mut self, block: &[f32]) {
        if !self.enabled || block.len() < self.channels {
            return;
        }
        let usable = block.len() - block.len() % self.channels;
        self.forward(usable, block[..usable].iter().copied());
        let (analyzer, mut frames, mut blocks) = self.split();
        analyzer.process_interleaved_tapped(
            &block[..usable],
            &mut |f| frames.send(f),
            &mut |m, p| blocks.stage(m, p),
        );
        self.count(usable / self.channels);
    }

    /// Analyzes one slice per channel.
    pub fn process_planar(&mut self, planes: &[&[f32]]) {
        if !self.enabled || planes.len() != self.channels {
            return;
        }
        let frames = planes.iter().map(|p| p.len()).min().unwrap_or(0);
        let interleaved = (0..frames).flat_map(|i| planes.iter().map(move |p| p[i]));
        self.forward(frames * self.channels, interleaved);
        let (analyzer, mut out, mut blocks) = self.split();
        analyzer
            .process_planar_tapped(planes, &mut |f| out.send(f), &mut |m, p| blocks.stage(m, p));
        self.count(frames);
    }

    /// The analyzer and its two outputs, borrowed apart.
    fn split(&mut self) -> (&mut StreamingAnalyzer, FrameEnd<'_>, BlockEnd<'_>) {
        let Self {
            analyzer,
            out,
            counters,
            frame,
            block,
            gap,
            ..
        } = self;
        (
            analyzer,
            FrameEnd {
                ring: &mut out.frames,
                counters,
                frame,
            },
            BlockEnd {
                ring: &mut out.blocks,
                counters,
                block,
                gap,
            },
        )
    }

    /// Input frames analyzed so far: the position on the engine's timeline where the next
    /// block starts.
    pub fn position(&self) -> u64 {
        self.counters.analyzed.load(Ordering::Relaxed)
    }

    /// The beats the beat model predicts in the `len` frames from `start` (a block's
    /// [`AudioStage::position`] before it was analyzed), each handed out once:
    /// `beat(offset, beat_in_bar)`. Real-time safe.
    pub fn beats_in(&mut self, start: u64, len: usize, beat: impl FnMut(usize, u8)) {
        self.beats.beats_in(start, len, beat);
    }

    /// The transcribed notes announced since the last call, in order (about 0.4 s after
    /// their onsets). Real-time safe.
    pub fn take_notes(&mut self, mut note: impl FnMut(NoteEvent)) {
        while let Ok(event) = self.notes.pop() {
            note(event);
        }
    }

    fn count(&self, frames: usize) {
        self.counters
            .analyzed
            .fetch_add(frames as u64, Ordering::Relaxed);
    }

    /// Copies whole frames of samples to the worker's loudness ring, or counts them dropped.
    fn forward(&mut self, n: usize, samples: impl Iterator<Item = f32>) {
        let ring = &mut self.out.samples;
        let room = ring.slots() - ring.slots() % self.channels;
        let fits = n.min(room);
        if let Ok(chunk) = ring.write_chunk_uninit(fits) {
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

/// Analysis frames on their way into their ring.
struct FrameEnd<'a> {
    ring: &'a mut Producer<LiveFrame>,
    counters: &'a Counters,
    frame: &'a mut LiveFrame,
}

impl FrameEnd<'_> {
    fn send(&mut self, frame: &Frame) {
        self.frame.copy_features(frame);
        if self.ring.push(*self.frame).is_err() {
            self.counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The analysis-rate signal on its way into its ring, in blocks.
struct BlockEnd<'a> {
    ring: &'a mut Producer<SampleBlock>,
    counters: &'a Counters,
    block: &'a mut SampleBlock,
    gap: &'a mut bool,
}

impl BlockEnd<'_> {
    /// Stages samples into blocks and sends each full one.
    fn stage(&mut self, mut samples: &[f32], mut position: u64) {
        if *self.gap && self.block.len > 0 {
            // What was staged before the gap goes out on its own.
            self.send();
        }
        while !samples.is_empty() {
            let b = &mut *self.block;
            if b.len == 0 {
                b.position = position;
                b.discontinuity = std::mem::take(self.gap);
            }
            let n = (BLOCK_SAMPLES - b.len).min(samples.len());
            b.samples[b.len..b.len + n].copy_from_slice(&samples[..n]);
            b.len += n;
            samples = &samples[n..];
            position += n as u64;
            if b.len == BLOCK_SAMPLES {
                self.send();
            }
        }
    }

    fn send(&mut self) {
        if self.ring.push(*self.block).is_err() {
            self.counters.blocks_dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.block.len = 0;
    }
}
