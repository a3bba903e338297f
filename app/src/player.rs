//! File playback for `mirador play`: a thread decodes the file, handles pause and seek, and
//! hands blocks to an output. On a sound device the output callback plays each block and
//! feeds the same samples to the live engine, so the analysis follows what is heard. With
//! `--no-audio` a clock paces the blocks instead, so the analysis runs where no device exists.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};
use mirador_engine::AudioStage;
use rtrb::{Consumer, Producer, RingBuffer};

use crate::convert::Converter;
use crate::decode::{DecodeError, Decoder};
use crate::device::{DeviceError, Opened};

/// Frames handed to the output at a time.
const BLOCK_FRAMES: usize = 512;
/// Audio queued for the device, in seconds: enough to ride out a slow decode, little enough
/// that pause and seek answer at once.
const DEVICE_QUEUE_SECONDS: f64 = 0.2;
const NO_SEEK: u64 = u64::MAX;

#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("sound device: {0}")]
    Stream(#[from] cpal::Error),
}

/// Shared between the player thread, the output and the GUI.
pub struct Transport {
    /// The file's rate: positions count the file's frames.
    pub sample_rate: u32,
    /// Frames per channel, when the container says.
    pub length: Option<u64>,
    /// What plays the file, for the window's status line.
    pub output: String,
    paused: AtomicBool,
    finished: AtomicBool,
    position: AtomicU64,
    seek_to: AtomicU64,
    /// Set by the player after a seek so the GUI can reset the worker's history.
    seeked: AtomicBool,
    /// Device callbacks that ran out of decoded audio and played silence.
    underruns: AtomicU64,
    /// Why playback stopped early, if it did (a corrupt packet, a vanished file, a device gone).
    error: Mutex<Option<String>>,
}

