//! What the engine announces as it happens, for senders to other gear (OSC now; MIDI next):
//! each beat, downbeat, tempo, key, chord, section, genre, mood, loudness reading and note, stamped
//! with its time on the audio timeline. The worker finds them by comparing each snapshot
//! with what it announced last, and hands them over a bounded queue: when the sender lags,
//! events are dropped and counted, never waited for.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use mirador_dsp::pitch::chords::Chord;
use mirador_dsp::pitch::key::Key;
use mirador_dsp::structure::letter;
use mirador_models::notes::NoteEvent;

use crate::snapshot::{ClassProbabilities, Snapshot};

/// Events the queue holds before it drops (several seconds of the busiest music).
pub const QUEUE_EVENTS: usize = 1024;
/// Seconds between two loudness readings.
const LOUDNESS_EVERY: f64 = 0.1;
/// A tempo change announced on its own once it exceeds this many BPM.
const TEMPO_STEP: f32 = 1.0;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `index` counts beats since the stream (or the last reset) began; `beat_in_bar` is 1 on
    /// the downbeat (0 when only the onsets give the beat, without a meter).
    Beat {
        time: f64,
        index: u64,
        beat_in_bar: u8,
        /// 0 without a meter.
        beats_per_bar: u8,
        tempo_bpm: f32,
    },
    Downbeat {
        time: f64,
        bar: u64,
    },
    Tempo {
        time: f64,
        bpm: f32,
    },
    Key {
        time: f64,
        name: String,
    },
    Chord {
        time: f64,
        name: String,
    },
    /// `label` is the section's letter (A, B, ...: equal letters, the same material).
    Section {
        time: f64,
        label: String,
    },
    Genre {
        time: f64,
        class: String,
        probability: f32,
    },
    /// The quadrant, its probability, and valence and arousal from the four quadrants'
    /// probabilities (-1 to 1: Q1 + Q4 - Q2 - Q3, and Q1 + Q2 - Q3 - Q4).
    Mood {
        time: f64,
        class: String,
        probability: f32,
        valence: f32,
        arousal: f32,
    },
    Loudness {
        time: f64,
        momentary_lufs: f32,
        short_term_lufs: f32,
    },
    /// A transcribed note starting (`velocity` 1 to 127) or ending (`velocity` 0), as MIDI
    /// says it.
    Note {
        time: f64,
        pitch: u8,
        velocity: u8,
    },
}

impl Event {
    /// Seconds on the audio timeline.
    pub fn time(&self) -> f64 {
        match self {
            Event::Beat { time, .. }
            | Event::Downbeat { time, .. }
            | Event::Tempo { time, .. }
            | Event::Key { time, .. }
            | Event::Chord { time, .. }
            | Event::Section { time, .. }
            | Event::Genre { time, .. }
            | Event::Mood { time, .. }
            | Event::Loudness { time, .. }
            | Event::Note { time, .. } => *time,
        }
    }
}

/// The worker's end of the queues, one per sender ([`EventSink::subscribe`]).
#[derive(Default)]
pub struct EventSink {
    queues: Vec<(Sender<Event>, Arc<AtomicU64>)>,
    last: Announced,
}

/// The sender's end: the events, and how many the queue had to drop.
pub struct EventSource {
    pub events: Receiver<Event>,
    pub dropped: Arc<AtomicU64>,
}

/// A bounded queue of events between the worker and one sender.
pub fn queue() -> (EventSink, EventSource) {
    let mut sink = EventSink::default();
    let source = sink.subscribe();
    (sink, source)
}

/// What was announced last, to tell what is new.
#[derive(Default)]
struct Announced {
    beat_time: Option<f64>,
    beats: u64,
    bars: u64,
    tempo: Option<f32>,
    key: Option<Key>,
    chord: Option<Chord>,
    section_since: Option<f64>,
    genre: Vec<f32>,
    mood: Vec<f32>,
    loudness_time: Option<f64>,
}

impl EventSink {
    /// Another sender's queue: every event goes to each, and each drops on its own.
    pub fn subscribe(&mut self) -> EventSource {
        let (tx, rx) = crossbeam_channel::bounded(QUEUE_EVENTS);
        let dropped = Arc::new(AtomicU64::new(0));
        self.queues.push((tx, dropped.clone()));
        EventSource {
            events: rx,
            dropped,
        }
    }

