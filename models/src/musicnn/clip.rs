//! Whole-clip predictions: the clip's log-mel patches through a patch network, the genre and
//! mood heads on each patch's embedding, probabilities averaged over the patches.

use mirador_dsp::clip::Replay;
use mirador_dsp::{AnalyzerConfig, StreamingAnalyzer};

use super::{compress, Head, HeadError, ModelError, Network, Variant, N_MELS, PATCH_FRAMES, TAGS};

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
}

#[derive(Debug, thiserror::Error)]
pub enum ClipError<E: std::fmt::Display> {
    #[error("{0}")]
    Audio(E),
    #[error(transparent)]
    Config(#[from] mirador_dsp::ConfigError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Head(#[from] HeadError),
}

/// A patch network with its two heads, loaded once and shared across clips.
pub struct ClipModel {
    pub network: Network,
    pub genre: Head,
    pub mood: Head,
}

impl ClipModel {
    pub fn load(variant: Variant) -> Result<Self, ModelError> {
        let head = |h: Result<Head, HeadError>| h.map_err(|e| ModelError(e.to_string()));
        Ok(Self {
            network: Network::load(variant)?,
            genre: head(Head::genre(variant))?,
            mood: head(Head::mood(variant))?,
        })
    }

    pub fn predict<R: Replay>(&self, clip: &mut R) -> Result<ClipPredictions, ClipError<R::Error>>
    where
        R::Error: std::fmt::Display,
    {
        let mel = log_mel(clip)?;
        let mut genre = vec![0.0; self.genre.classes.len()];
        let mut mood = vec![0.0; self.mood.classes.len()];
        let mut tags = vec![0.0f32; TAGS.len()];
        let patches = patches(&mel);
        for patch in &patches {
            let out = self.network.run(patch)?;
            add(&mut genre, &self.genre.predict(&out.embedding)?);
            add(&mut mood, &self.mood.predict(&out.embedding)?);
            tags.iter_mut().zip(&out.tags).for_each(|(t, v)| *t += v);
        }
        let n = patches.len() as f64;
        genre.iter_mut().for_each(|p| *p /= n);
        mood.iter_mut().for_each(|p| *p /= n);
        let q = |i: usize| mood.get(i).copied().unwrap_or(0.0);
        let mut top: Vec<(&'static str, f32)> = TAGS
            .iter()
            .zip(&tags)
            .map(|(&t, &v)| (t, v / n as f32))
            .collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        top.truncate(5);
        Ok(ClipPredictions {
            patches: patches.len(),
            valence: q(0) + q(3) - q(1) - q(2),
            arousal: q(0) + q(1) - q(2) - q(3),
            genre: labelled(&self.genre.classes, genre),
            mood: labelled(&self.mood.classes, mood),
            top_tags: top,
        })
    }
}

fn add(total: &mut [f64], p: &[f64]) {
    total.iter_mut().zip(p).for_each(|(t, v)| *t += v);
}

fn labelled(classes: &[String], p: Vec<f64>) -> Vec<(String, f64)> {
    classes.iter().cloned().zip(p).collect()
}

/// The clip's compressed mel frames, time-major, `N_MELS` values each.
pub fn log_mel<R: Replay>(clip: &mut R) -> Result<Vec<f32>, ClipError<R::Error>>
where
    R::Error: std::fmt::Display,
{
    let config = AnalyzerConfig {
        input_sample_rate: clip.sample_rate(),
        channels: clip.channels(),
        analysis: super::analysis_params(),
    };
    let mut analyzer = StreamingAnalyzer::new(&config)?;
    let mut mel = Vec::new();
    let mut sink = |frame: &mirador_dsp::Frame| mel.extend(frame.mel.iter().map(|&p| compress(p)));
    clip.play(&mut |block| analyzer.process_interleaved(block, &mut sink))
        .map_err(ClipError::Audio)?;
    analyzer.flush(&mut sink);
    Ok(mel)
}

/// Non-overlapping 3 s patches; a clip shorter than one is repeated to fill it, and a
/// silent or empty clip gives one silent patch.
pub fn patches(mel: &[f32]) -> Vec<Vec<f32>> {
    let frames = mel.len() / N_MELS;
    let size = PATCH_FRAMES * N_MELS;
    if frames == 0 {
        return vec![vec![0.0; size]];
    }
    if frames < PATCH_FRAMES {
        return vec![mel.iter().copied().cycle().take(size).collect()];
    }
    mel.chunks_exact(size).map(<[f32]>::to_vec).collect()
}
