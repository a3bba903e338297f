//! The models as the live engine runs them (the listeners the plugin and `mirador play`
//! attach), a real recording fed through the audio stage in blocks of changing size as hosts
//! deliver them, at 8 times real time (musicnn names the genre on its own thread, which a
//! replay as fast as the worker goes would outrun): the mood from the distilled CNN appears
//! once 3 s have arrived and the genre from musicnn soon after, refreshed every 5 s; BeatNet's
//! beats are on the input timeline, in order, about as many as the clip's annotations.
//! (classical.00000 is in the genre head's training split: this checks the live path, not
//! accuracy, which models/REPORT.md measures on held-out clips.)

use mirador_dsp::clip::Replay;
use mirador_dsp::AnalyzerConfig;
use mirador_engine::{build, LiveModels, RhythmSource, Snapshot};
use mirador_tests::data_dir;
use std::time::{Duration, Instant};

/// Holds a replay to 8 times real time.
struct Pace(Instant);

impl Pace {
    fn start() -> Self {
        Self(Instant::now())
    }

    fn keep(&self, audio_seconds: f64) {
        let due = Duration::from_secs_f64(audio_seconds / 8.0);
        if let Some(early) = due.checked_sub(self.0.elapsed()) {
            std::thread::sleep(early);
        }
    }
}

/// What the snapshots said while a clip played.
struct Heard {
    first_genre_at: Option<f64>,
    genre_changes: usize,
    /// Every beat the beat model announced: input-rate position and time.
    beats: Vec<(u64, f64)>,
    last: Snapshot,
    seconds: f64,
}

fn play(path: &str, models: &LiveModels) -> Heard {
    let mut file = mirador_app::decode::AudioFile::open(&data_dir().join(path)).unwrap();
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut samples = Vec::new();
    file.play(&mut |block| samples.extend_from_slice(block))
        .unwrap();
    let (mut audio, mut worker, mut reader) = build(&AnalyzerConfig::new(rate, channels)).unwrap();
    for listener in models.listeners(rate, None).unwrap() {
        worker = worker.with_listener(listener);
    }
    let (mut first_genre_at, mut genre_changes, mut beats) = (None, 0, Vec::new());
    let mut last_genre = None;
    let mut position = 0;
    let pace = Pace::start();
    for size in [1usize, 64, 512, 4096, 333].iter().cycle() {
        if position >= samples.len() {
            break;
        }
        let end = (position + size * channels).min(samples.len());
        audio.process_interleaved(&samples[position..end]);
        worker.poll();
        position = end;
        pace.keep((position / channels) as f64 / f64::from(rate));
        let now = reader.now();
        let s = reader.read();
        assert!(s.model_error.is_none(), "{:?}", s.model_error);
        if let Some(genre) = &s.genre {
            assert_eq!(genre.model, "musicnn");
            let sum: f32 = genre.probabilities.iter().sum();
            assert!((sum - 1.0).abs() < 1e-3, "{genre:?}");
            first_genre_at.get_or_insert(now);
            if last_genre.as_ref() != Some(genre) {
                genre_changes += 1;
                last_genre = Some(genre.clone());
            }
        }
        if let Some(r) = s.rhythm.filter(|r| r.source == RhythmSource::BeatModel) {
            if beats.last().is_none_or(|&(p, _)| p != r.beat.position) {
                beats.push((r.beat.position, r.beat.time));
            }
        }
    }
    Heard {
        first_genre_at,
        genre_changes,
        beats,
        last: reader.read().clone(),
        seconds: samples.len() as f64 / channels as f64 / rate as f64,
    }
}

