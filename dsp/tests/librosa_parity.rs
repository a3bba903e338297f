//! Every streaming feature against librosa 0.11 goldens (`golden/generate.py`), on
//! synthesized signals and two real recordings. Run with `--nocapture` for the error table.

mod common;

use common::*;
use mirador_dsp::clip::{scan, Samples};
use mirador_dsp::rhythm::tempo::tempo;
use mirador_dsp::separation::hpss::HpssStream;
use mirador_dsp::{AnalyzerConfig, Frame};

/// Tolerances, each the largest error accepted over all frames of all fixtures.
const SPECTRUM_REL: f64 = 1e-3;
const MEL_REL: f64 = 1e-3;
const MFCC_REL: f64 = 1e-3;
/// Compared where librosa's `top_db = 80` would keep the value: below that, both sides are
/// float32 FFT rounding noise (a -100 dB band can differ by several dB).
const LOG_MEL_DB: f64 = 0.01;
const CHROMA_ABS: f64 = 1e-3;
const SCALAR_REL: f64 = 1e-3;
/// Relative to the fixture's largest onset strength: near-silent bands add rounding noise.
const ONSET_REL: f64 = 1e-3;
/// In pure-tone frames the bandwidth is set by leakage 60+ dB down, where float32 FFT noise
/// of either implementation dominates; accept a quarter of an FFT bin there.
const BANDWIDTH_ABS_HZ: f64 = 22050.0 / 2048.0 / 4.0;
/// Rolloff is a threshold crossing: float rounding may move it by one FFT bin.
const ROLLOFF_BINS: f64 = 1.0;

struct Report {
    rows: Vec<(String, f64, f64)>,
}

impl Report {
    fn check(&mut self, what: &str, error: f64, tolerance: f64) {
        self.rows.push((what.to_string(), error, tolerance));
    }

    fn finish(self) {
        println!(
            "{:<40} {:>12} {:>12}",
            "fixture/feature", "max error", "tolerance"
        );
        let mut failed = Vec::new();
        for (what, error, tolerance) in &self.rows {
            println!("{what:<40} {error:>12.3e} {tolerance:>12.1e}");
            if error.is_nan() || error > tolerance {
                failed.push(what.clone());
            }
        }
        assert!(failed.is_empty(), "over tolerance: {failed:?}");
    }
}

fn per_frame(
    frames: &[Frame],
    golden: &Array,
    pick: impl Fn(&Frame) -> Vec<f32>,
    err: impl Fn(&[f32], &[f32]) -> f64,
    stride: usize,
) -> f64 {
    (0..golden.frames())
        .map(|c| err(&pick(&frames[c * stride]), &golden.column(c)))
        .fold(0.0, f64::max)
}

fn db_error_within_80(got: &[f32], want: &[f32]) -> f64 {
    let top = want.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    got.iter()
        .zip(want)
        .filter(|(_, &w)| w >= top - 80.0)
        .fold(0f64, |a, (&g, &w)| a.max((g - w).abs() as f64))
}

fn envelope_error(got: &[f32], want: &[f32]) -> f64 {
    let scale = want.iter().fold(0f32, |a, &b| a.max(b)).max(1e-6) as f64;
    max_abs_error(got, want) / scale
}

fn scalars(frames: &[Frame], pick: impl Fn(&Frame) -> f32) -> Vec<f32> {
    frames.iter().map(pick).collect()
}

