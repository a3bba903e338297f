//! BeatNet's front end as Mirador computes it (symphonia, `mirador-dsp`'s log-filtered
//! spectrogram) against BeatNet's own (madmom), and the activations that front end leads to
//! through tract against BeatNet's torch model, on the real clip of models/beatnet/golden.json.

use mirador_app::decode::Decoder;
use mirador_dsp::spectral::log_filtered::LogFilteredSpectrogram;
use mirador_models::beats::{BeatNet, StreamState};
use mirador_tests::data_dir;

#[derive(serde::Deserialize)]
struct Golden {
    source: String,
    features: Vec<Vec<f32>>,
    activations: Vec<Vec<f32>>,
}

#[test]
fn front_end_and_activations_match_beatnet() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/beatnet/golden.json");
    let golden: Golden = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut clip = Decoder::open(&data_dir().join(&golden.source)).unwrap();
    assert_eq!(clip.info().sample_rate, 22_050);
    let mut spectrogram = LogFilteredSpectrogram::new();
    let mut ours: Vec<Vec<f32>> = Vec::new();
    let mut mono = Vec::new();
    let channels = clip.info().channels;
    while let Some(block) = clip.next_block().unwrap() {
        mono.clear();
        mono.extend(
            block
                .chunks(channels)
                .map(|f| f.iter().sum::<f32>() / channels as f32),
        );
        spectrogram.process(&mono, &mut |f| ours.push(f.to_vec()));
    }
    spectrogram.finish(&mut |f| ours.push(f.to_vec()));

    let (mut worst, mut total, mut n) = (0f32, 0f64, 0usize);
    for (a, b) in ours.iter().zip(&golden.features) {
        for (x, y) in a.iter().zip(b) {
            worst = worst.max((x - y).abs());
            total += (x - y).abs() as f64;
            n += 1;
        }
    }
    println!(
        "{}: features over {} frames: mean |diff| {:.2e}, worst {worst:.2e}",
        golden.source,
        golden.features.len(),
        total / n as f64
    );
    assert!(worst < 1e-4, "worst feature difference {worst}");

    let net = BeatNet::load().unwrap();
    let mut state = StreamState::default();
    let mut worst = 0f32;
    for (features, expected) in ours.iter().zip(&golden.activations) {
        let a = net.step(features, &mut state).unwrap();
        for (x, y) in [a.beat, a.downbeat, a.none].iter().zip(expected) {
            worst = worst.max((x - y).abs());
        }
    }
    println!(
        "activations over {} frames: worst |ours - BeatNet| {worst:.2e}",
        golden.activations.len()
    );
    assert!(worst < 1e-3, "worst activation difference {worst}");
}
