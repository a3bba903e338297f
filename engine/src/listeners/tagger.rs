//! A patch network (the distilled CNN, or musicnn) in the live engine: its pipeline runs
//! about once a second on the last 3 s heard; the listener smooths the probabilities it
//! publishes.

use std::sync::Arc;

use mirador_models::tagger::saliency::{
    cell_offset_seconds, cell_seconds, patch_seconds, HeadKind, PatchSaliency, BANDS, TIME_CELLS,
};
use mirador_models::tagger::{PatchPipeline, Tagger};
use mirador_models::{ModelError, Pipeline, SAMPLE_RATE};

use crate::listener::{Heard, Listener};
use crate::snapshot::{ClassProbabilities, SaliencyCell};

/// Mel frames between two runs: about one second (62.5 frames per second).
const RUN_EVERY: usize = 62;
/// Weight of the newest run in the published probabilities; older runs fade over ~3 s.
const SMOOTHING: f32 = 0.35;
/// Before the first patch is full.
const WAITING: &str = "listening: genre and mood after 3 s of music";
const SILENCE: &str = "not enough music: silence";

pub struct TaggerListener {
    pipeline: PatchPipeline,
    genre: Smoothed,
    mood: Smoothed,
    /// Mean square of the signal over about the last patch (3 s), for the silence gate.
    mean_square: f64,
    withheld: Option<&'static str>,
    withheld_changed: bool,
    /// Saliency cells not yet handed over, and where the last one ends (seconds).
    saliency: Vec<SaliencyCell>,
    explained_until: Option<f64>,
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
            mean_square: 0.0,
            withheld: Some(WAITING),
            withheld_changed: true,
            saliency: Vec::new(),
            explained_until: None,
        })
    }

    /// Adds the cells of a patch ending at `end` (analysis-rate samples) that start after
    /// those already explained, for the genre shown now. Live patches overlap (3 s every
    /// second), so each adds about its newest second: the cells that heard the most.
    fn explain_patch(&mut self, saliency: &PatchSaliency, end: u64) {
        let shown = &self.genre.probabilities.probabilities;
        let Some(class) = (0..shown.len()).max_by(|&a, &b| shown[a].total_cmp(&shown[b])) else {
            return;
        };
        let Some(cells) = saliency.cells(HeadKind::Genre, class) else {
            return;
        };
        let start = end as f64 / f64::from(SAMPLE_RATE) - patch_seconds();
        for t in 0..TIME_CELLS {
            let time = start + cell_offset_seconds(t);
            // Half a cell's slack: a patch's hop is not a whole number of cells.
            if self
                .explained_until
                .is_some_and(|until| time < until - cell_seconds() / 2.0)
            {
                continue;
            }
            let mut values = [0.0; BANDS];
            values.copy_from_slice(&cells[t * BANDS..(t + 1) * BANDS]);
            self.saliency.push(SaliencyCell {
                time,
                seconds: cell_seconds() as f32,
                values,
                class: class as u8,
            });
            self.explained_until = Some(time + cell_seconds());
        }
    }

    fn withhold(&mut self, why: Option<&'static str>) {
        if self.withheld != why {
            self.withheld = why;
            self.withheld_changed = true;
        }
    }
}

/// The patch mean square below which the networks hear silence, not music: the level of
/// the files' gate (`mirador_models::abstain::MIN_LUFS`), taken on the unweighted signal.
fn silence_floor() -> f64 {
    10f64.powf(mirador_models::abstain::MIN_LUFS / 10.0)
}

impl Listener for TaggerListener {
    fn push(&mut self, block: &[f32], position: u64) {
        // A one-pole mean square with a time constant of one patch.
        let a = 1.0 / (mirador_models::abstain::MIN_SECONDS * mirador_models::SAMPLE_RATE as f64);
        for &x in block {
            self.mean_square += a * (f64::from(x) * f64::from(x) - self.mean_square);
        }
        self.pipeline.push(block, position);
        let silent = self.mean_square < silence_floor();
        let mut ran = false;
        let outputs: Vec<_> = self.pipeline.take_outputs().collect();
        for out in outputs {
            ran = true;
            if !silent {
                self.genre.add(&out.genre);
                self.mood.add(&out.mood);
                if let Some(saliency) = &out.saliency {
                    self.explain_patch(saliency, out.end);
                }
            }
        }
        if ran {
            if silent {
                self.genre.clear();
                self.mood.clear();
                self.withhold(Some(SILENCE));
            } else {
                self.withhold(None);
            }
        }
    }

    fn discontinuity(&mut self, position: u64) {
        self.pipeline.discontinuity(position);
        self.explained_until = None;
    }

    fn update(&mut self, heard: &mut Heard) {
        if let Some(e) = self.pipeline.take_error() {
            heard.error = Some(format!("genre and mood: {e}"));
        }
        if std::mem::take(&mut self.withheld_changed) {
            heard.predictions_withheld = self.withheld;
            if self.withheld.is_some() {
                heard.genre = None;
                heard.mood = None;
            }
        }
        self.genre.publish(&mut heard.genre);
        self.mood.publish(&mut heard.mood);
        heard.saliency.append(&mut self.saliency);
    }

    fn reset(&mut self) {
        self.pipeline.reset();
        self.genre.clear();
        self.mood.clear();
        self.mean_square = 0.0;
        self.withheld = Some(WAITING);
        self.withheld_changed = true;
        self.saliency.clear();
        self.explained_until = None;
    }

    fn explain(&mut self, on: bool) {
        self.pipeline.set_explaining(on);
        if !on {
            self.saliency.clear();
            self.explained_until = None;
        }
    }
}
