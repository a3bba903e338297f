//! `cargo xtask bench`: Mirador's speed against real time and against librosa, side by side.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use mirador_app::decode::AudioFile;
use mirador_dsp::clip::{feature_table, Replay, Samples, TableStyle};
use mirador_dsp::{AnalyzerConfig, Frame, StreamingAnalyzer};

use crate::python;

pub mod library;

const RUNS: usize = 5;

pub fn run(clip: Option<&str>) -> Result<()> {
    let clip = match clip {
        Some(path) => PathBuf::from(path),
        None => mirador_tests::data_dir().join("gtzan/full/blues.00000.flac"),
    };
    let mut file = AudioFile::open(&clip).with_context(|| format!("{}", clip.display()))?;
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut samples = Vec::new();
    file.play(&mut |block| samples.extend_from_slice(block))?;
    let seconds = samples.len() as f64 / channels as f64 / rate as f64;
    println!(
        "clip: {} ({seconds:.1} s, {rate} Hz, {channels} ch)\n",
        clip.display()
    );

    println!("streaming analyzer, one thread (median of {RUNS} runs):");
    println!(
        "{:<34} {:>12} {:>14}",
        "input", "x real time", "us per block"
    );
    for (label, rate, channels, block) in [
        ("22.05 kHz mono, 512-sample blocks", rate, channels, 512),
        ("48 kHz stereo, 64-sample blocks", 48000, 2, 64),
        ("48 kHz stereo, 512-sample blocks", 48000, 2, 512),
    ] {
        let input = if rate == file.sample_rate() && channels == file.channels() {
            samples.clone()
        } else {
            upsample_to_stereo(&samples, file.sample_rate(), rate)
        };
        let time = median(RUNS, || {
            let config = AnalyzerConfig::new(rate, channels);
            let mut analyzer = StreamingAnalyzer::new(&config).unwrap();
            let mut sum = 0f32;
            let start = Instant::now();
            for chunk in input.chunks(block * channels) {
                analyzer.process_interleaved(chunk, &mut |f: &Frame| sum += f.rms);
            }
            std::hint::black_box(sum);
            start.elapsed().as_secs_f64()
        });
        let blocks = input.len() as f64 / (block * channels) as f64;
        println!(
            "{label:<34} {:>12.0} {:>14.2}",
            seconds / time,
            time / blocks * 1e6
        );
    }

    audio_thread_cost(&samples, rate)?;
    // The clip as the models hear it: mono at the analysis rate.
    let mut mono = Vec::new();
    let mut input =
        mirador_dsp::input::InputStage::new(rate, mirador_models::SAMPLE_RATE, channels)?;
    input.push_interleaved(&samples, &mut |m| mono.extend_from_slice(m));
    input.flush(&mut |m| mono.extend_from_slice(m));
    listener_cost(&mono)?;

    println!("\nfeature table of the clip (both passes, decoding excluded):");
    let rust = median(RUNS, || {
        let start = Instant::now();
        let mut clip = Samples {
            samples: &samples,
            sample_rate: rate,
            channels,
        };
        std::hint::black_box(
            feature_table(
                &mut clip,
                &AnalyzerConfig::new(rate, channels),
                TableStyle::Gtzan,
            )
            .unwrap(),
        );
        start.elapsed().as_secs_f64()
    });
    let librosa = librosa_seconds(&clip)?;
    println!(
        "{:<34} {:>10.1} ms",
        "mirador (Rust, one thread)",
        rust * 1e3
    );
    println!(
        "{:<34} {:>10.1} ms",
        "librosa (same features, same clip)",
        librosa * 1e3
    );
    println!(
        "{:<34} {:>10.1} x",
        "ratio librosa / mirador",
        librosa / rust
    );
    let chords = chord_cost(&samples, (rate, channels), seconds, rust)?;
    section_cost(&samples, (rate, channels), seconds, chords)?;
    note_cost(&mono)
}

