//! The worker thread: drains the frame ring, keeps the history, runs the live analyses and
//! publishes an immutable [`Snapshot`] through a triple buffer. Control messages arrive over
//! a crossbeam channel.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Receiver;
use rtrb::Consumer;

use crate::live::audio::Counters;
use crate::live::frame::LiveFrame;
use crate::live::key::estimate_key;
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
    publisher: triple_buffer::Input<Snapshot>,
    control: Receiver<Control>,
    counters: Arc<Counters>,
    state: Snapshot,
    onsets: Vec<f32>,
    peaks: Vec<f32>,
    frames_since_tempo: u64,
    input_rate: f64,
    hop_seconds: f64,
}

impl Worker {
    pub(crate) fn new(
        consumer: Consumer<LiveFrame>,
        publisher: triple_buffer::Input<Snapshot>,
        control: Receiver<Control>,
        counters: Arc<Counters>,
        initial: Snapshot,
    ) -> Self {
        let frame_rate = initial.frame_rate;
        Self {
            consumer,
            publisher,
            control,
            counters,
            input_rate: initial.sample_rate as f64,
            hop_seconds: 1.0 / frame_rate,
            onsets: Vec::with_capacity((TEMPO_SECONDS * frame_rate) as usize + 1),
            peaks: Vec::new(),
            frames_since_tempo: 0,
            state: initial,
        }
    }

    /// Handles every frame waiting and publishes the result if there was any. Returns the
    /// number of frames handled.
    pub fn poll(&mut self) -> usize {
        let mut handled = 0;
        while let Ok(frame) = self.consumer.pop() {
            self.take(&frame);
            handled += 1;
        }
        let dropped = self.counters.frames_dropped.load(Ordering::Relaxed);
        if handled > 0 || dropped != self.state.frames_dropped {
            self.state.frames_dropped = dropped;
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
        self.onsets.clear();
        self.peaks.clear();
        while self.consumer.pop().is_ok() {}
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
        s.loudness.momentary_lufs = frame.momentary_lufs;
        s.loudness.short_term_lufs = frame.short_term_lufs;

        // True peak held over the last 3 s.
        let hold = (3.0 / self.hop_seconds) as usize;
        self.peaks.push(frame.true_peak);
        if self.peaks.len() > hold {
            self.peaks.remove(0);
        }
        let peak = self.peaks.iter().fold(0f32, |a, &b| a.max(b));
        s.loudness.true_peak_dbtp = 20.0 * peak.max(1e-10).log10();

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
            let mut mean = [0f32; 12];
            for column in self.state.chroma.iter().rev().take(key_frames) {
                for (m, c) in mean.iter_mut().zip(column) {
                    *m += c;
                }
            }
            self.state.key = estimate_key(&mean);
        }
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
