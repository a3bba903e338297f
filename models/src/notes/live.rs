//! basic-pitch live: every hop, the network hears the 2 s ending at the newest sample, and
//! the frames not yet taken, up to [`RIGHT_TRIM`] frames before the window's end (its edge
//! is unreliable), go to a forward note tracker. A note starts at an onset peak (announced
//! once the next frame confirms the peak) and ends when the note activation has stayed
//! below the frame threshold for 11 frames, as in the package's note creation; the melodia
//! trick and inferred onsets need the whole file and are left to [`super::NotePipeline`].
//! A note is announced once it has lasted longer than the shortest note the package keeps
//! (11 frames): with windows every 302 ms, 0.38 s after its onset on average on real music
//! (`models/basic_pitch/REPORT.md`).

use std::sync::Arc;

use super::creation::NoteSettings;
use super::{Note, NoteNet, HOP, KEYS, LOWEST_KEY, WINDOW, WINDOW_FRAMES};
use crate::{ModelError, Pipeline, SAMPLE_RATE};

/// Frames at a window's end left for the next window.
pub const RIGHT_TRIM: usize = 8;
/// Frames below threshold a note may run through before it ends (the package's).
const ENERGY_TOLERANCE: usize = 11;

/// A note starting or ending, on the analysis timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoteEvent {
    On { time: f64, pitch: u8, velocity: u8 },
    Off { time: f64, pitch: u8 },
}

/// A note sounding: where it started, its activation so far, frames since it fell below,
/// and whether it has lasted long enough to be announced.
#[derive(Debug, Clone, Copy)]
struct Sounding {
    start: u64,
    sum: f64,
    frames: u32,
    below: usize,
    velocity: u8,
    announced: bool,
}

pub struct LiveNotes {
    net: Arc<NoteNet>,
    settings: NoteSettings,
    /// Frames between windows.
    hop_frames: usize,
    /// The newest samples, at least a window's worth (silence before the stream).
    recent: Vec<f32>,
    /// Samples heard since the stream (re)started, and where that was.
    heard: u64,
    origin: u64,
    /// Samples heard when the last window ran.
    ran_at: u64,
    /// The next frame to track, counted from the stream's start.
    next_frame: u64,
    /// The last two frames' onset activations, older first.
    onsets: [[f32; KEYS]; 2],
    sounding: [Option<Sounding>; KEYS],
    events: Vec<NoteEvent>,
    notes: Vec<Note>,
    error: Option<ModelError>,
}

impl LiveNotes {
    /// Windows every `hop_frames` frames (11.6 ms each).
    pub fn new(net: Arc<NoteNet>, settings: NoteSettings, hop_frames: usize) -> Self {
        let mut live = Self {
            net,
            settings,
            hop_frames: hop_frames.clamp(1, WINDOW_FRAMES - RIGHT_TRIM - 16),
            recent: Vec::with_capacity(2 * WINDOW),
            heard: 0,
            origin: 0,
            ran_at: 0,
            next_frame: 0,
            onsets: [[0.0; KEYS]; 2],
            sounding: [None; KEYS],
            events: Vec::new(),
            notes: Vec::new(),
            error: None,
        };
        live.restart(0);
        live
    }

