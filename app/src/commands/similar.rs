//! `mirador similar`: the library tracks nearest a file or a track.

use std::process::ExitCode;

use mirador_library::{Choice, Facet};

use super::tracks::{self, fail, Row};
use crate::cli::SimilarArgs;

pub fn similar(args: SimilarArgs) -> ExitCode {
    let catalog = match tracks::open_catalog(&args.library) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let named = match tracks::resolve(&catalog, &args.query) {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    let choice = match Facet::from_name(&args.facet) {
        Some(facet) => Choice::One(facet),
        None => catalog.all(),
    };
    if let Choice::One(facet) = choice {
        if !named.query.has(facet) {
            return fail(format!(
                "{}: has no {} vector (too little music to describe it that way)",
                args.query,
                facet.name()
            ));
        }
    }
    if args.cross_genre && named.genre.is_none() {
        return fail(format!(
            "{}: has no genre (too little music), so --cross-genre cannot apply",
            args.query
        ));
    }
    let genre_of = |i: usize| catalog.tracks[i].genre.as_ref().map(|g| g.0.as_str());
    let hits = catalog.nearest(&named.query, choice, args.k, |i| {
        Some(i) != named.index
            && catalog.tracks[i].hash != named.track.hash
            && (!args.cross_genre || genre_of(i) != named.genre.as_deref())
    });
    if hits.is_empty() {
        eprintln!("mirador: no other tracks to compare with");
    }
    let rows: Vec<Row> = hits
        .iter()
        .map(|hit| Row {
            track: &catalog.tracks[hit.index],
            score: Some(hit.score),
            hit: Some(hit),
            matched: None,
        })
        .collect();
    match tracks::write_rows(args.format, &rows) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
