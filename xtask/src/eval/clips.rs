//! One pass per clip for every network: each file is decoded for the feature table's two
//! passes, with every network's patch pipeline riding along the second, so the table is
//! computed once however many networks are evaluated.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use mirador_app::decode::AudioFile;
use mirador_dsp::clip::{feature_table_tapped, ClipTap, FeatureTable, Replay, TableStyle};
use mirador_dsp::AnalyzerConfig;
use mirador_models::tagger::{self, ClipPredictions, PatchOutput, PatchPipeline, Tagger};
use mirador_models::Pipeline;
use rayon::prelude::*;

/// What the eval knows of one clip.
pub(super) struct ClipRun {
    pub(super) table: FeatureTable,
    /// One per network, in the order given.
    pub(super) outputs: Vec<Said>,
}

/// What one network said of a clip.
#[derive(Clone)]
pub(super) struct Said {
    pub(super) predictions: ClipPredictions,
    /// The mean over the patches of the genre and mood probabilities before the heads'
    /// temperatures (uncalibrated).
    pub(super) uncalibrated: [Vec<f64>; 2],
}

impl Said {
    fn new(network: &Tagger, outputs: &[PatchOutput]) -> Result<Self> {
        let mut uncalibrated = [
            vec![0.0; network.genre.classes.len()],
            vec![0.0; network.mood.classes.len()],
        ];
        for out in outputs {
            let heads = [(&network.genre, &out.genre), (&network.mood, &out.mood)];
            for (mean, (head, calibrated)) in uncalibrated.iter_mut().zip(heads) {
                let p = head.uncalibrated(calibrated);
                mean.iter_mut()
                    .zip(p)
                    .for_each(|(m, p)| *m += p / outputs.len() as f64);
            }
        }
        Ok(Self {
            predictions: tagger::summarize(network, outputs),
            uncalibrated,
        })
    }
}

/// Runs every clip in `paths` (in parallel); the map holds the clips that decoded, and the
/// count those that did not (each reported on one line).
pub(super) fn run(
    paths: &[PathBuf],
    networks: &[Arc<Tagger>],
) -> (HashMap<PathBuf, ClipRun>, usize) {
    let results: Vec<_> = paths
        .par_iter()
        .map(|path| (path, run_clip(path, networks)))
        .collect();
    let mut runs = HashMap::new();
    let mut failures = 0;
    for (path, result) in results {
        match result {
            Ok(run) => {
                runs.insert(path.clone(), run);
            }
            Err(e) => {
                eprintln!("eval: {}: {e}", path.display());
                failures += 1;
            }
        }
    }
    (runs, failures)
}

struct Riders(Vec<PatchPipeline>);

impl ClipTap for Riders {
    fn analysis(&mut self, samples: &[f32], position: u64) {
        self.0.iter_mut().for_each(|p| p.push(samples, position));
    }
}

fn run_clip(path: &Path, networks: &[Arc<Tagger>]) -> Result<ClipRun> {
    let mut file = AudioFile::open(path)?;
    let config = AnalyzerConfig::new(file.sample_rate(), file.channels());
    let mut riders = Riders(
        networks
            .iter()
            .map(|t| PatchPipeline::for_clip(t.clone()))
            .collect::<Result<_, _>>()?,
    );
    let table = feature_table_tapped(&mut file, &config, TableStyle::Gtzan, &mut riders)
        .map_err(|e| anyhow!("{e}"))?;
    let outputs = riders
        .0
        .iter_mut()
        .zip(networks)
        .map(|(p, network)| {
            p.finish();
            if let Some(e) = p.take_error() {
                return Err(anyhow!("{}: {e}", network.network.variant.name()));
            }
            let outputs: Vec<_> = p.take_outputs().collect();
            Said::new(network, &outputs)
        })
        .collect::<Result<_>>()?;
    Ok(ClipRun { table, outputs })
}
