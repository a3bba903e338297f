//! The library in memory, ready to search: each facet's scaled vectors in one contiguous
//! row-major f32 matrix (a track without a facet has a zero row), searched exhaustively.
//! Similarity is the cosine of scaled vectors; "all" is a weighted mean over the facets the
//! query has. The shipped "all" also has its own combined matrix ([`Combined`]): scanned in
//! f32 up to [`QUANTIZED_ABOVE`] tracks, in int8 with an f32 rescore above, and through an
//! approximate index ([`Approximate`]) once a long-lived holder builds one.

use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::OnceLock;

use simsimd::SpatialSimilarity;

use crate::approximate::Approximate;
use crate::combined::Combined;
use crate::facets::{Facet, Scales, Vectors};
use crate::track::Track;
use crate::{Library, LibraryError};

/// Above this many tracks the shipped "all" scans int8 rows, then rescores in f32 (chosen
/// by `cargo xtask bench library`: below it the f32 scan is fast enough and exact).
pub const QUANTIZED_ABOVE: usize = 20_000;

/// The int8 scan keeps this many candidates per result asked for, for the f32 rescore.
const RESCORED_PER_HIT: usize = 10;

/// Above this many tracks an approximate index pays for its build (`cargo xtask bench
/// library`); [`Catalog::build_index`] builds one.
pub const APPROXIMATE_ABOVE: usize = 200_000;

/// A facet's similarity at or above this counts as a reason two tracks are close.
const REASON: f32 = 0.5;

/// What to rank by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice {
    /// A weighted mean of every facet, the weights by [`Facet::index`] (the shipped ones:
    /// [`Catalog::all`]).
    All([f32; 7]),
    One(Facet),
}

/// Row-major vectors of one length.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    pub dim: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub fn rows(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// `out[i] += weight * (row i . query)` for every row.
    pub fn add_dots(&self, query: &[f32], weight: f32, out: &mut [f32]) {
        if self.dim == 0 || query.len() != self.dim {
            return;
        }
        for (o, row) in out.iter_mut().zip(self.data.chunks_exact(self.dim)) {
            *o += weight * dot(row, query);
        }
    }
}

/// A dot product with the widest SIMD the CPU has (SimSIMD picks it at run time); 0 for
/// slices of different lengths.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    f32::dot(a, b).unwrap_or(0.0) as f32
}

/// A track's or a file's scaled vectors: what is compared.
#[derive(Debug, Clone, Default)]
pub struct Query(pub [Vec<f32>; 7]);

impl Query {
    pub fn has(&self, facet: Facet) -> bool {
        !self.0[facet.index()].is_empty()
    }
}

/// One result: the track's index in the catalog, the score it was ranked by, and each
/// facet's similarity (none where the query or the track lacks that facet).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub index: usize,
    pub score: f32,
    pub facets: [Option<f32>; 7],
}

