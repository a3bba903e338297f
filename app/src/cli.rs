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
    /// Build or update a library of the audio files under PATHs: each is analyzed once
    /// (genre, mood, tags, tempo, meter, key, loudness, embedding and facet vectors) and kept
    /// in an SQLite database. Unchanged files are skipped, moved ones recognised by content,
    /// vanished ones marked; Ctrl-C or a crash loses nothing already indexed, and the next run
    /// goes on from there. Exit status: 0 done, 1 some files failed (each has a row saying
    /// why), 2 nothing could be done, 130 interrupted.
    Index(IndexArgs),
    /// The library tracks most like a file or a library track, with the facets that make
    /// each close.
    Similar(SimilarArgs),
    /// Find library tracks by words: genres, MSD tags, moods, tempo ("fast", "90-110 bpm"),
    /// key and mode, loudness and length. This is a vocabulary search over what Mirador's
    /// models predict, not a text-to-audio model.
    Search(SearchArgs),
    /// Make a playlist that flows from one or more seed tracks, or that moves gradually from
    /// one track to another.
    Playlist(PlaylistArgs),
    /// What a library holds: tracks by status, the files that failed and why.
    Library(LibraryInfoArgs),
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
    /// Print the MIDI output ports (for --midi-out) and exit.
    #[arg(long)]
    pub list_midi: bool,
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
    /// Send beats, downbeats, tempo, key, chord, section, genre, mood, loudness and notes as OSC
    /// bundles over UDP to HOST:PORT (127.0.0.1:9000 when given without a value), each
    /// timetagged with its time on the audio timeline (the README lists the addresses).
    #[arg(long, value_name = "HOST:PORT", num_args = 0..=1,
          default_missing_value = mirador_app::osc::DEFAULT_TARGET, value_parser = mirador_app::osc::target)]
    pub osc: Option<std::net::SocketAddr>,
    /// Open with "why" on: the genre's saliency over the spectrogram (the checkbox of that
    /// name; about 5 % of a core more while it is on).
    #[arg(long, conflicts_with = "no_models")]
    pub why: bool,
    /// Transcribe the notes as they are heard (basic-pitch): a piano roll under the
    /// spectrogram, and `/mirador/note` over OSC. A note shows about 0.4 s after its onset,
    /// once it has lasted 0.13 s; about a fifth of a core more, on a thread of its own.
    #[arg(long, conflicts_with = "no_models")]
    pub notes: bool,
    /// Send MIDI: beat clock (24 pulses a beat, Start, Stop, Continue, Song Position on a
    /// seek) following the tracked tempo, loudness as CC 16 (short-term) and CC 17
    /// (momentary), the transcribed notes with --notes, and with --midi-beat-notes a note on
    /// each beat. To PORT (part of a name from `mirador live --list-midi`); without a value,
    /// to a virtual port named "Mirador" that other programs connect to (Linux, macOS).
    #[arg(long, value_name = "PORT", num_args = 0..=1, default_missing_value = "",
          conflicts_with = "no_models")]
    pub midi_out: Option<String>,
    /// With --midi-out, a note on every beat and another on every downbeat, on channel 10:
    /// BEAT,DOWNBEAT as MIDI note numbers (42,36: closed hi-hat and bass drum).
    #[arg(long, value_name = "BEAT,DOWNBEAT", requires = "midi_out", value_parser = beat_notes)]
    pub midi_beat_notes: Option<(u8, u8)>,
    /// With --midi-out, the channel (1 to 16) of the transcribed notes and the loudness CCs.
    #[arg(long, default_value_t = 1, requires = "midi_out",
          value_parser = clap::value_parser!(u8).range(1..=16))]
    pub midi_channel: u8,
    /// The library the window searches and finds reference tracks in (when it exists).
    #[command(flatten)]
    pub library: LibraryArgs,
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
    /// model runs), json (the same values plus file metadata and what the models say),
    /// jsonl (the JSON objects one per line), lab (the chords as `start end label` lines) or
    /// sections-lab (the sections so, lettered A, B, ...). Default: summary on a terminal,
    /// csv when the output is piped or written with -o. Each file is written as soon as it and those
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
    /// Chords beat by beat, each starting on a tracked beat (the default follows the music
    /// frame by frame, every 93 ms).
    #[arg(long, conflicts_with = "no_beats")]
    pub beat_chords: bool,
    /// Explain the genre and mood (`--model cnn` or `musicnn`): each 0.5 s x 12-band cell of
    /// every 3 s patch is silenced in turn and the network run again (occlusion), and a
    /// cell's saliency is how much the class's probability falls without it. The summary
    /// names the 3 s that supported each most; JSON gains an `explanation` object with the
    /// whole map; a PNG of it over the mel spectrogram goes to --explain-dir. 48 more network
    /// runs per patch: with cnn about 1/25 of the audio's length, with musicnn twice it.
    #[arg(long, conflicts_with = "features_only")]
    pub explain: bool,
    /// Where --explain writes its pictures, one `FILE.explain.png` per file (created if
    /// missing; default: the current directory).
    #[arg(long, requires = "explain", value_name = "DIR")]
    pub explain_dir: Option<PathBuf>,
    /// Transcribe the notes played (Spotify's basic-pitch: polyphonic, A0 to C8, any
    /// instrument or voice): JSON gains `notes` (start and end in seconds, MIDI pitch,
    /// velocity, and pitch bends in thirds of a semitone, one per 11.6 ms); the summary counts
    /// them. Adds about 1/40 of the audio's length.
    #[arg(long, conflicts_with = "features_only")]
    pub notes: bool,
    /// Write the transcribed notes as a standard MIDI file (implies --notes): with one input,
    /// to this path; with several, into this folder as `NAME.mid`. Its tempo map puts a
    /// quarter note on every tracked beat and the first downbeat on a bar line, so the notes
    /// line up with a DAW's grid.
    #[arg(long, value_name = "PATH", conflicts_with = "features_only")]
    pub midi: Option<PathBuf>,
    /// Track the pitch of the melody every 10 ms (CREPE's tiny network: one voice or
    /// instrument at a time, 32 Hz to 2 kHz): JSON gains `f0` with the pitch in Hz (null
    /// where unvoiced) and the network's confidence per frame. Adds about 1/8 of the audio's
    /// length.
    #[arg(long, conflicts_with = "features_only")]
    pub f0: bool,
    /// Snap the MIDI file's notes to sixteenths of the beat grid (JSON keeps the times heard).
    #[arg(long, requires = "midi", conflicts_with = "no_beats")]
    pub quantize: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Style {
    Gtzan,
    Librosa,
}

