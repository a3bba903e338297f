//! An RBF-kernel SVM trained one-against-one (libsvm, through scikit-learn's SVC), with
//! libsvm's probability estimates: each pairwise decision through its Platt sigmoid, then
//! pairwise coupling (Wu, Lin and Weng, 2004) as in libsvm's `multiclass_probability`.
// Index loops kept as in libsvm's C, so the two can be read side by side.
#![allow(clippy::needless_range_loop)]

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Svm {
    gamma: f64,
    support_vectors: Vec<Vec<f64>>,
    /// Support vectors per class, in class order.
    n_support: Vec<usize>,
    /// libsvm's layout: `classes - 1` rows of one coefficient per support vector.
    dual_coef: Vec<Vec<f64>>,
    /// One offset per class pair, (0,1), (0,2) .. (1,2) ..
    rho: Vec<f64>,
    prob_a: Vec<f64>,
    prob_b: Vec<f64>,
}

const MIN_PROBABILITY: f64 = 1e-7;

impl Svm {
    pub fn predict(&self, x: &[f64]) -> Vec<f64> {
        let kernel: Vec<f64> = self
            .support_vectors
            .iter()
            .map(|sv| {
                let d2: f64 = sv.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
                (-self.gamma * d2).exp()
            })
            .collect();
        let k = self.n_support.len();
        let mut start = vec![0; k + 1];
        for c in 0..k {
            start[c + 1] = start[c] + self.n_support[c];
        }
        let weighted = |row: usize, class: usize| -> f64 {
            (start[class]..start[class + 1])
                .map(|s| self.dual_coef[row][s] * kernel[s])
                .sum()
        };
        let mut r = vec![vec![0.0; k]; k];
        let mut pair = 0;
        for i in 0..k {
            for j in i + 1..k {
                let decision = weighted(j - 1, i) + weighted(i, j) - self.rho[pair];
                let p = sigmoid(decision, self.prob_a[pair], self.prob_b[pair])
                    .clamp(MIN_PROBABILITY, 1.0 - MIN_PROBABILITY);
                r[i][j] = p;
                r[j][i] = 1.0 - p;
                pair += 1;
            }
        }
        couple(&r)
    }
}

fn sigmoid(decision: f64, a: f64, b: f64) -> f64 {
    let f = decision * a + b;
    if f >= 0.0 {
        (-f).exp() / (1.0 + (-f).exp())
    } else {
        1.0 / (1.0 + f.exp())
    }
}

/// libsvm's `multiclass_probability`.
fn couple(r: &[Vec<f64>]) -> Vec<f64> {
    let k = r.len();
    let mut q = vec![vec![0.0; k]; k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t][t] += r[j][t] * r[j][t];
                q[t][j] = -r[j][t] * r[t][j];
            }
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let eps = 0.005 / k as f64;
    for _ in 0..k.max(100) {
        let mut qp: Vec<f64> = q
            .iter()
            .map(|row| row.iter().zip(&p).map(|(a, b)| a * b).sum())
            .collect();
        let mut pqp: f64 = p.iter().zip(&qp).map(|(a, b)| a * b).sum();
        let max_error = qp.iter().map(|v| (v - pqp).abs()).fold(0.0, f64::max);
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}
