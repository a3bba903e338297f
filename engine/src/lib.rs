//! Mirador's live engine, one for the plugin and the app.
//!
//! ```text
//! audio thread                   worker thread                        GUI thread
//! AudioStage::process_*  -rtrb->  Worker::poll                  -triple->  SnapshotReader
//!   analyzer: LiveFrames,          history, tempo, key, loudness,   buffer    ::read, ::now
//!   SampleBlocks (22.05 kHz        listeners (models' pipelines),
//!   mono), raw samples; dropped    one chosen rhythm; publishes
//!   and counted when a ring is     a Snapshot
//!   full
//! ```
//! The audio thread never blocks or allocates. Every frame, block and beat carries its
//! position on the input timeline, so what is drawn lines up with what is heard; the engine
//! owns that timeline ([`SnapshotReader::now`]).

pub mod audio;
pub mod beat_grid;
pub mod events;
pub mod frame;
pub mod listener;
pub mod listeners;
pub mod models;
pub mod snapshot;
pub mod worker;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::Sender;
use mirador_dsp::{AnalyzerConfig, ConfigError, StreamingAnalyzer};
use mirador_library::Catalog;
use mirador_models::ModelError;

pub use audio::{AudioStage, Counters};
pub use beat_grid::{BeatGrid, BeatPredictor};
pub use events::{Event, EventSink, EventSource};
pub use frame::{LiveFrame, SampleBlock, BLOCK_SAMPLES, LIVE_MELS, LIVE_MFCCS};
pub use listener::{BarBeat, Heard, Listener};
pub use mirador_models::melody::Pitch;
pub use mirador_models::notes::NoteEvent;
pub use models::LiveModels;
pub use snapshot::{
    Beat, ClassProbabilities, History, LiveChord, LiveNote, Reference, References, Rhythm,
    RhythmSource, SaliencyCell, Snapshot,
};
pub use worker::{Control, Worker};

/// Seconds of history kept for the views.
pub const HISTORY_SECONDS: f64 = 10.0;
/// Frames the ring holds before the audio thread starts dropping (about 6 s).
pub const RING_FRAMES: usize = 256;
/// Sample blocks the listeners' ring holds (about 3 s).
pub const RING_BLOCKS: usize = 256;
/// Transcribed notes waiting for the audio thread (several seconds of dense piano).
pub const RING_NOTES: usize = 256;
/// Seconds of samples the loudness ring holds.
const RING_SECONDS: f64 = 2.0;

/// The one error of building and starting an engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("loudness meter: {0}")]
    Meter(String),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("worker thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// The GUI's end: the latest snapshot, the engine's clock, and the way to steer the worker.
pub struct SnapshotReader {
    output: triple_buffer::Output<Snapshot>,
    control: Sender<Control>,
    counters: Arc<Counters>,
    input_rate: f64,
}

impl SnapshotReader {
    /// The newest published snapshot.
    pub fn read(&mut self) -> &Snapshot {
        self.output.read()
    }

    /// Seconds, on the snapshots' timeline, of the audio the audio stage has just analyzed:
    /// what is being heard. It stands still while analysis is off.
    pub fn now(&self) -> f64 {
        self.counters.analyzed.load(Ordering::Relaxed) as f64 / self.input_rate
    }

    pub fn send(&self, control: Control) {
        // The worker may have stopped already; nothing is left to steer then.
        let _ = self.control.send(control);
    }

    /// [`SnapshotReader::now`] for another thread (a sender that keeps time with the audio).
    pub fn clock(&self) -> impl Fn() -> f64 + Send + 'static {
        let (counters, rate) = (self.counters.clone(), self.input_rate);
        move || counters.analyzed.load(Ordering::Relaxed) as f64 / rate
    }

    /// Frames dropped so far, straight from the audio thread's counter.
    pub fn frames_dropped(&self) -> u64 {
        self.counters.frames_dropped.load(Ordering::Relaxed)
    }
}

/// Builds the three ends of the engine for an input stream, the worker not yet running (tests
/// poll it by hand; [`start`] spawns it).
pub fn build(config: &AnalyzerConfig) -> Result<(AudioStage, Worker, SnapshotReader), EngineError> {
    let a = &config.analysis;
    if a.n_mels != LIVE_MELS || a.n_mfcc != LIVE_MFCCS {
        return Err(ConfigError::Bands {
            n_mels: a.n_mels,
            n_mfcc: a.n_mfcc,
        }
        .into());
    }
    let analyzer = StreamingAnalyzer::new(config)?;
    let (frames, frames_rx) = rtrb::RingBuffer::new(RING_FRAMES);
    let (blocks, blocks_rx) = rtrb::RingBuffer::new(RING_BLOCKS);
    let ring_samples = (RING_SECONDS * config.input_sample_rate as f64) as usize * config.channels;
    let (samples, samples_rx) = rtrb::RingBuffer::new(ring_samples);
    let counters = Arc::new(Counters::default());
    let frame_rate = a.sample_rate as f64 / a.hop_length as f64;
    let initial = Snapshot::new(
        config.input_sample_rate,
        frame_rate,
        (HISTORY_SECONDS * frame_rate) as usize,
    );
    let (input, output) = triple_buffer::TripleBuffer::new(&initial).split();
    let (control, control_rx) = crossbeam_channel::unbounded();
    let (grid, beats) = beat_grid::channel();
    let (notes, notes_rx) = rtrb::RingBuffer::new(RING_NOTES);
    let meter = mirador_dsp::loudness::Meter::new(config.channels, config.input_sample_rate)
        .map_err(|e| EngineError::Meter(e.to_string()))?;
    let worker = Worker::new(
        worker::Consumers {
            frames: frames_rx,
            blocks: blocks_rx,
            samples: samples_rx,
        },
        meter,
        config.channels,
        worker::Outlets {
            snapshots: input,
            grid,
            notes,
        },
        control_rx,
        counters.clone(),
        initial,
    );
    let audio = AudioStage::new(
        analyzer,
        audio::Producers {
            frames,
            blocks,
            samples,
        },
        counters.clone(),
        config.channels,
        beats,
        notes_rx,
    );
    let reader = SnapshotReader {
        output,
        control,
        counters,
        input_rate: config.input_sample_rate as f64,
    };
    Ok((audio, worker, reader))
}

/// Builds the engine for `rate` Hz and `channels` channels with `models` listening (and,
/// with them and a `library`, the reference tracks), announcing what it hears to `events`
/// when given, and starts its worker: what the plugin and the app run.
pub fn start(
    rate: u32,
    channels: usize,
    models: Option<&LiveModels>,
    library: Option<&Arc<Catalog>>,
    events: Option<EventSink>,
) -> Result<(AudioStage, SnapshotReader), EngineError> {
    let (audio, mut worker, reader) = build(&AnalyzerConfig::new(rate, channels))?;
    if let Some(sink) = events {
        worker = worker.with_events(sink);
    }
    if let Some(models) = models {
        for listener in models.listeners(rate, library)? {
            worker = worker.with_listener(listener);
        }
    }
    worker.spawn()?;
    Ok((audio, reader))
}
