//! Chords and key, one chain for files and live input: `mirador-dsp`'s chroma frames (93 ms)
//! at the stream's tuning into its chord HMM and the key's tonal profile. A file keeps its
//! chroma frames and is decoded whole by Viterbi at the end, frame by frame or beat by beat
//! ([`ChordPipeline::segments`]); live, the forward filter names the chord now
//! ([`ChordPipeline::current`]) and the key fades older frames ([`ChordPipeline::key`]).
//! Silence is "no chord".

use mirador_dsp::pitch::chords::{
    segments, synchronize, Chord, ChordFollower, ChordModel, ChordSegment, Harmony,
};
use mirador_dsp::pitch::chroma_stream::{ChromaFrame, ChromaStream, HOP};
use mirador_dsp::pitch::key::{Key, TonalProfile, Tonality};
use mirador_dsp::pitch::tuning::{towards_a440, TuningEstimator};

use crate::{ModelError, Pipeline, SAMPLE_RATE};

/// Probability a chord lasts one more second: the HMM's only prior, applied per frame or per
/// beat by duration. Low, since the emissions are sharp: it smooths over passing tones of a
/// few frames, not over real changes.
const STAY_PER_SECOND: f32 = 0.27;
/// Frames below this RMS (-60 dBFS) are silence: no chord.
const SILENCE_RMS: f32 = 1e-3;
/// Live: a new chord is announced once it has led the forward probabilities this many
/// frames (~280 ms).
const HOLD_FRAMES: usize = 3;
/// Live: the tuning is re-estimated from what was heard every this many frames (~10 s).
const RETUNE_EVERY: u64 = 108;
/// Live: the key is read from the frames heard so far, each frame's weight halving over this
/// many seconds: close to a file's key after a minute, and following a modulation within one.
const KEY_HALF_LIFE_SECONDS: f32 = 30.0;

/// Live: the next chord is named once this song has moved on from the current one this
/// many times, this often to the same chord.
const NEXT_AFTER: u16 = 2;
const NEXT_SHARE: f32 = 0.6;

/// The chord being heard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurrentChord {
    pub chord: Chord,
    /// Its forward probability, 0 to 1.
    pub probability: f32,
    /// Analysis-rate position of the newest frame's centre.
    pub position: u64,
    /// The chord likely to come next and how often it has (0 to 1), when this song's own
    /// changes so far say so clearly.
    pub next: Option<(Chord, f32)>,
}

/// Which chord followed which in the stream so far: a fixed table of the most recent
/// distinct changes (no allocation), a song's progression being a handful of them.
#[derive(Debug, Clone)]
pub struct Progressions {
    changes: [(Chord, Chord, u16); Self::KEPT],
    len: usize,
    /// The change written over next when the table is full.
    oldest: usize,
}

impl Progressions {
    const KEPT: usize = 64;

    pub fn new() -> Self {
        Self {
            changes: [(Chord::None, Chord::None, 0); Self::KEPT],
            len: 0,
            oldest: 0,
        }
    }

    /// Counts a change from `from` to `to`.
    pub fn observe(&mut self, from: Chord, to: Chord) {
        if let Some(c) = self.changes[..self.len]
            .iter_mut()
            .find(|c| c.0 == from && c.1 == to)
        {
            c.2 = c.2.saturating_add(1);
        } else if self.len < Self::KEPT {
            self.changes[self.len] = (from, to, 1);
            self.len += 1;
        } else {
            self.changes[self.oldest] = (from, to, 1);
            self.oldest = (self.oldest + 1) % Self::KEPT;
        }
    }

    /// The chord that has most often followed `from`, and its share, when it has done so
    /// at least [`NEXT_AFTER`] times and [`NEXT_SHARE`] of the time.
    pub fn next(&self, from: Chord) -> Option<(Chord, f32)> {
        let after = self.changes[..self.len].iter().filter(|c| c.0 == from);
        let total: u32 = after.clone().map(|c| u32::from(c.2)).sum();
        let best = after.max_by_key(|c| c.2)?;
        let share = f32::from(best.2) / total as f32;
        (best.2 >= NEXT_AFTER && share >= NEXT_SHARE).then_some((best.1, share))
    }

