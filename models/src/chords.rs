//! Chords, one chain for files and live input: `mirador-dsp`'s chroma frames (93 ms) at the
//! stream's tuning into its chord HMM. A file keeps its chroma frames and is decoded whole by
//! Viterbi at the end, frame by frame or beat by beat ([`ChordPipeline::segments`]); live,
//! the forward filter names the chord now ([`ChordPipeline::current`]). Silence is "no chord".

use mirador_dsp::pitch::chords::{
    segments, synchronize, Chord, ChordFollower, ChordModel, ChordSegment, Harmony,
};
use mirador_dsp::pitch::chroma_stream::{ChromaFrame, ChromaStream, HOP};
use mirador_dsp::pitch::tuning::TuningEstimator;

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

/// The chord being heard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurrentChord {
    pub chord: Chord,
    /// Its forward probability, 0 to 1.
    pub probability: f32,
    /// Analysis-rate position of the newest frame's centre.
    pub position: u64,
}

pub struct ChordPipeline {
    stream: ChromaStream,
    /// Files: every frame's chroma, for Viterbi at the end.
    frames: Option<Vec<Harmony>>,
    follower: ChordFollower,
    /// Live: the tuning, estimated as the stream goes.
    tuning: Option<TuningEstimator>,
    current: Option<CurrentChord>,
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
            tuning: Some(TuningEstimator::new(
                SAMPLE_RATE,
                mirador_dsp::pitch::chroma_stream::N_FFT,
            )),
            current: None,
            origin: None,
        }
    }

    /// Live: the chord now, once a frame has been heard.
    pub fn current(&self) -> Option<CurrentChord> {
        self.current
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
            current,
            ..
        } = self;
        let mut retune = false;
        stream.push(block, &mut |f| {
            let chroma = harmony(&f);
            match frames {
                Some(frames) => frames.push(chroma),
                None => {
                    let (chord, probability) = follower.push(&chroma);
                    *current = Some(CurrentChord {
                        chord,
                        probability,
                        position: origin + f.index * HOP as u64,
                    });
                    if let Some(t) = tuning {
                        t.push(f.power);
                        // Frames count from the stream's start or its last discontinuity.
                        retune |= (f.index + 1) % RETUNE_EVERY == 0;
                    }
                }
            }
        });
        if retune {
            if let Some(t) = &self.tuning {
                self.stream.set_tuning(t.estimate());
            }
        }
    }

    fn discontinuity(&mut self, _position: u64) {
        self.stream.reset();
        self.follower.reset();
        self.origin = None;
        self.current = None;
    }

    fn finish(&mut self) {
        let frames = &mut self.frames;
        self.stream.finish(&mut |f| {
            if let Some(frames) = frames {
                frames.push(harmony(&f));
            }
        });
    }

    fn take_error(&mut self) -> Option<ModelError> {
        None
    }
}