    /// Notes starting and ending since the last call, in order.
    pub fn take_events(&mut self) -> std::vec::Drain<'_, NoteEvent> {
        self.events.drain(..)
    }

    /// The notes that have ended since the last call.
    pub fn take_notes(&mut self) -> std::vec::Drain<'_, Note> {
        self.notes.drain(..)
    }

    fn restart(&mut self, position: u64) {
        self.recent.clear();
        // Silence for a window starting up to a frame before the stream.
        self.recent.resize(WINDOW + HOP, 0.0);
        self.heard = 0;
        self.origin = position;
        self.ran_at = 0;
        self.next_frame = 0;
        self.onsets = [[0.0; KEYS]; 2];
        self.sounding = [None; KEYS];
    }

    fn time(&self, frame: u64) -> f64 {
        (self.origin + frame * HOP as u64) as f64 / f64::from(SAMPLE_RATE)
    }

    /// Runs the window ending at the newest whole frame and tracks its new frames.
    fn run_window(&mut self) {
        self.ran_at = self.heard;
        // The window starts on a frame boundary of the stream: frame `first` is its frame 0.
        let end = self.heard / HOP as u64 * HOP as u64;
        let start = end as i64 - WINDOW as i64;
        let first = start.div_euclid(HOP as i64);
        let start = first * HOP as i64;
        let offset = self.recent.len() as i64 - (self.heard as i64 - start);
        let window = &self.recent[offset as usize..offset as usize + WINDOW];
        let out = match self.net.run(window) {
            Ok(out) => out,
            Err(e) => {
                self.error.get_or_insert(e);
                return;
            }
        };
        let last = first + (WINDOW_FRAMES - RIGHT_TRIM) as i64;
        while (self.next_frame as i64) < last {
            let j = (self.next_frame as i64 - first) as usize;
            let rows = j * KEYS..(j + 1) * KEYS;
            self.track(&out.onset[rows.clone()], &out.note[rows]);
            self.next_frame += 1;
        }
        let keep = WINDOW + self.hop_frames * HOP;
        if self.recent.len() > 2 * keep {
            self.recent.drain(..self.recent.len() - keep);
        }
    }

    /// Frame `next_frame`: ends the notes that faded, starts those whose onset peaked on the
    /// frame before.
    fn track(&mut self, onset: &[f32], note: &[f32]) {
        let frame = self.next_frame;
        let threshold = self.settings.frame_threshold;
        for k in 0..KEYS {
            if let Some(s) = &mut self.sounding[k] {
                s.sum += f64::from(note[k]);
                s.frames += 1;
                if f64::from(note[k]) < threshold {
                    s.below += 1;
                } else {
                    s.below = 0;
                }
                let lasted = (frame + 1 - s.below as u64) - s.start;
                if !s.announced && lasted > self.settings.min_note_frames as u64 {
                    s.announced = true;
                    let (start, velocity) = (s.start, s.velocity);
                    self.events.push(NoteEvent::On {
                        time: self.time(start),
                        pitch: LOWEST_KEY + k as u8,
                        velocity,
                    });
                }
                if let Some(s) = self.sounding[k].filter(|s| s.below >= ENERGY_TOLERANCE) {
                    self.end(k, frame + 1 - s.below as u64);
                }
            }
            let [before, peak] = [self.onsets[0][k], self.onsets[1][k]];
            let is_peak = peak > before
                && peak > onset[k]
                && f64::from(peak) >= self.settings.onset_threshold
                && frame >= 1;
            if is_peak {
                let start = frame - 1;
                if self.sounding[k].is_some() {
                    self.end(k, start);
                }
                self.sounding[k] = Some(Sounding {
                    start,
                    sum: f64::from(note[k]),
                    frames: 1,
                    below: 0,
                    velocity: (127.0 * note[k].clamp(0.0, 1.0)).round().max(1.0) as u8,
                    announced: false,
                });
            }
        }
        self.onsets[0] = self.onsets[1];
        self.onsets[1].copy_from_slice(onset);
    }

    /// Ends the note on `key` at frame `at`; one too short to have been announced is
    /// dropped, as the package drops notes of 11 frames or fewer.
    fn end(&mut self, key: usize, at: u64) {
        let Some(s) = self.sounding[key].take().filter(|s| s.announced) else {
            return;
        };
        let pitch = LOWEST_KEY + key as u8;
        let end = at.max(s.start + 1);
        self.events.push(NoteEvent::Off {
            time: self.time(end),
            pitch,
        });
        self.notes.push(Note {
            start: self.time(s.start),
            end: self.time(end),
            pitch,
            amplitude: (s.sum / f64::from(s.frames)) as f32,
            bends: Vec::new(),
        });
    }

    /// Ends every sounding note at the newest frame tracked.
    fn end_all(&mut self) {
        for k in 0..KEYS {
            self.end(k, self.next_frame);
        }
    }
}

