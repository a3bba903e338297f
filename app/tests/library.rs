//! The library as a user builds and asks it, on real GTZAN recordings: `mirador index`
//! (incremental, moved and vanished files, failures, a run killed midway, two runs at once),
//! `similar`, `search`, `playlist`, `library`, and bad libraries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mirador_library::Library;
use mirador_tests::{data_dir, temp_dir, GTZAN_GENRES};

fn mirador(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mirador"))
        .args(args)
        .env_remove("MIRADOR_LIBRARY")
        .output()
        .expect("run mirador")
}

/// A folder with the GTZAN originals of `genres`.
fn music(dir: &Path, genres: &[&str]) -> PathBuf {
    let music = dir.join("music");
    std::fs::create_dir_all(&music).unwrap();
    for g in genres {
        let name = format!("{g}.00000.flac");
        let source = data_dir().join("gtzan/full").join(&name);
        std::fs::copy(&source, music.join(&name))
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    }
    music
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn index_skips_unchanged_files_follows_moves_and_marks_vanished_ones() {
    let tmp = temp_dir("library-incremental");
    let dir = tmp.path();
    let music = music(dir, &["blues", "classical", "metal", "jazz"]);
    std::fs::write(
        music.join("broken.flac"),
        b"fLaC but nothing after the marker",
    )
    .unwrap();
    let db = dir.join("library.db");
    let index = || mirador(&["index", s(&music), "--library", s(&db)]);

    let first = index();
    let err = text(&first.stderr);
    assert_eq!(first.status.code(), Some(1), "{err}");
    let broken: Vec<&str> = err.lines().filter(|l| l.contains("broken.flac")).collect();
    assert_eq!(broken.len(), 1, "one line for the broken file: {err}");
    assert!(err.contains("4 analyzed"), "{err}");
    let info = text(&mirador(&["library", "--library", s(&db)]).stdout);
    assert!(info.contains("4 analyzed, 1 failed, 0 missing"), "{info}");
    assert!(
        info.contains("failed: ") && info.contains("broken.flac: "),
        "{info}"
    );

    // Every vector says what made it.
    let library = Library::open(&db).unwrap();
    let tracks = library.tracks().unwrap();
    assert_eq!(tracks.len(), 4);
    for t in &tracks {
        let versions = library.vector_versions(t.id).unwrap();
        let kinds: Vec<&str> = versions.iter().map(|v| v.0.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "embedding",
                "genre",
                "harmony",
                "mood",
                "patches",
                "rhythm",
                "tags",
                "timbre"
            ]
        );
        assert!(versions.iter().all(|v| !v.1.is_empty() && !v.2.is_empty()));
        assert_eq!(library.patch_embeddings(t.id).unwrap().len(), 10);
        assert!(t.tempo.is_some() && t.key.is_some() && t.genre.is_some());
        assert_eq!(
            t.title.as_deref(),
            Path::new(&t.path).file_stem().and_then(|s| s.to_str())
        );
    }
    drop(library);

    let again = index();
    let err = text(&again.stderr);
    assert!(
        err.contains("0 analyzed") && err.contains("5 unchanged"),
        "{err}"
    );

    // Touched but the same bytes: not analyzed again.
    let blues = music.join("blues.00000.flac");
    let bytes = std::fs::read(&blues).unwrap();
    std::fs::write(&blues, &bytes).unwrap();
    let err = text(&index().stderr);
    assert!(err.contains("0 analyzed"), "{err}");

    // Moved into a subfolder: recognised by content, same track.
    std::fs::create_dir_all(music.join("heavy")).unwrap();
    std::fs::rename(
        music.join("metal.00000.flac"),
        music.join("heavy/metal.00000.flac"),
    )
    .unwrap();
    let err = text(&index().stderr);
    assert!(
        err.contains("0 analyzed") && err.contains("1 moved"),
        "{err}"
    );

    // Deleted: marked, not forgotten.
    std::fs::remove_file(music.join("jazz.00000.flac")).unwrap();
    let err = text(&index().stderr);
    assert!(err.contains("1 vanished"), "{err}");
    let info = text(&mirador(&["library", "--library", s(&db)]).stdout);
    assert!(info.contains("3 analyzed, 1 failed, 1 missing"), "{info}");

    // Asking it.
    let similar = mirador(&[
        "similar",
        "blues.00000",
        "--library",
        s(&db),
        "--format",
        "json",
    ]);
    assert!(similar.status.success(), "{}", text(&similar.stderr));
    let hits: serde_json::Value = serde_json::from_slice(&similar.stdout).unwrap();
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 2, "the other two analyzed tracks");
    for hit in hits {
        assert!(!hit["path"].as_str().unwrap().contains("blues"));
        assert!(hit["facets"]["timbre"].as_f64().unwrap().abs() <= 1.0 + 1e-6);
        assert!(!hit["reasons"].as_array().unwrap().is_empty());
    }
    let m3u = text(
        &mirador(&[
            "similar",
            "#1",
            "-k",
            "1",
            "--library",
            s(&db),
            "--format",
            "m3u",
        ])
        .stdout,
    );
    assert!(m3u.starts_with("#EXTM3U\n#EXTINF:30,"), "{m3u}");

    let search = mirador(&[
        "search",
        "classical orchestra",
        "--library",
        s(&db),
        "--format",
        "csv",
    ]);
    let err = text(&search.stderr);
    assert!(
        err.contains("genre classical") && err.contains("ignored") && err.contains("orchestra"),
        "{err}"
    );
    let first_hit = text(&search.stdout)
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(first_hit.contains("classical.00000"), "{first_hit}");

    let playlist = dir.join("list.m3u8");
    let made = mirador(&[
        "playlist",
        "--seed",
        "blues.00000",
        "--length",
        "3",
        "--library",
        s(&db),
        "-o",
        s(&playlist),
    ]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let list = std::fs::read_to_string(&playlist).unwrap();
    let paths: Vec<&str> = list.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(paths.len(), 3, "{list}");
    assert!(paths[0].ends_with("blues.00000.flac"));
    let path = mirador(&[
        "playlist",
        "--seed",
        "blues.00000",
        "--to",
        "classical.00000",
        "--length",
        "3",
        "--library",
        s(&db),
        "--format",
        "json",
    ]);
    let path: serde_json::Value = serde_json::from_slice(&path.stdout).unwrap();
    let path: Vec<&str> = path
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap())
        .collect();
    assert!(path[0].ends_with("blues.00000.flac") && path[2].ends_with("classical.00000.flac"));
}

