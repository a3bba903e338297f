//! `mirador play`: a file played on an output device (or paced by the clock) into the live
//! view.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use mirador_app::decode::AudioFile;
use mirador_app::device::{self, Direction};
use mirador_app::gui::{Session, Source};
use mirador_app::midi_out::{MidiOptions, SharedPort};
use mirador_app::player;
use mirador_engine::LiveModels;
use mirador_library::Catalog;

use super::window::{
    check_report, load_models, open_library, open_midi, open_window, start_engine,
};
use crate::cli::PlayArgs;

/// How files are played: on which device (none: paced by the clock), with which models and
/// library. The models are loaded once, for the first file and every file clicked after.
pub struct Playback {
    pub device: Option<String>,
    pub no_audio: bool,
    pub models: Option<Arc<LiveModels>>,
    pub library: Option<Arc<Catalog>>,
    /// Where `--osc` sends what each engine hears.
    pub osc: Option<std::net::SocketAddr>,
    /// Where `--midi-out` sends it.
    pub midi: Option<(SharedPort, MidiOptions)>,
}

pub fn play(args: PlayArgs) -> ExitCode {
    if args.path.is_dir() {
        eprintln!(
            "mirador: {}: is a folder: play takes one audio file (analyze takes folders)",
            args.path.display()
        );
        return ExitCode::from(1);
    }
    if let Err(e) = check_report(&args.window) {
        eprintln!("mirador: {e}");
        return ExitCode::from(1);
    }
    let models = match load_models(&args.window) {
        Ok(models) => models,
        Err(e) => {
            eprintln!("mirador: {e}");
            return ExitCode::from(1);
        }
    };
    let playback = Playback {
        device: args.device.clone(),
        no_audio: args.no_audio,
        models,
        library: open_library(&args.window.library),
        osc: args.window.osc,
        midi: open_midi(&args.window),
    };
    match open(&args.path, &playback) {
        Ok(session) => open_window(session, playback, args.window),
        Err(e) => {
            eprintln!("mirador: {e}");
            ExitCode::from(1)
        }
    }
}

/// Starts playing `path` into a new engine.
pub fn open(path: &Path, playback: &Playback) -> Result<Session, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let info = AudioFile::open(path).map_err(|e| fail(&e))?.info().clone();
    let title = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let canonical = path.canonicalize().map_err(|e| fail(&e))?;
    let (reader, transport) = if playback.no_audio {
        let (audio, reader) =
            start_engine(info.sample_rate, info.channels, playback).map_err(|e| fail(&e))?;
        let transport = player::play_clocked(path.to_path_buf(), audio).map_err(|e| fail(&e))?;
        (reader, transport)
    } else {
        let opened = device::open(
            Direction::Output,
            playback.device.as_deref(),
            info.sample_rate,
            info.channels,
        )
        .map_err(|e| format!("{e}; add --no-audio to analyze without playing"))?;
        let (audio, reader) = start_engine(
            opened.config.sample_rate,
            opened.config.channels as usize,
            playback,
        )
        .map_err(|e| fail(&e))?;
        let transport =
            player::play_on_device(path.to_path_buf(), opened, audio).map_err(|e| fail(&e))?;
        (reader, transport)
    };
    Ok(Session {
        title,
        reader,
        source: Source::File(canonical, transport),
    })
}
