//! What `play` and `live` share: the engine with its models, and the window.

use std::process::ExitCode;

use mirador_app::gui::{App, Source};
use mirador_engine::{AudioStage, EngineError, LiveModels, SnapshotReader};

use crate::cli::WindowArgs;

/// Builds the live engine for `rate` Hz and `channels` channels, with the models listening
/// (genre, mood and beats) unless `models` is false, and starts its worker.
pub fn start_engine(
    rate: u32,
    channels: usize,
    models: bool,
) -> Result<(AudioStage, SnapshotReader), EngineError> {
    let models = models.then(LiveModels::load).transpose()?;
    mirador_engine::start(rate, channels, models.as_ref())
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

pub fn open_window(
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
