//! Playback on a sound device: blocks are converted to the device's format and queued for its
//! callback, which plays them and feeds the engine exactly what it plays.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};
use mirador_engine::AudioStage;
use rtrb::{Consumer, Producer, RingBuffer};

use super::thread::spawn;
use super::{Output, PlayError, Transport};
use crate::convert::Converter;
use crate::decode::Decoder;
use crate::device::Opened;

/// Audio queued for the device, in seconds: enough to ride out a slow decode, little enough
/// that pause and seek answer at once.
const DEVICE_QUEUE_SECONDS: f64 = 0.2;

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
        flushed: false,
    };
    spawn(path, decoder, output, transport.clone())?;
    Ok(transport)
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
    /// The converter's last samples are queued (the file has ended).
    flushed: bool,
}

impl ToDevice {
    /// Queues `converted` for the callback, waiting while the queue is full (not past a seek).
    fn queue(&mut self, t: &Transport) {
        let mut rest = &self.converted[..];
        while !rest.is_empty() && !t.seek_pending() && !t.is_stopped() {
            let (_, left) = self.producer.push_partial_slice(rest);
            rest = left;
            if !rest.is_empty() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

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
        self.queue(t);
    }

    fn restart(&mut self, position: u64, t: &Transport) {
        self.set_running(true, t);
        self.converter.reset();
        self.flushed = false;
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
        if t.is_finished() && !self.flushed {
            self.flushed = true;
            self.converted.clear();
            self.converter.flush(&mut self.converted);
            self.queue(t);
        }
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
