//! Transcribed notes as a standard MIDI file (midly; `mirador analyze --midi`): one track
//! whose tempo map puts a quarter note on every tracked beat, so the notes line up with a
//! DAW's bars and beats; optionally snapped to sixteenths of that grid.

use std::path::Path;

use midly::num::{u14, u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use mirador_models::beats::ClipBeats;
use mirador_models::notes::Note;

pub const TICKS_PER_QUARTER: u16 = 480;
/// Seconds per quarter note without beats (120 bpm).
const DEFAULT_QUARTER: f64 = 0.5;
/// General MIDI's Electric Piano 1, which basic-pitch also writes.
const PROGRAM: u8 = 4;
/// Pitch-bend units per contour bin (a third of a semitone) with the usual ±2 semitones.
const BEND_PER_BIN: f64 = 4096.0 / 3.0;

/// Seconds to quarter notes along the tracked beats: 0 s is quarter 0 (so the file lines up
/// with the audio), beat `i` is quarter `lead_in + i`, linear in between and past the last
/// beat at its tempo.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatGrid {
    /// (seconds, quarter) anchors, both increasing.
    anchors: Vec<(f64, f64)>,
    /// The quarter of the first downbeat, where a bar starts.
    pub first_downbeat: Option<u64>,
}

impl BeatGrid {
    /// The grid of `beats` (120 bpm from 0 s without at least two of them). The quarters
    /// before the first beat are as many as its tempo fits, at least one.
    pub fn new(beats: Option<&ClipBeats>) -> Self {
        let beats = beats.map_or(&[][..], |b| &b.beats[..]);
        let steady = Self {
            anchors: vec![(0.0, 0.0), (DEFAULT_QUARTER, 1.0)],
            first_downbeat: None,
        };
        if beats.len() < 2 {
            return steady;
        }
        let first = beats[0].0.max(0.0);
        let interval = beats[1].0 - beats[0].0;
        let lead_in = if first > 0.0 {
            ((first / interval).round() as usize).max(1)
        } else {
            0
        };
        let mut anchors = Vec::with_capacity(beats.len() + 1);
        if first > 0.0 {
            anchors.push((0.0, 0.0));
        }
        for (i, beat) in beats.iter().enumerate() {
            anchors.push((beat.0.max(0.0), (lead_in + i) as f64));
        }
        anchors.dedup_by(|b, a| b.0 <= a.0);
        if anchors.len() < 2 {
            return steady;
        }
        let first_downbeat = beats
            .iter()
            .position(|b| b.1 == 1)
            .map(|i| (lead_in + i) as u64);
        Self {
            anchors,
            first_downbeat,
        }
    }

    /// Quarter notes from 0 s to `seconds`.
    pub fn quarters(&self, seconds: f64) -> f64 {
        let i = self
            .anchors
            .partition_point(|a| a.0 <= seconds)
            .clamp(1, self.anchors.len() - 1);
        let (t0, q0) = self.anchors[i - 1];
        let (t1, q1) = self.anchors[i];
        q0 + (seconds - t0) * (q1 - q0) / (t1 - t0)
    }

    /// (tick, microseconds per quarter) from each anchor on.
    fn tempi(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.anchors.windows(2).map(|w| {
            let seconds_per_quarter = (w[1].0 - w[0].0) / (w[1].1 - w[0].1);
            let micros = (seconds_per_quarter * 1e6).round().clamp(1.0, 16_777_215.0) as u32;
            (ticks(w[0].1), micros)
        })
    }
}

fn ticks(quarters: f64) -> u64 {
    (quarters * f64::from(TICKS_PER_QUARTER)).round().max(0.0) as u64
}

