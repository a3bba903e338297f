//! The genre section: every genre model on the held-out sets, with confusion matrices.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use anyhow::{Context, Result};
use mirador_dsp::clip::FeatureTable;
use mirador_engine::listeners::tagger::TaggerListener;
use mirador_models::classic::{Classic, NAMES};
use mirador_models::tagger::{Tagger, Variant};

use super::markdown::*;
use super::sets::*;
use super::{clips, Fills, NETWORKS};

/// What one network said of each clip it ran on.
pub(super) type Outputs = HashMap<PathBuf, clips::Said>;

/// The genre section's tables, the networks, and what each said of each clip (the mood
/// section reuses them).
pub(super) fn section(root: &Path, data: &Path) -> Result<(Fills, Vec<Arc<Tagger>>, Vec<Outputs>)> {
    let test_ids = read_ids(&data.join("gtzan/splits/fault_filtered_test.txt"))?;
    let sets = [
        Set {
            name: "GTZAN test-split excerpts (2-3 s)",
            clips: gtzan_clips(&data.join("gtzan/excerpts"), &test_ids)?,
        },
        Set {
            name: "GTZAN test-split originals (30 s)",
            clips: gtzan_clips(&data.join("gtzan/full"), &test_ids)?,
        },
        Set {
            name: "Emotify classical/pop/rock, tracks 51-100 (30 s)",
            clips: emotify_clips(&data.join("emotify"))?,
        },
        Set {
            name: "4Q held-out artists, AllMusic genre in GTZAN's (30 s)",
            clips: four_q_genre_clips(root, data)?,
        },
    ];
    let columns = FeatureTable::column_names();
    let models: Vec<Classic> = NAMES
        .iter()
        .map(|name| Classic::builtin(name, &columns))
        .collect::<Result<_, _>>()?;
    let classes = models[0].classes.clone();
    let networks: Vec<Arc<Tagger>> = NETWORKS
        .iter()
        .map(|&v| Ok(Arc::new(Tagger::load(v)?)))
        .collect::<Result<_>>()?;
    // Rows: the classic models, then the patch networks.
    let names: Vec<String> = NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(NETWORKS.iter().map(|v| v.name().to_string()))
        .collect();

    let mut table = String::new();
    let training = read_json(&root.join("models/classic/evaluation.json"))?;
    let mut header = String::from("| model | what |");
    let mut rule = String::from("|---|---|");
    for set in &sets {
        let _ = write!(header, " {} ({} clips) |", set.name, set.clips.len());
        rule.push_str("---|");
    }
    header.push_str(
        " features_30_sec.csv test split, 290 clips | 10-fold CV, 1000 clips | µs per clip |\n",
    );
    rule.push_str("---|---|---:|\n");
    table.push_str(&header);
    table.push_str(&rule);

    // confusion[model][set][truth][predicted]; right[model][set]
    let mut confusion =
        vec![vec![vec![vec![0usize; classes.len()]; classes.len()]; sets.len()]; names.len()];
    let mut right = vec![vec![0usize; sets.len()]; names.len()];
    let mut predict_time = vec![std::time::Duration::ZERO; models.len()];
    let mut predictions = 0u32;
    let mut failures = Vec::new();
    // calibration[network][set]: per clip, (top probability, right) before the head's
    // temperature and after.
    let mut calibration = vec![vec![Vec::new(); sets.len()]; networks.len()];
    // Per network, what it said of each clip, so the mood section does not run them again.
    let mut outputs = vec![HashMap::new(); networks.len()];
    let index = |genre: &str| {
        classes
            .iter()
            .position(|c| c == genre)
            .with_context(|| format!("unknown genre {genre}"))
    };
    for (s, set) in sets.iter().enumerate() {
        eprintln!("eval: {} ({} clips)", set.name, set.clips.len());
        let paths: Vec<PathBuf> = set.clips.iter().map(|c| c.path.clone()).collect();
        let (runs, failed) = clips::run(&paths, &networks);
        if failed > 0 {
            failures.push(format!("{}: {failed} files failed to decode", set.name));
        }
        for clip in &set.clips {
            let Some(run) = runs.get(&clip.path) else {
                continue;
            };
            let t = index(&clip.genre)?;
            let mut score = |m: usize, predicted: usize| {
                confusion[m][s][t][predicted] += 1;
                right[m][s] += usize::from(clip.accepted.contains(&classes[predicted]));
            };
            let row = run.table.values();
            predictions += 1;
            for (m, model) in models.iter().enumerate() {
                let started = std::time::Instant::now();
                let p = model.predict(&row);
                predict_time[m] += started.elapsed();
                score(m, argmax(&p));
            }
            for (n, output) in run.outputs.iter().enumerate() {
                let genre = &output.predictions.genre;
                let p: Vec<f64> = genre.iter().map(|(_, p)| *p).collect();
                let (top, probability) = &genre[argmax(&p)];
                score(models.len() + n, index(top)?);
                let raw = &output.uncalibrated[0];
                let raw_top = argmax(raw);
                calibration[n][s].push((
                    (raw[raw_top], clip.accepted.contains(&genre[raw_top].0)),
                    (*probability, clip.accepted.contains(top)),
                ));
                outputs[n].insert(clip.path.clone(), output.clone());
            }
        }
    }
    let cell = |m: usize, s: usize| {
        let total = confusion[m][s].iter().flatten().sum();
        percent(right[m][s], total)
    };
    for (m, model) in models.iter().enumerate() {
        let _ = write!(table, "| {} | {} |", model.name, model.hyperparameters);
        for s in 0..sets.len() {
            let _ = write!(table, " {} |", cell(m, s));
        }
        let t = &training[model.name.as_str()];
        let _ = writeln!(
            table,
            " {:.1} % | {:.1} ± {:.1} % | {:.0} |",
            100.0 * t["test_accuracy"].as_f64().unwrap_or(f64::NAN),
            100.0 * t["cv10_mean"].as_f64().unwrap_or(f64::NAN),
            100.0 * t["cv10_std"].as_f64().unwrap_or(f64::NAN),
            predict_time[m].as_secs_f64() * 1e6 / f64::from(predictions.max(1)),
        );
    }
    for (n, network) in NETWORKS.iter().enumerate() {
        let what = match network {
            Variant::Cnn => "Mirador's CNN distilled from musicnn, logistic head",
            Variant::Musicnn => "musicnn MSD and MTT embeddings and tags, logistic head",
        };
        let _ = write!(table, "| {} | {what} |", network.name());
        for s in 0..sets.len() {
            let _ = write!(table, " {} |", cell(models.len() + n, s));
        }
        table.push_str(" — | — | see cost table |\n");
    }
    table.push_str(&live_rows(&sets, &networks)?);
    let mut reference = String::new();
    for network in NETWORKS {
        let name = network.name();
        let heads = read_json(&root.join(format!("models/{name}/heads_evaluation.json")))?;
        let _ = write!(
            reference,
            "{}{name} {:.1} %",
            if reference.is_empty() { "" } else { "; " },
            100.0
                * heads["genre"]["reference_test_accuracy"]
                    .as_f64()
                    .unwrap_or(f64::NAN)
        );
    }
    let mut matrices = String::new();
    for n in 0..NETWORKS.len() {
        let _ = writeln!(
            matrices,
            "\n### Confusion matrix: {} on {}\n\nRows: true genre; columns: predicted.\n",
            names[models.len() + n],
            sets[0].name
        );
        matrices.push_str(&confusion_table(&classes, &confusion[models.len() + n][0]));
    }
    let mut calibrated = String::from("| network |");
    for set in &sets {
        let _ = write!(calibrated, " {} |", set.name);
    }
    calibrated.push_str("\n|---|");
    calibrated.push_str(&"---:|".repeat(sets.len()));
    calibrated.push('\n');
    for (n, network) in NETWORKS.iter().enumerate() {
        let _ = write!(calibrated, "| {} |", network.name());
        for clips in &calibration[n] {
            let before: Vec<_> = clips.iter().map(|c| c.0).collect();
            let after: Vec<_> = clips.iter().map(|c| c.1).collect();
            let (ece_before, ..) = expected_calibration_error(&before);
            let (ece, confidence, accuracy) = expected_calibration_error(&after);
            let _ = write!(
                calibrated,
                " {ece_before:.3} → {ece:.3} (mean top probability {confidence:.2}, right {accuracy:.2}) |"
            );
        }
        calibrated.push('\n');
    }
    let temperatures = |head: fn(&Tagger) -> &mirador_models::tagger::Head| {
        networks
            .iter()
            .map(|t| format!("{} {:.3}", t.network.variant.name(), head(t).temperature))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fills = vec![
        (
            "head_temperatures",
            format!(
                "{} for genre; {} for mood",
                temperatures(|t| &t.genre),
                temperatures(|t| &t.mood)
            ),
        ),
        ("genre_table", table),
        ("genre_reference", reference),
        ("genre_failures", failures.join("\n\n")),
        ("genre_confusion", matrices),
        ("genre_calibration", calibrated),
    ];
    Ok((fills, networks, outputs))
}

/// Expected calibration error over 10 equal-width bins of the top-class probability, with
/// the mean top probability and the accuracy: (ECE, confidence, accuracy).
pub(super) fn expected_calibration_error(clips: &[(f64, bool)]) -> (f64, f64, f64) {
    let n = clips.len().max(1) as f64;
    let mut bins = [(0.0, 0.0, 0usize); 10];
    for &(p, right) in clips {
        let b = &mut bins[((p * 10.0) as usize).min(9)];
        b.0 += p;
        b.1 += f64::from(u8::from(right));
        b.2 += 1;
    }
    let ece = bins
        .iter()
        .filter(|b| b.2 > 0)
        .map(|b| (b.0 - b.1).abs() / n)
        .sum();
    let confidence = clips.iter().map(|c| c.0).sum::<f64>() / n;
    let accuracy = clips.iter().filter(|c| c.1).count() as f64 / n;
    (ece, confidence, accuracy)
}

/// How often the live engine reads the genre it shows while a clip plays (seconds).
const LIVE_EVERY: f64 = 0.5;

/// The table's rows for the live engine, each clip fed in 512-sample blocks and the genre
/// shown read every [`LIVE_EVERY`] s from 3 s on (none yet counts wrong): per set, the share
/// right over the clips' readings and at their ends. First the CNN alone, then as shipped,
/// musicnn naming the genre (on the worker here, so that no block is dropped).
fn live_rows(sets: &[Set], networks: &[Arc<Tagger>]) -> Result<String> {
    let network = |variant| {
        networks
            .iter()
            .find(|t| t.network.variant == variant)
            .context("the patch networks")
    };
    let (cnn, musicnn) = (network(Variant::Cnn)?, network(Variant::Musicnn)?);
    let mut rows = String::new();
    for (name, what, with_musicnn) in [
        (
            "cnn, live",
            "the CNN alone on the last 3 s about once a second",
            false,
        ),
        (
            "live (shipped)",
            "musicnn on the last 3 s every 5 s for the genre (the CNN for the mood)",
            true,
        ),
    ] {
        let _ = write!(
            rows,
            "| {name} | {what}, smoothed; read every 0.5 s from 3 s on / at the clip's end |"
        );
        for set in sets {
            eprintln!("eval: {name} genre on {}", set.name);
            let (mut over, mut readings, mut at_end, mut clips) = (0usize, 0usize, 0usize, 0usize);
            for clip in &set.clips {
                let listener = TaggerListener::new(cnn.clone())?;
                let listener = if with_musicnn {
                    listener.with_genre_inline(musicnn.clone())?
                } else {
                    listener
                };
                let shown = live_genres(&clip.path, listener)?;
                let right =
                    |g: &Option<String>| g.as_ref().is_some_and(|g| clip.accepted.contains(g));
                over += shown.iter().filter(|g| right(g)).count();
                readings += shown.len();
                if let Some(last) = shown.last() {
                    at_end += usize::from(right(last));
                    clips += 1;
                }
            }
            if clips == 0 {
                rows.push_str(" — (under 3 s) |");
            } else {
                let (over, end) = (percent(over, readings), percent(at_end, clips));
                let _ = write!(rows, " {over} / {end} |");
            }
        }
        rows.push_str(" — | — | see cost table |\n");
    }
    Ok(rows)
}

/// The genre `listener` shows every [`LIVE_EVERY`] s of `path` from 3 s on.
fn live_genres(path: &Path, listener: TaggerListener) -> Result<Vec<Option<String>>> {
    let mut genres = Vec::new();
    replay_live(path, vec![Box::new(listener)], (3.0, LIVE_EVERY), |shown| {
        genres.push(shown.genre.as_ref().map(|g| {
            let p: Vec<f64> = g.probabilities.iter().map(|&v| f64::from(v)).collect();
            g.classes[argmax(&p)].clone()
        }))
    })?;
    Ok(genres)
}
