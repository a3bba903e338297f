//! tract runs CREPE tiny as torch does: the real frames of models/crepe/golden.json (written
//! by models/training/crepe_export.py from solo singing and a trumpet) give the same
//! probabilities, and the decoded pitch of the voiced ones is where the peak bin says.

use mirador_models::melody::{bin_cents, decode, CrepeNet, BINS, FRAME};

#[derive(serde::Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    source: String,
    input: Vec<Vec<f32>>,
    probabilities: Vec<Vec<f32>>,
}

#[test]
fn tract_matches_torch_on_real_frames() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crepe/golden.json");
    let golden: Golden = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let net = CrepeNet::load().unwrap();
    for case in golden.cases {
        for (frame, (input, theirs)) in case.input.iter().zip(&case.probabilities).enumerate() {
            let ours = net.run(input).unwrap();
            assert_eq!(ours.len(), BINS);
            let worst = ours
                .iter()
                .zip(theirs)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                worst < 1e-4,
                "{} frame {frame}: off by {worst}",
                case.source
            );
            let (hz, confidence) = decode(&ours);
            let (_, theirs_confidence) = decode(theirs);
            assert!((confidence - theirs_confidence).abs() < 1e-4);
            let peak = theirs
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            // Within the peak bin's 20 cents either side.
            let peak_hz = 10.0 * 2f32.powf(bin_cents(peak) / 1200.0);
            assert!(
                (1200.0 * (hz / peak_hz).log2()).abs() <= 20.0,
                "{hz} vs {peak_hz}"
            );
        }
    }
}

#[test]
fn wrong_frame_sizes_are_refused() {
    let net = CrepeNet::load().unwrap();
    assert!(net.run(&[0.0; FRAME - 1]).is_err());
    assert!(net.run(&[]).is_err());
}
