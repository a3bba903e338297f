//! What the worker publishes for the views: recent history and the live analyses, as one
//! immutable value. Model predictions slot into [`Predictions`] when the models land.

use crate::live::frame::{LIVE_MELS, LIVE_MFCCS};
use crate::live::key::Key;
use crate::live::tempo::Tempo;

/// A fixed-capacity history, oldest first when iterated. Cloning into an existing history
/// reuses its storage.
#[derive(Debug, Clone, PartialEq)]
pub struct History<T> {
    items: Vec<T>,
    /// Index of the oldest item once full.
    start: usize,
    capacity: usize,
}

impl<T: Clone> History<T> {
    pub fn new(capacity: usize) -> Self {
        Self {
            items: Vec::with_capacity(capacity),
            start: 0,
            capacity,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() < self.capacity {
            self.items.push(item);
        } else {
            self.items[self.start] = item;
            self.start = (self.start + 1) % self.capacity;
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.start = 0;
    }

    /// Oldest to newest.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items[self.start..]
            .iter()
            .chain(&self.items[..self.start])
    }

    pub fn newest(&self) -> Option<&T> {
        self.iter().next_back()
    }
}

/// Loudness as EBU R128 defines it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// 400 ms window, LUFS.
    pub momentary_lufs: f32,
    /// 3 s window, LUFS.
    pub short_term_lufs: f32,
    /// Highest true peak over the last 3 s, dBTP.
    pub true_peak_dbtp: f32,
}

/// A detected beat on the audio timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beat {
    /// Input-rate sample index.
    pub position: u64,
    pub time: f64,
    /// Seconds between beats at the current tempo.
    pub period: f64,
}

/// Class probabilities of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassProbabilities {
    pub model: String,
    pub classes: Vec<(String, f32)>,
}

/// The newest beat a beat model announced, with where it falls in the bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarBeat {
    pub beat: Beat,
    /// 1 on the downbeat.
    pub beat_in_bar: u8,
    pub beats_per_bar: u8,
    pub tempo_bpm: f32,
}

/// Model outputs; empty until a model is loaded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Predictions {
    pub genre: Option<ClassProbabilities>,
    pub mood: Option<ClassProbabilities>,
    pub beat: Option<BarBeat>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Input sample rate of the stream the positions refer to.
    pub sample_rate: u32,
    /// Analysis frames per second.
    pub frame_rate: f64,
    pub frames_received: u64,
    /// Frames the audio thread had to drop because the worker lagged.
    pub frames_dropped: u64,
    /// Position and time of the newest frame.
    pub position: u64,
    pub time: f64,
    /// log-mel columns in dB.
    pub spectrogram: History<[f32; LIVE_MELS]>,
    pub chroma: History<[f32; 12]>,
    pub mfcc: History<[f32; LIVE_MFCCS]>,
    pub rms: f32,
    pub centroid: f32,
    pub tempo: Option<Tempo>,
    pub beat: Option<Beat>,
    pub key: Option<Key>,
    pub loudness: Loudness,
    pub predictions: Predictions,
}

impl Snapshot {
    pub fn new(sample_rate: u32, frame_rate: f64, history_frames: usize) -> Self {
        Self {
            sample_rate,
            frame_rate,
            frames_received: 0,
            frames_dropped: 0,
            position: 0,
            time: 0.0,
            spectrogram: History::new(history_frames),
            chroma: History::new(history_frames),
            mfcc: History::new(history_frames),
            rms: 0.0,
            centroid: 0.0,
            tempo: None,
            beat: None,
            key: None,
            loudness: Loudness {
                momentary_lufs: f32::NEG_INFINITY,
                short_term_lufs: f32::NEG_INFINITY,
                true_peak_dbtp: f32::NEG_INFINITY,
            },
            predictions: Predictions::default(),
        }
    }

    /// The mean chroma of the newest `frames` frames (or the whole history), each bin 0..1.
    pub fn mean_chroma(&self, frames: usize) -> [f32; 12] {
        let mut mean = [0f32; 12];
        let mut n = 0;
        for column in self.chroma.iter().rev().take(frames) {
            for (m, c) in mean.iter_mut().zip(column) {
                *m += c;
            }
            n += 1;
        }
        mean.map(|m| m / n.max(1) as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_newest_in_order() {
        let mut h = History::new(3);
        for i in 0..5 {
            h.push(i);
        }
        assert_eq!(h.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(h.newest(), Some(&4));
        assert_eq!(h.len(), 3);
    }
}
