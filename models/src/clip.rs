//! Everything Mirador says about one whole clip: the feature table's two passes, with each
//! model's pipeline and the loudness meter riding along the second (a [`ClipTap`]), then the
//! clip-level summaries. `mirador analyze`, `mirador index` and the live engine's reference
//! tracks all describe audio this way.

use std::sync::Arc;

use mirador_dsp::clip::{
    feature_table_tapped, ClipScan, ClipTap, FeatureTable, Replay, TableStyle,
};
use mirador_dsp::loudness::{Meter, Totals};
use mirador_dsp::pitch::chords::ChordSegment;
use mirador_dsp::pitch::key::{Key, Tonality};
use mirador_dsp::structure::columns::FrameView;
use mirador_dsp::structure::Section;
use mirador_dsp::{AnalyzerConfig, Frame};

use crate::abstain::not_enough_music;
use crate::beats::{self, BeatNet, BeatPipeline, ClipBeats};
use crate::chords::ChordPipeline;
use crate::classic::Classic;
use crate::key::key_of;
use crate::melody::{CrepeNet, MelodyPipeline, Pitch};
use crate::notes::{Note, NoteNet, NotePipeline, NoteSettings};
use crate::sections::SectionPipeline;
use crate::tagger::saliency::{patch_seconds, Explainer, Explanation};
use crate::tagger::{ClipPredictions, ClipSummary, PatchPipeline, Tagger};
use crate::Pipeline;

/// What predicts each file's genre (`mirador analyze --model`).
pub enum GenreModel {
    /// A classic model over the feature table.
    Classic(Box<Classic>),
    /// A patch network (the distilled CNN or musicnn) over the clip's log-mel patches, with
    /// its genre and mood heads.
    Patches(Arc<Tagger>),
}

impl GenreModel {
    pub fn name(&self) -> &str {
        match self {
            GenreModel::Classic(m) => &m.name,
            GenreModel::Patches(m) => m.network.variant.name(),
        }
    }
}

/// The models a clip is described with (`mirador analyze`, `index`, the reference tracks),
/// loaded once and shared by every clip.
#[derive(Default)]
pub struct Models {
    pub genre: Option<GenreModel>,
    pub beats: Option<Arc<BeatNet>>,
    /// Keep every 3 s patch's embedding in [`ClipAnalysis::patch_embeddings`] (the library
    /// stores them).
    pub keep_patch_embeddings: bool,
    /// Chords beat by beat (each starting on a beat) rather than frame by frame.
    pub beat_chords: bool,
    /// Explain the patch network's genre and mood ([`ClipAnalysis::explanation`]; 48 more
    /// network runs per 3 s patch).
    pub explain: bool,
    /// Transcribe the notes with basic-pitch ([`ClipAnalysis::notes`]).
    pub notes: Option<Arc<NoteNet>>,
    /// Track the melody's pitch with CREPE ([`ClipAnalysis::f0`]).
    pub melody: Option<Arc<CrepeNet>>,
}

impl Models {
    /// What a library track is described by: a patch network (the embedding, genre, mood
    /// and tags) and BeatNet (the rhythm facet). `mirador index` and the live reference
    /// tracks both use it, so a query and the tracks it meets are described alike.
    pub fn for_library(network: Arc<Tagger>, beats: Arc<BeatNet>) -> Self {
        Self {
            genre: Some(GenreModel::Patches(network)),
            beats: Some(beats),
            keep_patch_embeddings: false,
            beat_chords: false,
            explain: false,
            notes: None,
            melody: None,
        }
    }
}