/// Writes `notes` to `path` as a format 0 standard MIDI file on the grid of `beats`;
/// `quantize` snaps each note's start and end to the nearest sixteenth.
pub fn write(
    notes: &[Note],
    beats: Option<&ClipBeats>,
    quantize: bool,
    path: &Path,
) -> Result<(), String> {
    let bytes = encode(notes, beats, quantize).map_err(|e| format!("MIDI: {e}"))?;
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The file's bytes.
pub fn encode(
    notes: &[Note],
    beats: Option<&ClipBeats>,
    quantize: bool,
) -> std::io::Result<Vec<u8>> {
    let grid = BeatGrid::new(beats);
    let place = |seconds: f64| {
        let q = grid.quarters(seconds);
        if quantize {
            (q * 4.0).round() / 4.0
        } else {
            q
        }
    };
    // (tick, order at the same tick: meta, note off, bend, note on; event)
    let mut events: Vec<(u64, u8, TrackEventKind<'static>)> = vec![
        (
            0,
            0,
            TrackEventKind::Meta(MetaMessage::TrackName(b"Mirador")),
        ),
        (
            0,
            0,
            channel(MidiMessage::ProgramChange {
                program: u7::new(PROGRAM),
            }),
        ),
    ];
    if let Some(meter) = beats.and_then(|b| b.beats_per_bar).filter(|&m| m > 0) {
        // A pickup bar of the quarters before the first downbeat, as a score writes it.
        let pickup = grid.first_downbeat.map_or(0, |d| d % u64::from(meter));
        let signature = |quarters: u8| MetaMessage::TimeSignature(quarters, 2, 24, 8);
        if pickup > 0 {
            events.push((0, 0, TrackEventKind::Meta(signature(pickup as u8))));
        }
        events.push((
            ticks(pickup as f64),
            0,
            TrackEventKind::Meta(signature(meter)),
        ));
    }
    for (tick, micros) in grid.tempi() {
        events.push((
            tick,
            0,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(micros))),
        ));
    }
    let placed = placed_notes(notes, place, quantize);
    for (i, &(start, end, note)) in placed.iter().enumerate() {
        let key = u7::new(note.pitch.min(127));
        let vel = u7::new(note.velocity().max(1));
        events.push((start, 3, channel(MidiMessage::NoteOn { key, vel })));
        events.push((
            end,
            1,
            channel(MidiMessage::NoteOff {
                key,
                vel: u7::new(0),
            }),
        ));
        // One channel has one bend: a note that overlaps another gets none (as basic-pitch).
        let overlaps = |j: usize| j != i && placed[j].0 < end && start < placed[j].1;
        if note.bends.is_empty() || (0..placed.len()).any(overlaps) {
            continue;
        }
        let mut last = 0;
        let steps = note.bends.len().max(2) - 1;
        for (k, &bend) in note.bends.iter().enumerate() {
            let value = (f64::from(bend) * BEND_PER_BIN)
                .round()
                .clamp(-8192.0, 8191.0) as i32;
            if value != last {
                let tick = start + (end - start) * k as u64 / steps as u64;
                events.push((tick.min(end), 2, bend_event(value)));
                last = value;
            }
        }
        if last != 0 {
            events.push((end, 2, bend_event(0)));
        }
    }
    events.sort_by_key(|e| (e.0, e.1));
    let mut track = Vec::with_capacity(events.len() + 1);
    let mut now = 0;
    for (tick, _, kind) in events {
        track.push(TrackEvent {
            delta: u28::new((tick - now).min(0x0FFF_FFFF) as u32),
            kind,
        });
        now = tick;
    }
    track.push(TrackEvent {
        delta: 0.into(),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    let smf = Smf {
        header: Header::new(
            Format::SingleTrack,
            Timing::Metrical(u15::new(TICKS_PER_QUARTER)),
        ),
        tracks: vec![track],
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)?;
    Ok(bytes)
}

/// Each note's (start tick, end tick), at least a tick long (a sixteenth when quantized); a
/// note is cut where the next one of its pitch starts, since MIDI cannot hold both.
fn placed_notes(
    notes: &[Note],
    place: impl Fn(f64) -> f64,
    quantize: bool,
) -> Vec<(u64, u64, &Note)> {
    let shortest = if quantize {
        u64::from(TICKS_PER_QUARTER) / 4
    } else {
        1
    };
    let mut placed: Vec<(u64, u64, &Note)> = notes
        .iter()
        .map(|n| {
            let start = ticks(place(n.start));
            (start, ticks(place(n.end)).max(start + shortest), n)
        })
        .collect();
    placed.sort_by_key(|p| (p.2.pitch, p.0));
    for i in 1..placed.len() {
        if placed[i].2.pitch == placed[i - 1].2.pitch && placed[i].0 < placed[i - 1].1 {
            placed[i - 1].1 = placed[i].0.max(placed[i - 1].0 + 1);
        }
    }
    placed.sort_by_key(|p| p.0);
    placed
}

fn channel(message: MidiMessage) -> TrackEventKind<'static> {
    TrackEventKind::Midi {
        channel: u4::new(0),
        message,
    }
}