#[test]
fn a_killed_run_resumes_without_losing_or_duplicating_a_track() {
    let tmp = temp_dir("library-killed");
    let dir = tmp.path();
    let music = music(dir, &GTZAN_GENRES);
    let db = dir.join("library.db");
    let mut run = Command::new(env!("CARGO_BIN_EXE_mirador"))
        .args(["index", s(&music), "--library", s(&db), "-j", "1"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let stored = || {
        Library::open(&db)
            .and_then(|l| l.counts())
            .map_or(0, |c| c.ok)
    };
    while stored() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no track stored"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A second writer while the first runs.
    let second = mirador(&["index", s(&music), "--library", s(&db)]);
    let err = text(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(
        err.contains("another `mirador index` is updating this library"),
        "{err}"
    );
    run.kill().unwrap();
    run.wait().unwrap();

    let before = stored();
    assert!((2..10).contains(&before), "{before} stored when killed");
    let library = Library::open(&db).unwrap();
    for t in library.tracks().unwrap() {
        assert_eq!(
            library.vector_versions(t.id).unwrap().len(),
            8,
            "{}",
            t.path
        );
    }
    drop(library);
    let resumed = mirador(&["index", s(&music), "--library", s(&db)]);
    let err = text(&resumed.stderr);
    assert!(resumed.status.success(), "{err}");
    assert!(err.contains(&format!("{} analyzed", 10 - before)), "{err}");
    assert!(err.contains(&format!("{before} unchanged")), "{err}");
    let tracks = Library::open(&db).unwrap().tracks().unwrap();
    let mut hashes: Vec<&str> = tracks.iter().map(|t| t.hash.as_str()).collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!((tracks.len(), hashes.len()), (10, 10));
}

#[test]
fn bad_libraries_and_queries_get_one_clear_line() {
    let tmp = temp_dir("library-bad");
    let dir = tmp.path();
    let none = dir.join("none.db");
    let out = mirador(&["similar", "x", "--library", s(&none)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no library here yet; build one with `mirador index"));
    assert!(!none.exists(), "asking does not create a library");

    let notes = dir.join("notes.db");
    std::fs::write(&notes, "my notes").unwrap();
    for command in ["similar", "index"] {
        let out = mirador(&[command, s(dir), "--library", s(&notes)]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("not a Mirador library, or damaged"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");

    // A library whose only file failed has nothing to compare with.
    let broken = dir.join("broken.wav");
    std::fs::write(&broken, b"RIFF\x10\x00\x00\x00WAVEjunk").unwrap();
    let db = dir.join("library.db");
    assert_eq!(
        mirador(&["index", s(&broken), "--library", s(&db)])
            .status
            .code(),
        Some(1)
    );
    let out = mirador(&["search", "rock", "--library", s(&db)]);
    assert!(
        text(&out.stderr).contains("no analyzed tracks yet"),
        "{}",
        text(&out.stderr)
    );

    let music = music(dir, &["rock"]);
    mirador(&["index", s(&music), "--library", s(&db)]);
    let out = mirador(&["similar", s(&broken), "--library", s(&db)]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("broken.wav"), "{err}");
    let out = mirador(&["similar", "nothing like it", "--library", s(&db)]);
    assert!(text(&out.stderr).contains("no such file, and no library track"));
    let out = mirador(&["search", "zzz qqq", "--library", s(&db)]);
    assert!(text(&out.stderr).contains("no word of the query is in the vocabulary"));
}
