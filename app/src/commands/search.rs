//! `mirador search`: library tracks by words, optionally blended with "like this".

use std::process::ExitCode;

use mirador_library::text::{self, TextEncoder, Vocabulary};
use mirador_models::tagger::{Head, Variant};

use super::tracks::{self, fail, Row};
use crate::cli::SearchArgs;

pub fn search(args: SearchArgs) -> ExitCode {
    let catalog = match tracks::open_catalog(&args.library) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let genres = match Head::genre(Variant::Cnn) {
        Ok(head) => head.classes,
        Err(e) => return fail(e),
    };
    let vocabulary = Vocabulary::new(genres);
    let encoded = vocabulary.encode(&args.query);
    let like = match args.like.as_deref().map(|l| tracks::resolve(&catalog, l)) {
        Some(Err(e)) => return fail(e),
        Some(Ok(named)) => Some(named),
        None => None,
    };
    eprintln!(
        "mirador: understood: {}",
        encoded.understood(&vocabulary.genres)
    );
    if !encoded.ignored.is_empty() {
        eprintln!(
            "mirador: ignored (not in the vocabulary): {}",
            encoded.ignored.join(", ")
        );
    }
    if encoded.terms.is_empty() && like.is_none() {
        return fail(
            "no word of the query is in the vocabulary (genres, MSD tags, moods, tempo, key, \
             loudness, length); see `mirador search --help`",
        );
    }
    let reference = like.as_ref().map(|n| (&n.track, &n.query));
    let ranked = text::rank(&catalog, &encoded, reference, None, args.k, |i| {
        like.as_ref().is_some_and(|n| n.index == Some(i))
    });
    let rows: Vec<Row> = ranked
        .iter()
        .map(|r| Row {
            track: &catalog.tracks[r.index],
            score: Some(r.score),
            hit: None,
            matched: Some(encoded.matched(r, &vocabulary.genres)),
        })
        .collect();
    match tracks::write_rows(args.format, &rows) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
