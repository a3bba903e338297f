//! Which sections are the same material: Serrà et al.'s segment similarity, the mean
//! affinity along the best-aligned diagonal of two sections' block of the affinity matrix
//! (a repeat draws a stripe there, however loud it is played), then average-linkage
//! clustering of the sections above a threshold.

use std::ops::Range;

use super::boundaries::Embedded;

/// Affinity of embedded columns `i` and `j`: a Gaussian of their distance scaled by each
/// one's distance to its `k`-th neighbour (self-tuning, as in spectral clustering).
fn affinity(e: &Embedded, i: usize, j: usize) -> f32 {
    let scale = (e.kth[i] * e.kth[j]).sqrt().max(1e-9);
    (-e.distances[i * e.n + j] / scale).exp()
}

/// How alike two sections are, 0 to 1: over the diagonals of their block whose overlap is
/// at least `min_overlap` of the shorter, the highest mean affinity. Sections are column
/// ranges; they are read on the embedded columns centred on them.
pub fn similarity(e: &Embedded, a: Range<usize>, b: Range<usize>, min_overlap: f32) -> f32 {
    let to_embedded = |r: Range<usize>| {
        let start = r.start.saturating_sub(e.offset).min(e.n);
        let end = r.end.saturating_sub(e.offset).clamp(start, e.n);
        start..end
    };
    let (a, b) = (to_embedded(a), to_embedded(b));
    let shortest = a.len().min(b.len());
    if shortest == 0 {
        return 0.0;
    }
    let need = ((min_overlap * shortest as f32).ceil() as usize).max(1);
    let mut best = 0f32;
    // Diagonal `delta`: row a.start + t against column b.start + t + delta.
    for delta in -(a.len() as isize)..b.len() as isize {
        let t0 = 0.max(-delta) as usize;
        let t1 = a.len().min((b.len() as isize - delta).max(0) as usize);
        if t1 < t0 + need {
            continue;
        }
        let sum: f32 = (t0..t1)
            .map(|t| {
                affinity(
                    e,
                    a.start + t,
                    (b.start as isize + t as isize + delta) as usize,
                )
            })
            .sum();
        best = best.max(sum / (t1 - t0) as f32);
    }
    best
}

/// Labels for `sections` (column ranges, in order): average-linkage clusters of their
/// [`similarity`] merged while the most alike pair of clusters is at least `threshold`
/// alike; numbered in order of first appearance.
pub fn labels(
    e: &Embedded,
    sections: &[Range<usize>],
    min_overlap: f32,
    threshold: f32,
) -> Vec<usize> {
    let k = sections.len();
    let mut sim = vec![0f32; k * k];
    for i in 0..k {
        for j in i + 1..k {
            let s = similarity(e, sections[i].clone(), sections[j].clone(), min_overlap);
            sim[i * k + j] = s;
            sim[j * k + i] = s;
        }
    }
    cluster(&sim, k, threshold)
}

/// Average-linkage clustering of `k` items with pairwise similarities `sim` (row-major),
/// merged while the best pair is at least `threshold`; labels by first appearance.
pub fn cluster(sim: &[f32], k: usize, threshold: f32) -> Vec<usize> {
    let mut clusters: Vec<Vec<usize>> = (0..k).map(|i| vec![i]).collect();
    let linkage = |a: &[usize], b: &[usize]| {
        let total: f32 = a
            .iter()
            .flat_map(|&i| b.iter().map(move |&j| sim[i * k + j]))
            .sum();
        total / (a.len() * b.len()) as f32
    };
    loop {
        let mut best = (threshold, None);
        for x in 0..clusters.len() {
            for y in x + 1..clusters.len() {
                let s = linkage(&clusters[x], &clusters[y]);
                if s >= best.0 {
                    best = (s, Some((x, y)));
                }
            }
        }
        let Some((x, y)) = best.1 else { break };
        let merged = clusters.swap_remove(y);
        clusters[x].extend(merged);
    }
    let mut cluster_of = vec![0; k];
    for (c, members) in clusters.iter().enumerate() {
        for &i in members {
            cluster_of[i] = c;
        }
    }
    let mut names: Vec<Option<usize>> = vec![None; clusters.len()];
    let mut next = 0;
    cluster_of
        .iter()
        .map(|&c| {
            *names[c].get_or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::boundaries::tests::song;

    #[test]
    fn repeats_share_a_letter_and_other_parts_do_not() {
        let columns = song("ABACAB", 20);
        let e = Embedded::new(&columns, 3, 0.04).unwrap();
        let sections: Vec<Range<usize>> = (0..6).map(|i| i * 20..(i + 1) * 20).collect();
        let same = similarity(&e, sections[0].clone(), sections[2].clone(), 0.6);
        let other = similarity(&e, sections[0].clone(), sections[1].clone(), 0.6);
        assert!(same > 2.0 * other, "{same} {other}");
        assert_eq!(labels(&e, &sections, 0.6, 0.3), vec![0, 1, 0, 2, 0, 1]);
    }

    #[test]
    fn clusters_merge_only_above_the_threshold() {
        // 0 and 2 alike, 1 alone.
        let sim = [1.0, 0.1, 0.9, 0.1, 1.0, 0.2, 0.9, 0.2, 1.0];
        assert_eq!(cluster(&sim, 3, 0.5), vec![0, 1, 0]);
        assert_eq!(cluster(&sim, 3, 0.95), vec![0, 1, 2]);
        assert_eq!(cluster(&sim, 3, 0.05), vec![0, 0, 0]);
        assert!(cluster(&[], 0, 0.5).is_empty());
    }
}
