//! Playlists that flow: each next track is near the one before it and near the seeds, never
//! repeated, and spread over artists and albums; and paths that move gradually from one track
//! to another. Similarity is the catalog's "all" score.

use std::collections::HashSet;
use std::path::Path;

use crate::catalog::{Catalog, Query};

/// How much a track counts against itself for sharing an artist with one of the last three
/// tracks, or an album with one of the last five.
const SAME_ARTIST: f32 = 0.15;
const SAME_ALBUM: f32 = 0.1;

/// A seed: its vectors, and its place in the catalog when it is there (it then opens the
/// playlist).
pub struct Seed {
    pub query: Query,
    pub index: Option<usize>,
}

/// A playlist of `length` tracks (fewer if the catalog runs out) starting with the catalogued
/// seeds: each next track is the best mix of closeness to the previous one and to all seeds.
pub fn from_seeds(catalog: &Catalog, seeds: &[Seed], length: usize) -> Vec<usize> {
    let mut list: Vec<usize> = Vec::new();
    for s in seeds.iter().filter_map(|s| s.index) {
        if !list.contains(&s) {
            list.push(s);
        }
    }
    let mut to_seeds = vec![0f32; catalog.len()];
    for seed in seeds {
        let s = catalog.scores(&seed.query, catalog.all());
        to_seeds
            .iter_mut()
            .zip(s)
            .for_each(|(t, x)| *t += x / seeds.len() as f32);
    }
    let mut previous = seeds.last().map(|s| s.query.clone());
    while list.len() < length {
        let to_previous = previous
            .as_ref()
            .map_or_else(|| to_seeds.clone(), |q| catalog.scores(q, catalog.all()));
        let score: Vec<f32> = (0..catalog.len())
            .map(|i| 0.5 * to_previous[i] + 0.5 * to_seeds[i] - spread_penalty(catalog, &list, i))
            .collect();
        let Some(next) = pick(catalog, &score, &list, &[]) else {
            break;
        };
        list.push(next);
        previous = Some(catalog.query_of(next));
    }
    list
}

/// `length` tracks (at least two) from `from` to `to`: the k-th of them is the best track
/// for its place on the way (its closeness to each end weighed by how far along it is), and
/// close to the one before.
pub fn path(catalog: &Catalog, from: usize, to: usize, length: usize) -> Vec<usize> {
    let length = length.max(2);
    let a = catalog.scores(&catalog.query_of(from), catalog.all());
    let c = catalog.scores(&catalog.query_of(to), catalog.all());
    let mut list = vec![from];
    for step in 1..length - 1 {
        let t = step as f32 / (length - 1) as f32;
        let previous = catalog.scores(&catalog.query_of(*list.last().unwrap()), catalog.all());
        let score: Vec<f32> = (0..catalog.len())
            .map(|i| {
                (1.0 - t) * a[i] + t * c[i] + 0.3 * previous[i] - spread_penalty(catalog, &list, i)
            })
            .collect();
        match pick(catalog, &score, &list, &[to]) {
            Some(next) => list.push(next),
            None => break,
        }
    }
    if from != to {
        list.push(to);
    }
    list
}

/// The "all" similarity of each consecutive pair.
pub fn steps(catalog: &Catalog, list: &[usize]) -> Vec<f32> {
    list.windows(2)
        .map(|w| {
            let scores = catalog.scores(&catalog.query_of(w[0]), catalog.all());
            scores[w[1]]
        })
        .collect()
}

/// The best-scored track not in `used` (nor a copy of one, by content) nor in `also`.
fn pick(catalog: &Catalog, score: &[f32], used: &[usize], also: &[usize]) -> Option<usize> {
    let hashes: HashSet<&str> = used
        .iter()
        .map(|&i| catalog.tracks[i].hash.as_str())
        .collect();
    (0..catalog.len())
        .filter(|i| !used.contains(i) && !also.contains(i))
        .filter(|&i| !hashes.contains(catalog.tracks[i].hash.as_str()))
        .max_by(|&a, &b| score[a].total_cmp(&score[b]).then(b.cmp(&a)))
}

fn spread_penalty(catalog: &Catalog, list: &[usize], i: usize) -> f32 {
    let (artist, album) = artist_album(catalog, i);
    let recent = |n: usize| list.iter().rev().take(n).map(|&j| artist_album(catalog, j));
    let mut penalty = 0.0;
    if artist.is_some() && recent(3).any(|(a, _)| a == artist) {
        penalty += SAME_ARTIST;
    }
    if album.is_some() && recent(5).any(|(_, b)| b == album) {
        penalty += SAME_ALBUM;
    }
    penalty
}

/// A track's artist and album from its tags; without an album tag, its folder stands for
/// the album (collections are kept one album per folder).
fn artist_album(catalog: &Catalog, i: usize) -> (Option<String>, Option<String>) {
    let t = &catalog.tracks[i];
    let folder = || {
        Path::new(&t.path)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
    };
    (
        t.artist.as_ref().map(|a| a.to_lowercase()),
        t.album.as_ref().map(|a| a.to_lowercase()).or_else(folder),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facets::{Facet, Scales, Vectors};
    use crate::track::Track;

    /// Tracks on a circle in the timbre facet: neighbours by angle.
    fn circle(n: usize) -> Catalog {
        let tracks = (0..n)
            .map(|i| {
                let angle = std::f32::consts::PI * i as f32 / n as f32;
                let mut v = vec![0.0; Facet::Timbre.dims()];
                v[0] = angle.cos();
                v[1] = angle.sin();
                let mut vectors = Vectors::default();
                vectors.0[Facet::Timbre.index()] = v;
                Track {
                    id: i as i64 + 1,
                    path: format!("/music/{}/{i}.flac", i % 4),
                    hash: format!("{i}"),
                    vectors,
                    ..Track::default()
                }
            })
            .collect();
        Catalog::new(tracks, Scales::identity())
    }

    #[test]
    fn a_path_moves_gradually_from_one_end_to_the_other() {
        let catalog = circle(40);
        let list = path(&catalog, 0, 39, 8);
        assert_eq!(list.len(), 8);
        assert_eq!((list[0], list[7]), (0, 39));
        let unique: HashSet<_> = list.iter().collect();
        assert_eq!(unique.len(), 8);
        // Along the way, ever closer to the end (indices rise, give or take the spread).
        let rising = list.windows(2).filter(|w| w[1] > w[0]).count();
        assert!(rising >= 6, "{list:?}");
    }

    #[test]
    fn seeded_playlists_stay_near_the_seed_without_repeats() {
        let catalog = circle(40);
        let seed = Seed {
            query: catalog.query_of(10),
            index: Some(10),
        };
        let list = from_seeds(&catalog, &[seed], 6);
        assert_eq!(list[0], 10);
        assert_eq!(list.iter().collect::<HashSet<_>>().len(), 6);
        assert!(list.iter().all(|&i| (5..=16).contains(&i)), "{list:?}");
        assert!(steps(&catalog, &list).iter().all(|&s| s > 0.9));
    }
}
