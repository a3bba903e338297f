//! `mirador`: the command line. `mirador analyze` writes the GTZAN feature table of audio
//! files and folders as CSV or JSON; `mirador play` and `mirador live` open the live view on
//! a file being played or an input device.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mirador_dsp::clip::{FeatureTable, TableStyle};
use mirador_dsp::live::{engine as live_engine, AudioStage, SnapshotReader};
use mirador_dsp::AnalyzerConfig;
use mirador_models::beats::BeatNet;
use mirador_models::classic::Classic;
use mirador_models::live::LiveModels;
use mirador_models::musicnn::{ClipModel, Variant};
use mirador_standalone::batch::GenreModel;
use mirador_standalone::decode::AudioFile;
use mirador_standalone::device::{self, Direction};
use mirador_standalone::gui::{App, Source};
use mirador_standalone::report::Format;
use mirador_standalone::{batch, live, player, report};

#[derive(Parser)]
#[command(name = "mirador", version, about = "Real-time music analysis")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze audio files and folders (searched recursively) and write one feature-table row
    /// per file. Exit status: 0 when every file was analyzed, 1 when any file failed (the
    /// others are still written), 2 when nothing could be done (bad arguments, unwritable output).
    Analyze(AnalyzeArgs),
    /// Play a file on the default output device while its live analysis is drawn in a
    /// window, with play/pause and seek.
    Play(PlayArgs),
    /// Listen to an input device (a microphone, a line in, a loopback) and draw its live
    /// analysis in a window.
    Live(LiveArgs),
}

#[derive(clap::Args)]
struct PlayArgs {
    /// Audio file (wav, flac, mp3, ogg, m4a).
    path: PathBuf,
    /// Output device (a name from `mirador live --list-devices`, or part of one).
    #[arg(long, conflicts_with = "no_audio")]
    device: Option<String>,
    /// Play nothing: pace the analysis by the clock instead of a sound device, so it runs
    /// where there is none.
    #[arg(long)]
    no_audio: bool,
    #[command(flatten)]
    window: WindowArgs,
}

#[derive(clap::Args)]
struct LiveArgs {
    /// Print the input and output devices and exit.
    #[arg(long)]
    list_devices: bool,
    /// Input device (a name from --list-devices, or part of one); default: the system's.
    #[arg(long)]
    device: Option<String>,
    #[command(flatten)]
    window: WindowArgs,
}

#[derive(clap::Args)]
struct WindowArgs {
    /// Run no models: no genre or mood predictions (less CPU).
    #[arg(long)]
    no_models: bool,
    /// Close the window after this many seconds.
    #[arg(long)]
    exit_after: Option<f64>,
    /// When the window closes, write the last snapshot's numbers here as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Files or folders; folders are searched recursively for wav, flac, mp3, ogg and m4a.
    #[arg(required_unless_present = "demo")]
    paths: Vec<PathBuf>,
    /// Also analyze the bundled demo signal (30 s, C major, 120 BPM), written as demo.wav.
    #[arg(long)]
    demo: bool,
    /// Output format: csv (the columns of GTZAN's features_30_sec.csv, without label) or json
    /// (the same values plus file metadata).
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Files analyzed at once (default: one per core).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Which librosa the numbers follow: gtzan (librosa < 0.10, as features_30_sec.csv was
    /// made) or librosa (0.10 and later: zero padding).
    #[arg(long, value_enum, default_value_t = Style::Gtzan)]
    style: Style,
    /// Print audio analyzed, speed and peak memory to standard error at the end.
    #[arg(long)]
    stats: bool,
    /// Predict each file's GTZAN genre: `cnn` runs Mirador's CNN (distilled from musicnn) on
    /// 3 s log-mel patches and also gives mood (4Q quadrant, valence, arousal) and tags;
    /// `musicnn` does the same with musicnn itself (slower); the others are the classic models
    /// over the feature table (k nearest neighbours, logistic regression, RBF SVM, small
    /// neural network, gradient-boosted trees). CSV gains a `label` column; JSON a `genre`
    /// object with class probabilities (and with cnn or musicnn, `mood` and `tags`).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(
        ["cnn", "musicnn", "knn", "logreg", "svm", "nn", "xgb"]
    ))]
    model: Option<String>,
    /// Skip beat tracking. Otherwise BeatNet tracks beats and downbeats through each file as
    /// it would live, and JSON gains a `rhythm` object: tempo, meter, beat and downbeat times.
    #[arg(long)]
    no_beats: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Style {
    Gtzan,
    Librosa,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze(args) => analyze(args),
        Command::Play(args) => play(args),
        Command::Live(args) => live(args),
    }
}

