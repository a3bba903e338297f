//! musicnn's front end as Mirador's patch pipeline computes it (symphonia decoding, rubato
//! resampling to 16 kHz, `mirador-dsp`'s mel spectrogram, float16 rounding and log
//! compression) against the
//! musicnn package's own (librosa with soxr resampling), on the real clips of
//! models/musicnn/golden.json; then the embedding each front end leads to, in the musicnn
//! graphs that ship (int8: models/musicnn/golden.int8.json) and in the CNN distilled from it
//! (models/cnn/golden.json: the same patches).

use std::sync::Arc;

use mirador_app::decode::AudioFile;
use mirador_models::run_clip;
use mirador_models::tagger::{PatchPipeline, Tagger, Variant, PATCH_FRAMES};
use mirador_tests::data_dir;

#[derive(serde::Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    /// "gtzan/full/metal.00000.flac, frames 187..374"
    source: String,
    mel: Vec<Vec<f32>>,
    embedding: Vec<f32>,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn front_end_and_embedding_match_the_musicnn_package() {
    for variant in [Variant::Musicnn, Variant::Cnn] {
        front_end_and_embedding_match(variant);
    }
}

fn front_end_and_embedding_match(variant: Variant) {
    // The golden outputs of the graphs each variant ships.
    let file = match variant {
        Variant::Musicnn => "golden.int8.json",
        Variant::Cnn => "golden.json",
    };
    let path = format!(
        "{}/../models/{}/{file}",
        env!("CARGO_MANIFEST_DIR"),
        variant.name()
    );
    let golden: Golden = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let tagger = Arc::new(Tagger::load(variant).unwrap());
    for case in golden.cases {
        let (file, frames) = case.source.split_once(", frames ").unwrap();
        let start: usize = frames.split("..").next().unwrap().parse().unwrap();
        assert_eq!(start % PATCH_FRAMES, 0, "golden patches are the clip's own");
        let mut clip = AudioFile::open(&data_dir().join(file)).unwrap();
        let mut pipeline = PatchPipeline::for_clip(tagger.clone())
            .unwrap()
            .keeping_patches();
        run_clip(&mut clip, &mut [&mut pipeline]).unwrap();
        let outputs: Vec<_> = pipeline.take_outputs().collect();
        let output = &outputs[start / PATCH_FRAMES];
        let ours = output.patch.as_deref().unwrap();
        let theirs: Vec<f32> = case.mel.concat();
        let n = ours.len() as f32;
        let mean_error = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .sum::<f32>()
            / n;
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        let embedding = &output.embedding;
        let similarity = cosine(embedding, &case.embedding);
        println!(
            "{variant:?} {file}: log-mel mean error {mean_error:.2e}, worst {worst:.2e}; \
             embedding cosine {similarity:.6}"
        );
        assert!(mean_error < 0.01, "{file}: mean log-mel error {mean_error}");
        assert!(
            similarity > 0.999,
            "{variant:?} {file}: embedding cosine {similarity}"
        );
    }
}
