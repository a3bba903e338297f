//! What the worker publishes for the views: recent history and the live analyses, as one
//! immutable value. Publishing copies it into the triple buffer's spare slot with
//! `clone_from`, which reuses that slot's storage (tested: no allocation).

use std::sync::Arc;

use mirador_dsp::pitch::chords::Chord;
use mirador_dsp::pitch::key::Key;
use mirador_models::melody::Pitch;
pub use mirador_models::sections::LiveSection;
use mirador_models::tagger::saliency::BANDS;

use crate::frame::{LIVE_MELS, LIVE_MFCCS};

/// A fixed-capacity history, oldest first when iterated. Cloning into an existing history
/// reuses its storage.
#[derive(Debug, PartialEq)]
pub struct History<T> {
    items: Vec<T>,
    /// Index of the oldest item once full.
    start: usize,
    capacity: usize,
}

impl<T: Clone> Clone for History<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
            start: self.start,
            capacity: self.capacity,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.items.clone_from(&source.items);
        self.start = source.start;
        self.capacity = source.capacity;
    }
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

    /// Oldest to newest.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut T> {
        let (older, newer) = self.items.split_at_mut(self.start);
        newer.iter_mut().chain(older)
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

/// Class probabilities of one model. The class names are shared, so copying these reuses
/// the probabilities' storage and allocates nothing.
#[derive(Debug, PartialEq)]
pub struct ClassProbabilities {
    pub model: &'static str,
    pub classes: Arc<[String]>,
    /// In `classes` order.
    pub probabilities: Vec<f32>,
}

impl Clone for ClassProbabilities {
    fn clone(&self) -> Self {
        Self {
            model: self.model,
            classes: self.classes.clone(),
            probabilities: self.probabilities.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.model = source.model;
        if !Arc::ptr_eq(&self.classes, &source.classes) {
            self.classes = source.classes.clone();
        }
        self.probabilities.clone_from(&source.probabilities);
    }
}

impl ClassProbabilities {
    /// The most likely class and its probability.
    pub fn top(&self) -> Option<(&str, f32)> {
        self.classes
            .iter()
            .zip(&self.probabilities)
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(c, &p)| (c.as_str(), p))
    }

    /// Classes with their probabilities, most likely first.
    pub fn ranked(&self) -> Vec<(&str, f32)> {
        let mut ranked: Vec<(&str, f32)> = self
            .classes
            .iter()
            .map(String::as_str)
            .zip(self.probabilities.iter().copied())
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked
    }
}

/// Notes kept for the views: the history's 10 s of dense piano.
const NOTES_KEPT: usize = 256;

/// A note being played, or played lately, as the live transcriber announced it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveNote {
    /// MIDI note number.
    pub pitch: u8,
    pub velocity: u8,
    /// Seconds on the snapshots' timeline.
    pub start: f64,
    /// None while it sounds.
    pub end: Option<f64>,
}

/// Chord changes kept for the views: more than the history's 10 s can hold.
const CHORDS_KEPT: usize = 48;

/// The chord being heard, as the live chord follower names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveChord {
    pub chord: Chord,
    /// Its forward probability, 0 to 1.
    pub probability: f32,
    /// Seconds on the snapshots' timeline since when it has been named.
    pub since: f64,
    /// The chord likely next, and how often it has come next in this song.
    pub next: Option<(Chord, f32)>,
}

/// Sections kept for the views: more than the history's 10 s can hold.
const SECTIONS_KEPT: usize = 32;

/// Saliency cells kept for the views: the history's 10 s at 0.5 s each, and some.
const SALIENCY_KEPT: usize = 24;

/// How much one 0.5 s stretch of what was heard supported the genre shown, per mel band
/// (the genre network's occlusion saliency, `mirador_models::tagger::saliency`): the fall
/// in its patch's probability of the class when the stretch's band is silenced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaliencyCell {
    /// Seconds on the snapshots' timeline where the stretch starts, and its length.
    pub time: f64,
    pub seconds: f32,
    /// Lowest band first (`mirador_models::tagger::saliency::band_hz`).
    pub values: [f32; BANDS],
    /// The class explained: an index into the genre's classes.
    pub class: u8,
}

/// One library track near what was heard.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Its row id in the library.
    pub id: i64,
    pub path: String,
    /// The title tag, else the file's name.
    pub title: String,
    pub artist: Option<String>,
    pub genre: Option<String>,
    pub tempo_bpm: Option<f64>,
    pub key: Option<String>,
    /// Similarity, -1 to 1 (the library's "all").
    pub score: f32,
    /// The facets that made it close (see `mirador_library::Hit::reasons`).
    pub reasons: Vec<&'static str>,
}

/// The library tracks nearest the last stretch heard (reference tracks), nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct References {
    /// Seconds on the snapshots' timeline where the stretch compared started and ended.
    pub from: f64,
    pub until: f64,
    pub tracks: Vec<Reference>,
    /// Why there are none, when there are none (silence, say).
    pub withheld: Option<String>,
}