/// A number of seconds a window may stay open: finite, positive, at most a week.
/// `BEAT,DOWNBEAT`: two MIDI note numbers.
fn beat_notes(text: &str) -> Result<(u8, u8), String> {
    let note = |t: &str| {
        t.trim()
            .parse::<u8>()
            .ok()
            .filter(|&n| n < 128)
            .ok_or_else(|| format!("{t:?} is not a MIDI note number (0 to 127)"))
    };
    let (beat, downbeat) = text
        .split_once(',')
        .ok_or("give two note numbers, BEAT,DOWNBEAT (e.g. 42,36)")?;
    Ok((note(beat)?, note(downbeat)?))
}

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

#[derive(clap::Args)]
pub struct LibraryArgs {
    /// The library database (default: $MIRADOR_LIBRARY, else library.db in the user's data
    /// directory, e.g. ~/.local/share/mirador/).
    #[arg(long, value_name = "FILE")]
    pub library: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct IndexArgs {
    /// Files or folders (searched recursively for audio files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub library: LibraryArgs,
    /// Files analyzed at once (default: one per core).
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// The patch network whose embedding, genre, mood and tags are stored: cnn (the
    /// default, what runs live) or musicnn (slower). Changing it re-analyzes every track.
    #[arg(long, default_value = "cnn", value_parser = clap::builder::PossibleValuesParser::new(["cnn", "musicnn"]))]
    pub model: String,
}

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns for a reader.
    Table,
    Json,
    Csv,
    /// An M3U8 playlist of the tracks' paths.
    M3u,
}

#[derive(clap::Args)]
pub struct SimilarArgs {
    /// An audio file (analyzed on the fly when it is not in the library), or a library track:
    /// its id (as `#12`) or a part of its path, title or artist that names one track.
    pub query: String,
    #[command(flatten)]
    pub library: LibraryArgs,
    /// How many tracks.
    #[arg(short, default_value_t = 10)]
    pub k: usize,
    /// What to compare: all (a weighted mean of every facet), embedding, timbre, rhythm,
    /// harmony, mood, tags or genre.
    #[arg(long, default_value = "all", value_parser = clap::builder::PossibleValuesParser::new(
        ["all", "embedding", "timbre", "rhythm", "harmony", "mood", "tags", "genre"]
    ))]
    pub facet: String,
    /// Only tracks whose genre differs from the query's: the same groove in another style.
    #[arg(long)]
    pub cross_genre: bool,
    /// Output format (default: table).
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(clap::Args)]
pub struct SearchArgs {
    /// Words, e.g. "calm acoustic guitar", "fast metal", "sad piano in a minor", "90-110 bpm".
    pub query: String,
    #[command(flatten)]
    pub library: LibraryArgs,
    /// Rank by the words and by similarity to this file or track (as `mirador similar`
    /// takes it): "like this, but calmer".
    #[arg(long, value_name = "FILE|TRACK")]
    pub like: Option<String>,
    /// How many tracks.
    #[arg(short, default_value_t = 10)]
    pub k: usize,
    /// Output format (default: table).
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(clap::Args)]
pub struct PlaylistArgs {
    /// A track to start from and stay near (a file or a library track, as `mirador similar`
    /// takes it); give several to blend them.
    #[arg(long, required = true)]
    pub seed: Vec<String>,
    /// Where to end: the playlist moves gradually from the (first) seed to this track.
    #[arg(long, value_name = "FILE|TRACK")]
    pub to: Option<String>,
    /// How many tracks, seeds included (default 20; with --to, 10).
    #[arg(long)]
    pub length: Option<usize>,
    #[command(flatten)]
    pub library: LibraryArgs,
    /// Write it here (an .m3u8 or .json file) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format (default: m3u; json for a .json output file; table on a terminal).
    #[arg(long, value_enum)]
    pub format: Option<ListFormat>,
}

#[derive(clap::Args)]
pub struct LibraryInfoArgs {
    #[command(flatten)]
    pub library: LibraryArgs,
}
