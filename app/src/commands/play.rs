//! `mirador play`: a file played on an output device (or paced by the clock) into the live
//! view.

use std::process::ExitCode;

use mirador_app::decode::AudioFile;
use mirador_app::device::{self, Direction};
use mirador_app::gui::Source;
use mirador_app::player;

use super::window::{check_report, open_window, start_engine};
use crate::cli::PlayArgs;

pub fn play(args: PlayArgs) -> ExitCode {
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("mirador: {}: {e}", args.path.display());
        ExitCode::from(1)
    };
    if args.path.is_dir() {
        return fail(&"is a folder: play takes one audio file (analyze takes folders)");
    }
    if let Err(e) = check_report(&args.window) {
        eprintln!("mirador: {e}");
        return ExitCode::from(1);
    }
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
