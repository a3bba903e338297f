//! A patch network's chain, the same for a file and a live stream: the stream's 16 kHz
//! log-mel frames (musicnn's front end, from the 22.05 kHz signal every pipeline hears) fill a
//! 3 s window; every `hop` frames once it is full, the network and both heads run on it. A
//! file uses non-overlapping patches (`hop` = [`PATCH_FRAMES`]); live input refreshes about
//! once a second.

use std::collections::VecDeque;
use std::sync::Arc;

use mirador_dsp::{AnalyzerConfig, Frame, StreamingAnalyzer};

use super::saliency::PatchSaliency;
use super::{compress, Tagger, HOP_LENGTH, N_MELS, PATCH_FRAMES, SAMPLE_RATE, TAGS};
use crate::{ModelError, Pipeline};

/// What one patch gives.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutput {
    /// Analysis-rate (22.05 kHz) sample index, on the stream's timeline, of the patch's end.
    pub end: u64,
    pub embedding: Vec<f32>,
    /// Sigmoid likelihoods of [`TAGS`].
    pub tags: Vec<f32>,
    /// Genre and mood probabilities, in the heads' class orders.
    pub genre: Vec<f64>,
    pub mood: Vec<f64>,
    /// The network's input, time-major, when the pipeline was asked to keep it.
    pub patch: Option<Vec<f32>>,
    /// What silencing each part of the patch does, when the pipeline was asked to explain.
    pub saliency: Option<PatchSaliency>,
}

pub struct PatchPipeline {
    mel: StreamingAnalyzer,
    rest: Patches,
}

/// What follows the mel front end.
struct Patches {
    tagger: Arc<Tagger>,
    /// Frames between two runs once the window is full.
    hop: usize,
    /// The newest `PATCH_FRAMES` compressed mel frames.
    window: VecDeque<[f32; N_MELS]>,
    since_run: usize,
    /// Frames since the start or the last discontinuity, and patches run over them.
    frames: u64,
    runs: u64,
    origin: Option<u64>,
    patch: Vec<f32>,
    outputs: Vec<PatchOutput>,
    keep_patches: bool,
    explain: bool,
    error: Option<ModelError>,
}

fn mel_analyzer() -> Result<StreamingAnalyzer, ModelError> {
    let config = AnalyzerConfig {
        input_sample_rate: crate::SAMPLE_RATE,
        channels: 1,
        analysis: super::analysis_params(),
    };
    Ok(StreamingAnalyzer::new(&config)?)
}

impl PatchPipeline {
    /// A pipeline that runs every `hop` frames (62.5 per second) once 3 s are in.
    pub fn new(tagger: Arc<Tagger>, hop: usize) -> Result<Self, ModelError> {
        Ok(Self {
            mel: mel_analyzer()?,
            rest: Patches {
                tagger,
                hop: hop.max(1),
                window: VecDeque::with_capacity(PATCH_FRAMES + 1),
                since_run: 0,
                frames: 0,
                runs: 0,
                origin: None,
                patch: Vec::with_capacity(PATCH_FRAMES * N_MELS),
                outputs: Vec::new(),
                keep_patches: false,
                explain: false,
                error: None,
            },
        })
    }

    /// Non-overlapping patches, as a whole clip is tagged.
    pub fn for_clip(tagger: Arc<Tagger>) -> Result<Self, ModelError> {
        Self::new(tagger, PATCH_FRAMES)
    }

    /// Keeps each patch in its output (for parity checks of the front end).
    pub fn keeping_patches(mut self) -> Self {
        self.rest.keep_patches = true;
        self
    }

    /// Occludes each patch to explain it ([`PatchSaliency`]; [`super::saliency::CELLS`]
    /// more network runs per patch), and keeps it.
    pub fn explaining(mut self) -> Self {
        self.rest.explain = true;
        self.keeping_patches()
    }

