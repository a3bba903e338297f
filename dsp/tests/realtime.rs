//! The real-time contract of `StreamingAnalyzer`: no allocation after construction, any block
//! size (changing between calls) gives the same frames, bad samples never poison the output,
//! and every supported sample rate works.

mod common;

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use common::*;
use mirador_dsp::{AnalyzerConfig, Frame, StreamingAnalyzer};

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

/// A deterministic test signal: a chord with a 2 Hz tremolo plus a 5 Hz pulse train.
fn music(sample_rate: u32, seconds: f32, channels: usize) -> Vec<f32> {
    let n = (sample_rate as f32 * seconds) as usize;
    let mut out = Vec::with_capacity(n * channels);
    for i in 0..n {
        let t = i as f32 / sample_rate as f32;
        let chord: f32 = [261.63f32, 329.63, 392.0, 523.25]
            .iter()
            .map(|f| (2.0 * std::f32::consts::PI * f * t).sin())
            .sum::<f32>()
            * 0.1
            * (1.0 + 0.5 * (2.0 * std::f32::consts::PI * 2.0 * t).sin());
        // A 40 ms Hann-shaped 1.5 kHz pulse: band-limited, so every rate carries the same music.
        let pulse_phase = (t * 5.0).fract() / 0.04;
        let pulse = if pulse_phase < 1.0 {
            let envelope = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * pulse_phase).cos();
            0.4 * envelope * (2.0 * std::f32::consts::PI * 1500.0 * t).sin()
        } else {
            0.0
        };
        for c in 0..channels {
            out.push(if c == 0 {
                chord + pulse
            } else {
                chord - pulse * 0.5
            });
        }
    }
    out
}

/// Block sizes from 1 to 8192 in an irregular order.
fn block_sizes() -> impl Iterator<Item = usize> {
    [1usize, 64, 8192, 3, 512, 4096, 2, 1000, 7919, 128]
        .into_iter()
        .cycle()
}

fn digest(frame: &Frame) -> f64 {
    frame.mel.iter().map(|&x| x as f64).sum::<f64>()
        + frame.chroma.iter().map(|&x| x as f64).sum::<f64>()
        + frame.mfcc.iter().map(|&x| x as f64).sum::<f64>()
        + (frame.rms + frame.zero_crossing_rate + frame.centroid + frame.onset_strength) as f64
}

#[test]
fn processing_never_allocates() {
    for (rate, channels) in [(22050, 1), (44100, 2), (48000, 2), (96000, 6), (8000, 1)] {
        let signal = music(rate, 3.0, channels);
        let config = AnalyzerConfig::new(rate, channels);
        let mut analyzer = StreamingAnalyzer::new(&config).unwrap();
        let mut frames = 0u64;
        let mut checksum = 0f64;
        reset_violation_count();
        assert_no_alloc(|| {
            let mut sink = |f: &Frame| {
                frames += 1;
                checksum += digest(f);
            };
            let mut rest = &signal[..];
            for block in block_sizes() {
                if rest.is_empty() {
                    break;
                }
                let n = (block * channels).min(rest.len());
                analyzer.process_interleaved(&rest[..n], &mut sink);
                rest = &rest[n..];
            }
            analyzer.flush(&mut sink);
        });
        assert_eq!(violation_count(), 0, "{rate} Hz x{channels} allocated");
        assert!(frames > 100 && checksum.is_finite());
    }
}

#[test]
fn planar_processing_never_allocates() {
    let left = music(48000, 1.0, 1);
    let right: Vec<f32> = left.iter().map(|x| -x).collect();
    let mut analyzer = StreamingAnalyzer::new(&AnalyzerConfig::new(48000, 2)).unwrap();
    let mut frames = 0;
    reset_violation_count();
    assert_no_alloc(|| {
        for start in (0..left.len()).step_by(333) {
            let end = (start + 333).min(left.len());
            analyzer.process_planar(&[&left[start..end], &right[start..end]], &mut |_| {
                frames += 1
            });
        }
    });
    assert_eq!(violation_count(), 0);
    assert!(frames > 30);
}

