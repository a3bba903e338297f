//! basic-pitch's windowing over a stream: 15 frames (3840 samples) of silence before the
//! first sample, windows of [`WINDOW`] samples overlapping by 30 frames, each window's middle
//! 142 frames kept; at the end the last windows are padded with silence and the frames are
//! trimmed to the audio's length. Notes are made once the stream ends ([`creation`]).

use std::sync::Arc;

use super::creation::{self, NoteSettings};
use super::{Activations, Note, NoteNet, HOP, WINDOW, WINDOW_FRAMES};
use crate::{ModelError, Pipeline, SAMPLE_RATE};

/// Frames each window shares with the next; half are trimmed from each side.
const OVERLAP_FRAMES: usize = 30;
/// Samples from one window's start to the next's.
const WINDOW_HOP: usize = WINDOW - OVERLAP_FRAMES * HOP;

pub struct NotePipeline {
    net: Arc<NoteNet>,
    settings: NoteSettings,
    /// Samples from the current window's start on.
    pending: Vec<f32>,
    /// The outputs of the stream so far.
    activations: Activations,
    /// Samples heard since the stream (re)started.
    heard: u64,
    /// Where the stream (re)started on the analysis timeline.
    origin: u64,
    notes: Vec<Note>,
    error: Option<ModelError>,
}

impl NotePipeline {
    /// A whole file's notes, made when it ends.
    pub fn for_clip(net: Arc<NoteNet>, settings: NoteSettings) -> Self {
        let mut pipeline = Self {
            net,
            settings,
            pending: Vec::with_capacity(WINDOW),
            activations: Activations::default(),
            heard: 0,
            origin: 0,
            notes: Vec::new(),
            error: None,
        };
        pipeline.restart(0);
        pipeline
    }

    /// The notes made so far, times in seconds on the analysis timeline.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The network's outputs since the stream last (re)started, trimmed to its length once
    /// it has finished.
    pub fn activations(&self) -> &Activations {
        &self.activations
    }

    fn restart(&mut self, position: u64) {
        self.pending.clear();
        self.pending.resize(OVERLAP_FRAMES * HOP / 2, 0.0);
        self.activations = Activations::default();
        self.heard = 0;
        self.origin = position;
    }

    /// Runs the window `pending` holds (all [`WINDOW`] samples of it) and moves on a hop.
    fn run_window(&mut self) {
        match self.net.run(&self.pending) {
            Ok(out) => {
                let kept = WINDOW_FRAMES - OVERLAP_FRAMES;
                self.activations.extend(&out, OVERLAP_FRAMES / 2, kept);
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self.pending.drain(..WINDOW_HOP);
    }

    /// Runs the padded last windows and makes the notes of the stream so far.
    fn complete(&mut self) {
        if self.heard == 0 {
            return;
        }
        let mut left = self.pending.len();
        while left > 0 {
            self.pending.resize(WINDOW, 0.0);
            self.run_window();
            left = left.saturating_sub(WINDOW_HOP);
            self.pending.truncate(left);
        }
        // The package trims with its whole-number frame rate (86 a second, not 86.13).
        let frame_rate = (SAMPLE_RATE as usize / HOP) as f64;
        let frames = (self.heard as f64 * frame_rate / f64::from(SAMPLE_RATE)).floor() as usize;
        self.activations.truncate(frames);
        let offset = self.origin as f64 / f64::from(SAMPLE_RATE);
        self.notes.extend(
            creation::notes(&self.activations, &self.settings)
                .into_iter()
                .map(|mut note| {
                    note.start += offset;
                    note.end += offset;
                    note
                }),
        );
    }
}

impl Pipeline for NotePipeline {
    fn push(&mut self, block: &[f32], position: u64) {
        if self.heard == 0 {
            self.origin = position;
        }
        self.heard += block.len() as u64;
        let mut block = block;
        while !block.is_empty() {
            let take = (WINDOW - self.pending.len()).min(block.len());
            self.pending.extend_from_slice(&block[..take]);
            block = &block[take..];
            if self.pending.len() == WINDOW {
                self.run_window();
            }
        }
    }

    fn discontinuity(&mut self, position: u64) {
        self.complete();
        self.restart(position);
    }

    fn finish(&mut self) {
        self.complete();
    }

    fn take_error(&mut self) -> Option<ModelError> {
        self.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, seconds: f32) -> Vec<f32> {
        let n = (seconds * SAMPLE_RATE as f32) as usize;
        (0..n)
            .map(|i| 0.3 * (std::f32::consts::TAU * hz * i as f32 / SAMPLE_RATE as f32).sin())
            .collect()
    }

    fn run(net: &Arc<NoteNet>, blocks: &[&[f32]]) -> NotePipeline {
        let mut pipeline = NotePipeline::for_clip(net.clone(), NoteSettings::default());
        let mut position = 0;
        for block in blocks {
            pipeline.push(block, position);
            position += block.len() as u64;
        }
        pipeline.finish();
        assert!(pipeline.take_error().is_none());
        pipeline
    }

    #[test]
    fn a_held_a4_is_one_note_whatever_the_blocks() {
        let net = Arc::new(NoteNet::load().unwrap());
        let audio = tone(440.0, 3.0);
        let whole = run(&net, &[&audio]);
        let notes = whole.notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].pitch, 69);
        assert!(notes[0].start < 0.1 && notes[0].end > 2.8, "{:?}", notes[0]);
        // Blocks of 1 to 8192 samples, changing each call, give the same outputs.
        let mut blocks = Vec::new();
        let mut rest = &audio[..];
        for size in [1usize, 8192, 7, 4096, 333, 1].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (block, after) = rest.split_at((*size).min(rest.len()));
            blocks.push(block);
            rest = after;
        }
        let pieces = run(&net, &blocks);
        assert_eq!(pieces.activations(), whole.activations());
        assert_eq!(pieces.notes(), whole.notes());
    }

    #[test]
    fn silence_and_a_tenth_of_a_second_have_no_notes() {
        let net = Arc::new(NoteNet::load().unwrap());
        for audio in [vec![0.0; 5 * SAMPLE_RATE as usize], tone(440.0, 0.1)] {
            let pipeline = run(&net, &[&audio]);
            assert!(pipeline.notes().is_empty());
            let frames = audio.len() * 86 / SAMPLE_RATE as usize;
            assert_eq!(pipeline.activations().frames(), frames);
        }
        // Nothing heard: nothing run.
        assert_eq!(run(&net, &[]).activations().frames(), 0);
    }

    #[test]
    fn after_a_discontinuity_notes_are_placed_on_the_timeline() {
        let net = Arc::new(NoteNet::load().unwrap());
        let audio = tone(440.0, 2.0);
        let mut pipeline = NotePipeline::for_clip(net, NoteSettings::default());
        pipeline.push(&audio, 0);
        pipeline.discontinuity(10 * u64::from(SAMPLE_RATE));
        pipeline.push(&audio, 10 * u64::from(SAMPLE_RATE));
        pipeline.finish();
        let starts: Vec<f64> = pipeline.notes().iter().map(|n| n.start).collect();
        assert_eq!(starts.len(), 2, "{starts:?}");
        assert!(
            starts[0] < 0.1 && (10.0..10.1).contains(&starts[1]),
            "{starts:?}"
        );
    }
}
