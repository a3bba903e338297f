//! Gradient-boosted trees (XGBoost, multi:softprob): each tree adds its leaf value to its
//! class's margin, starting from the base margin; a softmax gives the probabilities.
//! Splits compare in f32, as XGBoost stores features and thresholds.

use serde::Deserialize;

use crate::dense::softmax;

#[derive(Debug, Deserialize)]
pub struct Trees {
    base_margin: Vec<f64>,
    trees: Vec<Tree>,
}

#[derive(Debug, Deserialize)]
struct Tree {
    class: usize,
    /// Child indices; -1 marks a leaf.
    left: Vec<i32>,
    right: Vec<i32>,
    feature: Vec<usize>,
    /// The split threshold, or at a leaf its value.
    threshold: Vec<f32>,
    /// Where a missing (NaN) feature goes.
    default_left: Vec<bool>,
}

impl Trees {
    pub fn predict(&self, x: &[f64], classes: usize) -> Vec<f64> {
        let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut margin: Vec<f32> = (0..classes)
            .map(|c| self.base_margin.get(c).copied().unwrap_or(0.0) as f32)
            .collect();
        for tree in &self.trees {
            margin[tree.class] += tree.leaf(&x);
        }
        let mut margin: Vec<f64> = margin.into_iter().map(f64::from).collect();
        softmax(&mut margin);
        margin
    }
}

impl Tree {
    fn leaf(&self, x: &[f32]) -> f32 {
        let mut node = 0;
        // Each step goes to a child with a larger index, so this ends.
        while self.left[node] >= 0 {
            let v = x[self.feature[node]];
            let go_left = if v.is_nan() {
                self.default_left[node]
            } else {
                v < self.threshold[node]
            };
            node = if go_left {
                self.left[node]
            } else {
                self.right[node]
            } as usize;
        }
        self.threshold[node]
    }
}
