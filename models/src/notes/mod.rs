//! Notes: Spotify's basic-pitch (Apache-2.0, `models/basic_pitch/`), a small network that
//! reads raw 22.05 kHz audio in 2 s windows and says, for each piano key and ~11.6 ms frame,
//! whether a note sounds and whether one starts, with a pitch contour in thirds of a
//! semitone ([`NoteNet`]); the package's note creation turns those into notes with pitch
//! bends ([`creation`]); [`NotePipeline`] windows a stream as the package windows a file and
//! makes its notes when it ends; [`LiveNotes`] announces them as they are heard, from windows
//! ending at the newest sample.

pub mod creation;
mod live;
mod network;
mod pipeline;

pub use creation::NoteSettings;
pub use live::{LiveNotes, NoteEvent, RIGHT_TRIM};
pub use network::{NoteNet, WindowActivations, WINDOW, WINDOW_FRAMES};
pub use pipeline::NotePipeline;

/// Piano keys the network hears, A0 (MIDI 21) to C8.
pub const KEYS: usize = 88;
/// The MIDI note of the lowest key.
pub const LOWEST_KEY: u8 = 21;
/// Contour bins: three per key.
pub const CONTOUR_BINS: usize = 3 * KEYS;
/// Samples between frames.
pub const HOP: usize = 256;

/// One transcribed note; times in seconds from the start of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub start: f64,
    pub end: f64,
    /// MIDI note number.
    pub pitch: u8,
    /// The mean of the network's note activation over the note, 0 to 1.
    pub amplitude: f32,
    /// Per frame, the pitch's offset from `pitch` in thirds of a semitone (empty when pitch
    /// bends were not asked for).
    pub bends: Vec<i32>,
}

impl Note {
    /// MIDI velocity, as basic-pitch writes it.
    pub fn velocity(&self) -> u8 {
        (127.0 * self.amplitude.clamp(0.0, 1.0)).round() as u8
    }
}

/// The network's outputs over a whole stream, frame-major, each window's overlap trimmed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activations {
    /// [`KEYS`] per frame.
    pub note: Vec<f32>,
    /// [`KEYS`] per frame.
    pub onset: Vec<f32>,
    /// [`CONTOUR_BINS`] per frame.
    pub contour: Vec<f32>,
}

impl Activations {
    pub fn frames(&self) -> usize {
        self.note.len() / KEYS
    }

    /// Appends `frames` of one window's outputs, from its frame `first`.
    fn extend(&mut self, window: &WindowActivations, first: usize, frames: usize) {
        let keys = first * KEYS..(first + frames) * KEYS;
        self.note.extend_from_slice(&window.note[keys.clone()]);
        self.onset.extend_from_slice(&window.onset[keys]);
        self.contour.extend_from_slice(
            &window.contour[first * CONTOUR_BINS..(first + frames) * CONTOUR_BINS],
        );
    }

    fn truncate(&mut self, frames: usize) {
        self.note.truncate(frames * KEYS);
        self.onset.truncate(frames * KEYS);
        self.contour.truncate(frames * CONTOUR_BINS);
    }
}
