//! Criterion benchmarks of the streaming analyzer (per block, at two input formats) and of
//! the whole-clip feature table. `cargo xtask bench` puts the same numbers next to librosa.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mirador_dsp::clip::{feature_table, Samples, TableStyle};
use mirador_dsp::{AnalyzerConfig, Frame, StreamingAnalyzer};

/// Band-limited synthetic music: a chord under a 2 Hz pulse, identical in every channel.
fn music(rate: u32, seconds: f32, channels: usize) -> Vec<f32> {
    let n = (rate as f32 * seconds) as usize;
    (0..n)
        .flat_map(|i| {
            let t = i as f32 / rate as f32;
            let chord: f32 = [261.63f32, 329.63, 392.0, 3000.0]
                .iter()
                .map(|f| (2.0 * std::f32::consts::PI * f * t).sin())
                .sum();
            let pulse = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * 2.0 * t).cos();
            std::iter::repeat_n(0.1 * chord * pulse, channels)
        })
        .collect()
}

fn streaming(c: &mut Criterion) {
    let mut group = c.benchmark_group("streaming");
    group.sample_size(20);
    for (rate, channels, block) in [(22050, 1, 512), (48000, 2, 64), (48000, 2, 512)] {
        let signal = music(rate, 10.0, channels);
        group.throughput(Throughput::Elements((signal.len() / channels) as u64));
        let id = BenchmarkId::new(format!("{rate}Hz_x{channels}"), format!("block{block}"));
        group.bench_function(id, |b| {
            b.iter(|| {
                let mut analyzer =
                    StreamingAnalyzer::new(&AnalyzerConfig::new(rate, channels)).unwrap();
                let mut sum = 0f32;
                for chunk in signal.chunks(block * channels) {
                    analyzer.process_interleaved(chunk, &mut |f: &Frame| sum += f.rms);
                }
                sum
            })
        });
    }
    group.finish();
}

fn table(c: &mut Criterion) {
    let signal = music(22050, 30.0, 1);
    let mut group = c.benchmark_group("feature_table");
    group.sample_size(10);
    group.bench_function("30s_clip", |b| {
        b.iter(|| {
            let mut clip = Samples {
                samples: &signal,
                sample_rate: 22050,
                channels: 1,
            };
            feature_table(&mut clip, &AnalyzerConfig::new(22050, 1), TableStyle::Gtzan).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, streaming, table);
criterion_main!(benches);