fn bend_event(value: i32) -> TrackEventKind<'static> {
    channel(MidiMessage::PitchBend {
        bend: midly::PitchBend(u14::new((value + 8192) as u16)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beats(times: &[f64], meter: u8) -> ClipBeats {
        ClipBeats {
            beats: times
                .iter()
                .enumerate()
                .map(|(i, &t)| (t, (i % meter as usize) as u8 + 1))
                .collect(),
            tempo_bpm: None,
            beats_per_bar: Some(meter),
        }
    }

    fn note(start: f64, end: f64, pitch: u8, bends: Vec<i32>) -> Note {
        Note {
            start,
            end,
            pitch,
            amplitude: 0.5,
            bends,
        }
    }

    /// (tick, event) of the file's one track.
    fn events(bytes: &[u8]) -> Vec<(u64, TrackEventKind<'_>)> {
        let smf = Smf::parse(bytes).unwrap();
        assert_eq!(smf.tracks.len(), 1);
        let mut now = 0;
        smf.tracks[0]
            .iter()
            .map(|e| {
                now += u64::from(e.delta.as_int());
                (now, e.kind)
            })
            .collect()
    }

    #[test]
    fn beats_fall_on_quarter_notes_and_the_first_downbeat_starts_a_bar() {
        let b = beats(&[0.3, 0.8, 1.3, 1.8, 2.4], 4);
        let grid = BeatGrid::new(Some(&b));
        // 0.3 s fits one 0.5 s quarter before the first beat.
        for (i, t) in [0.3, 0.8, 1.3, 1.8, 2.4].iter().enumerate() {
            assert!((grid.quarters(*t) - (1 + i) as f64).abs() < 1e-9);
        }
        assert!(
            (grid.quarters(2.7) - 5.5).abs() < 1e-9,
            "past the last beat at its tempo"
        );
        let bytes = encode(&[note(1.3, 1.8, 60, vec![])], Some(&b), false).unwrap();
        let events = events(&bytes);
        let on = events.iter().find(|e| {
            matches!(
                e.1,
                TrackEventKind::Midi {
                    message: MidiMessage::NoteOn { .. },
                    ..
                }
            )
        });
        assert_eq!(on.unwrap().0, 3 * 480);
        let tempi: Vec<(u64, u32)> = events
            .iter()
            .filter_map(|e| match e.1 {
                TrackEventKind::Meta(MetaMessage::Tempo(t)) => Some((e.0, t.as_int())),
                _ => None,
            })
            .collect();
        assert_eq!(
            tempi,
            vec![
                (0, 300_000),
                (480, 500_000),
                (960, 500_000),
                (1440, 500_000),
                (1920, 600_000)
            ]
        );
        let signatures: Vec<(u64, u8)> = events
            .iter()
            .filter_map(|e| match e.1 {
                TrackEventKind::Meta(MetaMessage::TimeSignature(n, ..)) => Some((e.0, n)),
                _ => None,
            })
            .collect();
        assert_eq!(
            signatures,
            vec![(0, 1), (480, 4)],
            "a one-beat pickup, then 4/4"
        );
    }

    #[test]
    fn quantized_notes_start_and_end_on_sixteenths() {
        let b = beats(&[0.0, 0.5, 1.0, 1.5, 2.0], 4);
        let notes = [note(0.27, 0.29, 64, vec![]), note(1.06, 1.61, 67, vec![])];
        let bytes = encode(&notes, Some(&b), true).unwrap();
        let ticks: Vec<(u64, bool)> = events(&bytes)
            .iter()
            .filter_map(|e| match e.1 {
                TrackEventKind::Midi {
                    message: MidiMessage::NoteOn { .. },
                    ..
                } => Some((e.0, true)),
                TrackEventKind::Midi {
                    message: MidiMessage::NoteOff { .. },
                    ..
                } => Some((e.0, false)),
                _ => None,
            })
            .collect();
        // 0.27 s is 0.54 quarters: the sixteenth at 0.5; its end (0.58) would be the same
        // sixteenth, so the note keeps one.
        assert_eq!(
            ticks,
            vec![(240, true), (360, false), (960, true), (1560, false)]
        );
    }

    #[test]
    fn bends_go_only_to_notes_alone_and_are_undone_after() {
        let notes = [
            note(0.0, 1.0, 60, vec![0, 1, 1, 0, -1]),
            note(2.0, 3.0, 62, vec![1, 1]),
            note(2.5, 3.5, 65, vec![2, 2]),
        ];
        let bends: Vec<(u64, u16)> = events(&encode(&notes, None, false).unwrap())
            .iter()
            .filter_map(|e| match e.1 {
                TrackEventKind::Midi {
                    message: MidiMessage::PitchBend { bend },
                    ..
                } => Some((e.0, bend.0.as_int())),
                _ => None,
            })
            .collect();
        // 120 bpm without beats: the note is 960 ticks long, its 5 bends 240 apart.
        assert_eq!(
            bends,
            vec![
                (240, 8192 + 1365),
                (720, 8192),
                (960, 8192 - 1365),
                (960, 8192)
            ]
        );
    }

    #[test]
    fn repeated_pitches_are_cut_where_the_next_starts() {
        let notes = [note(0.0, 1.0, 60, vec![]), note(0.5, 1.5, 60, vec![])];
        let offs: Vec<u64> = events(&encode(&notes, None, false).unwrap())
            .iter()
            .filter(|e| {
                matches!(
                    e.1,
                    TrackEventKind::Midi {
                        message: MidiMessage::NoteOff { .. },
                        ..
                    }
                )
            })
            .map(|e| e.0)
            .collect();
        assert_eq!(offs, vec![480, 1440]);
    }
}