    pub fn clear(&mut self) {
        self.len = 0;
        self.oldest = 0;
    }
}

impl Default for Progressions {
    fn default() -> Self {
        Self::new()
    }
}

pub struct ChordPipeline {
    stream: ChromaStream,
    /// Files: every frame's chroma, for Viterbi at the end.
    frames: Option<Vec<Harmony>>,
    follower: ChordFollower,
    /// Live: the tuning, estimated as the stream goes, and the frames it has heard.
    tuning: Option<(TuningEstimator, u64)>,
    /// The key's evidence; live, older frames fade.
    key: TonalProfile,
    current: Option<CurrentChord>,
    /// Live: the changes heard, for the next chord.
    progressions: Progressions,
    origin: Option<u64>,
}

/// The HMM for chroma columns `seconds` long.
fn model(seconds: f32) -> ChordModel {
    ChordModel::new(STAY_PER_SECOND.powf(seconds))
}

fn frame_seconds() -> f32 {
    HOP as f32 / SAMPLE_RATE as f32
}

impl ChordPipeline {
    /// For a whole clip whose tuning is known (the feature table's first pass).
    pub fn for_clip(tuning: f32) -> Self {
        let mut p = Self::live();
        p.stream.set_tuning(tuning);
        p.tuning = None;
        p.frames = Some(Vec::new());
        p
    }

    /// For a live stream: tuning estimated as it goes, chords followed frame by frame.
    pub fn live() -> Self {
        Self {
            stream: ChromaStream::new(SAMPLE_RATE, 0.0),
            frames: None,
            follower: ChordFollower::new(model(frame_seconds()), HOLD_FRAMES),
            tuning: Some((
                TuningEstimator::new(SAMPLE_RATE, mirador_dsp::pitch::chroma_stream::N_FFT),
                0,
            )),
            key: TonalProfile::default(),
            current: None,
            progressions: Progressions::new(),
            origin: None,
        }
    }

    /// Live: the chord now, once a frame has been heard.
    pub fn current(&self) -> Option<CurrentChord> {
        self.current
    }

    /// The key's evidence so far (a file's whole; live, fading), `None` in silence.
    pub fn tonality(&self) -> Option<Tonality> {
        self.key.mean()
    }

    /// The key of what was heard ([`crate::key`]), `None` in silence.
    pub fn key(&self) -> Option<Key> {
        self.tonality().as_ref().and_then(crate::key::key_of)
    }

    /// Files: the clip's chords, `end` seconds long, decoded whole; beat by beat when
    /// `beats` (seconds, ascending) are given, each chord then starting on a beat.
    pub fn segments(&self, beats: Option<&[f64]>, end: f64) -> Vec<ChordSegment> {
        let Some(frames) = &self.frames else {
            return Vec::new();
        };
        let hop = f64::from(frame_seconds());
        // Frame i is centred on i * hop: it stands for the time from half a hop before.
        let start_of = |i: usize| ((i as f64 - 0.5) * hop).max(0.0);
        match beats.filter(|b| b.len() >= 2) {
            Some(beats) => {
                let cuts: Vec<usize> = beats
                    .iter()
                    .map(|&t| (t / hop + 0.5).floor().max(0.0) as usize)
                    .collect();
                let (columns, cuts) = synchronize(frames, &cuts);
                let mean_beat = (beats[beats.len() - 1] - beats[0]) / (beats.len() - 1) as f64;
                let chords = model(mean_beat as f32).decode(&columns);
                let times: Vec<f64> = cuts.iter().map(|&c| start_of(c)).collect();
                segments(&chords, &times, end)
            }
            None => {
                let chords = model(frame_seconds()).decode(frames);
                let times: Vec<f64> = (0..frames.len()).map(start_of).collect();
                segments(&chords, &times, end)
            }
        }
    }
}

