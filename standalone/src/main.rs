//! `mirador`: the command line. `mirador analyze` writes the GTZAN feature table of audio
//! files and folders as CSV or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mirador_dsp::clip::TableStyle;
use mirador_standalone::report::Format;
use mirador_standalone::{batch, report};

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
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Files or folders; folders are searched recursively for wav, flac, mp3, ogg and m4a.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
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
    let outcome = batch::run(&args.paths, style);
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))
            .and_then(|file| report::write(args.format, &outcome.analyses, file)),
        None => report::write(args.format, &outcome.analyses, std::io::stdout().lock()),
    };
    if let Err(e) = written {
        eprintln!("mirador: {e}");
        return ExitCode::from(2);
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
