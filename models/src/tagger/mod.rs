//! The networks that read a 3 s log-mel patch and give a 200-d embedding and 50 MSD tag
//! likelihoods, run with tract ([`Network`]):
//! - musicnn (Pons and Serra, 2019), the Million Song Dataset model from PyPI `musicnn` 0.1.0
//!   (ISC licence), converted to ONNX by `models/training/musicnn_export.py`, with the same
//!   package's MagnaTagATune model beside it for the heads;
//! - Mirador's own small CNN, distilled from musicnn by `models/training/distill.py`, which
//!   gives the same outputs for a fraction of the cost and is what runs live.
//!
//! Each has its own genre and mood heads ([`Head`]), trained on its embedding; a [`Tagger`]
//! is a network with its heads, and [`PatchPipeline`] runs one over a stream of audio.

mod head;
mod pipeline;
pub mod saliency;

use std::sync::Arc;

use half::f16;
use mirador_dsp::AnalysisParams;
use tract_onnx::prelude::*;

use crate::ModelError;

pub use head::Head;
pub use pipeline::{
    l2_normalized, summarize, ClipPredictions, ClipSummary, PatchOutput, PatchPipeline,
};

pub const SAMPLE_RATE: u32 = 16_000;
pub const N_FFT: usize = 512;
pub const HOP_LENGTH: usize = 256;
pub const N_MELS: usize = 96;
/// Frames per patch: 3 s at 16 kHz with a 256-sample hop, as musicnn was trained.
pub const PATCH_FRAMES: usize = 187;

/// The 50 Million Song Dataset tags, in output order.
pub const TAGS: [&str; 50] = [
    "rock",
    "pop",
    "alternative",
    "indie",
    "electronic",
    "female vocalists",
    "dance",
    "00s",
    "alternative rock",
    "jazz",
    "beautiful",
    "metal",
    "chillout",
    "male vocalists",
    "classic rock",
    "soul",
    "indie rock",
    "Mellow",
    "electronica",
    "80s",
    "folk",
    "90s",
    "chill",
    "instrumental",
    "punk",
    "oldies",
    "blues",
    "hard rock",
    "ambient",
    "acoustic",
    "experimental",
    "female vocalist",
    "guitar",
    "Hip-Hop",
    "70s",
    "party",
    "country",
    "easy listening",
    "sexy",
    "catchy",
    "funk",
    "electro",
    "heavy metal",
    "Progressive rock",
    "60s",
    "rnb",
    "indie pop",
    "sad",
    "House",
    "happy",
];

/// Which network reads the patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// musicnn MSD itself, with musicnn MTT for the heads (3.1 MB each).
    Musicnn,
    /// The CNN distilled from it (`models/cnn/`).
    Cnn,
}

impl Variant {
    /// The name `mirador analyze --model` and the views use.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Musicnn => "musicnn",
            Variant::Cnn => "cnn",
        }
    }

    /// A short digest of the shipped graph and heads: what a stored embedding or prediction
    /// was made by, so a library notices when a model changes.
    pub fn fingerprint(self) -> String {
        let mut parts = self.graphs().unwrap_or_default();
        parts.extend([head::genre_json(self), head::mood_json(self)].map(str::as_bytes));
        crate::fingerprint(&parts)
    }

    /// Whether this build has the variant's graphs (musicnn's need the `musicnn` feature).
    pub fn is_built_in(self) -> bool {
        match self {
            Variant::Musicnn => cfg!(feature = "musicnn"),
            Variant::Cnn => true,
        }
    }

    /// The shipped graphs, the one whose embedding and tags a patch gives first (musicnn's
    /// only when the `musicnn` feature built them in: the plugin, which runs the CNN, leaves
    /// them out). musicnn's are its int8 graphs (`models/musicnn/README.md`): faster than
    /// fp32 in tract, and no metric moves by more than a point.
    pub fn graphs(self) -> Result<Vec<&'static [u8]>, ModelError> {
        match self {
            #[cfg(feature = "musicnn")]
            Variant::Musicnn => Ok(vec![
                include_bytes!("../../musicnn/msd_musicnn.int8.onnx"),
                include_bytes!("../../musicnn/mtt_musicnn.int8.onnx"),
            ]),
            #[cfg(not(feature = "musicnn"))]
            Variant::Musicnn => Err(ModelError::Input(
                "musicnn is not built in (mirador-models' `musicnn` feature)".into(),
            )),
            Variant::Cnn => Ok(vec![include_bytes!("../../cnn/cnn.onnx")]),
        }
    }

    /// Whether the heads read the graphs' tags after their embeddings: musicnn's heads do
    /// (cross-validated on the training clips, they name Emotify's genres better).
    fn heads_read_tags(self) -> bool {
        self == Variant::Musicnn
    }
}

