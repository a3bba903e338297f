//! Beats of whole files as `mirador analyze` finds them (BeatNet, then the offline decoder)
//! against the GTZAN beat annotations (beat_this's), next to the live tracker on the same
//! audio: with hindsight, files get the beats right from the first bar and more often
//! overall. Mirador's BeatNet is fine-tuned on GTZAN clips with odd ids; these have even ids.

use std::sync::Arc;

use mirador_app::decode::AudioFile;
use mirador_dsp::clip::TableStyle;
use mirador_models::beats::{summarize, BeatNet, BeatPipeline};
use mirador_models::clip::{analyze_clip, Models};
use mirador_models::run_clip;
use mirador_tests::data_dir;

/// Clips with a steady beat, and one where the live tracker takes a while to lock.
const CLIPS: [&str; 4] = [
    "gtzan/full/disco.00000.flac",
    "gtzan/full/reggae.00000.flac",
    "gtzan/full/pop.00004.ogg",
    "gtzan/first_15_20s/country.00004.ogg",
];

/// mir_eval's F-measure (±70 ms), both lists from 5 s on, as `mir_eval.beat.evaluate` trims.
fn f_measure(reference: &[f64], estimate: &[f64]) -> f64 {
    let trim = |b: &[f64]| b.iter().copied().filter(|&t| t >= 5.0).collect::<Vec<_>>();
    let (reference, estimate) = (trim(reference), trim(estimate));
    let mut used = vec![false; estimate.len()];
    let mut hits = 0;
    for &r in &reference {
        if let Some(j) = (0..estimate.len()).find(|&j| !used[j] && (estimate[j] - r).abs() <= 0.07)
        {
            used[j] = true;
            hits += 1;
        }
    }
    2.0 * hits as f64 / (reference.len() + estimate.len()).max(1) as f64
}

/// Annotated (time, beat in bar), cut to the clip's length.
fn annotation(clip: &str, seconds: f64) -> Vec<(f64, u8)> {
    let stem = clip.rsplit('/').next().unwrap();
    let mut parts = stem.split('.');
    let (genre, number) = (parts.next().unwrap(), parts.next().unwrap());
    let path = data_dir().join(format!(
        "gtzan/annotations/beat_this/beats/gtzan_{genre}_{number}.beats"
    ));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v = l.split_whitespace();
            let t: f64 = v.next().unwrap().parse().unwrap();
            let n: f64 = v.next().unwrap().parse().unwrap();
            (t, n as u8)
        })
        .filter(|&(t, _)| t < seconds)
        .collect()
}

#[test]
fn files_get_annotated_beats_and_downbeats_with_hindsight() {
    let net = Arc::new(BeatNet::load().unwrap());
    let models = Models {
        beats: Some(net.clone()),
        ..Models::default()
    };
    let (mut file_f, mut live_f, mut downbeats_found) = (0.0, 0.0, 0);
    for clip in CLIPS {
        let path = data_dir().join(clip);
        let analysis = analyze_clip(
            &mut AudioFile::open(&path).unwrap(),
            TableStyle::Gtzan,
            &models,
        )
        .unwrap();
        let seconds = analysis.table.length as f64 / 22050.0;
        let truth = annotation(clip, seconds);
        let beats = analysis.beats.unwrap();
        let times = |b: &[(f64, u8)], downbeats: bool| -> Vec<f64> {
            b.iter()
                .filter(|&&(_, n)| !downbeats || n == 1)
                .map(|&(t, _)| t)
                .collect()
        };
        let f = f_measure(&times(&truth, false), &times(&beats.beats, false));
        let down = f_measure(&times(&truth, true), &times(&beats.beats, true));

        let mut live = BeatPipeline::live(net.clone());
        run_clip(&mut AudioFile::open(&path).unwrap(), &mut [&mut live]).unwrap();
        let live_beats = summarize(&live.take_beats().collect::<Vec<_>>()).beats;
        let online = f_measure(&times(&truth, false), &times(&live_beats, false));
        println!("{clip}: file F {f:.3}, downbeat F {down:.3}; live F {online:.3}");

        assert!(f >= 0.85, "{clip}: beat F {f:.3}");
        downbeats_found += usize::from(down >= 0.5);
        // With hindsight the first beat is found too: within half a beat of the first
        // annotated one.
        let period = 60.0 / beats.tempo_bpm.unwrap();
        assert!(
            (beats.beats[0].0 - truth[0].0).abs() < period / 2.0,
            "{clip}"
        );
        file_f += f;
        live_f += online;
    }
    assert!(file_f > live_f, "files {file_f:.3}, live {live_f:.3}");
    // The reggae clip's downbeats land off the annotated ones (the one drop stresses beat 3).
    assert!(downbeats_found >= 3, "downbeats on {downbeats_found} clips");
}
