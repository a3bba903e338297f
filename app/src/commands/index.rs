//! `mirador index` (build or update a library) and `mirador library` (what one holds).

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use mirador_app::{batch, indexing};
use mirador_library::Library;

use super::tracks::{self, fail};
use crate::cli::{IndexArgs, LibraryInfoArgs};

pub fn index(args: IndexArgs) -> ExitCode {
    let path = tracks::library_path(&args.library);
    let mut library = match Library::open_for_update(&path) {
        Ok(library) => library,
        Err(e) => return fail(e),
    };
    let (models, recipe) = match indexing::models(&args.model, true) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    // Ctrl-C: no new files start; those running finish and are stored.
    let _ = ctrlc::set_handler(|| batch::STOP.store(true, Ordering::Relaxed));
    let started = std::time::Instant::now();
    let outcome = match indexing::index(&mut library, &args.paths, &models, &recipe, args.jobs) {
        Ok(outcome) => outcome,
        Err(e) => return fail(e),
    };
    let seconds = started.elapsed().as_secs_f64();
    let counts = library.counts();
    eprintln!(
        "mirador: {} analyzed ({:.0} s of audio in {seconds:.1} s, {:.0}x real time), {} \
         unchanged, {} moved, {} failed, {} vanished",
        outcome.analyzed,
        outcome.audio_seconds,
        outcome.audio_seconds / seconds.max(1e-9),
        outcome.unchanged,
        outcome.moved,
        outcome.failed,
        outcome.vanished,
    );
    if let Ok(c) = counts {
        eprintln!(
            "mirador: library {}: {} tracks ({} failed, {} missing)",
            path.display(),
            c.ok,
            c.failed,
            c.missing
        );
    }
    if outcome.not_started > 0 {
        eprintln!(
            "mirador: interrupted: {} files not indexed yet; run again to go on",
            outcome.not_started
        );
        return ExitCode::from(130);
    }
    if outcome.failed + outcome.unreadable > 0 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

pub fn info(args: LibraryInfoArgs) -> ExitCode {
    let path = tracks::library_path(&args.library);
    let library = match Library::open(&path) {
        Ok(library) => library,
        Err(e) => return fail(e),
    };
    let (counts, failures) = match (library.counts(), library.failures()) {
        (Ok(c), Ok(f)) => (c, f),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    println!("library: {}", path.display());
    println!(
        "tracks: {} analyzed, {} failed, {} missing",
        counts.ok, counts.failed, counts.missing
    );
    for (file, reason) in failures {
        println!("failed: {file}: {reason}");
    }
    ExitCode::SUCCESS
}
