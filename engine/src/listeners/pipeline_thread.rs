//! A model's pipeline on its own thread, for a network whose run costs more than the worker
//! may stall (musicnn: ~90 ms a patch; basic-pitch: ~60 ms a window). The worker hands it the
//! analysis-rate blocks over a bounded queue (when the thread lags, blocks are dropped and
//! counted, and the pipeline hears a discontinuity) and takes what it says.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use mirador_models::Pipeline;

/// Blocks the queue holds: about 12 s of audio, for hosts that render faster than real time.
const QUEUE_BLOCKS: usize = 1024;

/// What the worker sends, with the generation it belongs to.
enum Message {
    Block { samples: Vec<f32>, position: u64 },
    Gap { position: u64 },
}

pub struct PipelineThread<Out> {
    blocks: Sender<(u64, Message)>,
    outputs: Receiver<(u64, Out)>,
    /// Bumped on every reset and sent with each message: the thread skips what was queued
    /// before the newest, starts over when it sees a new one, and tags each output with the
    /// one its audio came under.
    generation: u64,
    newest: Arc<AtomicU64>,
    /// A block was dropped: the thread must hear of the gap before the next one.
    gap: Option<u64>,
    dropped: u64,
    /// `dropped` when it was last reported.
    reported: u64,
    errors: Receiver<String>,
}

impl<Out: Send + 'static> PipelineThread<Out> {
    /// Starts the thread `name`: it runs `pipeline`, `reset` forgets everything it heard, and
    /// `drain` hands over what it said after each block.
    pub fn spawn<P: Pipeline + Send + 'static>(
        name: &str,
        mut pipeline: P,
        mut reset: impl FnMut(&mut P) + Send + 'static,
        mut drain: impl FnMut(&mut P, &mut Vec<Out>) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (blocks, block_rx) = crossbeam_channel::bounded::<(u64, Message)>(QUEUE_BLOCKS);
        let (output_tx, outputs) = crossbeam_channel::unbounded();
        let (error_tx, errors) = crossbeam_channel::bounded(1);
        let newest = Arc::new(AtomicU64::new(0));
        let told = newest.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let (mut heard_under, mut said) = (0, Vec::new());
                // Ends when the listener (the sender) is dropped.
                for (generation, message) in block_rx {
                    if generation < told.load(Ordering::Relaxed) {
                        continue;
                    }
                    if generation != heard_under {
                        reset(&mut pipeline);
                        heard_under = generation;
                    }
                    match message {
                        Message::Block { samples, position } => pipeline.push(&samples, position),
                        Message::Gap { position } => pipeline.discontinuity(position),
                    }
                    drain(&mut pipeline, &mut said);
                    for out in said.drain(..) {
                        if output_tx.send((heard_under, out)).is_err() {
                            return;
                        }
                    }
                    if let Some(e) = pipeline.take_error() {
                        let _ = error_tx.try_send(e.to_string());
                    }
                }
            })?;
        Ok(Self {
            blocks,
            outputs,
            generation: 0,
            newest,
            gap: None,
            dropped: 0,
            reported: 0,
            errors,
        })
    }

    fn send(&self, message: Message) -> bool {
        self.blocks.try_send((self.generation, message)).is_ok()
    }

    pub fn push(&mut self, block: &[f32], position: u64) {
        if let Some(gap) = self.gap {
            if !self.send(Message::Gap { position: gap }) {
                self.dropped += 1;
                return;
            }
            self.gap = None;
        }
        let samples = block.to_vec();
        if !self.send(Message::Block { samples, position }) {
            self.dropped += 1;
            self.gap = Some(position + block.len() as u64);
        }
    }

    pub fn discontinuity(&mut self, position: u64) {
        self.gap = Some(position);
    }

    /// What the pipeline said since the last call about audio heard since the last reset.
    pub fn take_outputs(&mut self) -> impl Iterator<Item = Out> + '_ {
        let generation = self.generation;
        self.outputs
            .try_iter()
            .filter(move |(g, _)| *g == generation)
            .map(|(_, out)| out)
    }

    /// The thread's first error since the last call, or news that it lags.
    pub fn take_error(&mut self) -> Option<String> {
        if let Ok(e) = self.errors.try_recv() {
            return Some(e);
        }
        (self.dropped > self.reported).then(|| {
            self.reported = self.dropped;
            format!("lagging: {} blocks of audio skipped", self.dropped)
        })
    }

    pub fn reset(&mut self) {
        self.generation += 1;
        self.newest.store(self.generation, Ordering::Relaxed);
        self.gap = None;
        self.outputs.try_iter().for_each(drop);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use mirador_models::tagger::{PatchOutput, PatchPipeline, Tagger, Variant};

    use super::*;

    /// Blocks of a 440 Hz tone from `first` (analysis rate, 22.05 kHz).
    fn tone(first: u64, blocks: usize) -> impl Iterator<Item = (Vec<f32>, u64)> {
        (0..blocks as u64).map(move |b| {
            let start = first + b * 256;
            let samples = (start..start + 256)
                .map(|i| 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / 22050.0).sin())
                .collect();
            (samples, start)
        })
    }

    fn wait_for_output(thread: &mut PipelineThread<PatchOutput>) -> PatchOutput {
        let started = Instant::now();
        loop {
            if let Some(out) = thread.take_outputs().next() {
                return out;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no patch");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_lagging_thread_drops_and_counts_and_a_reset_forgets_the_queue() {
        let tagger = Arc::new(Tagger::load(Variant::Cnn).unwrap());
        let pipeline = PatchPipeline::new(tagger, 62).unwrap();
        let mut thread = PipelineThread::spawn("test", pipeline, PatchPipeline::reset, |p, out| {
            out.extend(p.take_outputs())
        })
        .unwrap();
        // Far more than the queue holds, at once: the rest is dropped and said so, once.
        for (block, position) in tone(0, 4 * QUEUE_BLOCKS) {
            thread.push(&block, position);
        }
        let lag = thread.take_error().expect("the lag reported");
        assert!(lag.contains("blocks of audio skipped"), "{lag}");
        assert!(thread.take_error().is_none(), "reported once");
        wait_for_output(&mut thread);

        // After a reset, nothing heard before it comes out, however much was still queued:
        // the first patch is of the new audio, 3 s after its start.
        thread.reset();
        while !thread.blocks.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let start = 10_000_000;
        for (block, position) in tone(start, 400) {
            thread.push(&block, position);
        }
        let first = wait_for_output(&mut thread);
        let seconds = (first.end as f64 - start as f64) / 22050.0;
        assert!(
            (2.9..3.3).contains(&seconds),
            "first patch after {seconds} s"
        );
    }
}
