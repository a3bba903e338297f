//! scikit-learn's `StandardScaler` as the shipped models store it: per input, subtract the
//! training mean and divide by the training standard deviation.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    pub(crate) fn len(&self) -> usize {
        self.mean.len()
    }

    /// The standardized inputs, in order; `x` yields [`Standardizer::len`] values.
    pub(crate) fn apply(&self, x: impl IntoIterator<Item = f64>) -> Vec<f64> {
        x.into_iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(v, (m, s))| (v - m) / s)
            .collect()
    }
}