    fn send(&self, event: Event) {
        for (queue, dropped) in &self.queues {
            if let Err(TrySendError::Full(_)) = queue.try_send(event.clone()) {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Announces what is new in `s` since the last call.
    pub fn update(&mut self, s: &Snapshot) {
        if let Some(r) = s.rhythm {
            // A new beat: later than the last by more than half a period (the onsets' beat
            // phase is re-estimated often, and may move a little without a new beat).
            let new = self
                .last
                .beat_time
                .is_none_or(|t| r.beat.time > t + r.beat.period / 2.0);
            if new {
                self.last.beat_time = Some(r.beat.time);
                self.last.beats += 1;
                let beat_in_bar = r.beat_in_bar.unwrap_or(0);
                self.send(Event::Beat {
                    time: r.beat.time,
                    index: self.last.beats,
                    beat_in_bar,
                    beats_per_bar: r.beats_per_bar.unwrap_or(0),
                    tempo_bpm: r.tempo_bpm,
                });
                if beat_in_bar == 1 {
                    self.last.bars += 1;
                    self.send(Event::Downbeat {
                        time: r.beat.time,
                        bar: self.last.bars,
                    });
                }
            }
            if self
                .last
                .tempo
                .is_none_or(|t| (t - r.tempo_bpm).abs() >= TEMPO_STEP)
            {
                self.last.tempo = Some(r.tempo_bpm);
                self.send(Event::Tempo {
                    time: s.time,
                    bpm: r.tempo_bpm,
                });
            }
        }
        let same_key =
            |a: Key, b: Option<Key>| b.is_some_and(|b| (a.tonic, a.mode) == (b.tonic, b.mode));
        if let Some(k) = s.key.filter(|&k| !same_key(k, self.last.key)) {
            self.last.key = Some(k);
            self.send(Event::Key {
                time: s.time,
                name: k.name(),
            });
        }
        if let Some(c) = s.chord.filter(|c| Some(c.chord) != self.last.chord) {
            self.last.chord = Some(c.chord);
            self.send(Event::Chord {
                time: c.since,
                name: c.chord.name(),
            });
        }
        if let Some(p) = s
            .section
            .filter(|p| Some(p.since) != self.last.section_since)
        {
            self.last.section_since = Some(p.since);
            self.send(Event::Section {
                time: p.since,
                label: letter(p.label),
            });
        }
        if let Some((class, probability)) = changed(&s.genre, &mut self.last.genre) {
            self.send(Event::Genre {
                time: s.time,
                class,
                probability,
            });
        }
        if let Some((class, probability)) = changed(&s.mood, &mut self.last.mood) {
            let q = |i: usize| self.last.mood.get(i).copied().unwrap_or(0.0);
            self.send(Event::Mood {
                time: s.time,
                class,
                probability,
                valence: q(0) + q(3) - q(1) - q(2),
                arousal: q(0) + q(1) - q(2) - q(3),
            });
        }
        let loudness_due = self
            .last
            .loudness_time
            .is_none_or(|t| s.time >= t + LOUDNESS_EVERY);
        if loudness_due && s.loudness.momentary_lufs.is_finite() {
            self.last.loudness_time = Some(s.time);
            self.send(Event::Loudness {
                time: s.time,
                momentary_lufs: s.loudness.momentary_lufs,
                short_term_lufs: s.loudness.short_term_lufs,
            });
        }
    }

    /// Starts over (a seek, a new file): beats and bars count from 1 again.
    pub fn reset(&mut self) {
        self.last = Announced::default();
    }

    /// A transcribed note's start or end, as it is announced.
    pub fn note(&mut self, event: NoteEvent) {
        self.send(match event {
            NoteEvent::On {
                time,
                pitch,
                velocity,
            } => Event::Note {
                time,
                pitch,
                velocity,
            },
            NoteEvent::Off { time, pitch } => Event::Note {
                time,
                pitch,
                velocity: 0,
            },
        });
    }
}

/// The top class and its probability when `now` differs from what was announced, which it
/// then becomes.
fn changed(now: &Option<ClassProbabilities>, last: &mut Vec<f32>) -> Option<(String, f32)> {
    let p = now.as_ref()?;
    if p.probabilities == *last {
        return None;
    }
    last.clone_from(&p.probabilities);
    p.top()
        .map(|(class, probability)| (class.to_string(), probability))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Beat, Rhythm, RhythmSource};

    fn beat_at(time: f64, beat_in_bar: u8) -> Rhythm {
        Rhythm {
            source: RhythmSource::BeatModel,
            tempo_bpm: 120.0,
            confidence: None,
            beat: Beat {
                position: (time * 48_000.0) as u64,
                time,
                period: 0.5,
            },
            beat_in_bar: Some(beat_in_bar),
            beats_per_bar: Some(4),
        }
    }

    #[test]
    fn each_beat_and_change_is_announced_once() {
        let (mut sink, source) = queue();
        let mut s = Snapshot::new(48_000, 43.0, 16);
        // Snapshots come about 43 times a second; a beat every 0.5 s.
        for frame in 0..200 {
            s.time = f64::from(frame) / 43.0;
            let beats = (s.time / 0.5).floor();
            s.rhythm = Some(beat_at(beats * 0.5, (beats as u64 % 4 + 1) as u8));
            sink.update(&s);
        }
        let events: Vec<Event> = source.events.try_iter().collect();
        let beats: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Beat { time, index, .. } => Some((*time, *index)),
                _ => None,
            })
            .collect();
        // 200 frames at 43 per second: beats at 0, 0.5, ... 4.5 s.
        assert_eq!(beats.len(), 10, "{beats:?}");
        assert!(beats.iter().enumerate().all(|(i, b)| b.1 == i as u64 + 1));
        let downbeats = events
            .iter()
            .filter(|e| matches!(e, Event::Downbeat { .. }))
            .count();
        assert_eq!(downbeats, 3, "beats 1, 5 and 9 start bars");
        let tempos = events
            .iter()
            .filter(|e| matches!(e, Event::Tempo { .. }))
            .count();
        assert_eq!(tempos, 1, "a steady tempo is announced once");
        let loudness = events
            .iter()
            .filter(|e| matches!(e, Event::Loudness { .. }))
            .count();
        assert_eq!(loudness, 0, "no reading in silence");

        sink.reset();
        sink.update(&s);
        let again: Vec<Event> = source.events.try_iter().collect();
        assert!(
            matches!(again[0], Event::Beat { index: 1, .. }),
            "{again:?}"
        );
    }

    #[test]
    fn a_sender_that_never_reads_costs_dropped_events_not_a_wait() {
        let (sink, source) = queue();
        for i in 0..QUEUE_EVENTS + 100 {
            sink.send(Event::Tempo {
                time: i as f64,
                bpm: 120.0,
            });
        }
        assert_eq!(source.dropped.load(Ordering::Relaxed), 100);
        assert_eq!(source.events.len(), QUEUE_EVENTS);
    }
}