#[test]
fn live_genre_and_mood_on_a_real_recording() {
    let models = LiveModels::load().unwrap();
    let heard = play("gtzan/full/classical.00000.flac", &models);
    // Not before a patch is full; how soon after depends on how busy the machine is.
    let first = heard.first_genre_at.expect("a live genre");
    assert!((3.0..15.0).contains(&first), "first genre after {first} s");
    // A refresh every 5 s (musicnn's patches end at 3, 8, ... 28 s), each once.
    let changes = heard.genre_changes;
    assert!((2..=6).contains(&changes), "{changes} updates");
    let genre = heard.last.genre.as_ref().unwrap();
    assert_eq!(genre.top().unwrap().0, "classical");
    let mood = heard.last.mood.as_ref().expect("a live mood");
    assert_eq!(mood.model, "cnn");
}

#[test]
fn live_beats_are_in_order_on_the_input_timeline_and_as_many_as_annotated() {
    let models = LiveModels::load().unwrap();
    for clip in ["blues", "classical"] {
        let heard = play(&format!("gtzan/full/{clip}.00000.flac"), &models);
        let beats = &heard.beats;
        assert!(beats.len() > 10, "{clip}: {} beats", beats.len());
        for pair in beats.windows(2) {
            assert!(pair[1].0 > pair[0].0, "{clip}: beats out of order {pair:?}");
        }
        for &(position, time) in beats {
            assert_eq!(position, (time * 22050.0).round() as u64, "{clip}");
            assert!(time <= heard.seconds, "{clip}: beat at {time} s");
        }
        // The online tracker needs a few seconds to lock on: compare from its first beat.
        let annotations = std::fs::read_to_string(data_dir().join(format!(
            "gtzan/annotations/beat_this/beats/gtzan_{clip}_00000.beats"
        )))
        .unwrap();
        let start = beats[0].1 - 0.1;
        let annotated = annotations
            .lines()
            .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
            .filter(|&t| t >= start && t <= heard.seconds)
            .count();
        let ratio = beats.len() as f64 / annotated as f64;
        println!(
            "{clip}: {} beats, {annotated} annotated from {start:.2} s",
            beats.len()
        );
        assert!(
            (0.9..=1.1).contains(&ratio),
            "{clip}: {} vs {annotated}",
            beats.len()
        );
    }
}

#[test]
fn live_models_say_why_they_are_silent() {
    let models = LiveModels::load().unwrap();
    let mut file =
        mirador_app::decode::AudioFile::open(&data_dir().join("gtzan/full/metal.00000.flac"))
            .unwrap();
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut music = Vec::new();
    file.play(&mut |block| music.extend_from_slice(block))
        .unwrap();
    let (mut audio, mut worker, mut reader) = build(&AnalyzerConfig::new(rate, channels)).unwrap();
    for listener in models.listeners(rate, None).unwrap() {
        worker = worker.with_listener(listener);
    }
    let (pace, mut played) = (Pace::start(), 0);
    let mut run = |samples: &[f32]| {
        for block in samples.chunks(512 * channels) {
            audio.process_interleaved(block);
            worker.poll();
            played += block.len() / channels;
            pace.keep(played as f64 / f64::from(rate));
        }
        reader.read().clone()
    };
    let second = rate as usize * channels;
    // Before a patch is full, the view is told the models are listening.
    let s = run(&vec![0.0; second]);
    assert!(s.genre.is_none());
    assert_eq!(
        s.predictions_withheld,
        Some("listening: genre and mood after 3 s of music")
    );
    // Digital silence gets no genre, and says so.
    let s = run(&vec![0.0; 5 * second]);
    assert!(s.genre.is_none() && s.mood.is_none(), "{:?}", s.genre);
    assert_eq!(s.predictions_withheld, Some("not enough music: silence"));
    // Music after it does (musicnn's patches end 2, 7 and 12 s into it).
    let s = run(&music[..15 * second]);
    assert!(s.predictions_withheld.is_none());
    assert_eq!(
        s.genre.as_ref().and_then(|g| g.top()).map(|t| t.0),
        Some("metal"),
        "{:?}",
        s.genre
    );
    assert!(s.mood.is_some());
}
