//! A classifier on what a patch network gives (genre or mood; see `Output::head_input`),
//! trained by `models/training/heads.py` and shipped as JSON: standardization, dense layers, and a
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

    /// Calibrated class probabilities for one patch's head input.
    pub fn predict(&self, input: &[f32]) -> Result<Vec<f64>, ModelError> {
        if input.len() != self.standardizer.len() {
            return Err(ModelError::Input(format!(
                "head {} expects {} inputs, got {}",
                self.name,
                self.standardizer.len(),
                input.len()
            )));
        }
        let x = self.standardizer.apply(input.iter().map(|&v| f64::from(v)));
        let mut z = self.network.logits(&x);
        z.iter_mut().for_each(|v| *v /= self.temperature);
        crate::dense::softmax(&mut z);
        Ok(z)
    }

    /// The probabilities before the temperature, from calibrated ones: softmax(T ln p) is
    /// softmax(z) for p = softmax(z / T).
    pub fn uncalibrated(&self, calibrated: &[f64]) -> Vec<f64> {
        let mut z: Vec<f64> = calibrated
            .iter()
            .map(|p| self.temperature * p.ln())
            .collect();
        crate::dense::softmax(&mut z);
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncalibrated_undoes_the_temperature() {
        let head = |temperature: f64| {
            Head::from_json(&format!(
                r#"{{"name": "test", "classes": ["a", "b", "c"], "mean": [0, 0], "scale": [1, 2],
                "network": {{"layers": [{{"weights": [[1, -2], [0.5, 3], [-1, 0]],
                "bias": [0.1, 0, -0.2]}}]}}, "temperature": {temperature}}}"#
            ))
            .unwrap()
        };
        let (calibrated, raw) = (head(0.6), head(1.0));
        let input = [0.7, -1.3];
        let expected = raw.predict(&input).unwrap();
        let got = calibrated.uncalibrated(&calibrated.predict(&input).unwrap());
        assert_ne!(calibrated.predict(&input).unwrap(), expected);
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-12, "{got:?} vs {expected:?}");
        }
    }
}
