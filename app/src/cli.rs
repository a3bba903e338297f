//! The command line: `mirador analyze`, `mirador play`, `mirador live` and their options.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use mirador_app::report::Format;

#[derive(Parser)]
#[command(name = "mirador", version, about = "Real-time music analysis")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// Print a shell completion script, e.g. `mirador completions bash >
    /// ~/.local/share/bash-completion/completions/mirador`.
    Completions { shell: clap_complete::Shell },
    /// Write the manual pages (mirador.1 and one per subcommand) into DIR, or print
    /// mirador.1 when no DIR is given.
    Man { dir: Option<PathBuf> },
}

#[derive(clap::Args)]
pub struct PlayArgs {
    /// Audio file (anything symphonia or, when installed, ffmpeg decodes).
    pub path: PathBuf,
    /// Output device (a name from `mirador live --list-devices`, or part of one).
    #[arg(long, conflicts_with = "no_audio")]
    pub device: Option<String>,
    /// Play nothing: pace the analysis by the clock instead of a sound device, so it runs
    /// where there is none.
    #[arg(long)]
    pub no_audio: bool,
    #[command(flatten)]
    pub window: WindowArgs,
}

#[derive(clap::Args)]
pub struct LiveArgs {
    /// Print the input and output devices and exit.
    #[arg(long)]
    pub list_devices: bool,
    /// Input device (a name from --list-devices, or part of one); default: the system's.
    #[arg(long)]
    pub device: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
}

#[derive(clap::Args)]
pub struct WindowArgs {
    /// Run no models: no genre or mood predictions (less CPU).
    #[arg(long)]
    pub no_models: bool,
    /// Close the window after this many seconds (more than 0, at most a week).
    #[arg(long, value_parser = seconds)]
    pub exit_after: Option<f64>,
    /// When the window closes, write the last snapshot's numbers here as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Files or folders; folders are searched recursively for audio files (wav, aiff, w64,
    /// flac, mp3, ogg, opus, m4a, aac, caf, mka, webm and more, by extension).
    #[arg(required_unless_present = "demo")]
    pub paths: Vec<PathBuf>,
    /// Also analyze the bundled demo recording: the first 30 s of "Vibe Ace" by Kevin
    /// MacLeod (CC BY 3.0).
    #[arg(long)]
    pub demo: bool,
    /// Output format: summary (one aligned line per file: genre, mood, tempo, key,
    /// loudness), csv (the columns of GTZAN's features_30_sec.csv, with `label` when a genre
    /// model runs), json (the same values plus file metadata and what the models say), or
    /// jsonl (the JSON objects one per line). Default: summary on a terminal, csv when the
    /// output is piped or written with -o. Each file is written as soon as it and those
    /// before it are done; Ctrl-C stops starting files and leaves valid output of the
    /// finished ones.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Files analyzed at once (default: one per core).
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// Which librosa the numbers follow: gtzan (librosa < 0.10, as features_30_sec.csv was
    /// made) or librosa (0.10 and later: zero padding).
    #[arg(long, value_enum, default_value_t = Style::Gtzan)]
    pub style: Style,
    /// Print audio analyzed, speed and peak memory to standard error at the end.
    #[arg(long)]
    pub stats: bool,
    /// What predicts each file's GTZAN genre: `cnn` (the default) runs Mirador's CNN
    /// (distilled from musicnn) on 3 s log-mel patches and also gives mood (4Q quadrant,
    /// valence, arousal) and tags; `musicnn` does the same with musicnn itself (slower); the
    /// others are the classic models over the feature table (k nearest neighbours, logistic
    /// regression, RBF SVM, small neural network, gradient-boosted trees). CSV has a `label`
    /// column; JSON a `genre` object with class probabilities (and with cnn or musicnn,
    /// `mood` and `tags`).
    #[arg(long, default_value = "cnn", value_parser = clap::builder::PossibleValuesParser::new(
        ["cnn", "musicnn", "knn", "logreg", "svm", "nn", "xgb"]
    ))]
    pub model: String,
    /// Skip beat tracking. Otherwise BeatNet tracks beats and downbeats through each file as
    /// it would live, and JSON gains a `rhythm` object: tempo, meter, beat and downbeat times.
    #[arg(long)]
    pub no_beats: bool,
    /// Only the feature table: no genre, mood, tags or beats (the bare GTZAN columns, faster).
    #[arg(long, conflicts_with = "model")]
    pub features_only: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Style {
    Gtzan,
    Librosa,
}

/// A number of seconds a window may stay open: finite, positive, at most a week.
fn seconds(text: &str) -> Result<f64, String> {
    const WEEK: f64 = 7.0 * 24.0 * 3600.0;
    let s: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if s.is_finite() && s > 0.0 && s <= WEEK {
        Ok(s)
    } else {
        Err(format!(
            "{text} is not a number of seconds between 0 and {WEEK}"
        ))
    }
}