/// Where the snapshot's rhythm comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RhythmSource {
    /// The beat model (BeatNet and the online tracker): beats, downbeats and meter.
    BeatModel,
    /// The autocorrelation of the onset envelope, when no beat model runs or it has not
    /// announced a beat lately: tempo with a confidence and a beat phase.
    Onsets,
}

/// The one tempo and beat the views show; the engine chooses the source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rhythm {
    pub source: RhythmSource,
    pub tempo_bpm: f32,
    /// Normalized autocorrelation at the beat period (onsets only), 0 to 1.
    pub confidence: Option<f32>,
    /// The newest beat.
    pub beat: Beat,
    /// The newest beat's place in the bar (beat model only): 1 on the downbeat.
    pub beat_in_bar: Option<u8>,
    pub beats_per_bar: Option<u8>,
}

impl Rhythm {
    /// Which beat of the bar `now` (seconds on the snapshot's timeline) falls in, counting on
    /// from the newest beat, with the beats per bar; `None` without a meter.
    pub fn counted_beat(&self, now: f64) -> Option<(u8, u8)> {
        let (first, bar) = (self.beat_in_bar?, self.beats_per_bar?.max(1));
        let since = ((now - self.beat.time) / self.beat.period).floor().max(0.0) as u64;
        let beat = (u64::from(first.max(1)) - 1 + since) % u64::from(bar);
        Some((beat as u8 + 1, bar))
    }
}

#[derive(Debug, PartialEq)]
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
    pub rhythm: Option<Rhythm>,
    pub key: Option<Key>,
    pub chord: Option<LiveChord>,
    /// The tuner: the pitch of the one voice or instrument heard, held steady, while there
    /// is one (its time that of the newest frame it rests on).
    pub tuner: Option<Pitch>,
    /// The notes heard lately, as announced, when the transcriber listens.
    pub notes: History<LiveNote>,
    /// The chords named lately, each when it began, oldest first (the view's chord lane).
    pub chords: History<LiveChord>,
    /// The section being heard, known a few seconds after it began
    /// ([`mirador_models::sections::live_latency_seconds`]).
    pub section: Option<LiveSection>,
    /// The sections heard lately, oldest first (the view's song-map strip).
    pub sections: History<LiveSection>,
    /// Why the genre is what it is, cell by cell, oldest first: only while asked
    /// ([`crate::Control::Explain`]).
    pub saliency: History<SaliencyCell>,
    pub loudness: Loudness,
    pub genre: Option<ClassProbabilities>,
    pub mood: Option<ClassProbabilities>,
    /// Why a listening model shows no genre or mood (none when no model listens).
    pub predictions_withheld: Option<&'static str>,
    /// The newest error a model reported (it keeps running on the next audio).
    pub model_error: Option<String>,
    /// Library tracks like the last 30 s heard, when a library is open; shared, so
    /// publishing copies a pointer.
    pub references: Option<Arc<References>>,
}

impl Clone for Snapshot {
    fn clone(&self) -> Self {
        let mut copy = Snapshot::new(self.sample_rate, self.frame_rate, self.chroma.capacity());
        copy.clone_from(self);
        copy
    }

    /// Field by field, so the histories and probabilities reuse their storage.
    fn clone_from(&mut self, s: &Self) {
        self.sample_rate = s.sample_rate;
        self.frame_rate = s.frame_rate;
        self.frames_received = s.frames_received;
        self.frames_dropped = s.frames_dropped;
        self.position = s.position;
        self.time = s.time;
        self.spectrogram.clone_from(&s.spectrogram);
        self.chroma.clone_from(&s.chroma);
        self.mfcc.clone_from(&s.mfcc);
        self.rms = s.rms;
        self.centroid = s.centroid;
        self.rhythm = s.rhythm;
        self.key = s.key;
        self.chord = s.chord;
        self.tuner = s.tuner;
        self.notes.clone_from(&s.notes);
        self.chords.clone_from(&s.chords);
        self.section = s.section;
        self.sections.clone_from(&s.sections);
        self.saliency.clone_from(&s.saliency);
        self.loudness = s.loudness;
        self.genre.clone_from(&s.genre);
        self.mood.clone_from(&s.mood);
        self.predictions_withheld = s.predictions_withheld;
        self.model_error.clone_from(&s.model_error);
        self.references.clone_from(&s.references);
    }
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
            rhythm: None,
            key: None,
            chord: None,
            tuner: None,
            notes: History::new(NOTES_KEPT),
            chords: History::new(CHORDS_KEPT),
            section: None,
            sections: History::new(SECTIONS_KEPT),
            saliency: History::new(SALIENCY_KEPT),
            loudness: Loudness {
                momentary_lufs: f32::NEG_INFINITY,
                short_term_lufs: f32::NEG_INFINITY,
                true_peak_dbtp: f32::NEG_INFINITY,
            },
            genre: None,
            mood: None,
            predictions_withheld: None,
            model_error: None,
            references: None,
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
