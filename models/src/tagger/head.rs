//! A classifier on a patch network's embedding (genre or mood), trained by
//! `models/training/heads.py` and shipped as JSON: standardization, then dense layers.

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

    /// Class probabilities for one embedding.
    pub fn predict(&self, embedding: &[f32]) -> Result<Vec<f64>, ModelError> {
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
        Ok(self.network.predict(&x))
    }
}
