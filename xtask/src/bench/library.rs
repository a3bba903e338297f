//! `cargo xtask bench library [DB]`: the library's search at scale. Real vectors come from a
//! library (default `target/facets/library.db`, which `cargo xtask models facets` makes);
//! larger catalogs are synthesized from them: each synthetic track blends two real tracks'
//! raw vectors at a random ratio and adds noise of 0.3 of each dimension's spread, so the
//! catalog fills the space between real music instead of repeating it. Queries are fresh
//! synthetic tracks that are not in the catalog. Every strategy answers the same queries in
//! the same run; recall@10 is against the exact f32 scan.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use mirador_library::approximate::Approximate;
use mirador_library::catalog::{dot, QUANTIZED_ABOVE};
use mirador_library::{Catalog, Facet, Library, Query, Scales, Track, Vectors};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

const K: usize = 10;

pub fn run(db: Option<&str>) -> Result<()> {
    let root = std::env::current_dir()?;
    let db = db.map_or_else(|| root.join("target/facets/library.db"), PathBuf::from);
    let real = Library::open(&db)
        .and_then(|l| l.tracks())
        .with_context(|| {
            format!(
                "reading {} (run `cargo xtask models facets` to make it)",
                db.display()
            )
        })?;
    ensure!(real.len() >= 50, "{} holds too few tracks", db.display());
    let scales = Scales::shipped();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "library search, k = {K}, one query at a time: the f32 scan and HNSW on one thread, \
         the int8 scan above 50 000 tracks and index builds on {} cores",
        threads
    );
    println!(
        "real vectors: {} tracks from {}; queries and larger catalogs synthesized from them\n",
        real.len(),
        db.display()
    );
    println!(
        "| tracks | method | p50 ms | p99 ms | recall@10 | build s | memory MiB |\n\
         |---:|---|---:|---:|---:|---:|---:|"
    );
    let real_catalog = Catalog::new(real.clone(), scales.clone());
    let queries: Vec<Query> = (0..real_catalog.len())
        .map(|i| real_catalog.query_of(i))
        .collect();
    measure("real", &real_catalog, &queries, false);
    let mut rng = StdRng::seed_from_u64(7);
    for (n, q, approximate) in [
        (10_000, 300, false),
        (100_000, 300, true),
        (1_000_000, 100, true),
    ] {
        let tracks = synthetic(&real, &scales, n, &mut rng);
        let catalog = Catalog::new(tracks, scales.clone());
        let queries: Vec<Query> = synthetic(&real, &scales, q, &mut rng)
            .iter()
            .map(|t| catalog.query(&t.vectors))
            .collect();
        measure(&format!("{}", n), &catalog, &queries, approximate);
    }
    Ok(())
}

/// One row per method for one catalog.
fn measure(label: &str, catalog: &Catalog, queries: &[Query], approximate: bool) {
    let (combined, _) = catalog.combined();
    let mib = |bytes: usize| bytes as f64 / (1 << 20) as f64;
    let mut scores = vec![0f32; catalog.len()];
    let mut truth = Vec::new();
    let exact = timed(queries, |query| {
        let (q, _) = combined.query(query);
        combined.exact(&q, &mut scores);
        let best = catalog.best(&scores, K, |_| true);
        truth.push(best);
    });
    row(
        label,
        "exact, f32 scan (SIMD)",
        &exact,
        None,
        None,
        Some(mib(combined.rows.data.len() * 4)),
    );
    if catalog.len() > QUANTIZED_ABOVE {
        let mut found = Vec::new();
        let times = timed(queries, |query| {
            let hits = catalog.nearest(query, catalog.all(), K, |_| true);
            found.push(hits.into_iter().map(|h| h.index).collect::<Vec<_>>());
        });
        row(
            label,
            "int8 scan, f32 rescore (default)",
            &times,
            Some(recall(&truth, &found)),
            None,
            Some(mib(combined.memory() - combined.rows.data.len() * 4)),
        );
    }
    if approximate {
        let before = resident_bytes();
        let start = Instant::now();
        let index = Approximate::build(&combined.rows);
        let build = start.elapsed().as_secs_f64();
        let memory = resident_bytes().saturating_sub(before);
        let mut found = Vec::new();
        let times = timed(queries, |query| {
            let (q, _) = combined.query(query);
            let mut hits: Vec<(usize, f32)> = index
                .search(&q, K, &|_| true)
                .into_iter()
                .map(|i| (i, dot(combined.rows.row(i), &q)))
                .collect();
            hits.sort_by(|a, b| b.1.total_cmp(&a.1));
            found.push(hits.into_iter().take(K).map(|h| h.0).collect());
        });
        row(
            label,
            "HNSW (hnsw_rs), f32 rescore",
            &times,
            Some(recall(&truth, &found)),
            Some(build),
            Some(mib(memory)),
        );
    }
}

fn row(
    label: &str,
    method: &str,
    times: &[f64],
    recall: Option<f64>,
    build: Option<f64>,
    memory: Option<f64>,
) {
    let opt = |v: Option<f64>, digits: usize| v.map_or("—".into(), |v| format!("{v:.digits$}"));
    println!(
        "| {label} | {method} | {:.3} | {:.3} | {} | {} | {} |",
        percentile(times, 0.50) * 1e3,
        percentile(times, 0.99) * 1e3,
        opt(recall, 3),
        opt(build, 1),
        opt(memory, 0),
    );
}

fn timed(queries: &[Query], mut f: impl FnMut(&Query)) -> Vec<f64> {
    queries
        .iter()
        .map(|q| {
            let start = Instant::now();
            f(q);
            start.elapsed().as_secs_f64()
        })
        .collect()
}

fn percentile(times: &[f64], p: f64) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The share of the exact top k that `found` returned, over all queries.
fn recall(truth: &[Vec<usize>], found: &[Vec<usize>]) -> f64 {
    let hits: usize = truth
        .iter()
        .zip(found)
        .map(|(t, f)| f.iter().filter(|i| t.contains(i)).count())
        .sum();
    hits as f64 / truth.iter().map(Vec::len).sum::<usize>().max(1) as f64
}

/// `n` tracks between the real ones (see the module comment).
fn synthetic(real: &[Track], scales: &Scales, n: usize, rng: &mut StdRng) -> Vec<Track> {
    (0..n)
        .map(|i| {
            let (a, b) = (
                &real[rng.random_range(0..real.len())].vectors,
                &real[rng.random_range(0..real.len())].vectors,
            );
            let t: f32 = rng.random();
            let mut vectors = Vectors::default();
            for facet in Facet::ALL {
                let (x, y) = (a.get(facet), b.get(facet));
                let Some(base) = x.or(y) else { continue };
                let other = y.unwrap_or(base);
                let spread = scales.facets.iter().find(|s| s.facet == facet.name());
                vectors.0[facet.index()] = base
                    .iter()
                    .zip(other)
                    .enumerate()
                    .map(|(d, (p, q))| {
                        let std = spread.map_or(1.0, |s| s.std[d]);
                        let noise: f32 = rng.sample(StandardNormal);
                        (1.0 - t) * p + t * q + 0.3 * std * noise
                    })
                    .collect();
            }
            Track {
                id: i as i64 + 1,
                vectors,
                ..Track::default()
            }
        })
        .collect()
}

/// The process's resident memory, from /proc (0 where there is none).
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}
