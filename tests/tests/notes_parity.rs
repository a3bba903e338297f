//! Mirador's basic-pitch (symphonia decoding, tract, the note creation ported to Rust)
//! against the basic-pitch package itself (librosa decoding, onnxruntime, its Python note
//! creation) on the real recordings of models/basic_pitch/golden.json, which
//! models/training/notes_export.py writes: the network's outputs at 400 fixed positions per
//! output, and the notes, matched as `mir_eval.transcription` matches them.

use std::sync::Arc;

use mirador_app::decode::AudioFile;
use mirador_models::notes::{Note, NoteNet, NotePipeline, NoteSettings, CONTOUR_BINS, KEYS};
use mirador_models::{run_clip, Pipeline, SAMPLE_RATE};
use mirador_tests::data_dir;

#[derive(serde::Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    source: String,
    frames: usize,
    /// (frame, key, value)
    note: Vec<(usize, usize, f32)>,
    onset: Vec<(usize, usize, f32)>,
    /// (frame, bin, value)
    contour: Vec<(usize, usize, f32)>,
    /// (start, end, pitch, amplitude, bends)
    notes: Vec<(f64, f64, u8, f32, Vec<i32>)>,
}

/// The largest difference between `ours` (`width` values a frame) and the sampled values.
fn worst(ours: &[f32], width: usize, theirs: &[(usize, usize, f32)]) -> f32 {
    theirs
        .iter()
        .map(|&(t, i, v)| (ours[t * width + i] - v).abs())
        .fold(0.0, f32::max)
}

/// Onset-offset F-measure as `mir_eval.transcription.precision_recall_f1_overlap` with its
/// defaults (onset within 50 ms, same pitch, offset within 20 % of the reference note's
/// length or 50 ms); matched greedily, so never above mir_eval's optimal matching.
fn onset_offset_f(reference: &[Note], estimate: &[Note]) -> f64 {
    let mut taken = vec![false; estimate.len()];
    let mut matched = 0;
    for r in reference {
        let tolerance = (0.2 * (r.end - r.start)).max(0.05);
        let best = estimate
            .iter()
            .enumerate()
            .filter(|(i, e)| {
                !taken[*i]
                    && e.pitch == r.pitch
                    && (e.start - r.start).abs() <= 0.05
                    && (e.end - r.end).abs() <= tolerance
            })
            .min_by(|(_, a), (_, b)| {
                (a.start - r.start)
                    .abs()
                    .total_cmp(&(b.start - r.start).abs())
            });
        if let Some((i, _)) = best {
            taken[i] = true;
            matched += 1;
        }
    }
    if matched == 0 {
        return 0.0;
    }
    let precision = matched as f64 / estimate.len() as f64;
    let recall = matched as f64 / reference.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

#[test]
fn notes_match_the_basic_pitch_package_on_real_recordings() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/basic_pitch/golden.json"
    );
    let golden: Golden = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let net = Arc::new(NoteNet::load().unwrap());
    for case in golden.cases {
        let mut clip = AudioFile::open(&data_dir().join(&case.source)).unwrap();
        let native = clip.info().sample_rate == SAMPLE_RATE;
        let mut pipeline = NotePipeline::for_clip(net.clone(), NoteSettings::default());
        run_clip(&mut clip, &mut [&mut pipeline]).unwrap();
        assert!(pipeline.take_error().is_none());
        let reference: Vec<Note> = case
            .notes
            .iter()
            .map(|(start, end, pitch, amplitude, bends)| Note {
                start: *start,
                end: *end,
                pitch: *pitch,
                amplitude: *amplitude,
                bends: bends.clone(),
            })
            .collect();
        let ours = pipeline.notes();
        let f = onset_offset_f(&reference, ours);
        let identical = reference
            .iter()
            .filter(|r| {
                ours.iter().any(|o| {
                    o.pitch == r.pitch
                        && (o.start - r.start).abs() < 1e-5
                        && (o.end - r.end).abs() < 1e-5
                        && (o.amplitude - r.amplitude).abs() < 1e-4
                        && o.bends == r.bends
                })
            })
            .count();
        print!(
            "{}: {} notes (package {}), onset-offset F {f:.4}, {identical} identical",
            case.source,
            ours.len(),
            reference.len()
        );
        assert!(f >= 0.98, "{}: F {f}", case.source);
        // Resampled audio (librosa's soxr there, rubato here) differs, so only the notes of
        // recordings the network hears at their own rate are held to the outputs.
        if native {
            let out = pipeline.activations();
            assert_eq!(out.frames(), case.frames, "{}", case.source);
            let differences = [
                worst(&out.note, KEYS, &case.note),
                worst(&out.onset, KEYS, &case.onset),
                worst(&out.contour, CONTOUR_BINS, &case.contour),
            ];
            let most = differences.iter().copied().fold(0.0, f32::max);
            println!("; outputs off by at most {most:.1e}");
            assert!(
                differences.iter().all(|&d| d <= 1e-4),
                "{}: outputs off by {differences:?}",
                case.source
            );
            assert!(
                identical as f64 >= 0.98 * reference.len() as f64,
                "{}: {identical} of {} notes identical",
                case.source,
                reference.len()
            );
        } else {
            println!();
        }
    }
}
