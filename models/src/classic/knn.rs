//! k-nearest neighbours (scikit-learn's KNeighborsClassifier, Euclidean distance).

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Knn {
    k: usize,
    /// "uniform": each neighbour votes 1; "distance": 1 / distance (exact matches win).
    weights: String,
    points: Vec<Vec<f64>>,
    labels: Vec<usize>,
}

impl Knn {
    pub fn predict(&self, x: &[f64], classes: usize) -> Vec<f64> {
        let mut by_distance: Vec<(f64, usize)> = self
            .points
            .iter()
            .zip(&self.labels)
            .map(|(p, &label)| {
                let d2: f64 = p.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
                (d2.sqrt(), label)
            })
            .collect();
        // Stable, so ties keep training order as scikit-learn's does.
        by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
        let nearest = &by_distance[..self.k.min(by_distance.len())];
        let exact = nearest.iter().any(|&(d, _)| d == 0.0);
        let mut votes = vec![0.0; classes];
        for &(d, label) in nearest {
            votes[label] += match (self.weights.as_str(), exact) {
                ("distance", true) => f64::from(u8::from(d == 0.0)),
                ("distance", false) => 1.0 / d,
                _ => 1.0,
            };
        }
        let total: f64 = votes.iter().sum();
        votes.iter_mut().for_each(|v| *v /= total);
        votes
    }
}
