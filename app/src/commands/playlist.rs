//! `mirador playlist`: from seeds, or from one track to another, as M3U8 or JSON.

use std::io::IsTerminal;
use std::process::ExitCode;

use mirador_library::playlist::{self, Seed};

use super::tracks::{self, fail, Row};
use crate::cli::{ListFormat, PlaylistArgs};

pub fn playlist(args: PlaylistArgs) -> ExitCode {
    let catalog = match tracks::open_catalog(&args.library) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let mut seeds = Vec::new();
    for text in &args.seed {
        match tracks::resolve(&catalog, text) {
            Ok(named) => seeds.push(Seed {
                query: named.query,
                index: named.index,
            }),
            Err(e) => return fail(e),
        }
    }
    let list = match &args.to {
        Some(to) => {
            let end = match tracks::resolve(&catalog, to) {
                Ok(named) => named,
                Err(e) => return fail(e),
            };
            let (Some(from), Some(to)) = (seeds[0].index, end.index) else {
                return fail("a path runs between two library tracks: index both files first");
            };
            playlist::path(&catalog, from, to, args.length.unwrap_or(10))
        }
        None => playlist::from_seeds(&catalog, &seeds, args.length.unwrap_or(20)),
    };
    let steps = playlist::steps(&catalog, &list);
    if !steps.is_empty() {
        let mean = steps.iter().sum::<f32>() / steps.len() as f32;
        let least = steps.iter().copied().fold(f32::INFINITY, f32::min);
        eprintln!(
            "mirador: {} tracks; similarity from one to the next: mean {mean:.3}, least {least:.3}",
            list.len()
        );
    }
    let to_json = args
        .output
        .as_ref()
        .is_some_and(|p| p.extension().is_some_and(|e| e == "json"));
    let format = args.format.unwrap_or(if to_json {
        ListFormat::Json
    } else if args.output.is_none() && std::io::stdout().is_terminal() {
        ListFormat::Table
    } else {
        ListFormat::M3u
    });
    let rows: Vec<Row> = list
        .iter()
        .map(|&i| Row {
            track: &catalog.tracks[i],
            score: None,
            hit: None,
            matched: None,
        })
        .collect();
    let written = match &args.output {
        Some(path) => tracks::render_rows(format, &rows).and_then(|text| {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
        }),
        None => tracks::write_rows(format, &rows),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
