//! The genre section: every genre model on the held-out sets, with confusion matrices.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mirador_dsp::clip::{FeatureTable, TableStyle};
use std::sync::Arc;

use mirador_app::batch::{self, GenreModel, Models};
use mirador_models::classic::{Classic, NAMES};
use mirador_models::tagger::{ClipPredictions, Tagger, Variant};

use super::markdown::*;
use super::sets::*;
use super::NETWORKS;

/// What one network said of each clip it ran on.
pub(super) type Outputs = HashMap<PathBuf, ClipPredictions>;

/// The genre section, and what each network said of each clip (the mood section reuses it).
pub(super) fn section(root: &Path, data: &Path) -> Result<(String, Vec<Models>, Vec<Outputs>)> {
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
            name: "Emotify classical/pop/rock (30 s)",
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
    let networks: Vec<Models> = NETWORKS
        .iter()
        .map(|&v| {
            Ok(Models {
                genre: Some(GenreModel::Patches(Arc::new(Tagger::load(v)?))),
                beats: None,
            })
        })
        .collect::<Result<_>>()?;
    // Rows: the classic models, then the patch networks.
    let names: Vec<String> = NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(NETWORKS.iter().map(|v| v.name().to_string()))
        .collect();

    let mut report = String::from(
        "# Model evaluation\n\nWritten by `cargo xtask eval`: the shipped Rust inference (symphonia \
         decoding, `mirador-dsp`'s features, the models) on labelled audio the models did not \
         train on.\n\n## Genre\n\n",
    );
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
    report.push_str(&header);
    report.push_str(&rule);

    // confusion[model][set][truth][predicted]; right[model][set]
    let mut confusion =
        vec![vec![vec![vec![0usize; classes.len()]; classes.len()]; sets.len()]; names.len()];
    let mut right = vec![vec![0usize; sets.len()]; names.len()];
    let mut predict_time = vec![std::time::Duration::ZERO; models.len()];
    let mut predictions = 0u32;
    let mut failures = Vec::new();
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
        for (n, network) in networks.iter().enumerate() {
            let outcome = batch::run(&paths, TableStyle::Gtzan, network);
            if outcome.failures > 0 {
                failures.push(format!(
                    "{}: {} files failed to decode",
                    set.name, outcome.failures
                ));
            }
            for analysis in &outcome.analyses {
                let clip = set
                    .clips
                    .iter()
                    .find(|c| c.path == analysis.path)
                    .context("analysis of an unknown file")?;
                let t = index(&clip.genre)?;
                let mut score = |m: usize, predicted: usize| {
                    confusion[m][s][t][predicted] += 1;
                    right[m][s] += usize::from(clip.accepted.contains(&classes[predicted]));
                };
                // The feature table is the same in every network's run: score it once.
                if n == 0 {
                    let row = analysis.clip.table.values();
                    predictions += 1;
                    for (m, model) in models.iter().enumerate() {
                        let started = std::time::Instant::now();
                        let p = model.predict(&row);
                        predict_time[m] += started.elapsed();
                        score(m, argmax(&p));
                    }
                }
                let genre = analysis
                    .clip
                    .genre
                    .as_deref()
                    .context("the network's genre")?;
                let p: Vec<f64> = genre.iter().map(|(_, p)| *p).collect();
                score(models.len() + n, index(&genre[argmax(&p)].0)?);
                let output = analysis.clip.network_output.clone();
                outputs[n].insert(
                    analysis.path.clone(),
                    output.context("the network's output")?,
                );
            }
        }
    }
    let cell = |m: usize, s: usize| {
        let total = confusion[m][s].iter().flatten().sum();
        percent(right[m][s], total)
    };
    for (m, model) in models.iter().enumerate() {
        let _ = write!(report, "| {} | {} |", model.name, model.hyperparameters);
        for s in 0..sets.len() {
            let _ = write!(report, " {} |", cell(m, s));
        }
        let t = &training[model.name.as_str()];
        let _ = writeln!(
            report,
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
            Variant::Musicnn => "musicnn (MSD) embedding, logistic head",
        };
        let _ = write!(report, "| {} | {what} |", network.name());
        for s in 0..sets.len() {
            let _ = write!(report, " {} |", cell(models.len() + n, s));
        }
        report.push_str(" — | — | see cost table |\n");
    }
    report.push_str(
        "\nThe classic models read `mirador-dsp`'s feature table; the last three columns for them \
         come from `models/training/classic.py` on the published feature table (trained on \
         train+valid of the fault-filtered split; the 10-fold cross-validation mixes artists \
         across folds and flatters every model). The Rust models reproduce scikit-learn's and \
         XGBoost's probabilities to 1e-5 (`models/tests/classic_parity.rs`), so the Python peer \
         scores the same on the same features. cnn and musicnn average their heads' \
         probabilities over a clip's 3 s patches. Chance is 10 % on GTZAN and 33 % on the \
         Emotify subset (whose clips are predicted among all ten genres). The 4Q set: clips of \
         the artists no model saw (`models/musicnn/mood_test.txt`) whose AllMusic genres map \
         onto GTZAN's (Blues, Classical, Country, Jazz, Rap as hiphop, Reggae; Pop/Rock, which \
         AllMusic files metal under, as pop, rock or metal); a prediction of any genre the \
         clip maps onto is right. µs per clip: one prediction from a ready feature table, one \
         thread, this machine; computing the table itself takes about 300 ms per 30 s clip.\n",
    );
    report.push_str(
        "\nThe Python reference pipeline (musicnn's librosa front end, onnxruntime, the same \
         heads; `models/training/heads.py`) on the GTZAN test-split excerpts:",
    );
    for network in NETWORKS {
        let name = network.name();
        let heads = read_json(&root.join(format!("models/{name}/heads_evaluation.json")))?;
        let _ = write!(
            report,
            " {name} {:.1} %;",
            100.0
                * heads["genre"]["reference_test_accuracy"]
                    .as_f64()
                    .unwrap_or(f64::NAN)
        );
    }
    report.pop();
    report.push_str(".\n");
    for f in &failures {
        let _ = writeln!(report, "\n{f}");
    }

    for n in 0..NETWORKS.len() {
        let _ = writeln!(
            report,
            "\n### Confusion matrix: {} on {}\n\nRows: true genre; columns: predicted.\n",
            names[models.len() + n],
            sets[0].name
        );
        report.push_str(&confusion_table(&classes, &confusion[models.len() + n][0]));
    }
    Ok((report, networks, outputs))
}
