//! The live engine: the audio stage never allocates, a lagging worker costs dropped (and
//! counted) frames but never blocks, and the analyses read known music correctly.

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use mirador_dsp::live::key::Mode;
use mirador_dsp::live::{engine, Control, RING_FRAMES};
use mirador_dsp::AnalyzerConfig;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

/// A C-major chord under a kick on every beat at `bpm`, the same in every channel.
fn music(rate: u32, seconds: f32, channels: usize, bpm: f32) -> Vec<f32> {
    let beat = 60.0 / bpm;
    (0..(rate as f32 * seconds) as usize)
        .flat_map(|i| {
            let t = i as f32 / rate as f32;
            let chord: f32 = [261.63f32, 329.63, 392.0]
                .iter()
                .map(|f| (2.0 * std::f32::consts::PI * f * t).sin())
                .sum();
            let since = t % beat;
            let kick = (-since * 30.0).exp() * (2.0 * std::f32::consts::PI * 70.0 * since).sin();
            std::iter::repeat_n(0.08 * chord + 0.6 * kick, channels)
        })
        .collect()
}

#[test]
fn audio_stage_never_allocates_even_when_dropping() {
    for (rate, channels) in [(48000, 2), (44100, 1), (96000, 2)] {
        let signal = music(rate, 8.0, channels, 120.0);
        let (mut audio, _worker, reader) = engine(&AnalyzerConfig::new(rate, channels)).unwrap();
        reset_violation_count();
        assert_no_alloc(|| {
            let mut rest = &signal[..];
            for block in [1usize, 64, 8192, 3, 512, 4096, 100].iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let n = (block * channels).min(rest.len());
                audio.process_interleaved(&rest[..n]);
                rest = &rest[n..];
            }
        });
        assert_eq!(violation_count(), 0, "{rate} Hz x{channels} allocated");
        assert!(
            reader.frames_dropped() > 0,
            "8 s overflows the ring with no worker"
        );
    }
    // Planar input too.
    let left = music(48000, 2.0, 1, 120.0);
    let (mut audio, _worker, _reader) = engine(&AnalyzerConfig::new(48000, 2)).unwrap();
    reset_violation_count();
    assert_no_alloc(|| {
        for start in (0..left.len()).step_by(256) {
            let end = (start + 256).min(left.len());
            audio.process_planar(&[&left[start..end], &left[start..end]]);
        }
    });
    assert_eq!(violation_count(), 0);
}

#[test]
fn lagging_worker_drops_counts_and_recovers() {
    let rate = 44100;
    let (mut audio, mut worker, mut reader) = engine(&AnalyzerConfig::new(rate, 1)).unwrap();
    let signal = music(rate, 12.0, 1, 120.0);
    audio.process_interleaved(&signal);
    let produced = 1 + (12.0 * 22050.0 / 512.0) as u64 - 2; // frames complete before the end padding
    let dropped = reader.frames_dropped();
    assert!(dropped > 0);
    assert_eq!(worker.poll(), RING_FRAMES, "the ring held its capacity");
    let snapshot = reader.read();
    assert_eq!(snapshot.frames_dropped, dropped);
    assert_eq!(snapshot.frames_received as usize, RING_FRAMES);
    assert!(dropped + RING_FRAMES as u64 >= produced - 1);
    let last_position = snapshot.position;

    // Once the worker keeps up, every new frame arrives and nothing more is dropped.
    for block in signal.chunks(512) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let snapshot = reader.read();
    assert_eq!(snapshot.frames_dropped, dropped, "no new drops");
    assert!(snapshot.position > last_position);
    assert!(snapshot.frames_received > RING_FRAMES as u64 + 500);
}

#[test]
fn known_music_reads_as_120_bpm_in_c_major_with_beats_on_the_kicks() {
    let rate = 48000;
    let (mut audio, mut worker, mut reader) = engine(&AnalyzerConfig::new(rate, 2)).unwrap();
    for block in music(rate, 12.0, 2, 120.0).chunks(2 * 480) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let s = reader.read();
    let tempo = s.tempo.expect("a tempo after 12 s");
    assert!((tempo.bpm - 120.0).abs() < 2.0, "{tempo:?}");
    assert!(tempo.confidence > 0.3, "{tempo:?}");
    let key = s.key.expect("a key");
    assert_eq!((key.tonic, key.mode), (0, Mode::Major), "{}", key.name());
    let chroma = s.mean_chroma(usize::MAX);
    let mut order: Vec<usize> = (0..12).collect();
    order.sort_by(|&a, &b| chroma[b].total_cmp(&chroma[a]));
    let mut top3 = order[..3].to_vec();
    top3.sort();
    assert_eq!(top3, vec![0, 4, 7], "C, E, G strongest: {chroma:?}");
    // Kicks start on multiples of 0.5 s; the onset peak sits within a frame or two after.
    let beat = s.beat.expect("beats");
    // Distance from the nearest kick.
    let offset = (beat.time + 0.25).rem_euclid(0.5) - 0.25;
    assert!(
        (-0.03..0.08).contains(&offset),
        "beat at {} s ({offset} s after a kick)",
        beat.time
    );
    assert_eq!(beat.position, (beat.time * rate as f64).round() as u64);
    assert!((beat.period - 0.5).abs() < 0.01);
    // The display history is bounded.
    assert!(s.spectrogram.len() <= s.spectrogram.capacity());
}

#[test]
fn loudness_of_the_ebu_reference_sine() {
    // EBU Tech 3341 case 1: a 1 kHz stereo sine at -20 dBFS per channel reads -20 LUFS.
    let rate = 48000;
    let (mut audio, mut worker, mut reader) = engine(&AnalyzerConfig::new(rate, 2)).unwrap();
    let sine: Vec<f32> = (0..rate as usize * 5)
        .flat_map(|i| {
            let x = 0.1 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin();
            [x, x]
        })
        .collect();
    for block in sine.chunks(1024) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let loudness = reader.read().loudness;
    assert!((loudness.momentary_lufs + 20.0).abs() < 0.1, "{loudness:?}");
    assert!(
        (loudness.short_term_lufs + 20.0).abs() < 0.1,
        "{loudness:?}"
    );
    assert!((loudness.true_peak_dbtp + 20.0).abs() < 0.2, "{loudness:?}");
}

#[test]
fn silence_and_garbage_publish_no_nonsense() {
    let (mut audio, mut worker, mut reader) = engine(&AnalyzerConfig::new(44100, 2)).unwrap();
    let mut block = vec![0.0f32; 1024];
    block[10] = f32::NAN;
    block[11] = f32::INFINITY;
    for _ in 0..400 {
        audio.process_interleaved(&block);
        worker.poll();
    }
    let s = reader.read();
    assert!(
        s.tempo.is_none() && s.key.is_none(),
        "{:?} {:?}",
        s.tempo,
        s.key
    );
    assert!(s.rms.is_finite() && s.centroid.is_finite());
    assert!(s.spectrogram.iter().flatten().all(|v| v.is_finite()));
}

#[test]
fn worker_thread_runs_and_stops() {
    let (mut audio, worker, mut reader) = engine(&AnalyzerConfig::new(22050, 1)).unwrap();
    let handle = worker.spawn().unwrap();
    for block in music(22050, 3.0, 1, 100.0).chunks(256) {
        audio.process_interleaved(block);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while reader.read().frames_received < 120 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(reader.read().frames_received >= 120);
    reader.send(Control::Reset);
    reader.send(Control::Shutdown);
    handle.join().unwrap();
}