#[test]
fn the_allocation_check_can_fail() {
    reset_violation_count();
    let v = assert_no_alloc(|| vec![1u8; 16]);
    assert_eq!(violation_count(), 1, "the Vec's allocation is counted");
    drop(v);
    reset_violation_count();
}

#[test]
fn block_size_never_changes_the_frames() {
    let signal = music(44100, 2.0, 2);
    let config = AnalyzerConfig::new(44100, 2);
    let reference = analyze(&config, &signal, 8192);
    for block in [1usize, 64, 441, 4096] {
        let frames = analyze(&config, &signal, block);
        assert_eq!(frames.len(), reference.len());
        for (a, b) in frames.iter().zip(&reference) {
            assert_eq!((a.index, a.position), (b.index, b.position));
            assert_eq!(a.mel, b.mel, "block {block}, frame {}", a.index);
            assert_eq!(a.chroma, b.chroma);
            assert_eq!(a.onset_strength, b.onset_strength);
        }
    }
    // And blocks that change size on every call.
    let mut analyzer = StreamingAnalyzer::new(&config).unwrap();
    let mut frames = Vec::new();
    let mut rest = &signal[..];
    for block in block_sizes() {
        if rest.is_empty() {
            break;
        }
        let n = (block * 2).min(rest.len());
        analyzer.process_interleaved(&rest[..n], &mut |f: &Frame| frames.push(f.mel.clone()));
        rest = &rest[n..];
    }
    analyzer.flush(&mut |f: &Frame| frames.push(f.mel.clone()));
    let want: Vec<Vec<f32>> = reference.iter().map(|f| f.mel.clone()).collect();
    assert_eq!(frames, want);
}

#[test]
fn non_finite_samples_are_silenced_counted_and_forgotten() {
    let mut signal = music(22050, 2.0, 1);
    let mut cleaned = signal.clone();
    for (i, bad) in [
        (5000, f32::NAN),
        (5001, f32::INFINITY),
        (9000, f32::NEG_INFINITY),
    ] {
        signal[i] = bad;
        cleaned[i] = 0.0;
    }
    let config = AnalyzerConfig::new(22050, 1);
    let mut analyzer = StreamingAnalyzer::new(&config).unwrap();
    let mut frames = Vec::new();
    analyzer.process_interleaved(&signal, &mut |f: &Frame| frames.push(f.clone()));
    analyzer.flush(&mut |f: &Frame| frames.push(f.clone()));
    assert_eq!(analyzer.non_finite_samples(), 3);
    let want = analyze(&config, &cleaned, 4096);
    assert_eq!(frames.len(), want.len());
    for (got, want) in frames.iter().zip(&want) {
        assert!(digest(got).is_finite(), "frame {} not finite", got.index);
        assert_eq!(got.mfcc, want.mfcc);
    }
}

#[test]
fn silence_gives_zeros_not_nan() {
    let frames = analyze(&AnalyzerConfig::new(44100, 2), &vec![0.0; 44100 * 2], 512);
    assert_eq!(frames.len(), 1 + 22050 / 512);
    for f in &frames {
        assert!(f.power.iter().chain(&f.mel).all(|&x| x == 0.0));
        assert!(f.log_mel.iter().all(|&x| x == -100.0));
        assert_eq!(f.chroma, [0.0; 12]);
        assert_eq!((f.rms, f.zero_crossing_rate, f.centroid), (0.0, 0.0, 0.0));
        assert_eq!((f.bandwidth, f.rolloff, f.onset_strength), (0.0, 0.0, 0.0));
        assert_eq!(f.flatness, 1.0, "librosa's flatness of silence");
        assert!(f.mfcc.iter().all(|x| x.is_finite()));
    }
}

