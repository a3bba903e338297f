//! The worker thread: drains the frame ring, keeps the history, runs the live analyses and
//! publishes an immutable [`Snapshot`] through a triple buffer. Control messages arrive over
//! a crossbeam channel.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Receiver;
use ebur128::{EbuR128, Mode};
use rtrb::Consumer;

use crate::live::audio::Counters;
use crate::live::frame::LiveFrame;
use crate::live::key::estimate_key;
use crate::live::listener::Listener;
use crate::live::snapshot::{Beat, Snapshot};
use crate::live::tempo;

/// Seconds of onset envelope the tempo looks at (librosa's `ac_size`).
const TEMPO_SECONDS: f64 = 8.0;
/// Frames between tempo updates.
const TEMPO_EVERY: u64 = 8;
/// Seconds of chroma the key is estimated from.
const KEY_SECONDS: f64 = 8.0;
/// How long the worker sleeps when the ring is empty.
const IDLE: Duration = Duration::from_millis(4);

pub enum Control {
    /// Forget all history (a seek, a new file).
    Reset,
    Shutdown,
}

pub struct Worker {
    consumer: Consumer<LiveFrame>,
    samples: Consumer<f32>,
    loudness: EbuR128,
    channels: usize,
    /// True peak of each drained chunk with its length in frames, newest last (3 s held).
    peaks: VecDeque<(f32, u64)>,
    publisher: triple_buffer::Input<Snapshot>,
    control: Receiver<Control>,
    counters: Arc<Counters>,
    state: Snapshot,
    onsets: Vec<f32>,
    frames_since_tempo: u64,
    input_rate: f64,
    hop_seconds: f64,
    listeners: Vec<Box<dyn Listener>>,
    /// Input frames that reached the audio stage so far (heard, discarded or dropped): the
    /// position on the audio timeline of the next sample in the ring.
    heard: u64,
    samples_dropped: u64,
}

impl Worker {
    pub(crate) fn new(
        consumer: Consumer<LiveFrame>,
        samples: Consumer<f32>,
        channels: usize,
        publisher: triple_buffer::Input<Snapshot>,
        control: Receiver<Control>,
        counters: Arc<Counters>,
        initial: Snapshot,
    ) -> Result<Self, ebur128::Error> {
        let frame_rate = initial.frame_rate;
        let loudness = EbuR128::new(
            channels as u32,
            initial.sample_rate,
            Mode::M | Mode::S | Mode::TRUE_PEAK,
        )?;
        Ok(Self {
            consumer,
            samples,
            loudness,
            channels,
            peaks: VecDeque::new(),
            publisher,
            control,
            counters,
            input_rate: initial.sample_rate as f64,
            hop_seconds: 1.0 / frame_rate,
            onsets: Vec::with_capacity((TEMPO_SECONDS * frame_rate) as usize + 1),
            frames_since_tempo: 0,
            state: initial,
            listeners: Vec::new(),
            heard: 0,
            samples_dropped: 0,
        })
    }

    /// Adds a model that hears the input (genre, mood, beats) and fills the snapshot's
    /// predictions.
    pub fn with_listener(mut self, listener: Box<dyn Listener>) -> Self {
        self.listeners.push(listener);
        self
    }

    /// Handles every frame waiting and publishes the result if there was any. Returns the
    /// number of frames handled.
    pub fn poll(&mut self) -> usize {
        let mut handled = 0;
        while let Ok(frame) = self.consumer.pop() {
            self.take(&frame);
            handled += 1;
        }
        self.feed_meter();
        let dropped = self.counters.frames_dropped.load(Ordering::Relaxed);
        // Frames set the publishing cadence (about 43 per second), not polls.
        if handled > 0 || dropped != self.state.frames_dropped {
            self.state.frames_dropped = dropped;
            self.read_meter();
            self.publish();
        }
        handled
    }

