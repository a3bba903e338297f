//! A patch network (the distilled CNN, or musicnn) in the live engine: its pipeline runs
//! about once a second on the last 3 s heard; the listener smooths the probabilities it
//! publishes.

use std::sync::Arc;

use mirador_models::tagger::{PatchPipeline, Tagger};
use mirador_models::{ModelError, Pipeline};

use crate::listener::{Heard, Listener};
use crate::snapshot::ClassProbabilities;

/// Mel frames between two runs: about one second (62.5 frames per second).
const RUN_EVERY: usize = 62;
/// Weight of the newest run in the published probabilities; older runs fade over ~3 s.
const SMOOTHING: f32 = 0.35;

pub struct TaggerListener {
    pipeline: PatchPipeline,
    genre: Smoothed,
    mood: Smoothed,
}

/// Smoothed probabilities in the snapshot's form.
struct Smoothed {
    probabilities: ClassProbabilities,
    seen: bool,
    changed: bool,
}

impl Smoothed {
    fn new(model: &'static str, classes: &[String]) -> Self {
        Self {
            probabilities: ClassProbabilities {
                model,
                classes: classes.into(),
                probabilities: vec![0.0; classes.len()],
            },
            seen: false,
            changed: false,
        }
    }

    fn add(&mut self, new: &[f64]) {
        let old = &mut self.probabilities.probabilities;
        for (o, &n) in old.iter_mut().zip(new) {
            *o = if self.seen {
                *o + SMOOTHING * (n as f32 - *o)
            } else {
                n as f32
            };
        }
        self.seen = true;
        self.changed = true;
    }

    fn publish(&mut self, slot: &mut Option<ClassProbabilities>) {
        if std::mem::take(&mut self.changed) {
            match slot {
                Some(p) => p.clone_from(&self.probabilities),
                None => *slot = Some(self.probabilities.clone()),
            }
        }
    }

    fn clear(&mut self) {
        self.probabilities.probabilities.fill(0.0);
        self.seen = false;
        self.changed = false;
    }
}

impl TaggerListener {
    pub fn new(tagger: Arc<Tagger>) -> Result<Self, ModelError> {
        let model = tagger.network.variant.name();
        let genre = Smoothed::new(model, &tagger.genre.classes);
        let mood = Smoothed::new(model, &tagger.mood.classes);
        Ok(Self {
            pipeline: PatchPipeline::new(tagger, RUN_EVERY)?,
            genre,
            mood,
        })
    }
}

impl Listener for TaggerListener {
    fn push(&mut self, block: &[f32], position: u64) {
        self.pipeline.push(block, position);
        for out in self.pipeline.take_outputs() {
            self.genre.add(&out.genre);
            self.mood.add(&out.mood);
        }
    }

    fn discontinuity(&mut self, position: u64) {
        self.pipeline.discontinuity(position);
    }

    fn update(&mut self, heard: &mut Heard) {
        if let Some(e) = self.pipeline.take_error() {
            heard.error = Some(format!("genre and mood: {e}"));
        }
        self.genre.publish(&mut heard.genre);
        self.mood.publish(&mut heard.mood);
    }

    fn reset(&mut self) {
        self.pipeline.reset();
        self.genre.clear();
        self.mood.clear();
    }
}
