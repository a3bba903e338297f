//! `mirador analyze`: files and folders in, one row or object per file out.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use mirador_app::batch;
use mirador_app::report::{self, Format, MidiTarget};
use mirador_app::summary::Colors;
use mirador_dsp::clip::{FeatureTable, TableStyle};
use mirador_models::beats::BeatNet;
use mirador_models::classic::Classic;
use mirador_models::clip::{GenreModel, Models};
use mirador_models::melody::CrepeNet;
use mirador_models::notes::NoteNet;
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
    let genre = match (!args.features_only)
        .then(|| load_model(&args.model))
        .transpose()
    {
        Ok(model) => model,
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    let track_beats = !args.no_beats && !args.features_only;
    let beats = match track_beats.then(BeatNet::load).transpose() {
        Ok(beats) => beats.map(Arc::new),
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    if args.explain && !matches!(genre, Some(GenreModel::Patches(_))) {
        eprintln!("mirador: --explain needs --model cnn or musicnn");
        return ExitCode::from(2);
    }
    let pictures = args.explain.then(|| {
        args.explain_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    });
    if let Some(dir) = &pictures {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("mirador: cannot create {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let transcribe = args.notes || args.midi.is_some();
    let notes = match transcribe.then(NoteNet::load).transpose() {
        Ok(net) => net.map(Arc::new),
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    let melody = match args.f0.then(CrepeNet::load).transpose() {
        Ok(net) => net.map(Arc::new),
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    let midi = match midi_target(&args, found.files.len() + usize::from(args.demo)) {
        Ok(target) => target,
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    let models = Models {
        genre,
        beats,
        keep_patch_embeddings: false,
        beat_chords: args.beat_chords,
        explain: args.explain,
        notes,
        melody,
    };
    let model_name = models.genre.as_ref().map(GenreModel::name);
    let out: Box<dyn Write> = match output {
        Some(file) => Box::new(file),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut paths = found.files.clone();
    if args.demo {
        eprintln!("mirador: demo: {}", mirador_app::demo::CREDIT);
        paths.insert(0, PathBuf::from(mirador_app::demo::FILE_NAME));
    }
    // A reader on a terminal gets the summary; a pipe or a file gets CSV, so scripts keep
    // working. `--format` always wins.
    let terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if terminal {
        Format::Summary
    } else {
        Format::Csv
    });
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let colors = Colors::new(terminal && !no_color);
    let mut writer = match report::Writer::new(format, model_name, &paths, colors, out) {
        Ok(writer) => writer.drawing_explanations(pictures).writing_midi(midi),
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    // Ctrl-C: no new files start; the finished ones are written and the output closed.
    let _ = ctrlc::set_handler(|| batch::STOP.store(true, Ordering::Relaxed));
    let started = std::time::Instant::now();
    let mut tally = Tally {
        failures: found.problems,
        ..Tally::default()
    };
    if args.demo {
        let demo = mirador_app::demo::analysis(style, &models)
            .inspect_err(|e| eprintln!("mirador: demo: {e}"));
        tally.add(demo, &mut writer);
    }
    let handed = batch::run(&found.files, style, &models, args.jobs, |_, result| {
        tally.add(result, &mut writer);
    });
    if let Some(e) = tally.write_error.take() {
        eprintln!("mirador: {e}");
        return ExitCode::from(2);
    }
    if let Err(e) = writer.finish() {
        eprintln!("mirador: {e}");
        return ExitCode::from(2);
    }
    if args.stats {
        tally.print_stats(started.elapsed().as_secs_f64());
    }
    if handed < found.files.len() {
        eprintln!(
            "mirador: interrupted: {} of {} files written",
            tally.written,
            found.files.len() + usize::from(args.demo)
        );
        return ExitCode::from(130);
    }
    if tally.failures > 0 {
        eprintln!(
            "mirador: {} of {} files failed",
            tally.failures,
            tally.failures + tally.written
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// What has been done so far; the analyses themselves are written and dropped.
#[derive(Default)]
struct Tally {
    written: usize,
    failures: usize,
    audio_seconds: f64,
    write_error: Option<String>,
}

impl Tally {
    fn add(
        &mut self,
        result: Result<batch::Analysis, String>,
        writer: &mut report::Writer<Box<dyn Write>>,
    ) {
        match result {
            Ok(a) if self.write_error.is_none() => {
                self.audio_seconds += a.frames as f64 / a.info.sample_rate as f64;
                match writer.add(&a) {
                    Ok(()) => self.written += 1,
                    // Nowhere to write (a full disk, a closed pipe): stop starting files.
                    Err(e) => {
                        self.write_error = Some(e);
                        batch::STOP.store(true, Ordering::Relaxed);
                    }
                }
            }
            Ok(_) => {}
            Err(_) => self.failures += 1,
        }
    }

    fn print_stats(&self, seconds: f64) {
        let peak = peak_memory_mib().map_or("unknown".into(), |m| format!("{m:.1}"));
        eprintln!(
            "mirador: {} files, {:.1} s of audio in {seconds:.2} s ({:.0}x real time), peak memory {peak} MiB",
            self.written,
            self.audio_seconds,
            self.audio_seconds / seconds.max(1e-9)
        );
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

/// Where `--midi` writes: the path itself for one input, else a folder (made if missing).
fn midi_target(args: &AnalyzeArgs, inputs: usize) -> Result<Option<MidiTarget>, String> {
    let Some(path) = &args.midi else {
        return Ok(None);
    };
    let folder = inputs > 1 || path.is_dir();
    if folder {
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    }
    Ok(Some(MidiTarget {
        path: path.clone(),
        folder,
        quantize: args.quantize,
    }))
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

/// The process's peak resident memory (Linux `VmHWM`).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
