//! `mirador live`: an input device into the live view, and the device list.

use std::process::ExitCode;

use mirador_app::device::{self, Direction};
use mirador_app::gui::{Session, Source};
use mirador_app::live;

use super::play::Playback;
use super::window::{
    check_report, load_models, open_library, open_midi, open_window, start_engine,
};
use crate::cli::LiveArgs;

pub fn live(args: LiveArgs) -> ExitCode {
    if args.list_devices {
        return list_devices();
    }
    if args.list_midi {
        return list_midi();
    }
    if let Err(e) = check_report(&args.window) {
        eprintln!("mirador: {e}");
        return ExitCode::from(1);
    }
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("mirador: {e}");
        ExitCode::from(1)
    };
    // Ask for the analysis rate; devices that cannot record at it give their nearest.
    let opened = match device::open(Direction::Input, args.device.as_deref(), 44_100, 2) {
        Ok(opened) => opened,
        Err(e) => return fail(&e),
    };
    let models = match load_models(&args.window) {
        Ok(models) => models,
        Err(e) => return fail(&e),
    };
    // A library track clicked in the window plays on the default output device.
    let playback = Playback {
        device: None,
        no_audio: false,
        models,
        library: open_library(&args.window.library),
        osc: args.window.osc,
        midi: open_midi(&args.window),
    };
    let (audio, reader) = match start_engine(
        opened.config.sample_rate,
        opened.config.channels as usize,
        &playback,
    ) {
        Ok(engine) => engine,
        Err(e) => return fail(&e),
    };
    let title = format!("live: {}", opened.name);
    let capture = match live::capture(opened, audio) {
        Ok(capture) => capture,
        Err(e) => return fail(&e),
    };
    let session = Session {
        title,
        reader,
        source: Source::Input(capture),
    };
    open_window(session, playback, args.window)
}

fn list_midi() -> ExitCode {
    match mirador_app::midi_out::list_ports() {
        Ok(names) if names.is_empty() => {
            println!("MIDI output ports: none (--midi-out alone makes a virtual one)");
            ExitCode::SUCCESS
        }
        Ok(names) => {
            println!("MIDI output ports:");
            for name in names {
                println!("  {name}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mirador: {e}");
            ExitCode::from(1)
        }
    }
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
