//! tract runs both patch networks as onnxruntime does: the golden patches of
//! models/musicnn/golden.json (written by models/training/musicnn_export.py from two GTZAN
//! clips, through musicnn's MSD and MTT fp32 graphs), models/musicnn/golden.int8.json (the
//! same patches through the int8 graphs that ship, written by models/training/quantize.py)
//! and models/cnn/golden.json (the same patches through the distilled CNN, written by
//! models/training/distill.py) give the same embedding and tags.

use std::sync::Arc;

use mirador_models::tagger::{compress, Network, PatchPipeline, Tagger, Variant, PATCH_FRAMES};
use mirador_models::{Pipeline, SAMPLE_RATE};

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
    /// musicnn's MTT graph on the same patch (the heads read both).
    #[serde(default)]
    mtt_embedding: Vec<f32>,
    #[serde(default)]
    mtt_tags: Vec<f32>,
}

fn golden(variant: Variant, file: &str) -> Golden {
    let path = format!("{}/{}/{file}", env!("CARGO_MANIFEST_DIR"), variant.name());
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The golden outputs of the graphs each variant ships: musicnn's int8, the CNN's fp32.
fn shipped_golden(variant: Variant) -> Golden {
    match variant {
        Variant::Musicnn => golden(variant, "golden.int8.json"),
        Variant::Cnn => golden(variant, "golden.json"),
    }
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
        tract_matches_onnxruntime(&Network::load(variant).unwrap(), shipped_golden(variant));
    }
}

#[test]
fn musicnn_fp32_graphs_match_onnxruntime() {
    // The graphs the int8 ones are made from, and the heads trained on.
    let graphs = ["msd_musicnn.onnx", "mtt_musicnn.onnx"]
        .map(|g| std::fs::read(format!("{}/musicnn/{g}", env!("CARGO_MANIFEST_DIR"))).unwrap());
    let model =
        Network::from_onnx(Variant::Musicnn, &graphs.each_ref().map(Vec::as_slice)).unwrap();
    tract_matches_onnxruntime(&model, golden(Variant::Musicnn, "golden.json"));
}

fn tract_matches_onnxruntime(model: &Network, golden: Golden) {
    let variant = model.variant;
    for case in golden.cases {
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
        // What the heads read: musicnn's MSD and MTT embeddings, then their tags; the CNN's
        // embedding.
        let head_input = match variant {
            Variant::Musicnn => [
                case.embedding.as_slice(),
                &case.mtt_embedding,
                &case.tags,
                &case.mtt_tags,
            ]
            .concat(),
            Variant::Cnn => case.embedding.clone(),
        };
        let worst = max_difference(&out.head_input, &head_input);
        assert!(
            worst < 1e-4,
            "{variant:?} {}: head input off by {worst}",
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
    let tagger = Arc::new(Tagger::load(Variant::Cnn).unwrap());
    let patches = |seconds: f64| {
        let n = (seconds * SAMPLE_RATE as f64) as usize;
        let signal: Vec<f32> = (0..n).map(|i| (i as f32 * 0.05).sin() * 0.2).collect();
        let mut pipeline = PatchPipeline::for_clip(tagger.clone()).unwrap();
        pipeline.push(&signal, 0);
        pipeline.finish();
        assert!(pipeline.take_error().is_none());
        pipeline.take_outputs().collect::<Vec<_>>()
    };
    assert_eq!(
        patches(1.0).len(),
        1,
        "a short clip is repeated into one patch"
    );
    let long = patches(6.8);
    assert_eq!(
        long.len(),
        2,
        "the tail shorter than a patch is dropped, as musicnn does"
    );
    // Patch ends sit on the 22.05 kHz timeline, 3 s (187 hops of 256 at 16 kHz) apart.
    let end = (2 * PATCH_FRAMES * 256) as u64 * SAMPLE_RATE as u64 / 16_000;
    assert_eq!(long[1].end, end);
    assert_eq!(patches(0.0).len(), 1, "an empty clip is one silent patch");
}
