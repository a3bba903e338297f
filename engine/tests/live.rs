//! The live engine: the audio stage never allocates, a lagging worker costs dropped (and
//! counted) frames but never blocks, and the analyses read known music correctly.

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use std::sync::{Arc, Mutex};

use mirador_dsp::pitch::key::Mode;
use mirador_dsp::AnalyzerConfig;
use mirador_engine::listeners::chords::ChordListener;
use mirador_engine::{
    build as engine, Control, Heard, Listener, RhythmSource, BLOCK_SAMPLES, RING_BLOCKS,
    RING_FRAMES,
};

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
    let (mut audio, worker, mut reader) = engine(&AnalyzerConfig::new(rate, 2)).unwrap();
    // The key comes from the chord listener, which needs no model file.
    let mut worker = worker.with_listener(Box::new(ChordListener::new()));
    for block in music(rate, 12.0, 2, 120.0).chunks(2 * 480) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let s = reader.read();
    let rhythm = s.rhythm.expect("a tempo after 12 s");
    assert_eq!(rhythm.source, RhythmSource::Onsets, "no beat model runs");
    assert!((rhythm.tempo_bpm - 120.0).abs() < 2.0, "{rhythm:?}");
    assert!(rhythm.confidence.unwrap() > 0.3, "{rhythm:?}");
    let key = s.key.expect("a key");
    assert_eq!((key.tonic, key.mode), (0, Mode::Major), "{}", key.name());
    let chroma = s.mean_chroma(usize::MAX);
    let mut order: Vec<usize> = (0..12).collect();
    order.sort_by(|&a, &b| chroma[b].total_cmp(&chroma[a]));
    let mut top3 = order[..3].to_vec();
    top3.sort();
    assert_eq!(top3, vec![0, 4, 7], "C, E, G strongest: {chroma:?}");
    // Kicks start on multiples of 0.5 s; the onset peak sits within a frame or two after.
    let beat = rhythm.beat;
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
    let (mut audio, worker, mut reader) = engine(&AnalyzerConfig::new(44100, 2)).unwrap();
    let mut worker = worker.with_listener(Box::new(ChordListener::new()));
    let mut block = vec![0.0f32; 1024];
    block[10] = f32::NAN;
    block[11] = f32::INFINITY;
    for _ in 0..400 {
        audio.process_interleaved(&block);
        worker.poll();
    }
    let s = reader.read();
    assert!(
        s.rhythm.is_none() && s.key.is_none(),
        "{:?} {:?}",
        s.rhythm,
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

/// What a listener heard, for checking what the worker hands it.
#[derive(Default, Debug)]
struct Log {
    /// `(position, samples)` of every block.
    blocks: Vec<(u64, usize)>,
    discontinuities: Vec<u64>,
    resets: usize,
}

struct Recorder(Arc<Mutex<Log>>);

impl Listener for Recorder {
    fn push(&mut self, block: &[f32], position: u64) {
        self.0.lock().unwrap().blocks.push((position, block.len()));
    }
    fn discontinuity(&mut self, position: u64) {
        self.0.lock().unwrap().discontinuities.push(position);
    }
    fn update(&mut self, _heard: &mut Heard) {}
    fn reset(&mut self) {
        let mut log = self.0.lock().unwrap();
        log.resets += 1;
        log.blocks.clear();
        log.discontinuities.clear();
    }
}

fn recorded_engine(
    rate: u32,
) -> (
    mirador_engine::AudioStage,
    mirador_engine::Worker,
    mirador_engine::SnapshotReader,
    Arc<Mutex<Log>>,
) {
    let (audio, worker, reader) = engine(&AnalyzerConfig::new(rate, 1)).unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let worker = worker
        .with_listener(Box::new(Recorder(log.clone())))
        .with_listener(Box::new(ChordListener::new()));
    (audio, worker, reader, log)
}

/// The blocks follow each other without a gap, starting at `start`; returns where they end.
fn contiguous(blocks: &[(u64, usize)], start: u64) -> u64 {
    let mut next = start;
    for &(position, len) in blocks {
        assert_eq!(position, next, "blocks {blocks:?}");
        next += len as u64;
    }
    next
}

#[test]
fn listeners_hear_the_analysis_rate_signal_on_its_timeline() {
    let (mut audio, mut worker, reader, log) = recorded_engine(44100);
    for block in music(44100, 4.0, 1, 120.0).chunks(441) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let log = log.lock().unwrap();
    assert!(log.discontinuities.is_empty(), "{:?}", log.discontinuities);
    let end = contiguous(&log.blocks, 0);
    // 4 s at 22.05 kHz, less the resampler's latency and the block being staged.
    assert!(end > 4 * 22050 - 2048 - BLOCK_SAMPLES as u64, "{end}");
    assert!((reader.now() - 4.0).abs() < 1e-9, "{}", reader.now());
}

#[test]
fn a_reset_clears_histories_and_listeners_and_the_timeline_goes_on() {
    let rate = 48000;
    let (mut audio, mut worker, mut reader, log) = recorded_engine(rate);
    let signal = music(rate, 10.0, 1, 120.0);
    let (before, after) = signal.split_at(signal.len() / 2);
    for block in before.chunks(480) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let s = reader.read();
    assert!(s.rhythm.is_some() && s.key.is_some() && !s.spectrogram.is_empty());
    let position_before = s.position;
    let heard_before = log.lock().unwrap().blocks.last().map(|b| b.0 + b.1 as u64);

    // A seek: the app sends Control::Reset; the worker thread calls this.
    worker.reset();
    let s = reader.read();
    assert!(s.spectrogram.is_empty() && s.chroma.is_empty() && s.mfcc.is_empty());
    assert!(s.rhythm.is_none() && s.key.is_none() && s.genre.is_none());
    assert_eq!(log.lock().unwrap().resets, 1);
    assert!(log.lock().unwrap().blocks.is_empty());

    for block in after.chunks(480) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let s = reader.read();
    assert!(s.position > position_before, "the engine timeline goes on");
    assert!(s.frames_received as f64 > 5.0 * s.frame_rate - 10.0);
    let log = log.lock().unwrap();
    let first = log.blocks.first().expect("blocks after the reset").0;
    assert!(
        first >= heard_before.unwrap(),
        "{first} vs {heard_before:?}"
    );
    contiguous(&log.blocks, first);
    assert!(log.discontinuities.is_empty(), "a reset is not a gap");
}

#[test]
fn dropped_blocks_reach_listeners_as_a_gap() {
    let (mut audio, mut worker, _reader, log) = recorded_engine(22050);
    let signal = music(22050, 20.0, 1, 120.0);
    // 20 s without the worker: the block ring (about 3 s) overflows.
    audio.process_interleaved(&signal);
    worker.poll();
    let blocks = log.lock().unwrap().blocks.len();
    assert_eq!(blocks, RING_BLOCKS, "the ring held its capacity");
    let first_after = 20 * 22050;
    for block in music(22050, 1.0, 1, 120.0).chunks(512) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let log = log.lock().unwrap();
    assert_eq!(log.discontinuities.len(), 1, "{:?}", log.discontinuities);
    let gap = log.discontinuities[0];
    let (last, len) = log.blocks[RING_BLOCKS - 1];
    assert!(gap > last + len as u64, "the gap skips what was dropped");
    assert!(gap <= first_after, "{gap}");
    contiguous(&log.blocks[RING_BLOCKS..], gap);
}

#[test]
fn switching_analysis_off_stops_the_clock_and_makes_a_gap() {
    let (mut audio, mut worker, reader, log) = recorded_engine(44100);
    let signal = music(44100, 3.0, 1, 120.0);
    for block in signal.chunks(300) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let now = reader.now();
    audio.set_enabled(false);
    for block in signal.chunks(300) {
        audio.process_interleaved(block);
        worker.poll();
    }
    assert_eq!(
        reader.now(),
        now,
        "the clock stands still while analysis is off"
    );
    audio.set_enabled(true);
    for block in signal.chunks(300) {
        audio.process_interleaved(block);
        worker.poll();
    }
    assert!((reader.now() - 2.0 * now).abs() < 1e-9);
    let log = log.lock().unwrap();
    assert_eq!(log.discontinuities.len(), 1, "{:?}", log.discontinuities);
}

#[test]
fn why_explains_the_genre_cell_by_cell_only_while_asked() {
    use mirador_engine::listeners::tagger::TaggerListener;
    use mirador_models::tagger::saliency::cell_seconds;
    use mirador_models::tagger::{Tagger, Variant};

    let rate = 44100;
    let (mut audio, worker, mut reader) = engine(&AnalyzerConfig::new(rate, 1)).unwrap();
    let tagger = Arc::new(Tagger::load(Variant::Cnn).unwrap());
    let mut worker = worker.with_listener(Box::new(TaggerListener::new(tagger).unwrap()));
    let signal = music(rate, 12.0, 1, 120.0);
    let (first, second) = signal.split_at(6 * rate as usize);
    let mut play = |samples: &[f32]| {
        for block in samples.chunks(441) {
            audio.process_interleaved(block);
            worker.poll();
        }
    };
    play(first);
    let s = reader.read();
    assert!(s.genre.is_some(), "a genre after 6 s");
    assert!(s.saliency.is_empty(), "nothing explained unasked");

    // The app's "why" checkbox sends Control::Explain(true); the worker thread calls this.
    worker.explain(true);
    for block in second.chunks(441) {
        audio.process_interleaved(block);
        worker.poll();
    }
    let s = reader.read();
    let cells: Vec<_> = s.saliency.iter().copied().collect();
    // The first patch explains its whole 3 s, each next one (about a second later) its
    // newest second: one cell per half second from 3 s before the switch, each after the
    // last.
    assert!((14..=18).contains(&cells.len()), "{} cells", cells.len());
    let step = cell_seconds();
    for pair in cells.windows(2) {
        let gap = pair[1].time - pair[0].time;
        assert!(gap > step / 2.0 && gap < step * 1.5, "{pair:?}");
    }
    let classes = s.genre.as_ref().unwrap().classes.len();
    assert!(cells.iter().all(|c| usize::from(c.class) < classes));
    assert!(cells.iter().all(|c| c.values.iter().all(|v| v.is_finite())));
    assert!(cells.iter().any(|c| c.values.iter().any(|&v| v != 0.0)));
    // Explained where it was heard: within the last patch span before the newest frame.
    let newest = cells.last().unwrap();
    assert!(
        newest.time + f64::from(newest.seconds) <= s.time + 0.05,
        "{newest:?}"
    );
    // The first patch explained ends near the switch, at 6 s (blocks wait in the ring a
    // little), and spans 3 s.
    assert!(cells[0].time > 6.0 - 3.0 - 0.1, "{:?}", cells[0]);

    worker.explain(false);
    assert!(
        reader.read().saliency.is_empty(),
        "stopping clears the overlay"
    );
}

/// The plugin's MIDI beat notes: with BeatNet listening on the worker, the audio stage places
/// each predicted beat to the sample within its blocks, without allocating, once each, on the
/// kicks of 120 BPM music. (The bar's count is the grid's, checked in `beat_grid`'s tests:
/// BeatNet finds no bars in this one-chord loop.)
#[test]
fn beats_are_placed_in_the_blocks_on_the_kicks_without_allocating() {
    use mirador_engine::listeners::beats::BeatListener;
    use mirador_models::beats::BeatNet;

    let rate = 48_000;
    let signal = music(rate, 14.0, 2, 120.0);
    let (mut audio, mut worker, _reader) = engine(&AnalyzerConfig::new(rate, 2)).unwrap();
    worker = worker.with_listener(Box::new(BeatListener::new(
        Arc::new(BeatNet::load().unwrap()),
        rate,
    )));
    // (position, beat in bar), kept without allocating on the audio side.
    let mut placed = [(0u64, 0u8); 64];
    let mut count = 0;
    reset_violation_count();
    let mut rest = &signal[..];
    for size in [512usize, 64, 4096, 1000].iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, after) = rest.split_at((size * 2).min(rest.len()));
        rest = after;
        let block = chunk.len() / 2;
        assert_no_alloc(|| {
            let start = audio.position();
            audio.process_interleaved(chunk);
            audio.beats_in(start, block, |offset, in_bar| {
                if count < placed.len() {
                    placed[count] = (start + offset as u64, in_bar);
                    count += 1;
                }
            });
            // The plugin takes the transcribed notes in the same place (none here).
            audio.take_notes(|_| {});
        });
        worker.poll();
    }
    assert_eq!(violation_count(), 0, "the audio side allocated");
    // Once the tracker has settled (3 s): a beat on every kick (every 0.5 s), within 25 ms,
    // none missed or doubled.
    let period = 0.5 * rate as f64;
    let settled: Vec<u64> = placed[..count]
        .iter()
        .map(|p| p.0)
        .filter(|&at| at > 3 * rate as u64)
        .collect();
    assert!(settled.len() >= 20, "{:?}", &placed[..count]);
    for w in settled.windows(2) {
        let gap = (w[1] - w[0]) as f64 / period;
        assert!(
            (gap - 1.0).abs() < 0.1,
            "beats {gap} periods apart: {settled:?}"
        );
    }
    for &at in &settled {
        let off = (at as f64 / period - (at as f64 / period).round()) * 0.5;
        assert!(off.abs() < 0.025, "a beat {off} s from the kick");
    }
}
