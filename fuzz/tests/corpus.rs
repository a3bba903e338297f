//! The saved fuzz corpus (`fuzz/corpus/<target>/`: inputs `cargo fuzz` found interesting,
//! minimized, and every input that once crashed) replayed through the harnesses on stable,
//! so a fix stays fixed without nightly or libFuzzer.

use std::path::PathBuf;

fn replay(target: &str, harness: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 10,
        "{}: a corpus of {}",
        dir.display(),
        inputs.len()
    );
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        // A panic names the input, to be run again with `cargo fuzz run TARGET INPUT`.
        let outcome = std::panic::catch_unwind(|| harness(&data));
        assert!(outcome.is_ok(), "{} fails", input.display());
    }
}

#[test]
fn decoder_corpus_replays_cleanly() {
    replay("decode", mirador_fuzz::decode);
}

#[test]
fn analyzer_corpus_replays_cleanly() {
    replay("analyzer", mirador_fuzz::analyzer);
}
