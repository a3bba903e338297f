//! The default ("all") similarity as one vector per track, so that a query is one pass over
//! one matrix: every weighted facet's scaled vector times the square root of its weight, end
//! to end. Its dot product is the weighted sum of the facets' cosines, which ranks exactly as
//! "all" does ("all" divides by the query's total weight, the same for every track). An int8
//! copy, one scale per row, is a quarter of the memory to stream; large catalogs scan it and
//! rescore the best candidates in f32.

use simsimd::SpatialSimilarity;

use crate::catalog::{Matrix, Query};
use crate::facets::Facet;

pub struct Combined {
    /// The "all" weights the rows were built with.
    pub weights: [f32; 7],
    /// Where each facet sits in a row, by [`Facet::index`] (an empty range: weight 0).
    spans: [std::ops::Range<usize>; 7],
    pub rows: Matrix,
    codes: Vec<i8>,
    code_scales: Vec<f32>,
}

impl Combined {
    pub fn new(matrices: &[Matrix; 7], weights: [f32; 7]) -> Combined {
        let mut spans: [std::ops::Range<usize>; 7] = Default::default();
        let mut dim = 0;
        for facet in Facet::ALL {
            let len = if weights[facet.index()] > 0.0 {
                facet.dims()
            } else {
                0
            };
            spans[facet.index()] = dim..dim + len;
            dim += len;
        }
        let count = matrices[0].rows();
        let mut rows = Matrix {
            dim,
            data: Vec::with_capacity(count * dim),
        };
        for i in 0..count {
            for facet in Facet::ALL
                .into_iter()
                .filter(|f| !spans[f.index()].is_empty())
            {
                let root = weights[facet.index()].sqrt();
                let row = matrices[facet.index()].row(i);
                rows.data.extend(row.iter().map(|x| x * root));
            }
        }
        let (codes, code_scales) = quantize(&rows);
        Combined {
            weights,
            spans,
            rows,
            codes,
            code_scales,
        }
    }

    pub fn dim(&self) -> usize {
        self.rows.dim
    }

    /// The combined vector of `query`, and the total weight of the facets it has (the "all"
    /// score is the dot product divided by it).
    pub fn query(&self, query: &Query) -> (Vec<f32>, f32) {
        let mut out = vec![0f32; self.dim()];
        let mut total = 0.0;
        for facet in Facet::ALL {
            let span = self.spans[facet.index()].clone();
            let q = &query.0[facet.index()];
            if span.is_empty() || q.len() != span.len() {
                continue;
            }
            let root = self.weights[facet.index()].sqrt();
            for (o, x) in out[span].iter_mut().zip(q) {
                *o = x * root;
            }
            total += self.weights[facet.index()];
        }
        (out, total)
    }

    /// `out[i] = row i . q` in f32.
    pub fn exact(&self, q: &[f32], out: &mut [f32]) {
        out.fill(0.0);
        self.rows.add_dots(q, 1.0, out);
    }

    /// `out[i] ≈ row i . q` from the int8 rows; a long scan is split over the cores.
    pub fn coarse(&self, q: &[f32], out: &mut [f32]) {
        let dim = self.dim();
        if dim == 0 || q.len() != dim {
            out.fill(0.0);
            return;
        }
        let (code, scale) = quantize_row(q);
        let scan = |out: &mut [f32], codes: &[i8], scales: &[f32]| {
            for ((o, row), s) in out.iter_mut().zip(codes.chunks_exact(dim)).zip(scales) {
                *o = i8::dot(row, &code).unwrap_or(0.0) as f32 * s * scale;
            }
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.min(out.len() / ROWS_PER_THREAD).max(1);
        if threads == 1 {
            return scan(out, &self.codes, &self.code_scales);
        }
        let rows = out.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for ((out, codes), scales) in out
                .chunks_mut(rows)
                .zip(self.codes.chunks(rows * dim))
                .zip(self.code_scales.chunks(rows))
            {
                scope.spawn(move || scan(out, codes, scales));
            }
        });
    }

    /// Bytes held, both copies.
    pub fn memory(&self) -> usize {
        self.rows.data.len() * 4 + self.codes.len() + self.code_scales.len() * 4
    }
}

/// Rows below which one more thread costs more than it saves (a spawn is some 20 µs; a row
/// about 20 ns).
const ROWS_PER_THREAD: usize = 25_000;