/// A frame's chroma and bass, silence where the frame is quiet.
fn harmony(f: &ChromaFrame) -> Harmony {
    if f.rms < SILENCE_RMS {
        Harmony::SILENT
    } else {
        Harmony {
            chroma: f.chroma,
            bass: f.bass,
        }
    }
}

impl Pipeline for ChordPipeline {
    fn push(&mut self, block: &[f32], position: u64) {
        let origin = *self.origin.get_or_insert(position);
        let Self {
            stream,
            frames,
            follower,
            tuning,
            key,
            current,
            progressions,
            ..
        } = self;
        let mut retune = false;
        let keep = 0.5f32.powf(frame_seconds() / KEY_HALF_LIFE_SECONDS);
        stream.push(block, &mut |f| {
            let chroma = harmony(&f);
            if frames.is_none() {
                key.fade(keep);
            }
            key.add(&chroma.chroma, &chroma.bass);
            match frames {
                Some(frames) => frames.push(chroma),
                None => {
                    let (chord, probability) = follower.push(&chroma);
                    if let Some(before) = current.filter(|c| c.chord != chord) {
                        progressions.observe(before.chord, chord);
                    }
                    *current = Some(CurrentChord {
                        chord,
                        probability,
                        position: origin + f.index * HOP as u64,
                        next: progressions.next(chord),
                    });
                    if let Some((t, heard)) = tuning {
                        t.push(f.magnitude);
                        *heard += 1;
                        // Frames count from the stream's start or its last discontinuity.
                        retune |= (f.index + 1) % RETUNE_EVERY == 0;
                    }
                }
            }
        });
        if retune {
            if let Some((t, heard)) = &self.tuning {
                let seconds = *heard as f32 * frame_seconds();
                self.stream.set_tuning(towards_a440(t.estimate(), seconds));
            }
        }
    }

    fn discontinuity(&mut self, _position: u64) {
        self.stream.reset();
        self.follower.reset();
        self.key = TonalProfile::default();
        self.origin = None;
        self.current = None;
        self.progressions.clear();
    }

    fn finish(&mut self) {
        let (frames, key) = (&mut self.frames, &mut self.key);
        self.stream.finish(&mut |f| {
            if let Some(frames) = frames {
                let chroma = harmony(&f);
                key.add(&chroma.chroma, &chroma.bass);
                frames.push(chroma);
            }
        });
    }

    fn take_error(&mut self) -> Option<ModelError> {
        None
    }
}

#[cfg(test)]
mod tests {
    use mirador_dsp::pitch::chords::Quality;

    use super::*;

    #[test]
    fn the_next_chord_is_named_once_the_song_has_shown_it() {
        let [c, f, g, am] = [
            Chord::Some(0, Quality::Major),
            Chord::Some(5, Quality::Major),
            Chord::Some(7, Quality::Major),
            Chord::Some(9, Quality::Minor),
        ];
        let mut p = Progressions::new();
        p.observe(c, g);
        assert_eq!(p.next(c), None, "once is not a habit");
        p.observe(g, am);
        p.observe(am, f);
        p.observe(f, c);
        p.observe(c, g);
        assert_eq!(p.next(c), Some((g, 1.0)));
        // Split two ways: not sure.
        p.observe(c, am);
        p.observe(c, am);
        assert_eq!(p.next(c), None);
        // A full table forgets the oldest.
        for i in 0..200 {
            p.observe(
                Chord::Some(i % 12, Quality::Sus2),
                Chord::Some(i % 11, Quality::Sus4),
            );
        }
        assert_eq!(p.len, Progressions::KEPT);
        p.clear();
        assert_eq!(p.next(g), None);
    }
}
