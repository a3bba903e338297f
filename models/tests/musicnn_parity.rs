//! tract runs both patch networks as onnxruntime does: the golden patches of
//! models/musicnn/golden.json (written by models/training/musicnn_export.py from two GTZAN
//! clips) and models/cnn/golden.json (the same patches through the distilled CNN, written by
//! models/training/distill.py) give the same embedding and tags.

use mirador_models::musicnn::{compress, patches, Network, Variant, N_MELS, PATCH_FRAMES};

#[derive(serde::Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    source: String,
    mel: Vec<Vec<f32>>,
    embedding: Vec<f32>,
    tags: Vec<f32>,
}

fn golden(variant: Variant) -> Golden {
    let path = format!(
        "{}/{}/golden.json",
        env!("CARGO_MANIFEST_DIR"),
        variant.name()
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn tract_matches_onnxruntime_on_real_patches() {
    for variant in [Variant::Musicnn, Variant::Cnn] {
        tract_matches_onnxruntime(variant);
    }
}

fn tract_matches_onnxruntime(variant: Variant) {
    let model = Network::load(variant).unwrap();
    for case in golden(variant).cases {
        let patch: Vec<f32> = case.mel.concat();
        let out = model.run(&patch).unwrap();
        let embedding = max_difference(&out.embedding, &case.embedding);
        let tags = max_difference(&out.tags, &case.tags);
        assert!(
            embedding < 1e-4,
            "{variant:?} {}: embedding off by {embedding}",
            case.source
        );
        assert!(
            tags < 1e-5,
            "{variant:?} {}: tags off by {tags}",
            case.source
        );
    }
}

#[test]
fn wrong_patch_sizes_are_refused() {
    for variant in [Variant::Musicnn, Variant::Cnn] {
        let model = Network::load(variant).unwrap();
        assert!(model.run(&[0.0; 10]).is_err());
    }
}

#[test]
fn compression_rounds_to_half_precision_like_musicnn() {
    // float16 has 11 significant bits: 1 + 2^-12 rounds to 1.
    assert_eq!(compress(1.0 + 1.0 / 4096.0), compress(1.0));
    assert_eq!(compress(0.0), 0.0);
    assert!((compress(1.0) - 10_001f32.log10()).abs() < 1e-6);
    // Beyond float16's range: held at its maximum, not infinite.
    assert!(compress(1e9).is_finite());
}

#[test]
fn clips_are_cut_into_three_second_patches() {
    let frame = |v: f32| vec![v; N_MELS];
    let short: Vec<f32> = (0..100).flat_map(|i| frame(i as f32)).collect();
    let p = patches(&short);
    assert_eq!(p.len(), 1, "a short clip is repeated into one patch");
    assert_eq!(p[0][100 * N_MELS], 0.0);
    let long: Vec<f32> = (0..PATCH_FRAMES * 2 + 50)
        .flat_map(|i| frame(i as f32))
        .collect();
    let p = patches(&long);
    assert_eq!(
        p.len(),
        2,
        "the tail shorter than a patch is dropped, as musicnn does"
    );
    assert_eq!(p[1][0], PATCH_FRAMES as f32);
    assert_eq!(patches(&[]).len(), 1);
}