fn quantize(rows: &Matrix) -> (Vec<i8>, Vec<f32>) {
    let mut codes = Vec::with_capacity(rows.data.len());
    let mut scales = Vec::with_capacity(rows.rows());
    for i in 0..rows.rows() {
        let (code, scale) = quantize_row(rows.row(i));
        codes.extend_from_slice(&code);
        scales.push(scale);
    }
    (codes, scales)
}

/// Symmetric int8 codes of `x` and the scale that maps them back (`x ≈ code * scale`).
fn quantize_row(x: &[f32]) -> (Vec<i8>, f32) {
    let peak = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    if peak <= 0.0 || !peak.is_finite() {
        return (vec![0; x.len()], 0.0);
    }
    let scale = peak / 127.0;
    let code = x
        .iter()
        .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (code, scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Choice};
    use crate::facets::{Scales, Vectors};
    use crate::track::Track;

    fn catalog(n: usize) -> Catalog {
        let tracks = (0..n)
            .map(|t| {
                let mut vectors = Vectors::default();
                for facet in Facet::ALL {
                    // Leave some facets out, as tracks without beats or a network do.
                    if (t + facet.index()) % 5 == 0 {
                        continue;
                    }
                    vectors.0[facet.index()] = (0..facet.dims())
                        .map(|i| ((t * 31 + i * 7 + facet.index()) as f32 * 0.173).sin())
                        .collect();
                }
                Track {
                    id: t as i64,
                    vectors,
                    ..Track::default()
                }
            })
            .collect();
        Catalog::new(tracks, Scales::identity())
    }

    #[test]
    fn combined_dot_over_total_is_the_all_score() {
        let catalog = catalog(40);
        let weights = [0.4, 0.3, 0.0, 0.1, 0.05, 0.0, 0.15];
        let combined = Combined::new(catalog.matrices(), weights);
        assert_eq!(
            combined.dim(),
            Facet::ALL
                .iter()
                .filter(|f| weights[f.index()] > 0.0)
                .map(|f| f.dims())
                .sum::<usize>()
        );
        for q in [0, 3, 7] {
            let query = catalog.query_of(q);
            let (vector, total) = combined.query(&query);
            let mut dots = vec![0.0; catalog.len()];
            combined.exact(&vector, &mut dots);
            let all = catalog.scores(&query, Choice::All(weights));
            for (d, a) in dots.iter().zip(&all) {
                assert!((d / total - a).abs() < 1e-5, "{d} / {total} against {a}");
            }
        }
    }

    #[test]
    fn int8_scores_stay_close_to_f32() {
        let catalog = catalog(200);
        let combined = Combined::new(catalog.matrices(), [1.0 / 7.0; 7]);
        let (q, _) = combined.query(&catalog.query_of(11));
        let (mut exact, mut coarse) = (vec![0.0; 200], vec![0.0; 200]);
        combined.exact(&q, &mut exact);
        combined.coarse(&q, &mut coarse);
        let worst = exact
            .iter()
            .zip(&coarse)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 0.01, "int8 error {worst}");
        assert!(exact.iter().any(|&x| x.abs() > 0.1));
    }

    #[test]
    fn a_large_catalog_finds_what_the_exact_scan_finds() {
        let catalog = catalog(crate::catalog::QUANTIZED_ABOVE + 1);
        let mut found = 0;
        for q in [5, 900, 17_000] {
            let query = catalog.query_of(q);
            let exact = catalog.scores(&query, catalog.all());
            let truth = catalog.best(&exact, 10, |i| i != q);
            let hits = catalog.nearest(&query, catalog.all(), 10, |i| i != q);
            assert_eq!(hits.len(), 10);
            for hit in &hits {
                assert!(
                    (hit.score - exact[hit.index]).abs() < 1e-5,
                    "rescored in f32"
                );
            }
            found += hits.iter().filter(|h| truth.contains(&h.index)).count();
        }
        assert!(found >= 27, "{found} of 30 exact neighbours");
    }

    #[test]
    fn quantizing_zero_and_nan_rows_is_harmless() {
        assert_eq!(quantize_row(&[0.0; 4]), (vec![0; 4], 0.0));
        assert_eq!(quantize_row(&[f32::NAN, 1.0]).0, [0, 127]);
        let (code, scale) = quantize_row(&[0.5, -1.0, 0.25]);
        assert_eq!(code, [64, -127, 32]);
        assert!((scale - 1.0 / 127.0).abs() < 1e-7);
    }
}