    /// Runs on its own thread until told to stop or the audio side is gone.
    pub fn spawn(mut self) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("mirador-worker".into())
            .spawn(move || loop {
                while let Ok(message) = self.control.try_recv() {
                    match message {
                        Control::Reset => self.reset(),
                        Control::Shutdown => return,
                    }
                }
                if self.poll() == 0 {
                    if self.consumer.is_abandoned() {
                        return;
                    }
                    std::thread::sleep(IDLE);
                }
            })
    }

    pub fn reset(&mut self) {
        let s = &mut self.state;
        s.spectrogram.clear();
        s.chroma.clear();
        s.mfcc.clear();
        s.tempo = None;
        s.beat = None;
        s.key = None;
        s.predictions = Default::default();
        self.onsets.clear();
        self.peaks.clear();
        self.loudness.reset();
        self.listeners.iter_mut().for_each(|l| l.reset());
        while self.consumer.pop().is_ok() {}
        let waiting = self.samples.slots() - self.samples.slots() % self.channels;
        if let Ok(chunk) = self.samples.read_chunk(waiting) {
            chunk.commit_all();
            self.heard += (waiting / self.channels) as u64;
        }
        self.publish();
    }

    fn take(&mut self, frame: &LiveFrame) {
        let s = &mut self.state;
        s.frames_received += 1;
        s.position = frame.position;
        s.time = frame.time;
        s.spectrogram.push(frame.log_mel);
        s.chroma.push(frame.chroma);
        s.mfcc.push(frame.mfcc);
        s.rms = frame.rms;
        s.centroid = frame.centroid;

        let window = self.onsets.capacity() - 1;
        if self.onsets.len() == window {
            self.onsets.remove(0);
        }
        self.onsets.push(frame.onset_strength);
        self.frames_since_tempo += 1;
        if self.frames_since_tempo >= TEMPO_EVERY {
            self.frames_since_tempo = 0;
            self.update_rhythm(frame.index);
            let key_frames = (KEY_SECONDS / self.hop_seconds) as usize;
            self.state.key = estimate_key(&self.state.mean_chroma(key_frames));
        }
    }

    /// Feeds the samples waiting to the loudness meter.
    fn feed_meter(&mut self) {
        // Samples the ring had no room for still took their place on the timeline.
        let dropped = self.counters.samples_dropped.load(Ordering::Relaxed);
        self.heard += (dropped - self.samples_dropped) / self.channels as u64;
        self.samples_dropped = dropped;
        let waiting = self.samples.slots() - self.samples.slots() % self.channels;
        if waiting == 0 {
            return;
        }
        let Ok(chunk) = self.samples.read_chunk(waiting) else {
            return;
        };
        let (first, second) = chunk.as_slices();
        let mut peak = 0f32;
        for part in [first, second] {
            // A slice may end mid-frame where the ring wraps; the meter takes whole frames.
            let whole = part.len() - part.len() % self.channels;
            for listener in &mut self.listeners {
                listener.listen(&part[..whole], self.heard);
            }
            self.heard += (whole / self.channels) as u64;
            if whole > 0 && self.loudness.add_frames_f32(&part[..whole]).is_ok() {
                for channel in 0..self.channels as u32 {
                    peak = peak.max(self.loudness.prev_true_peak(channel).unwrap_or(0.0) as f32);
                }
            }
        }
        chunk.commit_all();
        for listener in &mut self.listeners {
            listener.update(&mut self.state.predictions);
        }
        let frames = (waiting / self.channels) as u64;
        self.peaks.push_back((peak, frames));
        let hold = 3 * self.state.sample_rate as u64;
        while self.peaks.iter().map(|p| p.1).sum::<u64>()
            > hold + self.peaks.front().map_or(0, |p| p.1)
        {
            self.peaks.pop_front();
        }
    }

    fn read_meter(&mut self) {
        let l = &mut self.state.loudness;
        l.momentary_lufs = self
            .loudness
            .loudness_momentary()
            .unwrap_or(f64::NEG_INFINITY) as f32;
        l.short_term_lufs = self
            .loudness
            .loudness_shortterm()
            .unwrap_or(f64::NEG_INFINITY) as f32;
        let held = self.peaks.iter().fold(0f32, |a, p| a.max(p.0));
        l.true_peak_dbtp = 20.0 * held.max(1e-10).log10();
    }

    fn update_rhythm(&mut self, newest: u64) {
        let frame_rate = 1.0 / self.hop_seconds;
        let Some((tempo, phase)) = tempo::estimate(&self.onsets, frame_rate, newest) else {
            return;
        };
        let time = phase.last_beat_frame * self.hop_seconds;
        self.state.tempo = Some(tempo);
        self.state.beat = Some(Beat {
            position: (time * self.input_rate).round() as u64,
            time,
            period: phase.period_frames * self.hop_seconds,
        });
    }

    fn publish(&mut self) {
        self.publisher.input_buffer_mut().clone_from(&self.state);
        self.publisher.publish();
    }
}
