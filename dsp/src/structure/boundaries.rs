//! Where a song's sections begin: Serrà et al.'s structural features. Columns are stacked
//! with their next `embedding - 1` (a time-delay embedding, so a column says where the
//! music is going), each joined to its mutual nearest neighbours in a recurrence plot, the
//! plot read as a lag matrix (row `i`: which lags repeat at time `i`) and smoothed in time;
//! the rows are the structural features, and the sections begin at the peaks of their
//! change from one column to the next above an adaptive threshold (MSAF's peak picking).

use super::{distance, Features};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundaryParams {
    /// Columns stacked in the time-delay embedding.
    pub embedding: usize,
    /// Nearest neighbours of each column in the recurrence plot, as a fraction of the
    /// columns.
    pub neighbours: f32,
    /// Standard deviation of the lag matrix's Gaussian smoothing along time, in columns.
    pub smooth_time: f32,
    /// And along the lags.
    pub smooth_lag: f32,
    /// Columns of the moving median the novelty must rise above.
    pub threshold_window: usize,
    /// Added to the median, times the novelty's mean.
    pub threshold_offset: f32,
}

/// The embedded columns' pairwise squared distances and each one's distance to its
/// `k`-th nearest neighbour.
pub struct Embedded {
    /// Embedded columns: `n = columns - embedding + 1`.
    pub n: usize,
    /// Row-major `n` by `n`.
    pub distances: Vec<f32>,
    /// Each row's `k`-th smallest distance to another column.
    pub kth: Vec<f32>,
    /// Embedded column `i` is centred on column `i + offset`.
    pub offset: usize,
}

impl Embedded {
    /// `None` when there are too few columns to embed.
    pub fn new(columns: &[Features], embedding: usize, neighbours: f32) -> Option<Self> {
        let m = embedding.max(1);
        let n = (columns.len() + 1).checked_sub(m).filter(|&n| n >= 3)?;
        let c = columns.len();
        let mut single = vec![0f32; c * c];
        for i in 0..c {
            for j in i + 1..c {
                let d = distance(&columns[i], &columns[j]);
                single[i * c + j] = d;
                single[j * c + i] = d;
            }
        }
        // An embedded distance is the sum of its columns' distances along the diagonal.
        let mut distances = vec![0f32; n * n];
        for i in 0..n {
            for j in 0..n {
                distances[i * n + j] = (0..m).map(|t| single[(i + t) * c + j + t]).sum();
            }
        }
        let k = ((neighbours * n as f32).round() as usize).clamp(1, n - 1);
        let mut row = Vec::with_capacity(n);
        let kth = (0..n)
            .map(|i| {
                row.clear();
                row.extend((0..n).filter(|&j| j != i).map(|j| distances[i * n + j]));
                *row.select_nth_unstable_by(k - 1, f32::total_cmp).1
            })
            .collect();
        Some(Self {
            n,
            distances,
            kth,
            offset: (m - 1) / 2,
        })
    }

    fn d(&self, i: usize, j: usize) -> f32 {
        self.distances[i * self.n + j]
    }
}

