//! The models as the live engine runs them (the listeners the plugin and `mirador play`
//! attach), fed a real recording block by block: genre and mood from the distilled CNN appear
//! once 3 s have arrived and change about once a second after that; BeatNet's beats follow.
//! (classical.00000 is in the genre head's training split: this checks the live path, not
//! accuracy, which models/REPORT.md measures on held-out clips.)

use mirador_dsp::clip::Replay;
use mirador_dsp::live::Predictions;
use mirador_models::live::LiveModels;
use mirador_standalone::decode::AudioFile;
use mirador_tests::data_dir;

fn top(p: &mirador_dsp::live::ClassProbabilities) -> &str {
    &p.classes
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0
}

#[test]
fn live_genre_mood_and_beats_on_a_real_recording() {
    let mut file = AudioFile::open(&data_dir().join("gtzan/full/classical.00000.flac")).unwrap();
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut samples = Vec::new();
    file.play(&mut |block| samples.extend_from_slice(block))
        .unwrap();
    let models = LiveModels::load().unwrap();
    let mut listeners = models.listeners(rate, channels).unwrap();
    let mut predictions = Predictions::default();
    let (mut first_genre_at, mut genre_changes, mut beats) = (None, 0, 0);
    let mut last_genre = None;
    let mut last_beat = None;
    // Blocks of changing size, as hosts deliver them.
    let mut position = 0;
    for (i, size) in [1usize, 64, 512, 4096, 333].iter().cycle().enumerate() {
        if position >= samples.len() {
            break;
        }
        let end = (position + size * channels).min(samples.len());
        for listener in &mut listeners {
            listener.listen(&samples[position..end], (position / channels) as u64);
            listener.update(&mut predictions);
        }
        position = end;
        let seconds = position as f64 / channels as f64 / f64::from(rate);
        if let Some(genre) = &predictions.genre {
            assert_eq!(genre.model, "cnn");
            let sum: f32 = genre.classes.iter().map(|c| c.1).sum();
            assert!((sum - 1.0).abs() < 1e-3, "block {i}: {genre:?}");
            first_genre_at.get_or_insert(seconds);
            if last_genre.as_ref() != Some(genre) {
                genre_changes += 1;
                last_genre = Some(genre.clone());
            }
        }
        if predictions.beat != last_beat {
            beats += 1;
            last_beat = predictions.beat;
        }
    }
    let first = first_genre_at.expect("a live genre");
    assert!((3.0..4.5).contains(&first), "first genre after {first} s");
    // A refresh a second over the remaining ~26 s.
    assert!(
        (20..=30).contains(&genre_changes),
        "{genre_changes} updates"
    );
    assert_eq!(top(predictions.genre.as_ref().unwrap()), "classical");
    let mood = predictions.mood.as_ref().expect("a live mood");
    assert_eq!(mood.model, "cnn");
    assert!(beats > 10, "{beats} beats");
}
