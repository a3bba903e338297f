//! Dense layers with ReLU between them and a softmax at the end: scikit-learn's
//! MLPClassifier, multinomial logistic regression (one layer), and the heads on musicnn's
//! embedding.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Mlp {
    layers: Vec<Layer>,
}

#[derive(Debug, Deserialize)]
struct Layer {
    /// One row of input weights per output.
    weights: Vec<Vec<f64>>,
    bias: Vec<f64>,
}

impl Mlp {
    pub fn single_layer(weights: Vec<Vec<f64>>, bias: Vec<f64>) -> Self {
        Self {
            layers: vec![Layer { weights, bias }],
        }
    }

    pub fn predict(&self, x: &[f64]) -> Vec<f64> {
        let mut h = self.logits(x);
        softmax(&mut h);
        h
    }

    /// The last layer's outputs, before the softmax.
    pub fn logits(&self, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer
                .weights
                .iter()
                .zip(&layer.bias)
                .map(|(w, b)| b + w.iter().zip(&h).map(|(w, x)| w * x).sum::<f64>())
                .collect();
            if i + 1 < self.layers.len() {
                h.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        }
        h
    }
}

/// Softmax in place, shifted by the maximum for range safety.
pub(crate) fn softmax(z: &mut [f64]) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}
