//! What `play` and `live` share: the engine with its models, the library, and the window.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use mirador_app::gui::{App, LibraryPanel, Session, PANEL_WIDTH};
use mirador_app::midi_out::{MidiOptions, SharedPort};
use mirador_engine::{AudioStage, EngineError, EventSink, LiveModels, SnapshotReader};
use mirador_library::{Catalog, LibraryError};
use mirador_models::tagger::{Head, Variant};

use super::play::{self, Playback};
use super::tracks;
use crate::cli::{LibraryArgs, WindowArgs};

/// The live models, unless `--no-models`; with `--notes`, the transcriber too.
pub fn load_models(window: &WindowArgs) -> Result<Option<Arc<LiveModels>>, EngineError> {
    if window.no_models {
        return Ok(None);
    }
    let models = LiveModels::load()?;
    let models = if window.notes {
        models.transcribing()?
    } else {
        models
    };
    Ok(Some(Arc::new(models)))
}

/// Builds the live engine for `rate` Hz and `channels` channels, with `playback`'s models
/// listening (genre, mood, beats, chords, and reference tracks from its library), and
/// starts its worker; with `--osc` and `--midi-out`, sender threads announce what it hears
/// until the engine stops.
pub fn start_engine(
    rate: u32,
    channels: usize,
    playback: &Playback,
) -> Result<(AudioStage, SnapshotReader), EngineError> {
    let library = playback.library.as_ref();
    // A queue per sender asked for, none without.
    let mut sink = EventSink::default();
    if let Some(target) = playback.osc {
        mirador_app::osc::spawn(target, sink.subscribe())?;
    }
    let midi = playback.midi.is_some().then(|| sink.subscribe());
    let senders = playback.osc.is_some() || midi.is_some();
    let (audio, reader) = mirador_engine::start(
        rate,
        channels,
        playback.models.as_deref(),
        library,
        senders.then_some(sink),
    )?;
    if let (Some((port, options)), Some(source)) = (&playback.midi, midi) {
        mirador_app::midi_out::spawn(port.clone(), source, reader.clock(), *options)?;
    }
    Ok((audio, reader))
}

/// The MIDI port `--midi-out` names (or a virtual one); one that cannot be opened is named
/// and the analysis goes on without it.
pub fn open_midi(window: &WindowArgs) -> Option<(SharedPort, MidiOptions)> {
    let name = window.midi_out.as_deref()?;
    let port = mirador_app::midi_out::open((!name.is_empty()).then_some(name))
        .inspect_err(|e| eprintln!("mirador: MIDI out: {e}; going on without it"))
        .ok()?;
    let options = MidiOptions {
        beat_notes: window.midi_beat_notes,
        channel: window.midi_channel - 1,
        ..MidiOptions::default()
    };
    Some((Arc::new(Mutex::new(port)), options))
}

/// The library the window searches: `--library`, else the default one if there is one. A
/// library that cannot be read is named, and the window opens without it.
pub fn open_library(args: &LibraryArgs) -> Option<Arc<Catalog>> {
    match Catalog::open(&tracks::library_path(args)) {
        Ok(catalog) => {
            let catalog = Arc::new(catalog);
            if catalog.wants_index() {
                // A large library: searched by scanning until its HNSW index is built.
                let building = catalog.clone();
                let _ = std::thread::Builder::new()
                    .name("mirador-index".into())
                    .spawn(move || building.build_index());
            }
            Some(catalog)
        }
        Err(LibraryError::Missing { .. } | LibraryError::Empty { .. })
            if args.library.is_none() =>
        {
            None
        }
        Err(e) => {
            eprintln!("mirador: {e}; the window opens without its library");
            None
        }
    }
}

/// Creates `--report`'s file now, so an unwritable path is one clear error before anything
/// starts rather than a lost report at the end.
pub fn check_report(window: &WindowArgs) -> Result<(), String> {
    match &window.report {
        Some(path) => std::fs::File::create(path)
            .map(drop)
            .map_err(|e| format!("--report {}: {e}", path.display())),
        None => Ok(()),
    }
}

/// Opens the window on `session`; a library track clicked there plays as `playback` says.
pub fn open_window(session: Session, playback: Playback, window: WindowArgs) -> ExitCode {
    // The view's size, and the library panel's beside it when there is one.
    let panel = if playback.library.is_some() {
        PANEL_WIDTH
    } else {
        0.0
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1100.0 + panel, 720.0])
            .with_min_inner_size([560.0, 360.0])
            .with_title(format!("Mirador - {}", session.title)),
        ..Default::default()
    };
    let library = playback.library.clone().and_then(|catalog| {
        let genres = Head::genre(Variant::Cnn).ok()?.classes;
        Some(LibraryPanel::new(catalog, genres))
    });
    let app = App {
        session,
        opener: Box::new(move |path| play::open(path, &playback)),
        library,
        open_error: None,
        exit_after: window.exit_after,
        report: window.report,
        view: Default::default(),
        settings: mirador_view::ViewSettings {
            why: window.why,
            ..Default::default()
        },
        explaining: false,
        started: std::time::Instant::now(),
    };
    let create = |cc: &eframe::CreationContext| {
        mirador_app::gui::close_on_interrupt(cc.egui_ctx.clone());
        Ok(Box::new(app) as Box<dyn eframe::App>)
    };
    match eframe::run_native("Mirador", options, Box::new(create)) {
        // As `analyze` does: the report is written, and the shell learns it was cut short.
        Ok(()) if mirador_app::gui::interrupted() => ExitCode::from(130),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mirador: cannot open a window: {e}");
            ExitCode::from(1)
        }
    }
}
