//! The patch networks in the live engine: the distilled CNN runs about once a second on the
//! last 3 s heard and names the mood, and the genre too unless musicnn does, from a patch
//! every 5 s on its own thread (right 5-15 points more often by a held-out clip's end, for
//! 2.6 % of a core: `models/REPORT.md`). The listener smooths the probabilities it publishes.

use std::sync::Arc;

use mirador_models::tagger::saliency::{
    cell_offset_seconds, cell_seconds, frame_seconds, patch_seconds, HeadKind, PatchSaliency,
    BANDS, TIME_CELLS,
};
use mirador_models::tagger::{PatchOutput, PatchPipeline, Tagger};
use mirador_models::{ModelError, Pipeline, SAMPLE_RATE};

use super::pipeline_thread::PipelineThread;
use crate::listener::{Heard, Listener};
use crate::snapshot::{ClassProbabilities, SaliencyCell};

/// Mel frames (62.5 per second) between two runs of the CNN: about one second.
pub const CNN_EVERY: usize = 62;
/// Between two runs of musicnn: 5 s, about 130 ms of networks each (MSD and MTT).
pub const MUSICNN_EVERY: usize = 312;
/// How long the published genre remembers (seconds): a run weighs 1 - exp(-seconds since the
/// last / this). Longer memories name the genre right more often once a song has played a
/// while, shorter ones sooner after it changes; for musicnn every 5 s, 15 s did best on
/// held-out clips among 2.3, 8 and 15 (`cargo xtask eval genre`, the live rows).
const GENRE_MEMORY_SECONDS: f64 = 15.0;
/// The mood's, shorter: it changes within a song.
const MOOD_MEMORY_SECONDS: f64 = 8.0;
/// Before the first patch is full.
const WAITING: &str = "listening: genre and mood after 3 s of music";
const SILENCE: &str = "not enough music: silence";

pub struct TaggerListener {
    /// The CNN: the mood, the genre unless `genre_net` names it, and why.
    pipeline: PatchPipeline,
    genre_net: Option<GenreNet>,
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

/// musicnn naming the genre: on its own thread (the engine), or on the worker for replays
/// that must hear every block (the eval).
enum GenreNet {
    Thread(PipelineThread<PatchOutput>),
    Inline(Box<PatchPipeline>),
}

/// Smoothed probabilities in the snapshot's form.
struct Smoothed {
    probabilities: ClassProbabilities,
    /// The weight of a new run.
    weight: f32,
    seen: bool,
    changed: bool,
}

impl Smoothed {
    /// For `tagger`'s `classes`, run every `hop` mel frames, remembering `memory` seconds.
    fn new(tagger: &Tagger, classes: &[String], hop: usize, memory: f64) -> Self {
        let seconds = hop as f64 * frame_seconds();
        Self {
            probabilities: ClassProbabilities {
                model: tagger.network.variant.name(),
                classes: classes.into(),
                probabilities: vec![0.0; classes.len()],
            },
            weight: (1.0 - (-seconds / memory).exp()) as f32,
            seen: false,
            changed: false,
        }
    }

    fn add(&mut self, new: &[f64]) {
        let old = &mut self.probabilities.probabilities;
        for (o, &n) in old.iter_mut().zip(new) {
            *o = if self.seen {
                *o + self.weight * (n as f32 - *o)
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
    /// `tagger` (the CNN) names genre and mood.
    pub fn new(tagger: Arc<Tagger>) -> Result<Self, ModelError> {
        let genre = Smoothed::new(
            &tagger,
            &tagger.genre.classes,
            CNN_EVERY,
            GENRE_MEMORY_SECONDS,
        );
        let mood = Smoothed::new(
            &tagger,
            &tagger.mood.classes,
            CNN_EVERY,
            MOOD_MEMORY_SECONDS,
        );
        Ok(Self {
            pipeline: PatchPipeline::new(tagger, CNN_EVERY)?,
            genre_net: None,
            genre,
            mood,
            mean_square: 0.0,
            withheld: Some(WAITING),
            withheld_changed: true,
            saliency: Vec::new(),
            explained_until: None,
        })
    }

    /// `musicnn` names the genre instead, on its own thread.
    pub fn with_genre_thread(self, musicnn: Arc<Tagger>) -> Result<Self, crate::EngineError> {
        let pipeline = PatchPipeline::new(musicnn.clone(), MUSICNN_EVERY)?;
        let thread = PipelineThread::spawn(
            "mirador-musicnn",
            pipeline,
            PatchPipeline::reset,
            |p, out| out.extend(p.take_outputs()),
        )?;
        Ok(self.naming_genre(&musicnn, GenreNet::Thread(thread)))
    }

    /// `musicnn` names the genre instead, on the worker: each run stalls it for ~90 ms, so
    /// only for replays faster than real time that must not drop a block.
    pub fn with_genre_inline(self, musicnn: Arc<Tagger>) -> Result<Self, ModelError> {
        let pipeline = PatchPipeline::new(musicnn.clone(), MUSICNN_EVERY)?;
        Ok(self.naming_genre(&musicnn, GenreNet::Inline(Box::new(pipeline))))
    }

    fn naming_genre(mut self, tagger: &Tagger, net: GenreNet) -> Self {
        let classes = &tagger.genre.classes;
        self.genre = Smoothed::new(tagger, classes, MUSICNN_EVERY, GENRE_MEMORY_SECONDS);
        self.genre_net = Some(net);
        self
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

impl GenreNet {
    fn push(&mut self, block: &[f32], position: u64) {
        match self {
            GenreNet::Thread(t) => t.push(block, position),
            GenreNet::Inline(p) => p.push(block, position),
        }
    }

    fn discontinuity(&mut self, position: u64) {
        match self {
            GenreNet::Thread(t) => t.discontinuity(position),
            GenreNet::Inline(p) => p.discontinuity(position),
        }
    }

    fn take_outputs(&mut self) -> Vec<PatchOutput> {
        match self {
            GenreNet::Thread(t) => t.take_outputs().collect(),
            GenreNet::Inline(p) => p.take_outputs().collect(),
        }
    }

    fn take_error(&mut self) -> Option<String> {
        match self {
            GenreNet::Thread(t) => t.take_error(),
            GenreNet::Inline(p) => p.take_error().map(|e| e.to_string()),
        }
    }

    fn reset(&mut self) {
        match self {
            GenreNet::Thread(t) => t.reset(),
            GenreNet::Inline(p) => p.reset(),
        }
    }
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
                if self.genre_net.is_none() {
                    self.genre.add(&out.genre);
                }
                self.mood.add(&out.mood);
                if let Some(saliency) = &out.saliency {
                    // With musicnn naming the genre: where the CNN heard the genre shown.
                    self.explain_patch(saliency, out.end);
                }
            }
        }
        if let Some(net) = &mut self.genre_net {
            net.push(block, position);
            for out in net.take_outputs() {
                if !silent {
                    self.genre.add(&out.genre);
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
        if let Some(net) = &mut self.genre_net {
            net.discontinuity(position);
        }
        self.explained_until = None;
    }

    fn update(&mut self, heard: &mut Heard) {
        if let Some(e) = self.pipeline.take_error() {
            heard.error = Some(format!("genre and mood: {e}"));
        }
        if let Some(e) = self.genre_net.as_mut().and_then(GenreNet::take_error) {
            heard.error = Some(format!("genre: {e}"));
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
        if let Some(net) = &mut self.genre_net {
            net.reset();
        }
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