fn play(args: PlayArgs) -> ExitCode {
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("mirador: {}: {e}", args.path.display());
        ExitCode::from(1)
    };
    let info = match AudioFile::open(&args.path) {
        Ok(file) => file.info().clone(),
        Err(e) => return fail(&e),
    };
    let title = args
        .path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    if args.no_audio {
        let (audio, reader) =
            match start_engine(info.sample_rate, info.channels, !args.window.no_models) {
                Ok(engine) => engine,
                Err(e) => return fail(&e),
            };
        return match player::play_clocked(args.path.clone(), audio) {
            Ok(transport) => open_window(title, reader, Source::File(transport), args.window),
            Err(e) => fail(&e),
        };
    }
    let opened = device::open(
        Direction::Output,
        args.device.as_deref(),
        info.sample_rate,
        info.channels,
    );
    let opened = match opened {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("mirador: {e}; add --no-audio to analyze without playing");
            return ExitCode::from(1);
        }
    };
    let (audio, reader) = match start_engine(
        opened.config.sample_rate,
        opened.config.channels as usize,
        !args.window.no_models,
    ) {
        Ok(engine) => engine,
        Err(e) => return fail(&e),
    };
    match player::play_on_device(args.path.clone(), opened, audio) {
        Ok(transport) => open_window(title, reader, Source::File(transport), args.window),
        Err(e) => fail(&e),
    }
}

fn live(args: LiveArgs) -> ExitCode {
    if args.list_devices {
        return list_devices();
    }
    // Ask for the analysis rate; devices that cannot record at it give their nearest.
    let opened = match device::open(Direction::Input, args.device.as_deref(), 44_100, 2) {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(1);
        }
    };
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("mirador: {e}");
        ExitCode::from(1)
    };
    let (audio, reader) = match start_engine(
        opened.config.sample_rate,
        opened.config.channels as usize,
        !args.window.no_models,
    ) {
        Ok(engine) => engine,
        Err(e) => return fail(&e),
    };
    let title = format!("live: {}", opened.name);
    let capture = match live::capture(opened, audio) {
        Ok(capture) => capture,
        Err(e) => return fail(&e),
    };
    let source = Source::Input(capture.input.clone());
    open_window(title, reader, source, args.window)
}

fn list_devices() -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for direction in [Direction::Input, Direction::Output] {
        match device::list(direction) {
            Ok(names) if names.is_empty() => println!("{direction} devices: none"),
            Ok(names) => {
                println!("{direction} devices (default first):");
                for name in names {
                    println!("  {name}");
                }
            }
            Err(e) => {
                eprintln!("mirador: listing {direction} devices: {e}");
                status = ExitCode::from(1);
            }
        }
    }
    status
}

/// Builds the live engine for `rate` Hz and `channels` channels, with the models listening
/// (genre, mood and beats) unless `models` is false, and starts its worker.
fn start_engine(
    rate: u32,
    channels: usize,
    models: bool,
) -> Result<(AudioStage, SnapshotReader), Box<dyn std::error::Error>> {
    let (audio, mut worker, reader) = live_engine(&AnalyzerConfig::new(rate, channels))?;
    if models {
        for listener in LiveModels::load()?.listeners(rate, channels)? {
            worker = worker.with_listener(listener);
        }
    }
    worker.spawn()?;
    Ok((audio, reader))
}

fn open_window(
    title: String,
    reader: SnapshotReader,
    source: Source,
    window: WindowArgs,
) -> ExitCode {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1100.0, 720.0])
            .with_min_inner_size([560.0, 360.0])
            .with_title(format!("Mirador - {title}")),
        ..Default::default()
    };
    let app = App {
        title,
        reader,
        source,
        exit_after: window.exit_after,
        report: window.report,
        view: Default::default(),
        settings: Default::default(),
        started: std::time::Instant::now(),
    };
    match eframe::run_native("Mirador", options, Box::new(|_| Ok(Box::new(app)))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mirador: cannot open a window: {e}");
            ExitCode::from(1)
        }
    }
}

fn analyze(args: AnalyzeArgs) -> ExitCode {
    let style = match args.style {
        Style::Gtzan => TableStyle::Gtzan,
        Style::Librosa => TableStyle::Librosa,
    };
    if let Some(jobs) = args.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
        {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    }
    let model = match args.model.as_deref().map(load_model).transpose() {
        Ok(model) => model,
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    let beat_model = match (!args.no_beats).then(BeatNet::load).transpose() {
        Ok(beat_model) => beat_model,
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let mut outcome = batch::run(&args.paths, style, model.as_ref(), beat_model.as_ref());
    if args.demo {
        match mirador_standalone::demo::analysis(style, model.as_ref(), beat_model.as_ref()) {
            Ok(demo) => outcome.analyses.insert(0, demo),
            Err(e) => {
                eprintln!("mirador: demo: {e}");
                outcome.failures += 1;
            }
        }
    }
    let model_name = model.as_ref().map(GenreModel::name);
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))
            .and_then(|file| report::write(args.format, &outcome.analyses, model_name, file)),
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

fn load_model(name: &str) -> Result<GenreModel, String> {
    let variant = match name {
        "cnn" => Some(Variant::Cnn),
        "musicnn" => Some(Variant::Musicnn),
        _ => None,
    };
    if let Some(variant) = variant {
        let model = ClipModel::load(variant).map_err(|e| e.to_string())?;
        return Ok(GenreModel::Patches(Box::new(model)));
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
