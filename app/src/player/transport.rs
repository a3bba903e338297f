//! What the player thread, its output and the window share about a file being played.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use super::NO_SEEK;

/// Shared between the player thread, the output and the GUI.
pub struct Transport {
    /// The file's rate: positions count the file's frames.
    pub sample_rate: u32,
    /// Frames per channel, when the container says.
    pub length: Option<u64>,
    /// What plays the file, for the window's status line.
    pub output: String,
    pub(super) paused: AtomicBool,
    pub(super) finished: AtomicBool,
    /// Set to end playback for good: the player thread returns and its output closes.
    pub(super) stopped: AtomicBool,
    pub(super) position: AtomicU64,
    pub(super) seek_to: AtomicU64,
    /// Set by the player after a seek so the GUI can reset the worker's history.
    pub(super) seeked: AtomicBool,
    /// Device callbacks that ran out of decoded audio and played silence.
    pub(super) underruns: AtomicU64,
    /// Why playback stopped early, if it did (a corrupt packet, a vanished file, a device gone).
    pub(super) error: Mutex<Option<String>>,
}

impl Transport {
    pub(super) fn new(sample_rate: u32, length: Option<u64>, output: String) -> Self {
        Self {
            sample_rate,
            length,
            output,
            paused: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            position: AtomicU64::new(0),
            seek_to: AtomicU64::new(NO_SEEK),
            seeked: AtomicBool::new(false),
            underruns: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// Seconds into the file of what is being heard.
    pub fn time(&self) -> f64 {
        self.position() as f64 / self.sample_rate as f64
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Relaxed)
    }

    /// Ends playback (another file is to be played): the player thread stops, and with it
    /// the sound device's stream and the engine it fed.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    pub fn seek(&self, frame: u64) {
        self.seek_to.store(frame, Ordering::Relaxed);
    }

    pub(super) fn seek_pending(&self) -> bool {
        self.seek_to.load(Ordering::Relaxed) != NO_SEEK
    }

    pub fn underruns(&self) -> u64 {
        self.underruns.load(Ordering::Relaxed)
    }

    pub fn error(&self) -> Option<String> {
        self.error.lock().ok()?.clone()
    }

    pub(super) fn set_error(&self, message: String) {
        if let Ok(mut error) = self.error.lock() {
            error.get_or_insert(message);
        }
    }

    /// True once after each completed seek.
    pub fn take_seeked(&self) -> bool {
        self.seeked.swap(false, Ordering::Relaxed)
    }
}