/// basic-pitch over the clip in tract (windows and note creation, one thread), and one 2 s
/// window in tract and in a one-thread onnxruntime session, on the same samples.
fn note_cost(mono: &[f32]) -> Result<()> {
    use mirador_models::notes::{NoteNet, NotePipeline, NoteSettings, WINDOW};
    use mirador_models::Pipeline;

    let seconds = mono.len() as f64 / f64::from(mirador_models::SAMPLE_RATE);
    let net = std::sync::Arc::new(NoteNet::load()?);
    let whole = median(RUNS, || {
        let start = Instant::now();
        let mut pipeline = NotePipeline::for_clip(net.clone(), NoteSettings::default());
        pipeline.push(mono, 0);
        pipeline.finish();
        std::hint::black_box(pipeline.notes().len());
        start.elapsed().as_secs_f64()
    });
    let window = &mono[..WINDOW.min(mono.len())];
    let mut window = window.to_vec();
    window.resize(WINDOW, 0.0);
    let runs = 20;
    let tract_ms = median(RUNS, || {
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(net.run(&window).unwrap());
        }
        start.elapsed().as_secs_f64()
    }) * 1e3
        / runs as f64;
    let raw = std::env::temp_dir().join(format!("mirador-bench-{}.f32", std::process::id()));
    let bytes: Vec<u8> = window.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&raw, bytes)?;
    let python = python::venv("target/models-venv", "models/training/requirements.txt")?;
    let ort_ms = crate::eval::onnxruntime_ms(
        &python,
        &[
            "notes".as_ref(),
            python::repo_root()
                .join("models/basic_pitch/nmp.onnx")
                .as_os_str(),
            raw.as_os_str(),
            runs.to_string().as_ref(),
        ],
    )?;
    let _ = std::fs::remove_file(&raw);
    println!("\nbasic-pitch notes, one thread:");
    println!(
        "{:<34} {:>10.0} x real time",
        "whole clip in tract (with notes)",
        seconds / whole
    );
    println!("{:<34} {:>10.1} ms", "one 2 s window, tract", tract_ms);
    println!("{:<34} {:>10.1} ms", "one 2 s window, onnxruntime", ort_ms);
    println!(
        "{:<34} {:>10.2} x",
        "ratio onnxruntime / tract",
        ort_ms / tract_ms
    );
    Ok(())
}

/// Each live listener on the worker, fed the clip's analysis-rate audio in 512-sample blocks:
/// its share of one core.
fn listener_cost(mono: &[f32]) -> Result<()> {
    let seconds = mono.len() as f64 / f64::from(mirador_models::SAMPLE_RATE);
    let models = mirador_engine::LiveModels::load()?;
    let listeners = models.listeners(mirador_models::SAMPLE_RATE, None)?;
    // In the order `LiveModels::listeners` makes them.
    let names = [
        "genre and mood (CNN)",
        "beats (BeatNet)",
        "chords",
        "tuner (CREPE)",
    ];
    println!("\nlive listeners on the worker, one thread:");
    for (name, mut listener) in names.iter().zip(listeners) {
        let mut heard = mirador_engine::Heard::default();
        let start = Instant::now();
        for (i, block) in mono.chunks(512).enumerate() {
            listener.push(block, (i * 512) as u64);
            listener.update(&mut heard);
        }
        let share = 100.0 * start.elapsed().as_secs_f64() / seconds;
        println!("{name:<34} {share:>10.2} % of one core");
    }
    Ok(())
}

