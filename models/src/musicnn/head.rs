//! A classifier on a patch network's embedding (genre or mood), trained by
//! `models/training/heads.py` and shipped as JSON: standardization, then dense layers.

use serde::Deserialize;

use super::Variant;
use crate::dense::Mlp;

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("head file: {0}")]
    Format(#[from] serde_json::Error),
    #[error("head expects {expected} inputs, got {got}")]
    Size { expected: usize, got: usize },
}

#[derive(Debug, Deserialize)]
pub struct Head {
    pub name: String,
    pub classes: Vec<String>,
    mean: Vec<f64>,
    scale: Vec<f64>,
    network: Mlp,
}

impl Head {
    pub fn genre(variant: Variant) -> Result<Self, HeadError> {
        Self::from_json(match variant {
            Variant::Musicnn => include_str!("../../musicnn/genre_head.json"),
            Variant::Cnn => include_str!("../../cnn/genre_head.json"),
        })
    }

    pub fn mood(variant: Variant) -> Result<Self, HeadError> {
        Self::from_json(match variant {
            Variant::Musicnn => include_str!("../../musicnn/mood_head.json"),
            Variant::Cnn => include_str!("../../cnn/mood_head.json"),
        })
    }

    pub fn from_json(json: &str) -> Result<Self, HeadError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Class probabilities for one embedding.
    pub fn predict(&self, embedding: &[f32]) -> Result<Vec<f64>, HeadError> {
        if embedding.len() != self.mean.len() {
            return Err(HeadError::Size {
                expected: self.mean.len(),
                got: embedding.len(),
            });
        }
        let x: Vec<f64> = embedding
            .iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(&v, (m, s))| (f64::from(v) - m) / s)
            .collect();
        Ok(self.network.predict(&x))
    }
}