#[test]
fn huge_samples_stay_finite() {
    let signal: Vec<f32> = (0..22050)
        .map(|i| if i % 2 == 0 { 1e30 } else { -1e30 })
        .collect();
    for f in analyze(&AnalyzerConfig::new(22050, 1), &signal, 1024) {
        assert!(digest(&f).is_finite() && f.flatness.is_finite() && f.bandwidth.is_finite());
    }
}

#[test]
fn sample_rates_from_1_to_768_khz() {
    for rate in [
        1000, 8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000, 384000,
        705600, 768000,
    ] {
        let signal = music(rate, 1.0, 1);
        let config = AnalyzerConfig::new(rate, 1);
        let frames = analyze(&config, &signal, 1024);
        // The analysis signal is ceil(n * 22050 / rate) samples, framed like librosa.
        let analysis_len = (signal.len() as f64 * 22050.0 / rate as f64).ceil() as usize;
        assert_eq!(frames.len(), 1 + analysis_len / 512, "{rate} Hz");
        let last = frames.last().unwrap();
        let expected = (last.index as f64 * 512.0 * rate as f64 / 22050.0).round() as u64;
        assert_eq!(last.position, expected, "{rate} Hz timeline");
    }
    for rate in [999, 768001, 0] {
        assert!(StreamingAnalyzer::new(&AnalyzerConfig::new(rate, 1)).is_err());
    }
    assert!(StreamingAnalyzer::new(&AnalyzerConfig::new(44100, 0)).is_err());
}

/// The same music at 44.1, 48 and 96 kHz gives the features of the 22.05 kHz original within
/// these bounds (the resampler's anti-aliasing filter and delay compensation are what differ).
/// Log-mel and MFCC use librosa's 80 dB floor below the clip peak, as the feature table does:
/// without it, empty bands at -100 dB compare rounding noise.
#[test]
fn features_agree_across_input_rates() {
    let original = music(22050, 4.0, 1);
    let unfloored = analyze(&AnalyzerConfig::new(22050, 1), &original, 1024);
    let peak_db = unfloored
        .iter()
        .flat_map(|f| f.log_mel.iter())
        .fold(f32::MIN, |a, &b| a.max(b));
    let config = |rate| {
        let mut config = AnalyzerConfig::new(rate, 1);
        config.analysis.clip_peak_db = Some(peak_db);
        config
    };
    let reference = analyze(&config(22050), &original, 1024);
    for rate in [44100, 48000, 96000] {
        let frames = analyze(&config(rate), &music(rate, 4.0, 1), 1024);
        assert_eq!(frames.len(), reference.len(), "{rate} Hz frame count");
        let mut worst = (0f64, 0f64, 0f64, 0f64);
        // Skip the first and last frames, where the resampler's edges show.
        for (a, b) in frames
            .iter()
            .zip(&reference)
            .skip(2)
            .take(reference.len() - 4)
        {
            let mel = frame_relative_error(&a.mel, &b.mel);
            let chroma = max_abs_error(&a.chroma, &b.chroma);
            let mfcc = frame_relative_error(&a.mfcc, &b.mfcc);
            let rms = ((a.rms - b.rms) / b.rms.max(1e-3)).abs() as f64;
            worst = (
                worst.0.max(mel),
                worst.1.max(chroma),
                worst.2.max(mfcc),
                worst.3.max(rms),
            );
        }
        println!(
            "{rate} Hz: mel {:.2e} chroma {:.2e} mfcc {:.2e} rms {:.2e}",
            worst.0, worst.1, worst.2, worst.3
        );
        assert!(worst.0 < 1e-2, "{rate} Hz mel {:e}", worst.0);
        assert!(worst.1 < 1e-2, "{rate} Hz chroma {:e}", worst.1);
        assert!(worst.2 < 1e-2, "{rate} Hz mfcc {:e}", worst.2);
        assert!(worst.3 < 1e-2, "{rate} Hz rms {:e}", worst.3);
    }
}