/// The spectrogram musicnn reads: librosa's power mel spectrogram at 16 kHz (512-point FFT,
/// 256 hop, 96 Slaney mels), which `mirador-dsp` computes with these parameters.
pub fn analysis_params() -> AnalysisParams {
    AnalysisParams {
        sample_rate: SAMPLE_RATE,
        n_fft: N_FFT,
        hop_length: HOP_LENGTH,
        n_mels: N_MELS,
        ..AnalysisParams::default()
    }
}

/// musicnn's compression of a power mel value: rounded to float16 (as the package stores its
/// spectrograms), then `log10(10000 x + 1)` in float32. Beyond float16's range the value is
/// held at its maximum rather than overflowing.
pub fn compress(power: f32) -> f32 {
    let rounded = f16::from_f32(power.min(f16::MAX.to_f32())).to_f32();
    (10_000.0 * rounded + 1.0).log10()
}

/// One of the patch networks, loaded: its graphs (see [`Variant::graphs`]).
pub struct Network {
    pub variant: Variant,
    plans: Vec<Arc<TypedRunnableModel>>,
}

/// What one patch gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The first graph's embedding (musicnn MSD's).
    pub embedding: Vec<f32>,
    /// The first graph's sigmoid likelihoods of [`TAGS`].
    pub tags: Vec<f32>,
    /// What the genre and mood heads read: every graph's embedding, then (musicnn) every
    /// graph's tags, as `models/training/heads.py` trains them.
    pub head_input: Vec<f32>,
}

impl Network {
    /// Loads and optimizes the shipped graphs (up to a second each; do it once).
    pub fn load(variant: Variant) -> Result<Self, ModelError> {
        Self::from_onnx(variant, &variant.graphs()?)
    }

    /// Other graphs with `variant`'s inputs and outputs, such as an int8 candidate to time.
    pub fn from_onnx(variant: Variant, graphs: &[&[u8]]) -> Result<Self, ModelError> {
        Ok(Self {
            variant,
            plans: graphs
                .iter()
                .map(|onnx| crate::onnx::runnable(onnx))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Runs one patch: `PATCH_FRAMES` rows of `N_MELS` compressed mel values, time-major.
    pub fn run(&self, patch: &[f32]) -> Result<Output, ModelError> {
        if patch.len() != PATCH_FRAMES * N_MELS {
            return Err(ModelError::Input(format!(
                "patch network: a patch is {PATCH_FRAMES}x{N_MELS} values, got {}",
                patch.len()
            )));
        }
        let input: TValue = Tensor::from_shape(&[1, PATCH_FRAMES, N_MELS], patch)?.into();
        let mut embeddings = Vec::with_capacity(self.plans.len());
        let mut tags = Vec::with_capacity(self.plans.len());
        for plan in &self.plans {
            let outputs = plan.run(tvec![input.clone()])?;
            let flat = |i: usize| -> Result<Vec<f32>, ModelError> {
                Ok(outputs[i]
                    .to_plain_array_view::<f32>()?
                    .iter()
                    .copied()
                    .collect())
            };
            embeddings.push(flat(0)?);
            tags.push(flat(1)?);
        }
        let mut head_input = embeddings.concat();
        if self.variant.heads_read_tags() {
            head_input.extend(tags.concat());
        }
        Ok(Output {
            embedding: embeddings.swap_remove(0),
            tags: tags.swap_remove(0),
            head_input,
        })
    }
}

/// A patch network with its genre and mood heads, loaded once and shared by every pipeline.
pub struct Tagger {
    pub network: Network,
    pub genre: Head,
    pub mood: Head,
}

impl Tagger {
    pub fn load(variant: Variant) -> Result<Self, ModelError> {
        Ok(Self {
            network: Network::load(variant)?,
            genre: Head::genre(variant)?,
            mood: Head::mood(variant)?,
        })
    }

    /// Genre and mood probabilities of one patch (see [`Network::run`]).
    pub fn probabilities(&self, patch: &[f32]) -> Result<(Vec<f64>, Vec<f64>), ModelError> {
        let out = self.network.run(patch)?;
        Ok((
            self.genre.predict(&out.head_input)?,
            self.mood.predict(&out.head_input)?,
        ))
    }
}
