//! `mirador analyze --explain` on real music: the occlusion map points at what the genre
//! and mood rest on. Silencing a clip's most salient fifth of cells lowers the predicted
//! class's probability; silencing its least salient fifth does not, by a wide margin
//! (`cargo xtask eval explain` runs this deletion test on held-out clips against random
//! cells).

use std::sync::Arc;

use mirador_app::decode::AudioFile;
use mirador_dsp::clip::TableStyle;
use mirador_models::clip::{analyze_clip, GenreModel, Models};
use mirador_models::tagger::saliency::{
    cell_seconds, probability_without, Explanation, HeadKind, SaliencyMap, BANDS, TIME_CELLS,
};
use mirador_models::tagger::{Tagger, Variant, N_MELS, PATCH_FRAMES};
use mirador_tests::data_dir;

const CLIPS: [&str; 2] = [
    "gtzan/full/hiphop.00000.flac",
    "gtzan/full/metal.00000.flac",
];

/// The clip's probability of `map`'s class with the cells at `cells` (row, band) silenced
/// in the patches the network read.
fn without(
    tagger: &Tagger,
    e: &Explanation,
    head: HeadKind,
    map: &SaliencyMap,
    cells: &[(usize, usize)],
) -> f64 {
    let patches: Vec<Vec<f32>> = e
        .mel
        .chunks(PATCH_FRAMES)
        .map(|frames| frames.iter().flatten().copied().collect())
        .collect();
    assert!(patches.iter().all(|p| p.len() == PATCH_FRAMES * N_MELS));
    let cells: Vec<(usize, usize)> = cells
        .iter()
        .map(|&(row, band)| (row / TIME_CELLS, row % TIME_CELLS * BANDS + band))
        .collect();
    let classes = head.of(&tagger.genre.classes, &tagger.mood.classes);
    let class = classes.iter().position(|c| *c == map.class).unwrap();
    probability_without(tagger, &patches, head, class, &cells).unwrap()
}

#[test]
fn silencing_the_salient_cells_takes_the_prediction_away() {
    let tagger = Arc::new(Tagger::load(Variant::Cnn).unwrap());
    let models = Models {
        genre: Some(GenreModel::Patches(tagger.clone())),
        explain: true,
        ..Models::default()
    };
    for clip in CLIPS {
        let path = data_dir().join(clip);
        let a = analyze_clip(
            &mut AudioFile::open(&path).unwrap(),
            TableStyle::Gtzan,
            &models,
        )
        .unwrap();
        let e = a.explanation.as_ref().expect("an explanation");
        let out = a.network_output.as_ref().unwrap();
        let patches = e.mel.len() / PATCH_FRAMES;
        assert_eq!(out.patches, patches);
        for (head, map, said) in [
            (HeadKind::Genre, &e.genre, &out.genre),
            (HeadKind::Mood, &e.mood, &out.mood),
        ] {
            // The map is of the class the clip was given, over every patch, in order.
            let top = said.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
            assert_eq!((&map.class, map.probability), (&top.0, top.1), "{clip}");
            assert_eq!(map.rows.len(), patches * TIME_CELLS);
            assert!(map.rows.windows(2).all(|w| w[1].0 > w[0].0));
            let (start, end) = map.evidence.unwrap();
            assert!(start >= 0.0 && end <= patches as f64 * 3.0 + 0.01);
            assert!((end - start - TIME_CELLS as f64 * cell_seconds()).abs() < 0.05);

            let mut ranked: Vec<(usize, usize, f32)> = map
                .rows
                .iter()
                .enumerate()
                .flat_map(|(r, (_, v))| (0..BANDS).map(move |b| (r, b, v[b])))
                .collect();
            ranked.sort_by(|a, b| b.2.total_cmp(&a.2));
            let fifth = ranked.len() / 5;
            let cells = |c: &[(usize, usize, f32)]| -> Vec<(usize, usize)> {
                c.iter().map(|&(r, b, _)| (r, b)).collect()
            };
            let heard = without(&tagger, e, head, map, &[]);
            assert!((heard - map.probability).abs() < 1e-6, "{clip}");
            let fall_top = heard - without(&tagger, e, head, map, &cells(&ranked[..fifth]));
            let fall_bottom = heard
                - without(
                    &tagger,
                    e,
                    head,
                    map,
                    &cells(&ranked[ranked.len() - fifth..]),
                );
            eprintln!(
                "{clip} {}: fall {fall_top:.3} (top) {fall_bottom:.3} (bottom)",
                map.class
            );
            assert!(
                fall_top > 0.1 && fall_top > fall_bottom + 0.1,
                "{clip} {}: top cells {fall_top:.3}, bottom cells {fall_bottom:.3}",
                map.class
            );
        }
    }
}
