//! An approximate nearest-neighbour index over the combined "all" rows: a hierarchical
//! navigable small-world graph (HNSW) from the `hnsw_rs` crate, for catalogs too large to
//! scan per query. Its parameters were chosen with `cargo xtask bench library` for recall@10
//! of at least 0.95 against the exact scan.

use hnsw_rs::anndists::dist::Distance;
use hnsw_rs::hnsw::Hnsw;

use crate::catalog::{dot, Matrix};

/// Links per node and layer.
const LINKS: usize = 16;
/// Candidates explored per insertion.
const EF_BUILD: usize = 100;
/// Candidates explored per query, at least (more when more results are asked for).
const EF_SEARCH: usize = 160;
const LAYERS: usize = 16;

/// `1 - a.b`: the combined rows are unit length when a track has every facet, shorter when
/// it lacks some, which ranks them lower, as the exact score does. Never negative (rounding
/// can take a dot product just past 1).
#[derive(Default, Clone, Copy)]
struct Angle;

impl Distance<f32> for Angle {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

pub struct Approximate {
    graph: Hnsw<'static, f32, Angle>,
    dim: usize,
}

impl Approximate {
    /// Indexes every row (on all cores).
    pub fn build(rows: &Matrix) -> Approximate {
        let graph = Hnsw::new(LINKS, rows.rows().max(1), LAYERS, EF_BUILD, Angle);
        let items: Vec<(&[f32], usize)> = (0..rows.rows()).map(|i| (rows.row(i), i)).collect();
        graph.parallel_insert_slice(&items);
        Approximate {
            graph,
            dim: rows.dim,
        }
    }

    /// Up to `k` rows near `query` that `keep` accepts, as row indices (nearest first).
    pub fn search(&self, query: &[f32], k: usize, keep: &impl Fn(usize) -> bool) -> Vec<usize> {
        if query.len() != self.dim || k == 0 {
            return Vec::new();
        }
        let filter = |id: &usize| keep(*id);
        self.graph
            .search_filter(query, k, EF_SEARCH.max(2 * k), Some(&filter))
            .into_iter()
            .map(|n| n.d_id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_exact_neighbours_of_clustered_rows() {
        // 2000 unit rows in 40 clusters; a row's nearest neighbour is its own cluster's.
        let dim = 32;
        let mut data = Vec::new();
        for i in 0..2000usize {
            let c = i % 40;
            let mut row: Vec<f32> = (0..dim)
                .map(|d| ((c * 13 + d * 7) as f32).sin() + 0.05 * ((i * 31 + d) as f32).cos())
                .collect();
            let norm = dot(&row, &row).sqrt();
            row.iter_mut().for_each(|x| *x /= norm);
            data.extend(row);
        }
        let rows = Matrix { dim, data };
        let index = Approximate::build(&rows);
        let mut found = 0;
        for q in (0..2000).step_by(97) {
            let hits = index.search(rows.row(q), 10, &|i| i != q);
            assert!(!hits.contains(&q));
            let mut exact: Vec<usize> = (0..2000).filter(|&i| i != q).collect();
            exact.sort_by(|&a, &b| {
                dot(rows.row(b), rows.row(q)).total_cmp(&dot(rows.row(a), rows.row(q)))
            });
            found += hits.iter().filter(|h| exact[..10].contains(h)).count();
        }
        let recall = found as f32 / (21.0 * 10.0);
        assert!(recall >= 0.9, "recall@10 {recall}");
    }
}