    /// Starts or stops occluding the patches (live: while the view shows why), without
    /// keeping them.
    pub fn set_explaining(&mut self, on: bool) {
        self.rest.explain = on;
    }

    pub fn tagger(&self) -> &Tagger {
        &self.rest.tagger
    }

    /// The patches run since the last call, oldest first.
    pub fn take_outputs(&mut self) -> std::vec::Drain<'_, PatchOutput> {
        self.rest.outputs.drain(..)
    }

    /// Forgets everything, outputs included (a new stream).
    pub fn reset(&mut self) {
        self.discontinuity(0);
        self.rest.outputs.clear();
        self.rest.error = None;
    }
}

impl Patches {
    fn frame(&mut self, frame: &Frame) {
        if self.window.len() == PATCH_FRAMES {
            self.window.pop_front();
        }
        let mut mel = [0.0; N_MELS];
        mel.iter_mut()
            .zip(&frame.mel)
            .for_each(|(m, &p)| *m = compress(p));
        self.window.push_back(mel);
        self.frames += 1;
        self.since_run += 1;
        if self.window.len() == PATCH_FRAMES && self.since_run >= self.hop {
            self.since_run = 0;
            self.run();
        }
    }

    fn run(&mut self) {
        self.patch.clear();
        self.patch.extend(self.window.iter().flatten());
        let size = PATCH_FRAMES * N_MELS;
        if self.patch.is_empty() {
            // An empty clip is one silent patch.
            self.patch.resize(size, 0.0);
        } else if self.patch.len() < size {
            // A clip shorter than a patch is repeated to fill it.
            let have = self.patch.len();
            for i in have..size {
                self.patch.push(self.patch[i % have]);
            }
        }
        let tagger = &self.tagger;
        let end = self.origin.unwrap_or(0) + analysis_samples(self.frames);
        let patch = self.keep_patches.then(|| self.patch.clone());
        let result = tagger.network.run(&self.patch).and_then(|out| {
            let genre = tagger.genre.predict(&out.head_input)?;
            let mood = tagger.mood.predict(&out.head_input)?;
            let saliency = self
                .explain
                .then(|| PatchSaliency::of(tagger, &self.patch, &genre, &mood))
                .transpose()?;
            Ok(PatchOutput {
                end,
                genre,
                mood,
                embedding: out.embedding,
                tags: out.tags,
                patch,
                saliency,
            })
        });
        self.runs += 1;
        match result {
            Ok(output) => self.outputs.push(output),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }
}

/// 22.05 kHz samples spanned by `frames` 16 kHz mel hops.
fn analysis_samples(frames: u64) -> u64 {
    frames * HOP_LENGTH as u64 * crate::SAMPLE_RATE as u64 / SAMPLE_RATE as u64
}

impl Pipeline for PatchPipeline {
    fn push(&mut self, block: &[f32], position: u64) {
        self.rest.origin.get_or_insert(position);
        let rest = &mut self.rest;
        self.mel.process_interleaved(block, &mut |f| rest.frame(f));
    }

    fn discontinuity(&mut self, _position: u64) {
        if let Ok(fresh) = mel_analyzer() {
            self.mel = fresh;
        }
        let r = &mut self.rest;
        r.window.clear();
        r.since_run = 0;
        r.frames = 0;
        r.runs = 0;
        r.origin = None;
    }

    fn finish(&mut self) {
        let rest = &mut self.rest;
        self.mel.flush(&mut |f| rest.frame(f));
        if self.rest.runs == 0 {
            self.rest.run();
        }
    }

