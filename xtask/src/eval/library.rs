//! The library's evaluation (`library/REPORT.md`): retrieval by each facet and by "all"
//! against baselines computed in the same run, the facets' own checks, word search and
//! playlists, on audio no model or facet statistic was fitted on.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mirador_app::{batch, indexing};
use mirador_dsp::clip::{Replay, TableStyle};
use mirador_library::playlist::{self, Seed};
use mirador_library::text::{self, TextEncoder, Vocabulary};
use mirador_library::{Catalog, Choice, Facet, Scales, Track};
use mirador_models::tagger::{Head, Variant};

use super::markdown;
use super::retrieval::rank_quality;
use super::sets;

const TEMPLATE: &str = include_str!("library.md");

/// One evaluated clip.
struct Clip {
    path: PathBuf,
    set: &'static str,
    genre: Option<String>,
    artist: Option<String>,
    quadrant: Option<String>,
}

/// Writes `library/REPORT.md`.
pub fn run(root: &Path, data: &Path) -> Result<()> {
    let clips = clips(root, data)?;
    eprintln!("eval: library: analyzing {} held-out clips", clips.len());
    let (models, _) = indexing::models("cnn", false).map_err(anyhow::Error::msg)?;
    let paths: Vec<PathBuf> = clips.iter().map(|c| c.path.clone()).collect();
    let mut analyzed: HashMap<PathBuf, (Track, Vec<f64>)> = HashMap::new();
    batch::run(&paths, TableStyle::Gtzan, &models, None, |path, result| {
        if let Ok(a) = result {
            let key = path.to_string_lossy();
            let track = indexing::track(&key, &key, &a);
            analyzed.insert(path.to_path_buf(), (track, a.clip.table.values()));
        }
    });
    let clips: Vec<Clip> = clips
        .into_iter()
        .filter(|c| analyzed.contains_key(&c.path))
        .collect();
    let (tracks, tables): (Vec<Track>, Vec<Vec<f64>>) = clips
        .iter()
        .map(|c| analyzed.remove(&c.path).unwrap())
        .unzip();
    let catalog = Catalog::new(tracks, Scales::shipped());
    let table = standardized(&tables);
    let musicnn = musicnn_probabilities(&clips)?;
    let baselines = [
        ("baseline: standardized GTZAN feature table", &table),
        (
            "baseline: musicnn's genre, mood and tag probabilities",
            &musicnn,
        ),
    ];
    let mut fills = vec![
        (
            "retrieval_table",
            retrieval_table(&catalog, &baselines, &clips),
        ),
        ("facet_checks", facet_checks(&catalog, &clips)),
        ("search_table", search_table(&catalog, &clips)?),
        ("playlist_table", playlist_table(&catalog)),
    ];
    fills.extend(references(&catalog, &clips)?);
    let weights = catalog.all();
    let Choice::All(w) = weights else {
        unreachable!()
    };
    let listed: Vec<String> = Facet::ALL
        .iter()
        .map(|f| format!("{} {:.2}", f.name(), w[f.index()]))
        .collect();
    fills.push(("weights", listed.join(", ")));
    fills.push(("fitted_on", Scales::shipped().fitted_on));
    let report = markdown::fill(TEMPLATE, &fills)?;
    let path = root.join("library/REPORT.md");
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("eval: wrote {}", path.display());
    Ok(())
}

/// Seconds of each GTZAN test original the reference check hears: a stretch of the track,
/// not all of it.
const HEARD: (f64, f64) = (5.0, 25.0);