#[test]
fn streaming_features_match_librosa() {
    let mut report = Report { rows: Vec::new() };
    let config = AnalyzerConfig::new(22050, 1);
    for name in FIXTURES {
        let input = load(name, "input").data;
        // An odd block size exercises frames that straddle blocks.
        let frames = analyze(&config, &input, 777);
        let mel = load(name, "mel");
        assert_eq!(frames.len(), mel.frames(), "{name}: frame count");
        assert_eq!(frames.len(), 1 + input.len() / 512);

        let (power, stride) = if exists(name, "power") {
            (load(name, "power"), 1)
        } else {
            (load(name, "power_every4"), 4)
        };
        let r = |f: &str| format!("{name}/{f}");
        report.check(
            &r("power"),
            per_frame(
                &frames,
                &power,
                |f| f.power.clone(),
                frame_relative_error,
                stride,
            ),
            SPECTRUM_REL,
        );
        report.check(
            &r("mel"),
            per_frame(&frames, &mel, |f| f.mel.clone(), frame_relative_error, 1),
            MEL_REL,
        );
        report.check(
            &r("log_mel (dB, top 80 dB)"),
            per_frame(
                &frames,
                &load(name, "log_mel"),
                |f| f.log_mel.clone(),
                db_error_within_80,
                1,
            ),
            LOG_MEL_DB,
        );
        report.check(
            &r("mfcc"),
            per_frame(
                &frames,
                &load(name, "mfcc"),
                |f| f.mfcc.clone(),
                frame_relative_error,
                1,
            ),
            MFCC_REL,
        );
        report.check(
            &r("chroma"),
            per_frame(
                &frames,
                &load(name, "chroma"),
                |f| f.chroma.to_vec(),
                max_abs_error,
                1,
            ),
            CHROMA_ABS,
        );

        let scalar = |array: &str, pick: fn(&Frame) -> f32, floor: f64| {
            scalar_relative_error(&scalars(&frames, pick), &load(name, array).data, floor)
        };
        report.check(&r("rms"), scalar("rms", |f| f.rms, 1e-6), SCALAR_REL);
        report.check(
            &r("zcr (abs)"),
            max_abs_error(
                &scalars(&frames, |f| f.zero_crossing_rate),
                &load(name, "zcr").data,
            ),
            1e-6,
        );
        report.check(
            &r("centroid"),
            scalar("centroid", |f| f.centroid, 1.0),
            SCALAR_REL,
        );
        report.check(
            &r("bandwidth"),
            scalar("bandwidth", |f| f.bandwidth, BANDWIDTH_ABS_HZ / SCALAR_REL),
            SCALAR_REL,
        );
        report.check(
            &r("flatness"),
            scalar("flatness", |f| f.flatness, 1e-6),
            SCALAR_REL,
        );
        let bin_hz = 22050.0 / 2048.0;
        report.check(
            &r("rolloff (bins)"),
            max_abs_error(
                &scalars(&frames, |f| f.rolloff),
                &load(name, "rolloff").data,
            ) / bin_hz,
            ROLLOFF_BINS,
        );
        report.check(
            &r("onset"),
            envelope_error(
                &scalars(&frames, |f| f.onset_strength),
                &load(name, "onset").data,
            ),
            ONSET_REL,
        );
    }
    report.finish();
}

/// The clip-level features: the first pass (peak, tuning), then chroma, MFCC and onsets with
/// both applied, HPSS waveforms and tempo.
#[test]
fn clip_features_match_librosa() {
    let mut report = Report { rows: Vec::new() };
    for name in FIXTURES {
        let input = load(name, "input").data;
        let mut config = AnalyzerConfig::new(22050, 1);
        let mut clip = Samples {
            samples: &input,
            sample_rate: 22050,
            channels: 1,
        };
        let scanned = scan(&mut clip, &config).unwrap();
        let r = |f: &str| format!("{name}/{f}");
        report.check(
            &r("tuning"),
            (scanned.tuning - load(name, "chroma_tuning").data[0]).abs() as f64,
            0.011,
        );
        config.analysis.tuning = scanned.tuning;
        config.analysis.clip_peak_db = Some(scanned.peak_db);
        let frames = analyze(&config, &input, 4096);
        report.check(
            &r("clip mfcc"),
            per_frame(
                &frames,
                &load(name, "clip_mfcc"),
                |f| f.mfcc.clone(),
                frame_relative_error,
                1,
            ),
            MFCC_REL,
        );
        report.check(
            &r("clip chroma"),
            per_frame(
                &frames,
                &load(name, "clip_chroma"),
                |f| f.chroma.to_vec(),
                max_abs_error,
                1,
            ),
            CHROMA_ABS,
        );
        let onsets = scalars(&frames, |f| f.onset_strength);
        report.check(
            &r("clip onset"),
            envelope_error(&onsets, &load(name, "clip_onset").data),
            ONSET_REL,
        );
        let bpm = tempo(&onsets, 22050, 512);
        report.check(
            &r("tempo (BPM)"),
            (bpm - load(name, "tempo").data[0] as f64).abs(),
            0.01,
        );

        let mut hpss = HpssStream::new(2048, 512);
        let (mut harmonic, mut percussive) = (Vec::new(), Vec::new());
        let mut keep = |h: &[f32], p: &[f32]| {
            harmonic.extend_from_slice(h);
            percussive.extend_from_slice(p);
        };
        for f in &frames {
            hpss.push(&f.spectrum, &mut keep);
        }
        hpss.finish(&mut keep);
        let (h, p) = (
            &harmonic[1024..1024 + input.len()],
            &percussive[1024..1024 + input.len()],
        );
        let (want_h, want_p, stride) = if exists(name, "harmonic") {
            (
                load(name, "harmonic").data,
                load(name, "percussive").data,
                1,
            )
        } else {
            (
                load(name, "harmonic_every4").data,
                load(name, "percussive_every4").data,
                4,
            )
        };
        let every = |x: &[f32]| x.iter().step_by(stride).copied().collect::<Vec<_>>();
        let peak = input.iter().fold(0f32, |a, &b| a.max(b.abs())).max(1e-6) as f64;
        report.check(
            &r("harmonic (rel. to peak)"),
            max_abs_error(&every(h), &want_h) / peak,
            1e-3,
        );
        report.check(
            &r("percussive (rel. to peak)"),
            max_abs_error(&every(p), &want_p) / peak,
            1e-3,
        );
    }
    report.finish();
}