/// The structural features' novelty between embedded column `i` and `i + 1`, scaled to 0..1.
pub fn novelty(e: &Embedded, params: &BoundaryParams) -> Vec<f32> {
    let n = e.n;
    // Mutual nearest neighbours, read as a lag matrix: lag[i][l] is 1 when column i recurs
    // l columns later (circularly).
    let mut lag = vec![0f32; n * n];
    for i in 0..n {
        for l in 1..n {
            let j = (i + l) % n;
            let d = e.d(i, j);
            if d <= e.kth[i] && d <= e.kth[j] {
                lag[i * n + l] = 1.0;
            }
        }
    }
    let lag = smooth_rows(&lag, n, params.smooth_lag);
    let features = smooth_time(&lag, n, params.smooth_time);
    let mut nc: Vec<f32> = (0..n - 1)
        .map(|i| {
            let (a, b) = (
                &features[i * n..(i + 1) * n],
                &features[(i + 1) * n..(i + 2) * n],
            );
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f32>()
                .sqrt()
        })
        .collect();
    let (lo, hi) = nc
        .iter()
        .fold((f32::INFINITY, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    for v in &mut nc {
        *v = if hi > lo { (*v - lo) / (hi - lo) } else { 0.0 };
    }
    nc
}

/// Where sections begin among `columns` embedded as `e`, as column indices (never 0), each
/// with its novelty: the peaks of [`novelty`] above a moving median plus an offset.
pub fn boundaries(e: &Embedded, columns: usize, params: &BoundaryParams) -> Vec<(usize, f32)> {
    let nc = novelty(e, params);
    peaks(&nc, params.threshold_window, params.threshold_offset)
        .into_iter()
        // Novelty `i` is the change from embedded column i to i + 1.
        .map(|i| (i + 1 + e.offset, nc[i]))
        .filter(|&(c, _)| c > 0 && c < columns)
        .collect()
}

/// Where near `around` (within `radius` seconds) the music changes most sharply: the peak of
/// Foote's checkerboard novelty, `half` units a side, over `units` (standardized, starting at
/// `times`). Beat-synchronous boundaries are only as sharp as the beats and the structural
/// features' smoothing; this places each on the change itself. `around` when there are too
/// few units.
pub fn refine(units: &[Features], times: &[f64], around: f64, radius: f64, half: usize) -> f64 {
    let first = times.partition_point(|&t| t < around - radius).max(half);
    let last = times
        .partition_point(|&t| t <= around + radius)
        .min(units.len().saturating_sub(half));
    if first >= last {
        return around;
    }
    // Cosine similarities over the window every candidate's kernel reads.
    let (lo, hi) = (first - half, last + half);
    let unit: Vec<Features> = units[lo..hi]
        .iter()
        .map(|u| {
            let norm = u.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
            u.map(|x| x / norm)
        })
        .collect();
    let w = hi - lo;
    let mut sims = vec![0f32; w * w];
    for i in 0..w {
        for j in i..w {
            let s: f32 = unit[i].iter().zip(&unit[j]).map(|(a, b)| a * b).sum();
            sims[i * w + j] = s;
            sims[j * w + i] = s;
        }
    }
    let novelty = |k: usize| {
        let c = k - lo;
        let mut total = 0f32;
        for i in c - half..c + half {
            for j in c - half..c + half {
                let sign = if (i < c) == (j < c) { 1.0 } else { -1.0 };
                total += sign * sims[i * w + j];
            }
        }
        total
    };
    (first..last)
        .max_by(|&a, &b| novelty(a).total_cmp(&novelty(b)))
        .map_or(around, |k| times[k])
}

/// Strict local maxima of `curve` above its moving median over `window` plus `offset` times
/// its mean.
pub fn peaks(curve: &[f32], window: usize, offset: f32) -> Vec<usize> {
    let n = curve.len();
    if n < 3 {
        return Vec::new();
    }
    let mean = curve.iter().sum::<f32>() / n as f32;
    let half = window.max(1) / 2;
    let mut scratch = Vec::with_capacity(2 * half + 1);
    (1..n - 1)
        .filter(|&i| curve[i - 1] < curve[i] && curve[i] > curve[i + 1])
        .filter(|&i| {
            scratch.clear();
            // The window reflected at the ends, as scipy's median_filter does.
            // A window wider than the curve reflects more than once.
            scratch.extend((i as isize - half as isize..=(i + half) as isize).map(|j| {
                let j = j.rem_euclid(2 * n as isize) as usize;
                curve[if j >= n { 2 * n - j - 1 } else { j }]
            }));
            let mid = scratch.len() / 2;
            let median = *scratch.select_nth_unstable_by(mid, f32::total_cmp).1;
            curve[i] > median + offset * mean
        })
        .collect()
}

/// A Gaussian kernel of standard deviation `sigma`, truncated at 3 sigma, summing to 1.
fn gaussian(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(0.0) as isize;
    let w: Vec<f32> = (-r..=r)
        .map(|t| (-(t * t) as f32 / (2.0 * sigma * sigma).max(1e-9)).exp())
        .collect();
    let sum: f32 = w.iter().sum();
    w.into_iter().map(|x| x / sum).collect()
}

/// Each row smoothed along itself, circularly (the lags wrap around).
fn smooth_rows(m: &[f32], n: usize, sigma: f32) -> Vec<f32> {
    if sigma <= 0.0 {
        return m.to_vec();
    }
    let w = gaussian(sigma);
    let r = (w.len() / 2) as isize;
    let mut out = vec![0f32; n * n];
    for i in 0..n {
        let row = &m[i * n..(i + 1) * n];
        for (l, o) in out[i * n..(i + 1) * n].iter_mut().enumerate() {
            *o = w
                .iter()
                .enumerate()
                .map(|(t, wt)| {
                    wt * row[(l as isize + t as isize - r).rem_euclid(n as isize) as usize]
                })
                .sum();
        }
    }
    out
}

/// Rows smoothed across each other (along time), the edges repeated.
fn smooth_time(m: &[f32], n: usize, sigma: f32) -> Vec<f32> {
    if sigma <= 0.0 {
        return m.to_vec();
    }
    let w = gaussian(sigma);
    let r = (w.len() / 2) as isize;
    let mut out = vec![0f32; n * n];
    for i in 0..n {
        let o = &mut out[i * n..(i + 1) * n];
        for (t, wt) in w.iter().enumerate() {
            let j = (i as isize + t as isize - r).clamp(0, n as isize - 1) as usize;
            for (x, y) in o.iter_mut().zip(&m[j * n..(j + 1) * n]) {
                *x += wt * y;
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::structure::DIMS;

    pub(crate) const PARAMS: BoundaryParams = BoundaryParams {
        embedding: 3,
        neighbours: 0.04,
        smooth_time: 4.0,
        smooth_lag: 0.5,
        threshold_window: 28,
        threshold_offset: 0.05,
    };

    /// `pattern` of parts, each `len` columns: every part is its own sequence of random
    /// columns, and a repeat replays that sequence with fresh noise.
    pub(crate) fn song(pattern: &str, len: usize) -> Vec<Features> {
        let mut seed = 12345u64;
        let mut noise = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut parts = std::collections::HashMap::new();
        let mut out = Vec::new();
        for part in pattern.chars() {
            let path: &Vec<Features> = parts.entry(part).or_insert_with(|| {
                let centre: Features = std::array::from_fn(|_| 2.0 * noise());
                (0..len)
                    .map(|_| std::array::from_fn(|d| centre[d] + noise()))
                    .collect()
            });
            let path = path.clone();
            out.extend(path.iter().map(|c| c.map(|x| x + 0.2 * noise())));
        }
        out
    }

    fn find(columns: &[Features]) -> Vec<(usize, f32)> {
        Embedded::new(columns, PARAMS.embedding, PARAMS.neighbours)
            .map_or_else(Vec::new, |e| boundaries(&e, columns.len(), &PARAMS))
    }

    #[test]
    fn sections_of_a_patterned_song_are_found_where_they_change() {
        let columns = song("ABACAB", 24);
        let found: Vec<usize> = find(&columns).iter().map(|b| b.0).collect();
        // Every change, and a few weaker peaks inside parts at most.
        for t in [24, 48, 72, 96, 120] {
            assert!(found.iter().any(|f| f.abs_diff(t) <= 2), "{t}: {found:?}");
        }
        assert!(found.len() <= 8, "{found:?}");
    }

    #[test]
    fn too_short_or_constant_input_gives_no_boundary() {
        assert!(find(&song("A", 2)).is_empty());
        let flat = vec![[0f32; DIMS]; 50];
        let b = find(&flat);
        assert!(b.len() <= 2, "{b:?}");
    }

    #[test]
    fn refining_finds_the_change_near_a_rough_boundary() {
        let units = song("AB", 40);
        let times: Vec<f64> = (0..80).map(|i| i as f64 * 0.1).collect();
        // The change is at unit 40 (4 s); a rough boundary at 3.3 s finds it.
        let t = refine(&units, &times, 3.3, 1.0, 8);
        assert!((t - 4.0).abs() < 0.15, "{t}");
        // Too far to reach it, or too few units: the boundary stays in its radius.
        assert!((refine(&units, &times, 1.5, 1.0, 8) - 1.5).abs() <= 1.0);
        assert_eq!(refine(&units[..10], &times[..10], 0.5, 1.0, 8), 0.5);
    }

    #[test]
    fn peaks_rise_above_the_median() {
        let curve = [0.0, 0.1, 0.0, 0.1, 1.0, 0.1, 0.0, 0.1, 0.0];
        assert_eq!(peaks(&curve, 5, 1.0), vec![4]);
        assert_eq!(peaks(&curve, 5, 0.05), vec![1, 4, 7]);
        assert!(peaks(&[1.0, 2.0], 3, 0.0).is_empty());
        // A window wider than the curve (a clip of a few seconds) reflects more than once.
        assert_eq!(peaks(&[0.0, 1.0, 0.0], 28, 0.0), vec![1]);
    }
}
