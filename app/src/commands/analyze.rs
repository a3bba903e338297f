//! `mirador analyze`: files and folders in, one row or object per file out.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use mirador_app::batch::{self, GenreModel, Models};
use mirador_app::report;
use mirador_dsp::clip::{FeatureTable, TableStyle};
use mirador_models::beats::BeatNet;
use mirador_models::classic::Classic;
use mirador_models::tagger::{Tagger, Variant};

use crate::cli::{AnalyzeArgs, Style};

pub fn analyze(args: AnalyzeArgs) -> ExitCode {
    let style = match args.style {
        Style::Gtzan => TableStyle::Gtzan,
        Style::Librosa => TableStyle::Librosa,
    };
    let found = batch::find(&args.paths);
    // The output is opened before any analysis, and never over one of the inputs.
    let output = match &args.output {
        Some(path) => match open_output(path, &args.paths, &found.files) {
            Ok(file) => Some(file),
            Err(e) => {
                eprintln!("mirador: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let genre = match args.model.as_deref().map(load_model).transpose() {
        Ok(model) => model,
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    let beats = match (!args.no_beats).then(BeatNet::load).transpose() {
        Ok(beats) => beats.map(Arc::new),
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    let models = Models { genre, beats };
    let started = std::time::Instant::now();
    let mut outcome = batch::run(&found.files, style, &models, args.jobs);
    outcome.failures += found.problems;
    if args.demo {
        match mirador_app::demo::analysis(style, &models) {
            Ok(demo) => outcome.analyses.insert(0, demo),
            Err(e) => {
                eprintln!("mirador: demo: {e}");
                outcome.failures += 1;
            }
        }
    }
    let model_name = models.genre.as_ref().map(GenreModel::name);
    let written = match output {
        Some(file) => report::write(args.format, &outcome.analyses, model_name, file),
        None => report::write(
            args.format,
            &outcome.analyses,
            model_name,
            std::io::stdout().lock(),
        ),
    };
    if let Err(e) = written {
        eprintln!("mirador: {e}");
        return ExitCode::from(2);
    }
    if args.stats {
        print_stats(&outcome.analyses, started.elapsed().as_secs_f64());
    }
    if outcome.failures > 0 {
        eprintln!(
            "mirador: {} of {} files failed",
            outcome.failures,
            outcome.failures + outcome.analyses.len()
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Creates the output file, refusing a path that is one of the inputs (or an audio file
/// found under them).
fn open_output(
    path: &Path,
    inputs: &[PathBuf],
    files: &[PathBuf],
) -> Result<std::fs::File, String> {
    if let Ok(target) = path.canonicalize() {
        let is_input = inputs
            .iter()
            .chain(files)
            .any(|p| p.canonicalize().is_ok_and(|p| p == target));
        if is_input {
            return Err(format!(
                "{}: the output is one of the inputs; choose another -o",
                path.display()
            ));
        }
    }
    std::fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn load_model(name: &str) -> Result<GenreModel, String> {
    let variant = match name {
        "cnn" => Some(Variant::Cnn),
        "musicnn" => Some(Variant::Musicnn),
        _ => None,
    };
    if let Some(variant) = variant {
        let model = Tagger::load(variant).map_err(|e| e.to_string())?;
        return Ok(GenreModel::Patches(Arc::new(model)));
    }
    Classic::builtin(name, &FeatureTable::column_names())
        .map(|m| GenreModel::Classic(Box::new(m)))
        .map_err(|e| e.to_string())
}

fn print_stats(analyses: &[batch::Analysis], seconds: f64) {
    let audio: f64 = analyses
        .iter()
        .map(|a| a.frames as f64 / a.info.sample_rate as f64)
        .sum();
    let peak = peak_memory_mib().map_or("unknown".into(), |m| format!("{m:.1}"));
    eprintln!(
        "mirador: {} files, {audio:.1} s of audio in {seconds:.2} s ({:.0}x real time), peak memory {peak} MiB",
        analyses.len(),
        audio / seconds.max(1e-9)
    );
}

/// The process's peak resident memory (Linux `VmHWM`).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