/// Sections on top of the feature table: the frames' units as they come, then the whole
/// segmentation, for a 4-minute song (the clip's frames played 8 times over, beats at
/// 120 BPM); and the live novelty per second of audio.
fn section_cost(
    samples: &[f32],
    (rate, channels): (u32, usize),
    seconds: f64,
    chords_song: Option<f64>,
) -> Result<()> {
    use mirador_dsp::structure::columns::FrameView;
    use mirador_models::sections::SectionPipeline;
    let mut analyzer = StreamingAnalyzer::new(&AnalyzerConfig::new(rate, channels))?;
    /// What sections read of a frame, kept to be played again.
    struct Kept {
        time: f64,
        position: u64,
        chroma: [f32; 12],
        mfcc: Vec<f32>,
        rms: f32,
    }
    let mut frames: Vec<Kept> = Vec::new();
    let mut keep = |f: &Frame| {
        frames.push(Kept {
            time: f.time,
            position: f.position,
            chroma: f.chroma,
            mfcc: f.mfcc.clone(),
            rms: f.rms,
        });
    };
    for block in samples.chunks(4096 * channels) {
        analyzer.process_interleaved(block, &mut keep);
    }
    analyzer.flush(&mut keep);
    impl Kept {
        fn view(&self, shift: f64) -> FrameView<'_> {
            FrameView {
                time: self.time + shift,
                position: self.position,
                chroma: &self.chroma,
                mfcc: &self.mfcc,
                rms: self.rms,
            }
        }
    }
    let song = 240.0;
    let repeats = (song / seconds).ceil() as usize;
    let beats: Vec<(f64, u8)> = (1..(song * 2.0) as usize)
        .map(|i| (i as f64 * 0.5, (i % 4 + 1) as u8))
        .collect();
    let file = median(RUNS, || {
        let start = Instant::now();
        let mut sections = SectionPipeline::for_clip();
        for r in 0..repeats {
            for f in &frames {
                sections.push(f.view(r as f64 * seconds));
            }
        }
        std::hint::black_box(sections.sections(&beats, song));
        start.elapsed().as_secs_f64()
    });
    println!("\nsections, one thread:");
    println!(
        "{:<34} {:>10.1} ms (480 beats)",
        "a 4-minute song",
        file * 1e3
    );
    if let Some(chords) = chords_song {
        println!(
            "{:<34} {:>10.1} ms (aim: 50 ms)",
            "sections and chords, 4 minutes",
            (file + chords) * 1e3
        );
    }
    let live = median(RUNS, || {
        let start = Instant::now();
        let mut sections = SectionPipeline::live();
        for f in &frames {
            sections.push(f.view(0.0));
            std::hint::black_box(sections.current());
        }
        start.elapsed().as_secs_f64()
    });
    println!(
        "{:<34} {:>10.4} % of one core",
        "live sections",
        100.0 * live / seconds
    );
    Ok(())
}

/// Chords of the clip on top of the feature table: the chord pipeline's chroma frames and
/// Viterbi, for the clip and scaled to a 4-minute song (returned, in seconds).
fn chord_cost(mono: &[f32], format: (u32, usize), seconds: f64, table: f64) -> Result<Option<f64>> {
    use mirador_models::chords::ChordPipeline;
    use mirador_models::Pipeline;
    if format != (mirador_models::SAMPLE_RATE, 1) {
        println!("\nchords: skipped (the chord bench takes a 22.05 kHz mono clip)");
        return Ok(None);
    }
    let time = median(RUNS, || {
        let start = Instant::now();
        let mut chords = ChordPipeline::for_clip(0.0);
        for (i, block) in mono.chunks(4096).enumerate() {
            chords.push(block, (i * 4096) as u64);
        }
        chords.finish();
        std::hint::black_box(chords.segments(None, seconds));
        start.elapsed().as_secs_f64()
    });
    println!(
        "
chords of the clip (chroma frames and Viterbi), one thread:"
    );
    println!(
        "{:<34} {:>10.1} ms ({:.0} % of the feature table)",
        "the clip",
        time * 1e3,
        100.0 * time / table
    );
    println!(
        "{:<34} {:>10.1} ms",
        "a 4-minute song (scaled)",
        time * 240.0 / seconds * 1e3
    );
    // Live: the forward filter and the running tuning estimate, in the worker's 512-sample
    // blocks.
    let live = median(RUNS, || {
        let start = Instant::now();
        let mut chords = ChordPipeline::live();
        for (i, block) in mono.chunks(512).enumerate() {
            chords.push(block, (i * 512) as u64);
            std::hint::black_box(chords.current());
        }
        start.elapsed().as_secs_f64()
    });
    println!(
        "{:<34} {:>10.2} % of one core",
        "live chord listener",
        100.0 * live / seconds
    );
    Ok(Some(time * 240.0 / seconds))
}