impl Transport {
    fn new(sample_rate: u32, length: Option<u64>, output: String) -> Self {
        Self {
            sample_rate,
            length,
            output,
            paused: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            position: AtomicU64::new(0),
            seek_to: AtomicU64::new(NO_SEEK),
            seeked: AtomicBool::new(false),
            underruns: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// Seconds into the file of what is being heard.
    pub fn time(&self) -> f64 {
        self.position() as f64 / self.sample_rate as f64
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

    fn seek_pending(&self) -> bool {
        self.seek_to.load(Ordering::Relaxed) != NO_SEEK
    }

    pub fn underruns(&self) -> u64 {
        self.underruns.load(Ordering::Relaxed)
    }

    pub fn error(&self) -> Option<String> {
        self.error.lock().ok()?.clone()
    }

    fn set_error(&self, message: String) {
        if let Ok(mut error) = self.error.lock() {
            error.get_or_insert(message);
        }
    }

    /// True once after each completed seek.
    pub fn take_seeked(&self) -> bool {
        self.seeked.swap(false, Ordering::Relaxed)
    }
}

/// Where the player thread's blocks go.
trait Output: Send {
    /// Takes a block of interleaved samples at the file's rate and channel count; returns
    /// when it is ready for the next one (or early, when a seek is pending).
    fn write(&mut self, block: &[f32], t: &Transport);
    /// Drops what is queued and restarts the timeline at file frame `position`.
    fn restart(&mut self, position: u64, t: &Transport);
    /// Called while paused or finished, so a clock does not run ahead.
    fn idle(&mut self, position: u64, t: &Transport);
}

/// Plays `path` into `audio` at the pace of the wall clock, with nothing heard.
pub fn play_clocked(path: PathBuf, audio: AudioStage) -> Result<Arc<Transport>, PlayError> {
    let decoder = Decoder::open(&path)?;
    let info = decoder.info().clone();
    let transport = Arc::new(Transport::new(
        info.sample_rate,
        info.declared_frames,
        "no sound device (--no-audio): paced by the clock".into(),
    ));
    let output = Clocked {
        audio,
        channels: info.channels,
        rate: info.sample_rate as f64,
        origin: Instant::now(),
    };
    spawn(path, decoder, output, transport.clone())?;
    Ok(transport)
}

/// Plays `path` on `device`, feeding `audio` (made for the device's rate and channels) with
/// exactly the samples the device plays.
pub fn play_on_device(
    path: PathBuf,
    device: Opened,
    audio: AudioStage,
) -> Result<Arc<Transport>, PlayError> {
    let decoder = Decoder::open(&path)?;
    let info = decoder.info().clone();
    let rate = device.config.sample_rate;
    let channels = device.config.channels as usize;
    let transport = Arc::new(Transport::new(
        info.sample_rate,
        info.declared_frames,
        format!("{} ({rate} Hz, {channels} ch)", device.name),
    ));
    let capacity = (DEVICE_QUEUE_SECONDS * rate as f64) as usize * channels;
    let (producer, consumer) = RingBuffer::new(capacity.max(4096));
    let shared = Arc::new(DeviceShared {
        flush: AtomicBool::new(false),
        base: AtomicU64::new(0),
    });
    let mut callback = DeviceCallback {
        consumer,
        audio,
        channels,
        file_per_device_frame: info.sample_rate as f64 / rate as f64,
        played: 0,
        shared: shared.clone(),
        transport: transport.clone(),
    };
    let errors = transport.clone();
    let stream = device.device.build_output_stream(
        device.config,
        move |out: &mut [f32], _: &cpal::OutputCallbackInfo| callback.fill(out),
        move |e| errors.set_error(format!("sound device: {e}")),
        None,
    )?;
    stream.play()?;
    let output = ToDevice {
        producer,
        converter: Converter::new(info.sample_rate, info.channels, rate, channels)?,
        shared,
        converted: Vec::new(),
        stream,
        running: true,
    };
    spawn(path, decoder, output, transport.clone())?;
    Ok(transport)
}

fn spawn(
    path: PathBuf,
    decoder: Decoder,
    mut output: impl Output + 'static,
    transport: Arc<Transport>,
) -> Result<(), PlayError> {
    std::thread::Builder::new()
        .name("mirador-player".into())
        .spawn(move || {
            if let Err(e) = run(path, decoder, &mut output, &transport) {
                transport.set_error(e.to_string());
                transport.finished.store(true, Ordering::Relaxed);
            }
        })
        .map_err(DecodeError::Open)?;
    Ok(())
}

fn run(
    path: PathBuf,
    mut decoder: Decoder,
    output: &mut impl Output,
    t: &Transport,
) -> Result<(), DecodeError> {
    let channels = decoder.info().channels;
    let block = BLOCK_FRAMES * channels;
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
                let frames = (samples.len() / channels) as u64;
                if position + frames > target {
                    let keep = ((position + frames - target) as usize) * channels;
                    pending.extend_from_slice(&samples[samples.len() - keep..]);
                    position = target;
                } else {
                    position += frames;
                }
            }
            output.restart(position, t);
            t.finished.store(false, Ordering::Relaxed);
            t.seeked.store(true, Ordering::Relaxed);
        }
        if t.is_paused() || t.is_finished() {
            std::thread::sleep(Duration::from_millis(10));
            output.idle(position, t);
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
        output.write(&pending[..n], t);
        pending.drain(..n);
        position += (n / channels) as u64;
    }
}

/// Feeds the engine directly, each block when the wall clock says it is due.
struct Clocked {
    audio: AudioStage,
    channels: usize,
    rate: f64,
    /// Wall-clock instant at which the current position's frame 0 would have played.
    origin: Instant,
}

impl Clocked {
    fn set_origin(&mut self, position: u64) {
        self.origin = Instant::now() - Duration::from_secs_f64(position as f64 / self.rate);
    }
}

impl Output for Clocked {
    fn write(&mut self, block: &[f32], t: &Transport) {
        let position = t.position();
        let due = self.origin + Duration::from_secs_f64(position as f64 / self.rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        self.audio.process_interleaved(block);
        let frames = (block.len() / self.channels) as u64;
        t.position.fetch_add(frames, Ordering::Relaxed);
    }

    fn restart(&mut self, position: u64, t: &Transport) {
        t.position.store(position, Ordering::Relaxed);
        self.set_origin(position);
    }

    fn idle(&mut self, position: u64, _t: &Transport) {
        self.set_origin(position);
    }
}

/// Between the player thread and the device callback.
struct DeviceShared {
    /// Set by the player after a seek; the callback drops what is queued and clears it.
    flush: AtomicBool,
    /// File frame at which the queue (after the last flush) starts.
    base: AtomicU64,
}

/// Converts blocks to the device's format and queues them for its callback. Owns the stream,
/// which it stops once the end of the file has been played, and starts again after a seek.
struct ToDevice {
    producer: Producer<f32>,
    converter: Converter,
    shared: Arc<DeviceShared>,
    converted: Vec<f32>,
    stream: cpal::Stream,
    running: bool,
}

impl ToDevice {
    fn set_running(&mut self, running: bool, t: &Transport) {
        if running != self.running {
            let result = if running {
                self.stream.play()
            } else {
                self.stream.pause()
            };
            match result {
                Ok(()) => self.running = running,
                // Some devices (ALSA's null, some plugins) cannot pause: they play silence.
                Err(e) if e.kind() == cpal::ErrorKind::UnsupportedOperation => {}
                Err(e) => t.set_error(format!("sound device: {e}")),
            }
        }
    }
}

impl Output for ToDevice {
    fn write(&mut self, block: &[f32], t: &Transport) {
        self.set_running(true, t);
        self.converted.clear();
        self.converter.process(block, &mut self.converted);
        let mut rest = &self.converted[..];
        while !rest.is_empty() && !t.seek_pending() {
            let (_, left) = self.producer.push_partial_slice(rest);
            rest = left;
            if !rest.is_empty() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    fn restart(&mut self, position: u64, t: &Transport) {
        self.set_running(true, t);
        self.converter.reset();
        self.shared.base.store(position, Ordering::Relaxed);
        self.shared.flush.store(true, Ordering::Release);
        // Wait for the callback to drop the old queue, so no new sample is dropped with it.
        let deadline = Instant::now() + Duration::from_millis(500);
        while self.shared.flush.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if self.shared.flush.swap(false, Ordering::AcqRel) {
            // The device stopped calling back; nothing is being played anyway.
            t.position.store(position, Ordering::Relaxed);
        }
    }

    fn idle(&mut self, _position: u64, t: &Transport) {
        // Finished and everything queued played: stop the device instead of playing silence.
        let drained = self.producer.slots() == self.producer.buffer().capacity();
        if t.is_finished() && drained {
            self.set_running(false, t);
        }
    }
}

/// The device's audio callback: plays the queue and analyzes exactly what it plays.
/// Real-time: no allocation, no locks, bounded work.
struct DeviceCallback {
    consumer: Consumer<f32>,
    audio: AudioStage,
    channels: usize,
    file_per_device_frame: f64,
    /// Device frames played since the last flush.
    played: u64,
    shared: Arc<DeviceShared>,
    transport: Arc<Transport>,
}

impl DeviceCallback {
    fn fill(&mut self, out: &mut [f32]) {
        let t = &*self.transport;
        if self.shared.flush.load(Ordering::Acquire) {
            let queued = self.consumer.slots();
            if let Ok(chunk) = self.consumer.read_chunk(queued) {
                chunk.commit_all();
            }
            self.played = 0;
            self.shared.flush.store(false, Ordering::Release);
        }
        if t.is_paused() {
            out.fill(0.0);
            return;
        }
        let whole_frames = self.consumer.slots() / self.channels * self.channels;
        let n = whole_frames.min(out.len());
        let (played, silent) = out.split_at_mut(n);
        let (filled, _) = self.consumer.pop_partial_slice(played);
        debug_assert_eq!(filled.len(), n);
        silent.fill(0.0);
        if !silent.is_empty() && !t.is_finished() {
            t.underruns.fetch_add(1, Ordering::Relaxed);
        }
        if n > 0 {
            self.audio.process_interleaved(&out[..n]);
            let frames = (n / self.channels) as u64;
            self.played += frames;
            let base = self.shared.base.load(Ordering::Relaxed);
            let heard = base + (self.played as f64 * self.file_per_device_frame) as u64;
            t.position.store(heard, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assert_no_alloc::{assert_no_alloc, violation_count, AllocDisabler};
    use mirador_dsp::AnalyzerConfig;
    use mirador_engine::build;

    #[global_allocator]
    static ALLOCATOR: AllocDisabler = AllocDisabler;

    fn callback(channels: usize) -> (DeviceCallback, Producer<f32>, Arc<Transport>) {
        let (audio, _worker, _reader) = build(&AnalyzerConfig::new(48_000, channels)).unwrap();
        let (producer, consumer) = RingBuffer::new(4096);
        let transport = Arc::new(Transport::new(24_000, None, "test".into()));
        let callback = DeviceCallback {
            consumer,
            audio,
            channels,
            file_per_device_frame: 0.5,
            played: 0,
            shared: Arc::new(DeviceShared {
                flush: AtomicBool::new(false),
                base: AtomicU64::new(0),
            }),
            transport: transport.clone(),
        };
        (callback, producer, transport)
    }

    #[test]
    fn callback_plays_the_queue_then_silence_and_tracks_the_position() {
        let (mut callback, mut producer, t) = callback(2);
        let queued: Vec<f32> = (1..=600).map(|i| i as f32).collect();
        producer.push_entire_slice(&queued).unwrap();
        let mut out = vec![f32::NAN; 512];
        let before = violation_count();
        assert_no_alloc(|| callback.fill(&mut out));
        assert_eq!(violation_count(), before, "the device callback allocated");
        assert_eq!(out, queued[..512]);
        assert_eq!((t.position(), t.underruns()), (128, 0));
        callback.fill(&mut out);
        assert_eq!(out[..88], queued[512..]);
        assert!(
            out[88..].iter().all(|&s| s == 0.0),
            "underrun plays silence"
        );
        assert_eq!(t.underruns(), 1);
    }

    #[test]
    fn callback_drops_the_queue_on_seek_and_plays_silence_while_paused() {
        let (mut callback, mut producer, t) = callback(1);
        producer.push_entire_slice(&[0.5; 1000]).unwrap();
        callback.shared.base.store(10_000, Ordering::Relaxed);
        callback.shared.flush.store(true, Ordering::Relaxed);
        producer.push_entire_slice(&[0.25; 100]).unwrap();
        let mut out = vec![f32::NAN; 64];
        callback.fill(&mut out);
        assert!(!callback.shared.flush.load(Ordering::Relaxed));
        assert!(
            out.iter().all(|&s| s == 0.0),
            "the old queue and the new one went"
        );

        producer.push_entire_slice(&[0.25; 100]).unwrap();
        t.set_paused(true);
        callback.fill(&mut out);
        assert!(out.iter().all(|&s| s == 0.0));
        assert_eq!(
            callback.consumer.slots(),
            100,
            "nothing consumed while paused"
        );
        t.set_paused(false);
        callback.fill(&mut out);
        assert!(out.iter().all(|&s| s == 0.25));
        assert_eq!(t.position(), 10_032);
    }
}