/// Everything Mirador says about one clip.
pub struct ClipAnalysis {
    pub table: FeatureTable,
    /// GTZAN genre probabilities, when a model was asked for.
    pub genre: Option<Vec<(String, f64)>>,
    /// Mood, valence, arousal and tags, with `--model cnn` or `musicnn`.
    pub network_output: Option<ClipPredictions>,
    /// Beats, downbeats, tempo and meter, when a beat model was given.
    pub beats: Option<ClipBeats>,
    /// Key and mode from the clip's tonal profile (none in silence).
    pub key: Option<Key>,
    /// The mean of the clip's chroma and bass chroma frames (at its tuning, each scaled to a
    /// peak of 1) the key is read from; kept when the key is withheld.
    pub tonality: Option<Tonality>,
    pub loudness: Totals,
    /// Why genre, mood, tags, key and beats were withheld (silence, too short, all NaN).
    pub not_enough_music: Option<String>,
    /// Each patch's embedding, in order, when [`Models::keep_patch_embeddings`] asked.
    pub patch_embeddings: Vec<Vec<f32>>,
    /// The chords, in order, covering the clip ("N" where there is none); beat by beat
    /// when [`Models::beat_chords`] asked and there are beats.
    pub chords: Vec<ChordSegment>,
    /// The sections, in order, covering the clip (one in silence or a short clip).
    pub sections: Vec<Section>,
    /// Why the patch network said its genre and mood, when [`Models::explain`] asked.
    pub explanation: Option<Explanation>,
    /// The notes played, by start, when [`Models::notes`] was given (kept for silence and
    /// short clips too: no notes is an answer there).
    pub notes: Option<Vec<Note>>,
    /// The pitch every 10 ms, when [`Models::melody`] was given (kept for silence and short
    /// clips too, where it is unvoiced).
    pub f0: Option<Vec<Pitch>>,
}

/// The pipelines and the meter on the table's second pass.
struct Riders {
    patches: Option<PatchPipeline>,
    /// The patches' outputs, summed as they come so a long file keeps none of them (but
    /// their embeddings, when asked).
    summary: ClipSummary,
    patch_embeddings: Option<Vec<Vec<f32>>>,
    explainer: Option<Explainer>,
    beats: Option<BeatPipeline>,
    /// Made once the first pass has found the tuning.
    chords: Option<ChordPipeline>,
    sections: SectionPipeline,
    notes: Option<NotePipeline>,
    melody: Option<MelodyPipeline>,
    meter: Meter,
    samples: u64,
}

impl Riders {
    fn summarize_patches(&mut self) {
        if let Some(patches) = &mut self.patches {
            for out in patches.take_outputs() {
                self.summary.add(&out);
                if let (Some(explainer), Some(patch), Some(saliency)) =
                    (&mut self.explainer, &out.patch, out.saliency)
                {
                    let end = out.end as f64 / f64::from(crate::SAMPLE_RATE);
                    explainer.add((end - patch_seconds()).max(0.0), patch, saliency);
                }
                if let Some(kept) = &mut self.patch_embeddings {
                    kept.push(out.embedding);
                }
            }
        }
    }

    fn pipelines(&mut self) -> impl Iterator<Item = &mut dyn Pipeline> {
        let patches = self.patches.as_mut().map(|p| p as &mut dyn Pipeline);
        let beats = self.beats.as_mut().map(|p| p as &mut dyn Pipeline);
        let chords = self.chords.as_mut().map(|p| p as &mut dyn Pipeline);
        let notes = self.notes.as_mut().map(|p| p as &mut dyn Pipeline);
        let melody = self.melody.as_mut().map(|p| p as &mut dyn Pipeline);
        patches
            .into_iter()
            .chain(beats)
            .chain(chords)
            .chain(notes)
            .chain(melody)
    }
}

impl ClipTap for Riders {
    fn scanned(&mut self, scan: &ClipScan) {
        self.chords = Some(ChordPipeline::for_clip(scan.pitch_tuning));
    }

    fn input(&mut self, block: &[f32]) {
        self.meter.add(block);
        self.samples += block.len() as u64;
    }

    fn analysis(&mut self, samples: &[f32], position: u64) {
        self.pipelines().for_each(|p| p.push(samples, position));
        self.summarize_patches();
    }

    fn frame(&mut self, frame: &Frame) {
        self.sections.push(FrameView::from(frame));
    }
}