/// The live engine's reference tracks, as its listener computes them: 20 s of each GTZAN
/// test original (mono 22.05 kHz, as the listener gets it) compared with the held-out
/// catalog. How often the recording itself comes first (or in the first three), and what a
/// comparison costs on one core.
fn references(catalog: &Catalog, clips: &[Clip]) -> Result<Vec<(&'static str, String)>> {
    use mirador_engine::listeners::references::{compare, EVERY_SECONDS, WINDOW_SECONDS};
    let models = mirador_models::clip::Models::for_library(
        std::sync::Arc::new(mirador_models::tagger::Tagger::load(Variant::Cnn)?),
        std::sync::Arc::new(mirador_models::beats::BeatNet::load()?),
    );
    let (mut first, mut top3, mut n) = (0, 0, 0);
    let mut ms = Vec::new();
    for clip in clips.iter().filter(|c| c.set == "GTZAN test originals") {
        let mut file = mirador_app::decode::AudioFile::open(&clip.path)?;
        anyhow::ensure!(
            file.sample_rate() == mirador_models::SAMPLE_RATE && file.channels() == 1,
            "{}: GTZAN originals are mono 22.05 kHz",
            clip.path.display()
        );
        let mut samples = Vec::new();
        file.play(&mut |block| samples.extend_from_slice(block))?;
        let rate = f64::from(mirador_models::SAMPLE_RATE);
        let (from, until) = ((HEARD.0 * rate) as usize, (HEARD.1 * rate) as usize);
        let heard = &samples[from.min(samples.len())..until.min(samples.len())];
        let started = std::time::Instant::now();
        let found = compare(heard, HEARD, catalog, &models);
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        let key = clip.path.to_string_lossy();
        let place = found.tracks.iter().position(|t| t.path == key);
        n += 1;
        first += usize::from(place == Some(0));
        top3 += usize::from(place.is_some_and(|p| p < 3));
    }
    ms.sort_by(f64::total_cmp);
    let median = ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN);
    // Cost grows with the audio described; live, each comparison describes a full window.
    let per_second = median / (HEARD.1 - HEARD.0);
    Ok(vec![
        ("reference_clips", n.to_string()),
        ("reference_first", format!("{first} of {n}")),
        ("reference_top3", format!("{top3} of {n}")),
        ("reference_ms", format!("{median:.0}")),
        ("reference_per_second", format!("{per_second:.1}")),
        ("reference_window", format!("{WINDOW_SECONDS:.0}")),
        ("reference_every", format!("{EVERY_SECONDS:.0}")),
        (
            "reference_percent",
            format!(
                "{:.1}",
                per_second * WINDOW_SECONDS / (EVERY_SECONDS * 10.0)
            ),
        ),
    ])
}

