//! A classifier on a patch network's embedding (genre or mood), trained by
//! `models/training/heads.py` and shipped as JSON: standardization, dense layers, and a
//! temperature that calibrates the probabilities (fitted on the training clips'
//! out-of-fold predictions).

use serde::Deserialize;

use super::Variant;
use crate::dense::Mlp;
use crate::standardizer::Standardizer;
use crate::ModelError;

pub(super) fn genre_json(variant: Variant) -> &'static str {
    match variant {
        Variant::Musicnn => include_str!("../../musicnn/genre_head.json"),
        Variant::Cnn => include_str!("../../cnn/genre_head.json"),
    }
}

pub(super) fn mood_json(variant: Variant) -> &'static str {
    match variant {
        Variant::Musicnn => include_str!("../../musicnn/mood_head.json"),
        Variant::Cnn => include_str!("../../cnn/mood_head.json"),
    }
}

#[derive(Debug, Deserialize)]
pub struct Head {
    pub name: String,
    pub classes: Vec<String>,
    #[serde(flatten)]
    standardizer: Standardizer,
    network: Mlp,
    /// The logits are divided by it before the softmax (1: as trained).
    #[serde(default = "as_trained")]
    pub temperature: f64,
}

fn as_trained() -> f64 {
    1.0
}

impl Head {
    pub fn genre(variant: Variant) -> Result<Self, ModelError> {
        Self::from_json(genre_json(variant))
    }

    pub fn mood(variant: Variant) -> Result<Self, ModelError> {
        Self::from_json(mood_json(variant))
    }

    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Calibrated class probabilities for one embedding.
    pub fn predict(&self, embedding: &[f32]) -> Result<Vec<f64>, ModelError> {
        self.probabilities(embedding, self.temperature)
    }

    /// Class probabilities for one embedding at `temperature` (1: uncalibrated).
    pub fn probabilities(
        &self,
        embedding: &[f32],
        temperature: f64,
    ) -> Result<Vec<f64>, ModelError> {
        if embedding.len() != self.standardizer.len() {
            return Err(ModelError::Input(format!(
                "head {} expects {} inputs, got {}",
                self.name,
                self.standardizer.len(),
                embedding.len()
            )));
        }
        let x = self
            .standardizer
            .apply(embedding.iter().map(|&v| f64::from(v)));
        let mut z = self.network.logits(&x);
        z.iter_mut().for_each(|v| *v /= temperature);
        crate::dense::softmax(&mut z);
        Ok(z)
    }
}
