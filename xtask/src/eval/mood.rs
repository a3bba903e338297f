//! The mood section: 4Q quadrants, valence and arousal on held-out artists.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use anyhow::Result;
use mirador_models::tagger::Tagger;

use super::markdown::*;
use super::sets::*;
use super::{clips, Fills};

/// 4Q quadrant accuracy and F1, and the signs of valence and arousal, on the clips of the
/// artists the mood heads never saw (`models/musicnn/mood_test.txt`), for each network;
/// `known` holds each network's output for clips it has already been run on.
pub(super) fn section(
    root: &Path,
    data: &Path,
    networks: &[Arc<Tagger>],
    known: &[super::genre::Outputs],
) -> Result<Fills> {
    const QUADRANTS: [&str; 4] = ["Q1", "Q2", "Q3", "Q4"];
    let clips: Vec<(PathBuf, usize)> = held_out_4q(root)?
        .iter()
        .filter_map(|l| {
            let q = QUADRANTS.iter().position(|q| l.starts_with(q))?;
            Some((data.join("4q").join(l), q))
        })
        .collect();
    eprintln!("eval: 4Q held-out artists ({} clips)", clips.len());
    let paths: Vec<PathBuf> = clips.iter().map(|(p, _)| p.clone()).collect();
    let mut rows = [
        String::from("| quadrant accuracy |"),
        String::from("| quadrant macro F1 |"),
        String::from("| valence sign (Q1, Q4 positive) |"),
        String::from("| arousal sign (Q1, Q2 high) |"),
        String::from("| Python reference quadrant accuracy (librosa + onnxruntime on the fp32 graphs, every patch) |"),
        String::from("| quadrant ECE, before → after the head's temperature |"),
        String::from("| valence / arousal Spearman ρ against the quadrant's sign |"),
        String::from("| valence / arousal Spearman ρ against Emotify's listeners (GEMS proxy) |"),
    ];
    let ratings = emotify_ratings(&data.join("emotify"))?;
    let mut matrices = String::new();
    let mut header = String::from("| metric |");
    // The clips no network has run on yet (the genre sets hold most), in one pass for all.
    let missing: Vec<PathBuf> = paths
        .iter()
        .filter(|p| known.iter().any(|k| !k.contains_key(*p)))
        .cloned()
        .collect();
    let (fresh, _) = clips::run(&missing, networks);
    for (n, (network, known)) in networks.iter().zip(known).enumerate() {
        let fresh: HashMap<&PathBuf, &clips::Said> =
            fresh.iter().map(|(p, run)| (p, &run.outputs[n])).collect();
        let mut matrix = vec![vec![0usize; 4]; 4];
        let (mut valence_right, mut arousal_right) = (0, 0);
        // Per clip: valence, arousal, and the quadrant's signs of each.
        let mut axes: [Vec<f64>; 4] = Default::default();
        // Per clip, (top probability, right) before the head's temperature and after.
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for (path, truth) in &clips {
            // A clip that failed to decode has no output, as in the genre sets.
            let Some(c) = known.get(path).or_else(|| fresh.get(path).copied()) else {
                continue;
            };
            let truth = *truth;
            let raw = &c.uncalibrated[1];
            before.push((raw[argmax(raw)], argmax(raw) == truth));
            let c = &c.predictions;
            let p: Vec<f64> = c.mood.iter().map(|(_, p)| *p).collect();
            after.push((p[argmax(&p)], argmax(&p) == truth));
            matrix[truth][argmax(&p)] += 1;
            // Q1 and Q4 are positive valence; Q1 and Q2 high arousal.
            valence_right += usize::from((c.valence > 0.0) == (truth == 0 || truth == 3));
            arousal_right += usize::from((c.arousal > 0.0) == (truth == 0 || truth == 1));
            let sign = |positive: bool| if positive { 1.0 } else { -1.0 };
            for (axis, v) in axes.iter_mut().zip([
                c.valence,
                c.arousal,
                sign(truth == 0 || truth == 3),
                sign(truth == 0 || truth == 1),
            ]) {
                axis.push(v);
            }
        }
        // Emotify (never trained on): the listeners' GEMS ratings placed on the plane.
        let mut emotify: [Vec<f64>; 4] = Default::default();
        for (path, g) in &ratings {
            let Some(c) = known.get(path) else { continue };
            let [amazement, _solemnity, tenderness, _nostalgia, calmness, power, joy, tension, sadness] =
                *g;
            for (axis, v) in emotify.iter_mut().zip([
                c.predictions.valence,
                c.predictions.arousal,
                joy + amazement + tenderness + calmness - sadness - tension,
                power + joy + tension - calmness - tenderness,
            ]) {
                axis.push(v);
            }
        }
        let (right, total) = accuracy(&matrix);
        let f1: f64 = (0..4)
            .map(|q| {
                let tp = matrix[q][q] as f64;
                let predicted: usize = (0..4).map(|t| matrix[t][q]).sum();
                let actual: usize = matrix[q].iter().sum();
                if tp == 0.0 {
                    0.0
                } else {
                    2.0 * tp / (predicted + actual) as f64
                }
            })
            .sum::<f64>()
            / 4.0;
        let name = network.network.variant.name();
        let reference = read_json(&root.join(format!("models/{name}/heads_evaluation.json")))?;
        let reference = reference["mood"]["reference_test_accuracy"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let _ = write!(header, " {name} (Rust, {total} clips) |");
        let _ = write!(rows[0], " {} |", percent(right, total));
        let _ = write!(rows[1], " {f1:.3} |");
        let _ = write!(rows[2], " {} |", percent(valence_right, total));
        let _ = write!(rows[3], " {} |", percent(arousal_right, total));
        let _ = write!(rows[4], " {:.1} % |", 100.0 * reference);
        let ece = |clips: &[(f64, bool)]| super::genre::expected_calibration_error(clips).0;
        let _ = write!(rows[5], " {:.3} → {:.3} |", ece(&before), ece(&after));
        let _ = write!(
            rows[6],
            " {:.2} / {:.2} |",
            spearman(&axes[0], &axes[2]),
            spearman(&axes[1], &axes[3])
        );
        let _ = write!(
            rows[7],
            " {:.2} / {:.2} ({} clips) |",
            spearman(&emotify[0], &emotify[2]),
            spearman(&emotify[1], &emotify[3]),
            emotify[0].len()
        );
        let _ = writeln!(
            matrices,
            "\n{name}: rows true quadrant, columns predicted.\n"
        );
        let names: Vec<String> = QUADRANTS.iter().map(|q| q.to_string()).collect();
        matrices.push_str(&confusion_table(&names, &matrix));
    }
    let mut table = header;
    table.push_str("\n|---|");
    table.push_str(&"---:|".repeat(networks.len()));
    table.push('\n');
    for row in rows {
        table.push_str(&row);
        table.push('\n');
    }
    Ok(vec![("mood_table", table), ("mood_confusion", matrices)])
}
