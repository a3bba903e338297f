//! The live engine shared by the plugin and the standalone app.
//!
//! ```text
//! audio thread                      worker thread                   GUI thread
//! AudioStage::process_*  --rtrb-->  Worker::poll  --triple buffer-->  SnapshotReader::read
//!   (analyzer; frames and             (history, tempo, beat, key,       (draws)
//!    samples, dropped and counted      EBU R128 loudness; publishes
//!    when a ring is full)              Snapshot)
//! ```
//! The audio thread never blocks or allocates; positions on every frame and event are input
//! sample indices, so what is drawn lines up with what is heard.

pub mod audio;
pub mod frame;
pub mod key;
pub mod listener;
pub mod snapshot;
pub mod tempo;
pub mod worker;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::Sender;

pub use audio::{AudioStage, Counters};
pub use frame::{LiveFrame, LIVE_MELS, LIVE_MFCCS};
pub use listener::Listener;
pub use snapshot::{BarBeat, Beat, ClassProbabilities, History, Predictions, Snapshot};
pub use worker::{Control, Worker};

use crate::config::{AnalyzerConfig, ConfigError};
use crate::StreamingAnalyzer;

/// Seconds of history kept for the views.
pub const HISTORY_SECONDS: f64 = 10.0;
/// Frames the ring holds before the audio thread starts dropping (about 6 s).
pub const RING_FRAMES: usize = 256;
/// Seconds of samples the loudness ring holds.
const RING_SECONDS: f64 = 2.0;

/// The GUI's end: the latest snapshot, and the way to steer the worker.
pub struct SnapshotReader {
    output: triple_buffer::Output<Snapshot>,
    control: Sender<Control>,
    counters: Arc<Counters>,
}

impl SnapshotReader {
    /// The newest published snapshot.
    pub fn read(&mut self) -> &Snapshot {
        self.output.read()
    }

    pub fn send(&self, control: Control) {
        // The worker may have stopped already; nothing is left to steer then.
        let _ = self.control.send(control);
    }

    /// Frames dropped so far, straight from the audio thread's counter.
    pub fn frames_dropped(&self) -> u64 {
        self.counters.frames_dropped.load(Ordering::Relaxed)
    }
}

/// Builds the three ends of the engine for an input stream.
pub fn engine(
    config: &AnalyzerConfig,
) -> Result<(AudioStage, Worker, SnapshotReader), ConfigError> {
    let a = &config.analysis;
    if a.n_mels != LIVE_MELS || a.n_mfcc != LIVE_MFCCS {
        return Err(ConfigError::Bands {
            n_mels: a.n_mels,
            n_mfcc: a.n_mfcc,
        });
    }
    let analyzer = StreamingAnalyzer::new(config)?;
    let (producer, consumer) = rtrb::RingBuffer::new(RING_FRAMES);
    let ring_samples = (RING_SECONDS * config.input_sample_rate as f64) as usize * config.channels;
    let (sample_producer, sample_consumer) = rtrb::RingBuffer::new(ring_samples);
    let counters = Arc::new(Counters::default());
    let frame_rate = a.sample_rate as f64 / a.hop_length as f64;
    let initial = Snapshot::new(
        config.input_sample_rate,
        frame_rate,
        (HISTORY_SECONDS * frame_rate) as usize,
    );
    let (input, output) = triple_buffer::TripleBuffer::new(&initial).split();
    let (control, control_rx) = crossbeam_channel::unbounded();
    let worker = Worker::new(
        consumer,
        sample_consumer,
        config.channels,
        input,
        control_rx,
        counters.clone(),
        initial,
    )
    .map_err(|e| ConfigError::LoudnessMeter(e.to_string()))?;
    let audio = AudioStage::new(
        analyzer,
        producer,
        sample_producer,
        counters.clone(),
        config.channels,
    );
    Ok((
        audio,
        worker,
        SnapshotReader {
            output,
            control,
            counters,
        },
    ))
}