impl Hit {
    /// The facets that make this track close to the query, most similar first: those at or
    /// above 0.5, else the single most similar.
    pub fn reasons(&self) -> Vec<Facet> {
        let mut ranked: Vec<(Facet, f32)> = Facet::ALL
            .iter()
            .filter_map(|&f| self.facets[f.index()].map(|s| (f, s)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let strong: Vec<Facet> = ranked
            .iter()
            .filter(|r| r.1 >= REASON)
            .map(|r| r.0)
            .collect();
        if strong.is_empty() {
            ranked.into_iter().take(1).map(|r| r.0).collect()
        } else {
            strong
        }
    }
}

/// A score with its track, ordered worst last: lower score, then (at equal scores) the
/// later track.
#[derive(PartialEq)]
struct Scored {
    score: f32,
    index: usize,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

pub struct Catalog {
    /// The tracks, with only their raw mood, tag and genre vectors (word search reads them);
    /// the matrices hold every facet scaled.
    pub tracks: Vec<Track>,
    matrices: [Matrix; 7],
    scales: Scales,
    /// The shipped "all" as one matrix.
    combined: Combined,
    /// Built once, possibly on another thread while the catalog is searched without it.
    index: OnceLock<Approximate>,
}

impl Catalog {
    pub fn new(mut tracks: Vec<Track>, scales: Scales) -> Catalog {
        let mut matrices: [Matrix; 7] = std::array::from_fn(|i| Matrix {
            dim: Facet::ALL[i].dims(),
            data: Vec::with_capacity(tracks.len() * Facet::ALL[i].dims()),
        });
        for track in &mut tracks {
            let mut vectors = std::mem::take(&mut track.vectors);
            for facet in Facet::ALL {
                let m = &mut matrices[facet.index()];
                let scaled = vectors
                    .get(facet)
                    .map(|raw| scales.apply(facet, raw))
                    .unwrap_or_default();
                if scaled.len() == m.dim {
                    m.data.extend_from_slice(&scaled);
                } else {
                    m.data.extend(std::iter::repeat_n(0.0, m.dim));
                }
            }
            for facet in [Facet::Mood, Facet::Tags, Facet::Genre] {
                track.vectors.0[facet.index()] = std::mem::take(&mut vectors.0[facet.index()]);
            }
        }
        let combined = Combined::new(&matrices, scales.weights);
        Catalog {
            tracks,
            matrices,
            scales,
            combined,
            index: OnceLock::new(),
        }
    }

    /// The analyzed tracks of the library at `path`, with the shipped scales; an empty
    /// library is [`LibraryError::Empty`], which says how to fill it.
    pub fn open(path: &Path) -> Result<Catalog, LibraryError> {
        let tracks = Library::open(path)?.tracks()?;
        if tracks.is_empty() {
            return Err(LibraryError::Empty { path: path.into() });
        }
        Ok(Catalog::new(tracks, Scales::shipped()))
    }

    #[cfg(test)]
    pub(crate) fn matrices(&self) -> &[Matrix; 7] {
        &self.matrices
    }

    /// Whether [`Catalog::build_index`] would build an index.
    pub fn wants_index(&self) -> bool {
        self.len() >= APPROXIMATE_ABOVE && self.index.get().is_none()
    }

    /// Builds the approximate index for the shipped "all" when the catalog is large enough
    /// to need one; searches use it from then on. Worth it only for a holder that answers
    /// many queries (the app's window builds it on a thread of its own), since a build costs
    /// far more than a scan (about 17 s at 100 000 tracks on 2 cores).
    pub fn build_index(&self) {
        if self.wants_index() {
            let _ = self.index.set(Approximate::build(&self.combined.rows));
        }
    }

    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// The "all" similarity with the shipped weights ([`Scales::weights`]).
    pub fn all(&self) -> Choice {
        Choice::All(self.scales.weights)
    }

    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// The query made of a file's raw vectors.
    pub fn query(&self, raw: &Vectors) -> Query {
        Query(std::array::from_fn(|i| {
            let facet = Facet::ALL[i];
            raw.get(facet)
                .map(|v| self.scales.apply(facet, v))
                .unwrap_or_default()
        }))
    }

    /// The query made of a catalogued track.
    pub fn query_of(&self, index: usize) -> Query {
        Query(std::array::from_fn(|i| {
            let row = self.matrices[i].row(index);
            if row.iter().all(|&x| x == 0.0) {
                Vec::new()
            } else {
                row.to_vec()
            }
        }))
    }

    /// Every track's score against `query` by `choice`, in catalog order.
    pub fn scores(&self, query: &Query, choice: Choice) -> Vec<f32> {
        let mut scores = vec![0f32; self.len()];
        if choice == Choice::All(self.combined.weights) {
            let (q, total) = self.combined.query(query);
            if total > 0.0 {
                self.combined.exact(&q, &mut scores);
                scores.iter_mut().for_each(|s| *s /= total);
            }
            return scores;
        }
        match choice {
            Choice::One(facet) => {
                self.matrices[facet.index()].add_dots(&query.0[facet.index()], 1.0, &mut scores)
            }
            Choice::All(weights) => {
                let total: f32 = Facet::ALL
                    .iter()
                    .filter(|f| query.has(**f))
                    .map(|f| weights[f.index()])
                    .sum();
                if total > 0.0 {
                    for facet in Facet::ALL.into_iter().filter(|f| query.has(*f)) {
                        let w = weights[facet.index()] / total;
                        self.matrices[facet.index()].add_dots(
                            &query.0[facet.index()],
                            w,
                            &mut scores,
                        );
                    }
                }
            }
        }
        scores
    }

    /// Each facet's similarity between `query` and track `index`.
    pub fn similarities(&self, query: &Query, index: usize) -> [Option<f32>; 7] {
        std::array::from_fn(|i| {
            let row = self.matrices[i].row(index);
            let q = &query.0[i];
            (!q.is_empty() && row.iter().any(|&x| x != 0.0)).then(|| dot(row, q))
        })
    }

    /// The `k` best tracks by `choice` among those `keep` accepts, best first.
    pub fn nearest(
        &self,
        query: &Query,
        choice: Choice,
        k: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<Hit> {
        let ranked = if choice == self.all() && self.len() > QUANTIZED_ABOVE {
            self.nearest_combined(query, k, keep)
        } else {
            let scores = self.scores(query, choice);
            self.best(&scores, k, keep)
                .into_iter()
                .map(|i| (i, scores[i]))
                .collect()
        };
        ranked
            .into_iter()
            .map(|(index, score)| Hit {
                index,
                score,
                facets: self.similarities(query, index),
            })
            .collect()
    }

    /// The shipped "all" over a large catalog: candidates from the approximate index when
    /// there is one, else from the int8 scan, rescored in f32.
    fn nearest_combined(
        &self,
        query: &Query,
        k: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        let (q, total) = self.combined.query(query);
        if total <= 0.0 || k == 0 {
            return Vec::new();
        }
        let candidates = match self.index.get() {
            Some(index) => index.search(&q, k, &keep),
            None => {
                let mut coarse = vec![0f32; self.len()];
                self.combined.coarse(&q, &mut coarse);
                self.best(&coarse, k * RESCORED_PER_HIT, &keep)
            }
        };
        let rows = &self.combined.rows;
        let mut rescored: Vec<(usize, f32)> = candidates
            .into_iter()
            .map(|i| (i, dot(rows.row(i), &q) / total))
            .collect();
        rescored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        rescored.truncate(k);
        rescored
    }

    /// The combined "all" matrix and its index, for `cargo xtask bench library`.
    pub fn combined(&self) -> (&Combined, Option<&Approximate>) {
        (&self.combined, self.index.get())
    }

    /// The indices of the `k` highest `scores` that `keep` accepts, highest first (ties in
    /// catalog order).
    pub fn best(&self, scores: &[f32], k: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        // The best k so far, the worst of them on top: one pass, and `keep` only asked of
        // scores that would make the list.
        let mut heap = BinaryHeap::with_capacity(k + 1);
        for (index, &score) in scores.iter().enumerate().take_while(|_| k > 0) {
            let entry = Scored { score, index };
            if heap.len() == k && heap.peek().is_some_and(|worst| &entry >= worst) {
                continue;
            }
            if keep(index) {
                heap.push(entry);
                if heap.len() > k {
                    heap.pop();
                }
            }
        }
        heap.into_sorted_vec()
            .into_iter()
            .map(|r| r.index)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_keeps_the_highest_scores_in_order_and_breaks_ties_by_track() {
        let catalog = Catalog::new(Vec::new(), Scales::identity());
        // Scores with many ties, and every third track refused.
        let scores: Vec<f32> = (0..1000).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
        let keep = |i: usize| !i.is_multiple_of(3);
        for k in [0, 1, 10, 500, 2000] {
            let mut reference: Vec<usize> = (0..scores.len()).filter(|&i| keep(i)).collect();
            reference.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            reference.truncate(k);
            assert_eq!(catalog.best(&scores, k, keep), reference, "k = {k}");
        }
    }

    fn track(id: i64, timbre: f32, genre: &str) -> Track {
        let mut vectors = Vectors::default();
        let mut t = vec![0.0; Facet::Timbre.dims()];
        t[0] = timbre;
        t[1] = 1.0 - timbre;
        vectors.0[Facet::Timbre.index()] = t;
        Track {
            id,
            genre: Some((genre.into(), 0.9)),
            vectors,
            ..Track::default()
        }
    }

    #[test]
    fn dot_matches_the_plain_sum_at_every_length() {
        for n in [0, 1, 7, 8, 9, 200, 203] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "{n}");
        }
    }

    #[test]
    fn nearest_ranks_by_similarity_and_filters() {
        let tracks = vec![
            track(1, 1.0, "rock"),
            track(2, 0.9, "rock"),
            track(3, 0.5, "jazz"),
            track(4, 0.0, "jazz"),
        ];
        let catalog = Catalog::new(tracks, Scales::identity());
        let query = catalog.query_of(0);
        let hits = catalog.nearest(&query, Choice::One(Facet::Timbre), 3, |i| i != 0);
        let order: Vec<usize> = hits.iter().map(|h| h.index).collect();
        assert_eq!(order, [1, 2, 3]);
        assert!(hits[0].score > hits[1].score && hits[1].score > hits[2].score);
        assert_eq!(hits[0].reasons(), [Facet::Timbre]);
        // Another genre only.
        let other = catalog.nearest(&query, catalog.all(), 2, |i| {
            catalog.tracks[i].genre.as_ref().unwrap().0 != "rock"
        });
        assert_eq!(other.iter().map(|h| h.index).collect::<Vec<_>>(), [2, 3]);
        // The "all" score is a weighted mean of the facets the query has: here timbre alone.
        assert!((other[0].score - other[0].facets[Facet::Timbre.index()].unwrap()).abs() < 1e-6);
        assert_eq!(other[0].facets[Facet::Mood.index()], None);
    }
}