/// Analyzes a clip with `models`: the feature table, key and loudness, and what each model
/// says.
pub fn analyze_clip<R: Replay>(
    clip: &mut R,
    style: TableStyle,
    models: &Models,
) -> Result<ClipAnalysis, String>
where
    R::Error: std::fmt::Display,
{
    let config = AnalyzerConfig::new(clip.sample_rate(), clip.channels());
    let patches = match &models.genre {
        Some(GenreModel::Patches(tagger)) => {
            let pipeline = PatchPipeline::for_clip(tagger.clone()).map_err(|e| e.to_string())?;
            Some(if models.explain {
                pipeline.explaining()
            } else {
                pipeline
            })
        }
        _ => None,
    };
    let explainer = (models.explain && patches.is_some()).then(Explainer::default);
    let mut riders = Riders {
        patches,
        summary: ClipSummary::default(),
        patch_embeddings: models.keep_patch_embeddings.then(Vec::new),
        explainer,
        beats: models.beats.clone().map(BeatPipeline::for_clip),
        chords: None,
        sections: SectionPipeline::for_clip(),
        notes: models
            .notes
            .clone()
            .map(|net| NotePipeline::for_clip(net, NoteSettings::default())),
        melody: models
            .melody
            .clone()
            .map(MelodyPipeline::for_clip)
            .transpose()
            .map_err(|e| e.to_string())?,
        meter: Meter::new(clip.channels(), clip.sample_rate())
            .map_err(|e| format!("loudness meter: {e}"))?,
        samples: 0,
    };
    let table =
        feature_table_tapped(clip, &config, style, &mut riders).map_err(|e| e.to_string())?;
    for p in riders.pipelines() {
        p.finish();
        if let Some(e) = p.take_error() {
            return Err(e.to_string());
        }
    }
    riders.summarize_patches();
    let (genre, network_output) = match (&models.genre, &riders.patches) {
        (Some(GenreModel::Classic(m)), _) => {
            let p = m.predict(&table.values());
            (Some(m.classes.iter().cloned().zip(p).collect()), None)
        }
        (Some(GenreModel::Patches(tagger)), Some(_)) => {
            let summary = riders.summary.predictions(tagger);
            (Some(summary.genre.clone()), Some(summary))
        }
        _ => (None, None),
    };
    let explanation = match (riders.explainer.take(), &network_output) {
        (Some(explainer), Some(out)) => explainer.explain(&out.genre, &out.mood),
        _ => None,
    };
    let beats = riders.beats.as_mut().map(|p| {
        let announced: Vec<_> = p.take_beats().collect();
        beats::summarize(&announced)
    });
    let loudness = riders.meter.totals();
    let seconds = table.length as f64 / f64::from(config.analysis.sample_rate);
    let not_enough_music = not_enough_music(
        seconds,
        loudness.integrated_lufs,
        riders.samples,
        table.non_finite_samples,
    );
    let beat_times: Option<Vec<f64>> = beats
        .as_ref()
        .filter(|_| models.beat_chords)
        .map(|b| b.beats.iter().map(|b| b.0).collect());
    let chords = riders
        .chords
        .as_ref()
        .map_or_else(Vec::new, |c| c.segments(beat_times.as_deref(), seconds));
    let sections = riders
        .sections
        .sections(beats.as_ref().map_or(&[][..], |b| &b.beats[..]), seconds);
    let tonality = riders.chords.as_ref().and_then(|c| c.tonality());
    let mut analysis = ClipAnalysis {
        chords,
        sections,
        key: tonality.as_ref().and_then(key_of),
        tonality,
        loudness,
        table,
        genre,
        network_output,
        beats,
        not_enough_music,
        patch_embeddings: riders.patch_embeddings.take().unwrap_or_default(),
        explanation,
        notes: riders.notes.as_ref().map(|p| p.notes().to_vec()),
        f0: riders.melody.as_mut().map(|p| p.take_pitches().collect()),
    };
    if analysis.not_enough_music.is_some() {
        analysis.genre = None;
        analysis.network_output = None;
        analysis.key = None;
        analysis.beats = None;
        analysis.patch_embeddings.clear();
        analysis.explanation = None;
    }
    Ok(analysis)
}
