//! The shipped one-step BeatNet graph in tract against onnxruntime on the same graph and
//! inputs (madmom features of a real clip), written by models/training/beatnet_export.py.

use mirador_models::beats::{BeatNet, StreamState};

#[derive(serde::Deserialize)]
struct Golden {
    features: Vec<Vec<f32>>,
    onnxruntime: Vec<Vec<f32>>,
}

#[test]
fn tract_matches_onnxruntime_frame_by_frame() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/beatnet/golden.json");
    let golden: Golden = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let net = BeatNet::load().unwrap();
    let mut state = StreamState::default();
    let mut worst = 0f32;
    for (features, expected) in golden.features.iter().zip(&golden.onnxruntime) {
        let a = net.step(features, &mut state).unwrap();
        for (ours, theirs) in [a.beat, a.downbeat, a.none].iter().zip(expected) {
            worst = worst.max((ours - theirs).abs());
        }
    }
    println!(
        "{} frames, worst |tract - onnxruntime| {worst:.2e}",
        golden.features.len()
    );
    assert!(golden.features.len() >= 100);
    assert!(worst < 1e-5, "{worst}");
}

#[test]
fn a_wrong_frame_size_is_an_error() {
    let net = BeatNet::load().unwrap();
    assert!(net.step(&[0.0; 10], &mut StreamState::default()).is_err());
}