/// The held-out sets: GTZAN's test split (excerpts and originals), Emotify's tracks 51-100,
/// the 4Q held-out artists.
fn clips(root: &Path, data: &Path) -> Result<Vec<Clip>> {
    let test = sets::read_ids(&data.join("gtzan/splits/fault_filtered_test.txt"))?;
    let mut clips = Vec::new();
    for (dir, set) in [
        ("gtzan/excerpts", "GTZAN test excerpts"),
        ("gtzan/full", "GTZAN test originals"),
    ] {
        for c in sets::gtzan_clips(&data.join(dir), &test)? {
            clips.push(Clip {
                path: c.path,
                set,
                genre: Some(c.genre),
                artist: None,
                quadrant: None,
            });
        }
    }
    for genre in ["classical", "electronic", "pop", "rock"] {
        let files = sets::emotify_held_out(&data.join("emotify"), genre)?;
        clips.extend(files.into_iter().map(|path| Clip {
            path,
            set: "Emotify",
            genre: Some(genre.into()),
            artist: None,
            quadrant: None,
        }));
    }
    let artists = four_q_artists(data)?;
    for name in sets::held_out_4q(root)? {
        let stem = Path::new(&name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        clips.push(Clip {
            path: data.join("4q").join(&name),
            set: "4Q held-out artists",
            genre: None,
            artist: artists.get(stem).cloned(),
            quadrant: name.split('/').next().map(str::to_string),
        });
    }
    Ok(clips)
}

/// 4Q clip id to artist (trimmed, lower case), from the dataset's metadata.
pub fn four_q_artists(data: &Path) -> Result<HashMap<String, String>> {
    let mut artists = sets::four_q_metadata(data, "Artist")?;
    artists
        .values_mut()
        .for_each(|a| *a = a.trim().to_lowercase());
    Ok(artists)
}

/// The GTZAN feature-table vectors, each column standardized over the evaluated clips (as a
/// librosa script with scikit-learn's StandardScaler would), as unit rows.
fn standardized(tables: &[Vec<f64>]) -> Vec<Vec<f32>> {
    let n = tables.len().max(1) as f64;
    let dims = tables.first().map_or(0, Vec::len);
    let mean: Vec<f64> = (0..dims)
        .map(|j| tables.iter().map(|t| t[j]).sum::<f64>() / n)
        .collect();
    let std: Vec<f64> = (0..dims)
        .map(|j| {
            let var = tables.iter().map(|t| (t[j] - mean[j]).powi(2)).sum::<f64>() / n;
            if var > 0.0 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    tables
        .iter()
        .map(|t| {
            // `length` (the first column) is the clip's length, not its sound: left out.
            let z: Vec<f64> = (1..dims).map(|j| (t[j] - mean[j]) / std[j]).collect();
            let norm = z.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            z.iter().map(|x| (x / norm) as f32).collect()
        })
        .collect()
}

/// A seeded score per track, for the random baseline.
fn random_scores(q: usize, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let mut x =
                (q as u64 * 0x9E37_79B9_7F4A_7C15) ^ (i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x ^= x >> 31;
            x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
            (x >> 40) as f32
        })
        .collect()
}

type Relevance<'a> = Box<dyn Fn(usize, usize) -> bool + 'a>;

/// Each clip's musicnn genre, mood and tag probabilities as one L2-normalized vector (zero
/// for a clip too short or quiet to predict), compared by cosine: the probabilities a
/// tagging model gives, as a retrieval baseline.
fn musicnn_probabilities(clips: &[Clip]) -> Result<Vec<Vec<f32>>> {
    eprintln!("eval: library: musicnn on the same clips (the probabilities baseline)");
    let (models, _) = indexing::models("musicnn", false).map_err(anyhow::Error::msg)?;
    let paths: Vec<PathBuf> = clips.iter().map(|c| c.path.clone()).collect();
    let mut vectors: HashMap<PathBuf, Vec<f32>> = HashMap::new();
    batch::run(&paths, TableStyle::Gtzan, &models, None, |path, result| {
        let Some(p) = result.ok().and_then(|a| a.clip.network_output) else {
            return;
        };
        let mut v: Vec<f32> = p.genre.iter().chain(&p.mood).map(|c| c.1 as f32).collect();
        v.extend_from_slice(&p.tags);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
        vectors.insert(path.to_path_buf(), v);
    });
    let dims = vectors.values().next().map_or(0, Vec::len);
    Ok(clips
        .iter()
        .map(|c| vectors.remove(&c.path).unwrap_or_else(|| vec![0.0; dims]))
        .collect())
}

fn retrieval_table(
    catalog: &Catalog,
    baselines: &[(&str, &Vec<Vec<f32>>)],
    clips: &[Clip],
) -> String {
    let members =
        |set: &str| -> Vec<usize> { (0..clips.len()).filter(|&i| clips[i].set == set).collect() };
    let same_genre: Relevance = Box::new(|a, b| clips[a].genre == clips[b].genre);
    let same_artist: Relevance =
        Box::new(|a, b| clips[a].artist.is_some() && clips[a].artist == clips[b].artist);
    let same_quadrant: Relevance = Box::new(|a, b| clips[a].quadrant == clips[b].quadrant);
    let columns: Vec<(&str, Vec<usize>, &Relevance)> = vec![
        (
            "GTZAN test excerpts: same genre",
            members("GTZAN test excerpts"),
            &same_genre,
        ),
        (
            "GTZAN test originals: same genre",
            members("GTZAN test originals"),
            &same_genre,
        ),
        ("Emotify: same genre", members("Emotify"), &same_genre),
        (
            "4Q held-out: same artist",
            members("4Q held-out artists"),
            &same_artist,
        ),
        (
            "4Q held-out: same quadrant",
            members("4Q held-out artists"),
            &same_quadrant,
        ),
    ];
    let n = catalog.len();
    type Score<'a> = Box<dyn Fn(usize) -> Vec<f32> + 'a>;
    let mut methods: Vec<(String, Option<Facet>, Score)> = vec![(
        "**Mirador, all (default)**".into(),
        None,
        Box::new(|q| catalog.scores(&catalog.query_of(q), catalog.all())),
    )];
    for facet in Facet::ALL {
        methods.push((
            format!("Mirador, {} only", facet.name()),
            Some(facet),
            Box::new(move |q| catalog.scores(&catalog.query_of(q), Choice::One(facet))),
        ));
    }
    for &(name, vectors) in baselines {
        let scores = move |q: usize| {
            vectors
                .iter()
                .map(|v| mirador_library::catalog::dot(v, &vectors[q]))
                .collect()
        };
        methods.push((name.into(), None, Box::new(scores)));
    }
    methods.push((
        "baseline: random".into(),
        None,
        Box::new(move |q| random_scores(q, n)),
    ));
    let mut out = String::from("| method |");
    for (name, m, _) in &columns {
        let _ = write!(out, " {name} ({} clips) |", m.len());
    }
    out += "\n|---|";
    out += &"---:|".repeat(columns.len());
    out += "\n";
    for (name, facet, score) in &methods {
        let _ = write!(out, "| {name} |");
        for (_, m, relevant) in &columns {
            let absent =
                |f: Facet| 2 * m.iter().filter(|&&q| catalog.query_of(q).has(f)).count() < m.len();
            if facet.is_some_and(absent) {
                out += " — |";
                continue;
            }
            let (p10, map) = rank_quality(m, score, relevant);
            let _ = write!(out, " {p10:.3} / {map:.3} |");
        }
        out += "\n";
    }
    out
}

/// The share of top-10 neighbours that keep the query's tempo and meter (rhythm, other
/// genres only) or its key (harmony), against "all" and random picks.
fn facet_checks(catalog: &Catalog, clips: &[Clip]) -> String {
    let n = catalog.len();
    let genre = |i: usize| catalog.tracks[i].genre.as_ref().map(|g| g.0.clone());
    let tempo_kept = |a: usize, b: usize| match (catalog.tracks[a].tempo, catalog.tracks[b].tempo) {
        (Some(x), Some(y)) => [1.0, 2.0, 0.5]
            .iter()
            .any(|r| (y / x / r - 1.0).abs() <= 0.04),
        _ => false,
    };
    let meter_kept = |a: usize, b: usize| {
        catalog.tracks[a].meter.is_some() && catalog.tracks[a].meter == catalog.tracks[b].meter
    };
    let key_related =
        |a: usize, b: usize| related_keys(&catalog.tracks[a].key, &catalog.tracks[b].key);
    let share = |choice: Option<Choice>, cross: bool, kept: &dyn Fn(usize, usize) -> bool| {
        let (mut hits, mut total) = (0usize, 0usize);
        for q in 0..n {
            let scores = match choice {
                Some(c) => catalog.scores(&catalog.query_of(q), c),
                None => random_scores(q, n),
            };
            let keep = |i: usize| i != q && (!cross || genre(i) != genre(q));
            for i in catalog.best(&scores, 10, keep) {
                hits += usize::from(kept(q, i));
                total += 1;
            }
        }
        hits as f64 / total.max(1) as f64
    };
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let mut out = format!(
        "All {} clips pooled; each clip's 10 nearest by the method.\n\n\
         | neighbours | tempo kept (±4 %, or double or half) | meter kept | same or related key |\n\
         |---|---:|---:|---:|\n",
        clips.len()
    );
    for (name, choice) in [
        (
            "rhythm facet, other genres only (`--cross-genre --facet rhythm`)",
            Some(Choice::One(Facet::Rhythm)),
        ),
        (
            "all, other genres only (`--cross-genre`)",
            Some(catalog.all()),
        ),
        ("random, other genres only", None),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | |",
            pct(share(choice, true, &tempo_kept)),
            pct(share(choice, true, &meter_kept))
        );
    }
    for (name, choice) in [
        (
            "harmony facet (`--facet harmony`)",
            Some(Choice::One(Facet::Harmony)),
        ),
        ("all", Some(catalog.all())),
        ("random", None),
    ] {
        let _ = writeln!(
            out,
            "| {name} | | | {} |",
            pct(share(choice, false, &key_related))
        );
    }
    out
}

/// The same key, its relative, or a fifth away in the same mode.
fn related_keys(a: &Option<String>, b: &Option<String>) -> bool {
    let parse = |k: &Option<String>| {
        let (name, mode) = k.as_deref()?.split_once(' ')?;
        let pc = mirador_dsp::pitch::key::PITCH_NAMES
            .iter()
            .position(|p| *p == name)?;
        Some((pc, mode == "major"))
    };
    let (Some((pa, ma)), Some((pb, mb))) = (parse(a), parse(b)) else {
        return false;
    };
    let fifth = ma == mb && ((pa + 7) % 12 == pb || (pb + 7) % 12 == pa);
    let relative = ma != mb
        && if ma {
            (pb + 3) % 12 == pa
        } else {
            (pa + 3) % 12 == pb
        };
    (pa == pb && ma == mb) || fifth || relative
}

fn search_table(catalog: &Catalog, clips: &[Clip]) -> Result<String> {
    let genres = Head::genre(Variant::Cnn)?.classes;
    let vocabulary = Vocabulary::new(genres);
    let in_set = |set: &'static str| move |i: usize| clips[i].set == set;
    let genre_is = |g: &'static str| move |i: usize| clips[i].genre.as_deref() == Some(g);
    let quadrant_is = |q: &'static str| move |i: usize| clips[i].quadrant.as_deref() == Some(q);
    type Test<'a> = Box<dyn Fn(usize) -> bool + 'a>;
    let mut queries: Vec<(&str, &str, Test)> = Vec::new();
    // Not the 2-3 s excerpts: too short for the patch network, they have no predictions.
    for g in ["classical", "pop"] {
        queries.push((g, "GTZAN test originals", Box::new(genre_is(g))));
    }
    for (words, g) in [
        ("calm classical", "classical"),
        ("catchy female vocalists", "pop"),
    ] {
        queries.push((words, "GTZAN test originals", Box::new(genre_is(g))));
    }
    for g in ["classical", "electronic", "pop", "rock"] {
        queries.push((g, "Emotify", Box::new(genre_is(g))));
    }
    for (words, q) in [
        ("happy", "Q1"),
        ("tense", "Q2"),
        ("angry aggressive", "Q2"),
        ("sad", "Q3"),
        ("sad calm", "Q3"),
        ("calm", "Q4"),
        ("relaxed peaceful", "Q4"),
    ] {
        queries.push((words, "4Q held-out artists", Box::new(quadrant_is(q))));
    }
    let mut out = String::from(
        "| query | set | understood | P@10 | share relevant (random P@10) |\n|---|---|---|---:|---:|\n",
    );
    let (mut sum, mut chance) = (0.0, 0.0);
    for (words, set, relevant) in &queries {
        let member = in_set(set);
        let encoded = vocabulary.encode(words);
        let ranked = text::rank(catalog, &encoded, None, None, 10, |i| !member(i));
        let p10 = ranked.iter().filter(|r| relevant(r.index)).count() as f64 / 10.0;
        let members = (0..catalog.len()).filter(|&i| member(i)).count();
        let share = (0..catalog.len())
            .filter(|&i| member(i) && relevant(i))
            .count() as f64
            / members.max(1) as f64;
        sum += p10;
        chance += share;
        let understood: Vec<String> = encoded
            .terms
            .iter()
            .map(|t| t.0.describe(&vocabulary.genres))
            .collect();
        let _ = writeln!(
            out,
            "| \"{words}\" | {set} | {} | {p10:.2} | {share:.2} |",
            understood.join(", ")
        );
    }
    let n = queries.len() as f64;
    let _ = writeln!(
        out,
        "| **mean** | | | **{:.2}** | {:.2} |",
        sum / n,
        chance / n
    );
    Ok(out)
}

/// Mean similarity from one track to the next (and the least), for Mirador's playlists
/// against random order and nearest-neighbour chaining from the same seeds.
fn playlist_table(catalog: &Catalog) -> String {
    const LENGTH: usize = 10;
    let all = catalog.all();
    let seeds: Vec<usize> = (0..catalog.len())
        .step_by((catalog.len() / 40).max(1))
        .collect();
    let chain = |seed: usize| {
        let mut list = vec![seed];
        while list.len() < LENGTH {
            let scores = catalog.scores(&catalog.query_of(*list.last().unwrap()), all);
            match catalog.best(&scores, 1, |i| !list.contains(&i)).first() {
                Some(&next) => list.push(next),
                None => break,
            }
        }
        list
    };
    let random = |seed: usize| {
        let scores = random_scores(seed, catalog.len());
        let mut list = vec![seed];
        list.extend(catalog.best(&scores, LENGTH - 1, |i| i != seed));
        list
    };
    let mirador = |seed: usize| {
        let s = Seed {
            query: catalog.query_of(seed),
            index: Some(seed),
        };
        playlist::from_seeds(catalog, &[s], LENGTH)
    };
    let mut out = format!(
        "{} playlists of {LENGTH} tracks, each from one seed (every {}th clip of the pool).\n\n\
         | playlist | mean step similarity | mean least step | mean similarity to the seed | same predicted genre as the seed |\n\
         |---|---:|---:|---:|---:|\n",
        seeds.len(),
        (catalog.len() / 40).max(1)
    );
    type Make<'a> = &'a dyn Fn(usize) -> Vec<usize>;
    let methods: [(&str, Make); 3] = [
        ("Mirador (`mirador playlist --seed`)", &mirador),
        ("nearest-neighbour chaining", &chain),
        ("random order", &random),
    ];
    for (name, make) in methods {
        let (mut step, mut least, mut to_seed, mut genre, mut lists) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &seed in &seeds {
            let list = make(seed);
            let steps = playlist::steps(catalog, &list);
            step += steps.iter().sum::<f32>() as f64 / steps.len().max(1) as f64;
            least += steps.iter().copied().fold(f32::INFINITY, f32::min) as f64;
            let from_seed = catalog.scores(&catalog.query_of(seed), all);
            let rest = &list[1..];
            to_seed +=
                rest.iter().map(|&i| from_seed[i] as f64).sum::<f64>() / rest.len().max(1) as f64;
            let g = |i: usize| catalog.tracks[i].genre.as_ref().map(|g| g.0.clone());
            genre +=
                rest.iter().filter(|&&i| g(i) == g(seed)).count() as f64 / rest.len().max(1) as f64;
            lists += 1.0;
        }
        let _ = writeln!(
            out,
            "| {name} | {:.3} | {:.3} | {:.3} | {:.0} % |",
            step / lists,
            least / lists,
            to_seed / lists,
            100.0 * genre / lists
        );
    }
    out
}
