//! Retrieval metrics: leave-one-out ranking within a set, precision at 10 and mean average
//! precision; and the choice of the library's facet weights on training clips.

use mirador_library::{Catalog, Choice, Facet};

/// Precision at 10 and mean average precision of ranking, for each query in `members` with
/// at least one relevant other member, the other members by `score(query)` (higher first).
pub fn rank_quality(
    members: &[usize],
    score: impl Fn(usize) -> Vec<f32>,
    relevant: impl Fn(usize, usize) -> bool,
) -> (f64, f64) {
    let (mut p10, mut ap, mut queries) = (0.0, 0.0, 0usize);
    for &q in members {
        let scores = score(q);
        let mut others: Vec<usize> = members.iter().copied().filter(|&i| i != q).collect();
        let total = others.iter().filter(|&&i| relevant(q, i)).count();
        if total == 0 {
            continue;
        }
        others.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let top = others.len().min(10);
        p10 += others[..top].iter().filter(|&&i| relevant(q, i)).count() as f64 / top as f64;
        let (mut hits, mut sum) = (0usize, 0.0);
        for (rank, &i) in others.iter().enumerate() {
            if relevant(q, i) {
                hits += 1;
                sum += hits as f64 / (rank + 1) as f64;
            }
        }
        ap += sum / total as f64;
        queries += 1;
    }
    let n = queries.max(1) as f64;
    (p10 / n, ap / n)
}

/// Each facet's similarity matrix over the catalog (`[facet][query][track]`).
pub fn facet_similarities(catalog: &Catalog) -> Vec<Vec<Vec<f32>>> {
    Facet::ALL
        .iter()
        .map(|&f| {
            (0..catalog.len())
                .map(|q| catalog.scores(&catalog.query_of(q), Choice::One(f)))
                .collect()
        })
        .collect()
}

/// Weighted mean of the facet similarities, as `Choice::All` computes it.
pub fn combine(similarities: &[Vec<Vec<f32>>], weights: &[f32; 7], q: usize) -> Vec<f32> {
    let total: f32 = weights.iter().sum::<f32>().max(1e-9);
    let n = similarities[0][q].len();
    let mut out = vec![0f32; n];
    for (f, w) in weights.iter().enumerate().filter(|(_, w)| **w > 0.0) {
        for (o, s) in out.iter_mut().zip(&similarities[f][q]) {
            *o += w / total * s;
        }
    }
    out
}

/// The facet weights that maximize `objective` (mean average precision of some labelling),
/// by coordinate search over a grid from equal weights, three passes.
pub fn choose_weights(objective: impl Fn(&[f32; 7]) -> f64) -> ([f32; 7], f64) {
    const GRID: [f32; 7] = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8];
    let mut best = [0.2f32; 7];
    let mut best_score = objective(&best);
    for _ in 0..3 {
        for f in 0..7 {
            for &w in &GRID {
                let mut trial = best;
                trial[f] = w;
                if trial.iter().all(|&x| x == 0.0) {
                    continue;
                }
                let score = objective(&trial);
                if score > best_score + 1e-6 {
                    (best, best_score) = (trial, score);
                }
            }
        }
    }
    let total: f32 = best.iter().sum();
    (best.map(|w| w / total), best_score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_reversed_rankings() {
        let members = [0, 1, 2, 3];
        let label = |i: usize| i / 2;
        // Scores that put the same-label track first.
        let perfect = |q: usize| {
            (0..4)
                .map(|i| if label(i) == label(q) { 1.0 } else { 0.0 })
                .collect()
        };
        let (p10, map) = rank_quality(&members, perfect, |a, b| label(a) == label(b));
        assert_eq!(map, 1.0);
        assert!((p10 - 1.0 / 3.0).abs() < 1e-9, "one relevant among three");
        let reversed = |q: usize| {
            (0..4)
                .map(|i| if label(i) == label(q) { 0.0 } else { 1.0 })
                .collect()
        };
        let (_, map) = rank_quality(&members, reversed, |a, b| label(a) == label(b));
        assert!((map - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn weight_search_finds_the_useful_facet() {
        // As `combine` does, the objective sees the weights as shares.
        let (w, score) = choose_weights(|w| f64::from((w[3] - w[5]) / w.iter().sum::<f32>()));
        assert!(w[3] > 0.5 && w[5] == 0.0 && score > 0.0, "{w:?}");
    }
}
