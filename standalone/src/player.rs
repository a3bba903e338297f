//! File playback for `mirador play`: a thread decodes the file and feeds the live engine's
//! audio stage in small blocks at the pace of a clock, with pause and seek. With `--no-audio`
//! that clock is the wall clock, so the analysis runs where no sound device exists.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mirador_dsp::live::AudioStage;

use crate::decode::{DecodeError, Decoder};

/// Frames handed to the audio stage at a time, like an audio callback.
const BLOCK_FRAMES: usize = 512;
const NO_SEEK: u64 = u64::MAX;

/// Shared between the player thread and the GUI.
pub struct Transport {
    pub sample_rate: u32,
    pub channels: usize,
    /// Frames per channel, when the container says.
    pub length: Option<u64>,
    paused: AtomicBool,
    finished: AtomicBool,
    position: AtomicU64,
    /// Frames handed to the engine since the start, seeks included: the engine's timeline.
    fed: AtomicU64,
    seek_to: AtomicU64,
    /// Set by the player after a seek so the GUI can reset the worker's history.
    seeked: AtomicBool,
    /// Why playback stopped early, if it did (a corrupt packet, a vanished file).
    error: Mutex<Option<String>>,
}

impl Transport {
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// Seconds into the file of what is being played.
    pub fn time(&self) -> f64 {
        self.position() as f64 / self.sample_rate as f64
    }

    /// Seconds on the engine's timeline (what snapshot times refer to) of what is playing.
    pub fn engine_time(&self) -> f64 {
        self.fed.load(Ordering::Relaxed) as f64 / self.sample_rate as f64
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Relaxed)
    }

    pub fn seek(&self, frame: u64) {
        self.seek_to.store(frame, Ordering::Relaxed);
    }

    pub fn error(&self) -> Option<String> {
        self.error.lock().ok()?.clone()
    }

    /// True once after each completed seek.
    pub fn take_seeked(&self) -> bool {
        self.seeked.swap(false, Ordering::Relaxed)
    }
}

/// Starts playback of `path` into `audio`, paced by the wall clock.
pub fn play(path: PathBuf, mut audio: AudioStage) -> Result<Arc<Transport>, DecodeError> {
    let decoder = Decoder::open(&path)?;
    let info = decoder.info().clone();
    let transport = Arc::new(Transport {
        sample_rate: info.sample_rate,
        channels: info.channels,
        length: info.declared_frames,
        paused: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        position: AtomicU64::new(0),
        fed: AtomicU64::new(0),
        seek_to: AtomicU64::new(NO_SEEK),
        seeked: AtomicBool::new(false),
        error: Mutex::new(None),
    });
    let shared = transport.clone();
    std::thread::Builder::new()
        .name("mirador-player".into())
        .spawn(move || {
            if let Err(e) = run(path, decoder, &mut audio, &shared) {
                if let Ok(mut error) = shared.error.lock() {
                    *error = Some(e.to_string());
                }
                shared.finished.store(true, Ordering::Relaxed);
            }
        })
        .map_err(DecodeError::Open)?;
    Ok(transport)
}

fn run(
    path: PathBuf,
    mut decoder: Decoder,
    audio: &mut AudioStage,
    t: &Transport,
) -> Result<(), DecodeError> {
    let rate = t.sample_rate as f64;
    let block = BLOCK_FRAMES * t.channels;
    // Wall-clock instant at which frame 0 would have played.
    let mut origin = Instant::now();
    let mut position = 0u64;
    let mut pending: Vec<f32> = Vec::new();
    loop {
        let target = t.seek_to.swap(NO_SEEK, Ordering::Relaxed);
        if target != NO_SEEK {
            decoder = Decoder::open(&path)?;
            pending.clear();
            position = 0;
            // Decode up to the target; the samples before it are skipped, not analyzed.
            while position < target {
                let Some(samples) = decoder.next_block()? else {
                    break;
                };
                let frames = (samples.len() / t.channels) as u64;
                if position + frames > target {
                    let keep = ((position + frames - target) as usize) * t.channels;
                    pending.extend_from_slice(&samples[samples.len() - keep..]);
                    position = target;
                } else {
                    position += frames;
                }
            }
            t.position.store(position, Ordering::Relaxed);
            t.finished.store(false, Ordering::Relaxed);
            t.seeked.store(true, Ordering::Relaxed);
            origin = Instant::now() - Duration::from_secs_f64(position as f64 / rate);
        }
        if t.is_paused() || t.is_finished() {
            std::thread::sleep(Duration::from_millis(10));
            origin = Instant::now() - Duration::from_secs_f64(position as f64 / rate);
            continue;
        }
        if pending.len() < block {
            match decoder.next_block()? {
                Some(samples) => pending.extend_from_slice(samples),
                None if pending.is_empty() => {
                    t.finished.store(true, Ordering::Relaxed);
                    continue;
                }
                None => {}
            }
        }
        let n = block.min(pending.len());
        // Wait until this block's start is due on the clock.
        let due = origin + Duration::from_secs_f64(position as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        audio.process_interleaved(&pending[..n]);
        pending.drain(..n);
        position += (n / t.channels) as u64;
        t.position.store(position, Ordering::Relaxed);
        t.fed.fetch_add((n / t.channels) as u64, Ordering::Relaxed);
    }
}