    fn take_error(&mut self) -> Option<ModelError> {
        self.rest.error.take()
    }
}

/// Everything a patch network and its heads say about a clip.
#[derive(Debug, Clone)]
pub struct ClipPredictions {
    pub patches: usize,
    /// GTZAN genre probabilities, in the genre head's class order.
    pub genre: Vec<(String, f64)>,
    /// 4Q quadrant probabilities (Q1 happy, Q2 tense, Q3 sad, Q4 calm).
    pub mood: Vec<(String, f64)>,
    /// From the quadrant probabilities: P(Q1) + P(Q4) - P(Q2) - P(Q3), in -1..1.
    pub valence: f64,
    /// P(Q1) + P(Q2) - P(Q3) - P(Q4), in -1..1.
    pub arousal: f64,
    /// The five most likely MSD tags with their mean likelihood.
    pub top_tags: Vec<(&'static str, f32)>,
    /// The mean likelihood of every one of [`TAGS`], in order.
    pub tags: Vec<f32>,
    /// The clip's embedding: the mean of its patches' embeddings, L2-normalized (all zero when
    /// they sum to nothing).
    pub embedding: Vec<f32>,
}

/// Averages a clip's patch outputs (at least one).
pub fn summarize(tagger: &Tagger, outputs: &[PatchOutput]) -> ClipPredictions {
    let mut summary = ClipSummary::default();
    outputs.iter().for_each(|out| summary.add(out));
    summary.predictions(tagger)
}

/// [`summarize`] patch by patch, so a long clip's outputs need not be kept: running sums of
/// the probabilities, tag likelihoods and embeddings.
#[derive(Debug, Default, Clone)]
pub struct ClipSummary {
    genre: Vec<f64>,
    mood: Vec<f64>,
    tags: Vec<f32>,
    embedding: Vec<f64>,
    patches: usize,
}

impl ClipSummary {
    pub fn add(&mut self, out: &PatchOutput) {
        fn accumulate<T: Copy + std::ops::AddAssign>(total: &mut Vec<T>, values: &[T]) {
            if total.is_empty() {
                total.extend_from_slice(values);
            } else {
                total.iter_mut().zip(values).for_each(|(t, &v)| *t += v);
            }
        }
        accumulate(&mut self.genre, &out.genre);
        accumulate(&mut self.mood, &out.mood);
        accumulate(&mut self.tags, &out.tags);
        let embedding: Vec<f64> = out.embedding.iter().map(|&e| e as f64).collect();
        accumulate(&mut self.embedding, &embedding);
        self.patches += 1;
    }

    /// The mean of what was added, labelled with `tagger`'s classes.
    pub fn predictions(&self, tagger: &Tagger) -> ClipPredictions {
        let n = self.patches.max(1) as f64;
        let mean = |total: &[f64], len: usize| -> Vec<f64> {
            (0..len)
                .map(|i| total.get(i).map_or(0.0, |t| t / n))
                .collect()
        };
        let genre = mean(&self.genre, tagger.genre.classes.len());
        let mood = mean(&self.mood, tagger.mood.classes.len());
        let q = |i: usize| mood.get(i).copied().unwrap_or(0.0);
        let tags: Vec<f32> = (0..TAGS.len())
            .map(|i| self.tags.get(i).map_or(0.0, |v| v / n as f32))
            .collect();
        let mut top: Vec<(&'static str, f32)> = TAGS.iter().copied().zip(tags.clone()).collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        top.truncate(5);
        let labelled =
            |classes: &[String], p: &[f64]| classes.iter().cloned().zip(p.to_vec()).collect();
        ClipPredictions {
            patches: self.patches,
            valence: q(0) + q(3) - q(1) - q(2),
            arousal: q(0) + q(1) - q(2) - q(3),
            genre: labelled(&tagger.genre.classes, &genre),
            mood: labelled(&tagger.mood.classes, &mood),
            top_tags: top,
            tags,
            embedding: l2_normalized(&self.embedding),
        }
    }
}

/// `v` scaled to unit length, as f32; all zero when it has none.
pub fn l2_normalized(v: &[f64]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let scale = if norm > 0.0 && norm.is_finite() {
        1.0 / norm
    } else {
        0.0
    };
    v.iter().map(|x| (x * scale) as f32).collect()
}
