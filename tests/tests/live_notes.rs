//! Notes as the live engine transcribes them (`mirador play --notes`): a real piano
//! recording fed through the audio stage at about real time (the transcriber runs about
//! five times faster, with the other models beside it), in blocks of
//! changing size; the notes reach the snapshot on the input timeline, nothing is dropped,
//! and they are the notes the file path finds where the two can agree (the live path has no
//! melodia trick and decides each note within a second).

use std::sync::Arc;

use mirador_dsp::clip::Replay;
use mirador_dsp::AnalyzerConfig;
use mirador_engine::{build, LiveModels, LiveNote};
use mirador_models::notes::{NoteNet, NotePipeline, NoteSettings};
use mirador_models::run_clip;
use mirador_tests::data_dir;

const PIANO: &str =
    "librosa_examples/442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.ogg";
const SECONDS: f64 = 8.0;

#[test]
fn live_notes_reach_the_snapshot_and_agree_with_the_files() {
    let path = data_dir().join(PIANO);
    let mut file = mirador_app::decode::AudioFile::open(&path).unwrap();
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut samples = Vec::new();
    file.play(&mut |block| samples.extend_from_slice(block))
        .unwrap();
    samples.truncate((SECONDS * f64::from(rate)) as usize * channels);

    let models = LiveModels::load().unwrap().transcribing().unwrap();
    let (mut audio, mut worker, mut reader) = build(&AnalyzerConfig::new(rate, channels)).unwrap();
    for listener in models.listeners(rate, None).unwrap() {
        worker = worker.with_listener(listener);
    }
    let mut position = 0;
    for size in [64usize, 512, 4096, 333, 1].iter().cycle() {
        if position >= samples.len() {
            break;
        }
        let end = (position + size * channels).min(samples.len());
        audio.process_interleaved(&samples[position..end]);
        worker.poll();
        let seconds = (end - position) as f64 / channels as f64 / f64::from(rate);
        std::thread::sleep(std::time::Duration::from_secs_f64(seconds / 1.2));
        position = end;
    }
    // The transcriber's thread finishes what it was handed.
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        worker.poll();
    }
    let s = reader.read();
    assert!(s.model_error.is_none(), "{:?}", s.model_error);
    let live: Vec<LiveNote> = s.notes.iter().copied().collect();
    assert!(live.len() > 30, "{} notes", live.len());
    assert!(live
        .iter()
        .all(|n| n.start >= 0.0 && n.end.is_none_or(|e| e > n.start && e <= SECONDS)));

    // The file path on the same audio.
    let mut clip = mirador_dsp::clip::Samples {
        samples: &samples,
        sample_rate: rate,
        channels,
    };
    let mut pipeline =
        NotePipeline::for_clip(Arc::new(NoteNet::load().unwrap()), NoteSettings::default());
    run_clip(&mut clip, &mut [&mut pipeline]).unwrap();
    let files = pipeline.notes();
    let found = live
        .iter()
        .filter(|l| {
            files
                .iter()
                .any(|f| f.pitch == l.pitch && (f.start - l.start).abs() <= 0.05)
        })
        .count();
    // eval notes measures onset F 0.91 for the live path on the whole piece.
    assert!(
        found * 10 >= live.len() * 8,
        "{found} of {} live notes in the file's",
        live.len()
    );
    assert!(
        found * 10 >= files.len() * 8,
        "{found} of the file's {} notes live",
        files.len()
    );
}
