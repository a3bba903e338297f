//! Notes live: basic-pitch's live transcriber ([`LiveNotes`]) on its own thread, since each
//! window costs ~60 ms of network, more than the worker may stall. The worker hands it the
//! analysis-rate blocks over a bounded queue (when the thread lags, blocks are dropped and
//! counted, and the transcriber hears a discontinuity) and takes the notes it announces.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use mirador_models::notes::{LiveNotes, NoteEvent, NoteNet, NoteSettings};
use mirador_models::Pipeline;

use crate::listener::{Heard, Listener};

/// Frames (11.6 ms) between windows: a window every 302 ms, each note announced 0.38 s after
/// its onset on average, a fifth of a core (`models/basic_pitch/REPORT.md`).
pub const HOP_FRAMES: usize = 26;
/// Blocks the queue holds: about 3 s of audio.
const QUEUE_BLOCKS: usize = 128;

enum Message {
    Block { samples: Vec<f32>, position: u64 },
    Gap { position: u64 },
}

pub struct NoteListener {
    blocks: Sender<Message>,
    events: Receiver<(u64, NoteEvent)>,
    /// Bumped on every reset; the thread starts over when it sees a new one, and announces
    /// with the one it heard the audio under.
    generation: Arc<AtomicU64>,
    /// A block was dropped: the thread must hear of the gap before the next one.
    gap: Option<u64>,
    dropped: u64,
    /// `dropped` when it was last reported.
    reported: u64,
    errors: Receiver<String>,
}

impl NoteListener {
    pub fn new(net: Arc<NoteNet>) -> std::io::Result<Self> {
        let (blocks, block_rx) = crossbeam_channel::bounded::<Message>(QUEUE_BLOCKS);
        let (event_tx, events) = crossbeam_channel::unbounded();
        let (error_tx, errors) = crossbeam_channel::bounded(1);
        let generation = Arc::new(AtomicU64::new(0));
        let current = generation.clone();
        std::thread::Builder::new()
            .name("mirador-notes".into())
            .spawn(move || {
                let mut live = LiveNotes::new(net, NoteSettings::default(), HOP_FRAMES);
                let mut heard_under = 0;
                // Ends when the listener (the sender) is dropped.
                for message in block_rx {
                    let now = current.load(Ordering::Relaxed);
                    if now != heard_under {
                        live.discontinuity(0);
                        live.take_events().for_each(drop);
                        heard_under = now;
                    }
                    match message {
                        Message::Block { samples, position } => live.push(&samples, position),
                        Message::Gap { position } => live.discontinuity(position),
                    }
                    for event in live.take_events() {
                        if event_tx.send((heard_under, event)).is_err() {
                            return;
                        }
                    }
                    live.take_notes().for_each(drop);
                    if let Some(e) = live.take_error() {
                        let _ = error_tx.try_send(e.to_string());
                    }
                }
            })?;
        Ok(Self {
            blocks,
            events,
            generation,
            gap: None,
            dropped: 0,
            reported: 0,
            errors,
        })
    }

    fn send(&mut self, message: Message) -> bool {
        match self.blocks.try_send(message) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }
}

impl Listener for NoteListener {
    fn push(&mut self, block: &[f32], position: u64) {
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

    fn discontinuity(&mut self, position: u64) {
        self.gap = Some(position);
    }

    fn update(&mut self, heard: &mut Heard) {
        let generation = self.generation.load(Ordering::Relaxed);
        heard.notes.extend(
            self.events
                .try_iter()
                .filter(|(g, _)| *g == generation)
                .map(|(_, e)| e),
        );
        if let Ok(e) = self.errors.try_recv() {
            heard.error = Some(format!("notes: {e}"));
        }
        if self.dropped > self.reported {
            self.reported = self.dropped;
            heard.error = Some(format!(
                "notes: the transcriber lags; {} blocks of audio skipped",
                self.dropped
            ));
        }
    }

    fn reset(&mut self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.gap = None;
        self.events.try_iter().for_each(drop);
    }
}
