//! A patch network (the distilled CNN, or musicnn) in the live engine: listens to the input on
//! the worker thread, keeps the last 3 s of log-mel frames, and about once a second runs the
//! network and both heads on them, smoothing the probabilities it publishes.

use std::collections::VecDeque;
use std::sync::Arc;

use mirador_dsp::live::{ClassProbabilities, Listener, Predictions};
use mirador_dsp::{AnalyzerConfig, ConfigError, Frame, StreamingAnalyzer};

use super::{compress, ClipModel, N_MELS, PATCH_FRAMES};

/// Mel frames between two runs: about one second (62.5 frames per second).
const RUN_EVERY: usize = 62;
/// Weight of the newest run in the published probabilities; older runs fade over ~3 s.
const SMOOTHING: f64 = 0.35;

pub struct LivePatches {
    model: Arc<ClipModel>,
    config: AnalyzerConfig,
    analyzer: StreamingAnalyzer,
    /// The newest `PATCH_FRAMES` compressed mel frames.
    frames: VecDeque<[f32; N_MELS]>,
    since_run: usize,
    genre: Option<Vec<f64>>,
    mood: Option<Vec<f64>>,
    changed: bool,
    patch: Vec<f32>,
    error: Option<String>,
}

impl LivePatches {
    pub fn new(
        model: Arc<ClipModel>,
        input_rate: u32,
        channels: usize,
    ) -> Result<Self, ConfigError> {
        let config = AnalyzerConfig {
            input_sample_rate: input_rate,
            channels,
            analysis: super::analysis_params(),
        };
        Ok(Self {
            model,
            analyzer: StreamingAnalyzer::new(&config)?,
            config,
            frames: VecDeque::with_capacity(PATCH_FRAMES + 1),
            since_run: 0,
            genre: None,
            mood: None,
            changed: false,
            patch: Vec::with_capacity(PATCH_FRAMES * N_MELS),
            error: None,
        })
    }

    fn run(&mut self) {
        self.patch.clear();
        self.patch.extend(self.frames.iter().flatten());
        let result = self
            .model
            .network
            .run(&self.patch)
            .map_err(|e| e.to_string());
        let heads = result.and_then(|out| {
            let genre = self.model.genre.predict(&out.embedding);
            let mood = self.model.mood.predict(&out.embedding);
            genre
                .and_then(|g| Ok((g, mood?)))
                .map_err(|e| e.to_string())
        });
        match heads {
            Ok((genre, mood)) => {
                smooth(&mut self.genre, genre);
                smooth(&mut self.mood, mood);
                self.changed = true;
            }
            // Reported once in the snapshot's place of the predictions; the stream goes on.
            Err(e) => self.error = Some(e),
        }
    }
}

fn smooth(state: &mut Option<Vec<f64>>, new: Vec<f64>) {
    match state {
        Some(old) => old
            .iter_mut()
            .zip(new)
            .for_each(|(o, n)| *o += SMOOTHING * (n - *o)),
        None => *state = Some(new),
    }
}

fn probabilities(model: &str, classes: &[String], p: &[f64]) -> ClassProbabilities {
    ClassProbabilities {
        model: model.into(),
        classes: classes
            .iter()
            .cloned()
            .zip(p.iter().map(|&v| v as f32))
            .collect(),
    }
}

impl Listener for LivePatches {
    fn listen(&mut self, samples: &[f32], _position: u64) {
        let (frames, since_run) = (&mut self.frames, &mut self.since_run);
        let mut sink = |frame: &Frame| {
            if frames.len() == PATCH_FRAMES {
                frames.pop_front();
            }
            let mut mel = [0.0; N_MELS];
            mel.iter_mut()
                .zip(&frame.mel)
                .for_each(|(m, &p)| *m = compress(p));
            frames.push_back(mel);
            *since_run += 1;
        };
        self.analyzer.process_interleaved(samples, &mut sink);
        if self.frames.len() == PATCH_FRAMES && self.since_run >= RUN_EVERY {
            self.since_run = 0;
            self.run();
        }
    }

    fn update(&mut self, predictions: &mut Predictions) {
        if let Some(e) = self.error.take() {
            // The worker thread has nowhere better to say it; the views keep the last values.
            eprintln!("mirador: {e}");
        }
        if !std::mem::take(&mut self.changed) {
            return;
        }
        if let Some(p) = &self.genre {
            predictions.genre = Some(probabilities(
                self.model.network.variant.name(),
                &self.model.genre.classes,
                p,
            ));
        }
        if let Some(p) = &self.mood {
            predictions.mood = Some(probabilities(
                self.model.network.variant.name(),
                &self.model.mood.classes,
                p,
            ));
        }
    }

    fn reset(&mut self) {
        if let Ok(fresh) = StreamingAnalyzer::new(&self.config) {
            self.analyzer = fresh;
        }
        self.frames.clear();
        self.since_run = 0;
        self.genre = None;
        self.mood = None;
        self.changed = false;
    }
}