impl Pipeline for LiveNotes {
    fn push(&mut self, block: &[f32], position: u64) {
        if self.heard == 0 {
            self.origin = position;
        }
        for chunk in block.chunks(self.hop_frames * HOP) {
            self.recent.extend_from_slice(chunk);
            self.heard += chunk.len() as u64;
            if self.heard - self.ran_at >= (self.hop_frames * HOP) as u64 {
                self.run_window();
            }
        }
    }

    fn discontinuity(&mut self, position: u64) {
        self.end_all();
        self.restart(position);
    }

    fn finish(&mut self) {
        if self.heard > self.ran_at {
            self.run_window();
        }
        self.end_all();
    }

    fn take_error(&mut self) -> Option<ModelError> {
        self.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::NotePipeline;

    /// Plucked tones: MIDI `pitch` from `start` for `length` seconds, with weak harmonics and
    /// a decay.
    fn melody(notes: &[(u8, f64, f64)], seconds: f64) -> Vec<f32> {
        let rate = f64::from(SAMPLE_RATE);
        let mut out = vec![0.0f32; (seconds * rate) as usize];
        for &(pitch, start, length) in notes {
            let hz = 440.0 * 2f64.powf((f64::from(pitch) - 69.0) / 12.0);
            let from = (start * rate) as usize;
            for i in 0..(length * rate) as usize {
                let t = i as f64 / rate;
                let tone: f64 = (1..4)
                    .map(|h| (std::f64::consts::TAU * hz * h as f64 * t).sin() / (h * h * h) as f64)
                    .sum();
                out[from + i] += (0.2 * tone * (-2.0 * t).exp()) as f32;
            }
        }
        out
    }

    #[test]
    fn notes_are_announced_soon_after_their_onset_and_match_the_files() {
        let net = Arc::new(NoteNet::load().unwrap());
        let played = [
            (60, 0.5, 0.6),
            (64, 1.5, 0.6),
            (67, 2.5, 0.6),
            (72, 3.5, 1.0),
        ];
        let audio = melody(&played, 5.5);
        let hop_frames = 26;
        let mut live = LiveNotes::new(net.clone(), NoteSettings::default(), hop_frames);
        let mut announced = Vec::new();
        for (i, block) in audio.chunks(512).enumerate() {
            let position = (i * 512) as u64;
            live.push(block, position);
            let now = (position + block.len() as u64) as f64 / f64::from(SAMPLE_RATE);
            for event in live.take_events() {
                if let NoteEvent::On { time, pitch, .. } = event {
                    announced.push((pitch, time, now));
                }
            }
        }
        live.finish();
        assert!(live.take_error().is_none());
        let pitches: Vec<u8> = announced.iter().map(|a| a.0).collect();
        assert_eq!(pitches, vec![60, 64, 67, 72], "{announced:?}");
        for ((_, onset, _), (_, time, heard_at)) in played.iter().zip(&announced) {
            assert!((time - onset).abs() < 0.05, "onset {time} for {onset}");
            // The hop, the trimmed edge and the 12 frames a note must last, and a block.
            let waited = heard_at - onset;
            let most = ((hop_frames + RIGHT_TRIM + 12) * HOP + 512) as f64 / f64::from(SAMPLE_RATE);
            assert!(waited <= most, "announced {waited} s after");
        }
        // The file path hears the same notes.
        let mut file = NotePipeline::for_clip(net, NoteSettings::default());
        file.push(&audio, 0);
        file.finish();
        let notes: Vec<Note> = live.take_notes().collect();
        assert_eq!(
            notes.len(),
            file.notes().len(),
            "{notes:?} {:?}",
            file.notes()
        );
        for (l, f) in notes.iter().zip(file.notes()) {
            assert_eq!(l.pitch, f.pitch);
            assert!(
                (l.start - f.start).abs() < 0.05 && (l.end - f.end).abs() < 0.1,
                "{l:?} {f:?}"
            );
        }
    }
}
