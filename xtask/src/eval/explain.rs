//! The explanations' deletion test: does `mirador analyze --explain`'s occlusion map point at
//! what the prediction rests on? For each held-out clip, the 20 % of its cells with the
//! highest saliency for the predicted class are silenced together and the network run
//! again; so are random 20 %s. A map that means something lowers the class's probability far
//! more with its top cells gone than with random ones.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use mirador_app::decode::AudioFile;
use mirador_models::tagger::saliency::{probability_without, HeadKind as Head, CELLS};
use mirador_models::tagger::{PatchOutput, PatchPipeline, Tagger, Variant};
use mirador_models::Pipeline;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::markdown::argmax;
use super::sets::*;
use super::Fills;

/// The share of a clip's cells removed.
const DELETED: f64 = 0.2;
/// Random deletions averaged per clip.
const RANDOM_DRAWS: u64 = 3;

/// What deleting cells did to one clip's probability of its predicted class.
struct Deletion {
    before: f64,
    top: f64,
    random: f64,
}

pub(super) fn section(root: &Path, data: &Path) -> Result<Fills> {
    let tagger = Arc::new(Tagger::load(Variant::Cnn)?);
    let test_ids = read_ids(&data.join("gtzan/splits/fault_filtered_test.txt"))?;
    let gtzan: Vec<PathBuf> = gtzan_clips(&data.join("gtzan/full"), &test_ids)?
        .into_iter()
        .map(|c| c.path)
        .collect();
    let four_q: Vec<PathBuf> = held_out_4q(root)?
        .iter()
        .map(|l| data.join("4q").join(l))
        .collect();
    let mut table = String::from(
        "| head | clips | probability of the predicted class | top 20 % of cells silenced | random 20 % silenced | fall, top | fall, random | clips where top falls more |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (name, head, paths) in [
        ("genre, GTZAN test-split originals", Head::Genre, &gtzan),
        ("mood, 4Q held-out artists", Head::Mood, &four_q),
    ] {
        eprintln!("eval: explanations, {name} ({} clips)", paths.len());
        let results: Vec<Deletion> = paths
            .par_iter()
            .enumerate()
            .filter_map(|(i, path)| {
                deletion(path, &tagger, head, i as u64)
                    .inspect_err(|e| eprintln!("eval: {}: {e}", path.display()))
                    .ok()
            })
            .collect();
        let n = results.len().max(1) as f64;
        let mean = |f: &dyn Fn(&Deletion) -> f64| results.iter().map(f).sum::<f64>() / n;
        let more = results
            .iter()
            .filter(|d| d.before - d.top > d.before - d.random)
            .count();
        table.push_str(&format!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {more} of {} |\n",
            results.len(),
            mean(&|d| d.before),
            mean(&|d| d.top),
            mean(&|d| d.random),
            mean(&|d| d.before - d.top),
            mean(&|d| d.before - d.random),
            results.len(),
        ));
    }
    let clip = data.join("gtzan/full/blues.00000.flac");
    let (off, seconds) = super::cost::live_cost(&clip, false)?;
    let (on, _) = super::cost::live_cost(&clip, true)?;
    table.push_str(&format!(
        "\nLive, the engine with its models costs {on:.2} % of one core with \"why\" on and {off:.2} % with it off ({seconds:.0} s of `gtzan/full/blues.00000`, measured as the cost section does, in this run).\n"
    ));
    Ok(vec![("explain_table", table)])
}

/// Runs `path` through the CNN with explanations and deletes its top and random cells.
fn deletion(path: &Path, tagger: &Arc<Tagger>, head: Head, seed: u64) -> Result<Deletion> {
    let mut pipeline = PatchPipeline::for_clip(tagger.clone())?.explaining();
    mirador_models::run_clip(&mut AudioFile::open(path)?, &mut [&mut pipeline])
        .map_err(|e| anyhow!("{e}"))?;
    if let Some(e) = pipeline.take_error() {
        return Err(e.into());
    }
    let outputs: Vec<PatchOutput> = pipeline.take_outputs().collect();
    // The clip's probabilities: the mean of its patches'.
    let mut heard = vec![0.0; head.of(&outputs[0].genre, &outputs[0].mood).len()];
    for o in &outputs {
        let p = head.of(&o.genre, &o.mood);
        heard
            .iter_mut()
            .zip(p)
            .for_each(|(h, v)| *h += v / outputs.len() as f64);
    }
    let class = argmax(&heard);
    // Every cell of the clip, as (patch, cell), with its saliency for the class.
    let mut cells: Vec<(usize, usize, f32)> = Vec::new();
    for (k, o) in outputs.iter().enumerate() {
        let s = o.saliency.as_ref().ok_or_else(|| anyhow!("no saliency"))?;
        for cell in 0..CELLS {
            cells.push((k, cell, s.of_head(head)[class * CELLS + cell]));
        }
    }
    let removed = ((cells.len() as f64 * DELETED).round() as usize).max(1);
    let patches: Vec<Vec<f32>> = outputs
        .iter()
        .map(|o| o.patch.clone().ok_or_else(|| anyhow!("no patch")))
        .collect::<Result<_>>()?;
    // The clip's probability of the class with `chosen` cells silenced.
    let without = |chosen: &[(usize, usize, f32)]| -> Result<f64> {
        let chosen: Vec<(usize, usize)> = chosen.iter().map(|&(k, cell, _)| (k, cell)).collect();
        Ok(probability_without(tagger, &patches, head, class, &chosen)?)
    };
    let before = heard[class];
    let mut ranked = cells.clone();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2));
    let top = without(&ranked[..removed])?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut random = 0.0;
    for _ in 0..RANDOM_DRAWS {
        // A partial Fisher-Yates shuffle: the first `removed` are a uniform draw.
        for i in 0..removed {
            let j = rng.random_range(i..cells.len());
            cells.swap(i, j);
        }
        random += without(&cells[..removed])? / RANDOM_DRAWS as f64;
    }
    Ok(Deletion {
        before,
        top,
        random,
    })
}
