//! Notes live: basic-pitch's live transcriber ([`LiveNotes`]) on its own thread, since each
//! window costs ~60 ms of network, more than the worker may stall ([`PipelineThread`]).

use std::sync::Arc;

use mirador_models::notes::{LiveNotes, NoteEvent, NoteNet, NoteSettings};
use mirador_models::Pipeline;

use super::pipeline_thread::PipelineThread;
use crate::listener::{Heard, Listener};

/// Frames (11.6 ms) between windows: a window every 302 ms, each note announced 0.38 s after
/// its onset on average, a fifth of a core (`models/basic_pitch/REPORT.md`).
pub const HOP_FRAMES: usize = 26;

pub struct NoteListener {
    thread: PipelineThread<NoteEvent>,
}

impl NoteListener {
    pub fn new(net: Arc<NoteNet>) -> std::io::Result<Self> {
        let live = LiveNotes::new(net, NoteSettings::default(), HOP_FRAMES);
        let forget = |live: &mut LiveNotes| {
            live.discontinuity(0);
            live.take_events().for_each(drop);
        };
        let drain = |live: &mut LiveNotes, events: &mut Vec<NoteEvent>| {
            events.extend(live.take_events());
            live.take_notes().for_each(drop);
        };
        Ok(Self {
            thread: PipelineThread::spawn("mirador-notes", live, forget, drain)?,
        })
    }
}

impl Listener for NoteListener {
    fn push(&mut self, block: &[f32], position: u64) {
        self.thread.push(block, position);
    }

    fn discontinuity(&mut self, position: u64) {
        self.thread.discontinuity(position);
    }

    fn update(&mut self, heard: &mut Heard) {
        heard.notes.extend(self.thread.take_outputs());
        if let Some(e) = self.thread.take_error() {
            heard.error = Some(format!("notes: {e}"));
        }
    }

    fn reset(&mut self) {
        self.thread.reset();
    }
}
