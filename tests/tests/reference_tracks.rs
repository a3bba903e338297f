//! Reference tracks as the plugin and the window get them: six real GTZAN recordings of six
//! genres are indexed into a fresh library, then one of them is played through the live
//! engine (audio stage and worker, blocks of changing size) with the library attached. The
//! engine must name that very recording as the nearest library track each time it compares
//! (the recording played twice over): on the first 10 s heard, on the first 30 s, and on the
//! 30 s up to 50 s. A reset (a seek) must forget what was found.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mirador_app::decode::AudioFile;
use mirador_app::indexing;
use mirador_dsp::clip::Replay;
use mirador_dsp::AnalyzerConfig;
use mirador_engine::{build, AudioStage, LiveModels, References, Worker};
use mirador_library::{Catalog, Library};
use mirador_tests::{data_dir, temp_dir};

const GENRES: [&str; 6] = ["blues", "classical", "disco", "jazz", "metal", "reggae"];
/// The recording played.
const PLAYED: &str = "disco";

fn clip(genre: &str) -> PathBuf {
    data_dir()
        .join("gtzan/full")
        .join(format!("{genre}.00000.flac"))
}

fn library() -> Arc<Catalog> {
    let dir = temp_dir("references");
    let path = dir.path().join("library.db");
    let mut library = Library::open_for_update(&path).unwrap();
    let (models, recipe) = indexing::models("cnn", false).unwrap();
    let files: Vec<PathBuf> = GENRES.iter().map(|g| clip(g)).collect();
    let outcome = indexing::index(&mut library, &files, &models, &recipe, Some(1)).unwrap();
    assert_eq!(outcome.analyzed, GENRES.len());
    drop(library);
    let catalog = Catalog::open(&path).unwrap();
    Arc::new(catalog)
}

/// Feeds `samples` in blocks of changing size, polling the worker as the host's rhythm would.
fn feed(audio: &mut AudioStage, worker: &mut Worker, samples: &[f32], channels: usize) {
    let mut at = 0;
    for size in [512usize, 1, 4096, 333, 64].iter().cycle() {
        if at >= samples.len() {
            break;
        }
        let end = (at + size * channels).min(samples.len());
        audio.process_interleaved(&samples[at..end]);
        worker.poll();
        at = end;
    }
}

/// Polls until the snapshot's reference tracks cover audio up to at least `until` seconds.
fn wait_for(
    worker: &mut Worker,
    reader: &mut mirador_engine::SnapshotReader,
    until: f64,
) -> References {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        worker.poll();
        if let Some(found) = &reader.read().references {
            if found.until >= until {
                return (**found).clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no reference tracks up to {until} s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_engine_finds_the_recording_it_hears_in_the_library() {
    let catalog = library();
    let played = clip(PLAYED).canonicalize().unwrap();
    let mut file = AudioFile::open(&played).unwrap();
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut samples = Vec::new();
    file.play(&mut |block| samples.extend_from_slice(block))
        .unwrap();
    samples.extend_from_within(..);
    let models = LiveModels::load().unwrap();
    let (mut audio, mut worker, mut reader) = build(&AnalyzerConfig::new(rate, channels)).unwrap();
    for listener in models.listeners(rate, Some(&catalog)).unwrap() {
        worker = worker.with_listener(listener);
    }
    let seconds = |s: f64| (s * f64::from(rate)) as usize * channels;

    // Each comparison is waited for, so a slow machine cannot make one skip the next.
    let mut found = Vec::new();
    let mut fed = 0;
    for until in [10.0, 30.0, 50.0] {
        let end = seconds(until + 1.0);
        feed(&mut audio, &mut worker, &samples[fed..end], channels);
        fed = end;
        found.push(wait_for(&mut worker, &mut reader, until));
    }
    let [first, second, third] = &found[..] else {
        unreachable!()
    };

    for found in &found {
        assert_eq!(found.withheld, None);
        assert_eq!(found.tracks.len(), GENRES.len(), "every track is listed");
        let nearest = &found.tracks[0];
        assert_eq!(
            PathBuf::from(&nearest.path),
            played,
            "{:.0}-{:.0} s: nearest is {} ({:.2}), not the recording played",
            found.from,
            found.until,
            nearest.path,
            nearest.score,
        );
        let runner_up = found.tracks[1].score;
        assert!(
            nearest.score > 0.7 && nearest.score > runner_up + 0.1,
            "{:.0}-{:.0} s: {:.2} against the runner-up's {runner_up:.2}",
            found.from,
            found.until,
            nearest.score,
        );
        assert!(found.tracks.windows(2).all(|w| w[0].score >= w[1].score));
    }
    let spans = [first, second, third].map(|f| (f.from, f.until));
    assert!(spans[0].0 == 0.0 && spans[0].1 < 10.5, "{spans:?}");
    assert!(spans[1].1 < 30.5, "{spans:?}");
    for (from, until) in &spans[1..] {
        assert!((until - from - 30.0).abs() < 1e-3, "{spans:?}");
    }

    worker.reset();
    assert_eq!(reader.read().references, None, "a reset forgets them");
}