/// The live engine: audio-thread time per block against the block's real-time budget, and
/// the worker's time per second of audio.
fn audio_thread_cost(mono: &[f32], rate: u32) -> Result<()> {
    println!("\nlive engine at 48 kHz stereo, 10 000 blocks (worker drained between blocks):");
    println!(
        "{:<12} {:>14} {:>14} {:>14} {:>22}",
        "block", "mean % budget", "p99.9 % budget", "worst % budget", "worker ms per s audio"
    );
    let stereo = upsample_to_stereo(mono, rate, 48000);
    for block in [64usize, 512] {
        let (mut audio, mut worker, _reader) =
            mirador_engine::build(&AnalyzerConfig::new(48000, 2))?;
        let budget = block as f64 / 48000.0;
        let mut times = Vec::with_capacity(10_000);
        let mut worker_time = 0.0f64;
        let blocks = 10_000;
        for (i, chunk) in stereo
            .chunks_exact(block * 2)
            .cycle()
            .take(blocks)
            .enumerate()
        {
            let start = Instant::now();
            audio.process_interleaved(chunk);
            let took = start.elapsed().as_secs_f64();
            // The first blocks warm caches and fill the analyzer; they are not the steady state.
            if i >= 100 {
                times.push(took);
            }
            let start = Instant::now();
            worker.poll();
            worker_time += start.elapsed().as_secs_f64();
        }
        let audio_seconds = blocks as f64 * budget;
        times.sort_by(f64::total_cmp);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let p999 = times[times.len() * 999 / 1000];
        println!(
            "{:<12} {:>14.3} {:>14.2} {:>14.2} {:>22.2}",
            format!("{block} samples"),
            100.0 * mean / budget,
            100.0 * p999 / budget,
            100.0 * times[times.len() - 1] / budget,
            1e3 * worker_time / audio_seconds
        );
    }
    Ok(())
}

fn librosa_seconds(clip: &std::path::Path) -> Result<f64> {
    let script = python::repo_root().join("xtask/bench_librosa.py");
    let output = Command::new(python::python()?)
        .arg(script)
        .arg(clip)
        .arg(RUNS.to_string())
        .output()
        .context("running librosa")?;
    if !output.status.success() {
        bail!(
            "librosa bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = String::from_utf8_lossy(&output.stdout);
    let result: serde_json::Value = serde_json::from_str(line.trim())?;
    result["seconds_per_run"]
        .as_f64()
        .context("no seconds_per_run from librosa")
}

fn median(runs: usize, mut measure: impl FnMut() -> f64) -> f64 {
    let mut times: Vec<f64> = (0..runs).map(|_| measure()).collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// Linear-interpolated copy of a mono clip at another rate, in two channels: load for the
/// analyzer's resampler, not a listening test.
fn upsample_to_stereo(mono: &[f32], from: u32, to: u32) -> Vec<f32> {
    let n = (mono.len() as f64 * to as f64 / from as f64) as usize;
    let step = from as f64 / to as f64;
    (0..n)
        .flat_map(|i| {
            let x = i as f64 * step;
            let (j, frac) = (x as usize, (x.fract()) as f32);
            let a = mono[j.min(mono.len() - 1)];
            let b = mono[(j + 1).min(mono.len() - 1)];
            let v = a + (b - a) * frac;
            [v, v]
        })
        .collect()
}
