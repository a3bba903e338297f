//! The worker thread: drains the rings, keeps the history, runs the live analyses and the
//! listeners, chooses the rhythm the views show, and publishes a [`Snapshot`] through a
//! triple buffer. Control messages arrive over a crossbeam channel.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Receiver;
use mirador_dsp::loudness::Meter;
use mirador_dsp::rhythm::beat_phase;
use mirador_dsp::structure::columns::FrameView;
use mirador_models::notes::NoteEvent;
use mirador_models::sections::SectionPipeline;
use rtrb::{Consumer, Producer};

use crate::audio::Counters;
use crate::beat_grid::BeatGrid;
use crate::events::EventSink;
use crate::frame::{LiveFrame, SampleBlock};
use crate::listener::{Heard, Listener};
use crate::snapshot::{Beat, History, LiveNote, Rhythm, RhythmSource, Snapshot};

/// Seconds of onset envelope the tempo looks at (librosa's `ac_size`).
const TEMPO_SECONDS: f64 = 8.0;
/// Frames between tempo updates.
const TEMPO_EVERY: u64 = 8;
/// The beat model's rhythm is shown while its newest beat is at most this many periods old.
const BEAT_MODEL_PERIODS: f64 = 4.0;
/// How long the worker sleeps when the rings are empty.
const IDLE: Duration = Duration::from_millis(4);

pub enum Control {
    /// Forget all history (a seek, a new file).
    Reset,
    /// Explain the genre (the snapshot's `saliency`), or stop.
    Explain(bool),
    Shutdown,
}

/// The rings the worker drains.
pub(crate) struct Consumers {
    pub frames: Consumer<LiveFrame>,
    pub blocks: Consumer<SampleBlock>,
    pub samples: Consumer<f32>,
}

/// What the worker hands on: snapshots to the views; the beat grid and the transcribed notes
/// to the audio thread (the plugin's note output).
pub(crate) struct Outlets {
    pub snapshots: triple_buffer::Input<Snapshot>,
    pub grid: triple_buffer::Input<BeatGrid>,
    pub notes: Producer<NoteEvent>,
}

pub struct Worker {
    input: Consumers,
    meter: Meter,
    channels: usize,
    publisher: triple_buffer::Input<Snapshot>,
    /// The beat grid the audio thread reads.
    grid: triple_buffer::Input<BeatGrid>,
    /// The transcribed notes, to the audio thread; dropped when it does not take them.
    notes_out: Producer<NoteEvent>,
    control: Receiver<Control>,
    counters: Arc<Counters>,
    state: Snapshot,
    onsets: Vec<f32>,
    frames_since_tempo: u64,
    input_rate: f64,
    hop_seconds: f64,
    listeners: Vec<Box<dyn Listener>>,
    /// Where what is heard is announced, when something listens (OSC).
    events: Option<EventSink>,
    heard: Heard,
    /// The onset autocorrelation's newest rhythm.
    onset_rhythm: Option<Rhythm>,
    /// Where the next sample block should start if nothing was lost.
    next_block: Option<u64>,
    /// Sections from the frames' chroma and MFCCs (no model: always on).
    sections: SectionPipeline,
}

impl Worker {
    pub(crate) fn new(
        input: Consumers,
        meter: Meter,
        channels: usize,
        outlets: Outlets,
        control: Receiver<Control>,
        counters: Arc<Counters>,
        initial: Snapshot,
    ) -> Self {
        let frame_rate = initial.frame_rate;
        Self {
            input,
            meter,
            channels,
            publisher: outlets.snapshots,
            grid: outlets.grid,
            notes_out: outlets.notes,
            control,
            counters,
            input_rate: initial.sample_rate as f64,
            hop_seconds: 1.0 / frame_rate,
            onsets: Vec::with_capacity((TEMPO_SECONDS * frame_rate) as usize + 1),
            frames_since_tempo: 0,
            state: initial,
            listeners: Vec::new(),
            events: None,
            heard: Heard::default(),
            onset_rhythm: None,
            next_block: None,
            sections: SectionPipeline::live(),
        }
    }

    /// Adds a model that hears the input (genre, mood, beats).
    pub fn with_listener(mut self, listener: Box<dyn Listener>) -> Self {
        self.listeners.push(listener);
        self
    }

    /// Announces beats, chords, keys and the rest to `sink` as they come.
    pub fn with_events(mut self, sink: EventSink) -> Self {
        self.events = Some(sink);
        self
    }

    /// Handles everything waiting and publishes the result if there was a frame. Returns
    /// the number of frames handled.
    pub fn poll(&mut self) -> usize {
        let mut handled = 0;
        while let Ok(frame) = self.input.frames.pop() {
            self.take(&frame);
            handled += 1;
        }
        let heard_news = self.feed_listeners();
        self.feed_meter();
        let dropped = self.counters.frames_dropped.load(Ordering::Relaxed);
        // Frames set the publishing cadence (about 43 per second), not polls; news that a
        // listener's own thread brings is published when it comes (paused or not).
        if handled > 0 || heard_news || dropped != self.state.frames_dropped {
            self.state.frames_dropped = dropped;
            self.read_meter();
            self.choose_rhythm();
            if let Some(events) = &mut self.events {
                events.update(&self.state);
            }
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
                        Control::Explain(on) => self.explain(on),
                        Control::Shutdown => return,
                    }
                }
                if self.poll() == 0 {
                    if self.input.frames.is_abandoned() {
                        return;
                    }
                    std::thread::sleep(IDLE);
                }
            })
    }

    /// Starts or stops the listeners' explanations; stopping clears what was shown.
    pub fn explain(&mut self, on: bool) {
        self.listeners.iter_mut().for_each(|l| l.explain(on));
        if !on {
            self.state.saliency.clear();
            self.heard.saliency.clear();
            self.publish();
        }
    }

    /// Forgets the stream so far: histories, analyses, listeners and what waits in the rings.
    pub fn reset(&mut self) {
        let s = &mut self.state;
        s.spectrogram.clear();
        s.chroma.clear();
        s.mfcc.clear();
        s.rhythm = None;
        s.key = None;
        s.chord = None;
        s.tuner = None;
        s.notes.clear();
        s.chords.clear();
        s.section = None;
        s.sections.clear();
        s.saliency.clear();
        s.genre = None;
        s.mood = None;
        s.model_error = None;
        s.references = None;
        self.heard = Heard::default();
        self.onset_rhythm = None;
        self.onsets.clear();
        self.frames_since_tempo = 0;
        self.sections.discontinuity();
        self.meter.reset();
        self.listeners.iter_mut().for_each(|l| l.reset());
        if let Some(events) = &mut self.events {
            events.reset();
        }
        while self.input.frames.pop().is_ok() {}
        while self.input.blocks.pop().is_ok() {}
        self.next_block = None;
        let waiting = self.input.samples.slots();
        if let Ok(chunk) = self.input.samples.read_chunk(waiting) {
            chunk.commit_all();
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
        self.sections.push(FrameView {
            time: frame.time,
            position: frame.position,
            chroma: &frame.chroma,
            mfcc: &frame.mfcc,
            rms: frame.rms,
        });
        let section = self.sections.current();
        if let Some(now) = section.filter(|&now| s.section != Some(now)) {
            s.sections.push(now);
        }
        s.section = section;

        let window = self.onsets.capacity() - 1;
        if self.onsets.len() == window {
            self.onsets.remove(0);
        }
        self.onsets.push(frame.onset_strength);
        self.frames_since_tempo += 1;
        if self.frames_since_tempo >= TEMPO_EVERY {
            self.frames_since_tempo = 0;
            self.update_onset_rhythm(frame.index);
        }
    }

    /// Hands the listeners the analysis-rate blocks waiting, with a discontinuity wherever a
    /// block was dropped or analysis was off, and takes what they say; returns whether it
    /// came without new audio (a result from a listener's own thread).
    fn feed_listeners(&mut self) -> bool {
        let mut any = false;
        while let Ok(block) = self.input.blocks.pop() {
            any = true;
            let gap = block.discontinuity || self.next_block.is_some_and(|n| n != block.position);
            for listener in &mut self.listeners {
                if gap {
                    listener.discontinuity(block.position);
                }
                listener.push(block.samples(), block.position);
            }
            self.next_block = Some(block.position + block.len as u64);
        }
        for listener in &mut self.listeners {
            listener.update(&mut self.heard);
        }
        for cell in self.heard.saliency.drain(..) {
            self.state.saliency.push(cell);
        }
        for event in self.heard.notes.drain(..) {
            play_note(&mut self.state.notes, event);
            // A plugin that does not send them (or a host that stopped) lets them drop.
            let _ = self.notes_out.push(event);
            if let Some(events) = &mut self.events {
                events.note(event);
            }
        }
        let h = &self.heard;
        let s = &mut self.state;
        let news = !same(&s.references, &h.references);
        if any || news {
            s.genre.clone_from(&h.genre);
            s.mood.clone_from(&h.mood);
            s.predictions_withheld = h.predictions_withheld;
            s.references.clone_from(&h.references);
            s.chord = h.chord;
            s.key = h.key;
            s.tuner = h.tuner;
            if let Some(c) = h.chord {
                if s.chords.newest().is_none_or(|n| n.chord != c.chord) {
                    s.chords.push(c);
                }
            }
            if h.error.is_some() {
                s.model_error.clone_from(&h.error);
            }
        }
        news && !any
    }

    /// Feeds the samples waiting to the loudness meter.
    fn feed_meter(&mut self) {
        let waiting = self.input.samples.slots() - self.input.samples.slots() % self.channels;
        let Ok(chunk) = self.input.samples.read_chunk(waiting) else {
            return;
        };
        let (first, second) = chunk.as_slices();
        // A slice may end mid-frame where the ring wraps: the meter takes whole frames, and
        // the odd samples are joined up here.
        let split = first.len() % self.channels;
        self.meter.add(&first[..first.len() - split]);
        if split > 0 {
            let mut frame = [0f32; 64];
            let rest = self.channels - split;
            frame[..split].copy_from_slice(&first[first.len() - split..]);
            frame[split..self.channels].copy_from_slice(&second[..rest]);
            self.meter.add(&frame[..self.channels]);
            self.meter.add(&second[rest..]);
        } else {
            self.meter.add(second);
        }
        chunk.commit_all();
    }

    fn read_meter(&mut self) {
        let l = &mut self.state.loudness;
        l.momentary_lufs = self.meter.momentary_lufs() as f32;
        l.short_term_lufs = self.meter.short_term_lufs() as f32;
        l.true_peak_dbtp = self.meter.held_peak_dbtp() as f32;
    }

    fn update_onset_rhythm(&mut self, newest: u64) {
        let frame_rate = 1.0 / self.hop_seconds;
        let Some((tempo, phase)) = beat_phase::estimate(&self.onsets, frame_rate, newest) else {
            return;
        };
        let time = phase.last_beat_frame * self.hop_seconds;
        self.onset_rhythm = Some(Rhythm {
            source: RhythmSource::Onsets,
            tempo_bpm: tempo.bpm,
            confidence: Some(tempo.confidence),
            beat: Beat {
                position: (time * self.input_rate).round() as u64,
                time,
                period: phase.period_frames * self.hop_seconds,
            },
            beat_in_bar: None,
            beats_per_bar: None,
        });
    }

    /// The beat model's rhythm while it keeps announcing beats, else the onsets'.
    fn choose_rhythm(&mut self) {
        let now = self.state.time;
        let model = self
            .heard
            .beat
            .filter(|b| now - b.beat.time <= BEAT_MODEL_PERIODS * b.beat.period);
        self.state.rhythm = match model {
            Some(b) => Some(Rhythm {
                source: RhythmSource::BeatModel,
                tempo_bpm: b.tempo_bpm,
                confidence: None,
                beat: b.beat,
                beat_in_bar: Some(b.beat_in_bar),
                beats_per_bar: Some(b.beats_per_bar),
            }),
            None => self.onset_rhythm,
        };
    }

    fn publish(&mut self) {
        self.publisher.input_buffer_mut().clone_from(&self.state);
        self.publisher.publish();
        // The beat model's grid, for the audio thread to place beats to the sample.
        let grid = match self.state.rhythm {
            Some(r) if r.source == RhythmSource::BeatModel => BeatGrid {
                beat: Some(r.beat.position),
                period: r.beat.period * self.input_rate,
                beat_in_bar: r.beat_in_bar.unwrap_or(0),
                beats_per_bar: r.beats_per_bar.unwrap_or(0),
            },
            _ => BeatGrid::default(),
        };
        self.grid.write(grid);
    }
}

/// Whether two shared values are the same one.
fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Writes a note's start or end into the notes heard lately.
fn play_note(notes: &mut History<LiveNote>, event: NoteEvent) {
    match event {
        NoteEvent::On {
            time,
            pitch,
            velocity,
        } => notes.push(LiveNote {
            pitch,
            velocity,
            start: time,
            end: None,
        }),
        NoteEvent::Off { time, pitch } => {
            if let Some(n) = notes
                .iter_mut()
                .rev()
                .find(|n| n.pitch == pitch && n.end.is_none())
            {
                n.end = Some(time);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
    use mirador_dsp::AnalyzerConfig;

    use crate::snapshot::{ClassProbabilities, References};

    #[global_allocator]
    static ALLOCATOR: AllocDisabler = AllocDisabler;

    #[test]
    fn publishing_a_snapshot_reuses_its_storage() {
        let (mut audio, mut worker, _reader) =
            crate::build(&AnalyzerConfig::new(44100, 2)).unwrap();
        let block: Vec<f32> = (0..2 * 44100 * 12)
            .map(|i| (i as f32 * 0.01).sin() * 0.3)
            .collect();
        let probabilities = |p: f32| ClassProbabilities {
            model: "test",
            classes: vec!["a".to_string(), "b".to_string()].into(),
            probabilities: vec![p, 1.0 - p],
        };
        // Fill the histories to capacity, then publish into all three slots once.
        for chunk in block.chunks(4096) {
            audio.process_interleaved(chunk);
            worker.poll();
        }
        worker.state.genre = Some(probabilities(0.3));
        for i in 0..40 {
            worker.state.saliency.push(crate::SaliencyCell {
                time: f64::from(i) * 0.5,
                seconds: 0.5,
                values: [0.1; 8],
                class: 1,
            });
        }
        worker.state.model_error = Some("an error".into());
        worker.state.references = Some(std::sync::Arc::new(References {
            from: 0.0,
            until: 30.0,
            tracks: Vec::new(),
            withheld: None,
        }));
        for _ in 0..3 {
            worker.publish();
        }
        worker.state.genre.as_mut().unwrap().probabilities[0] = 0.9;
        reset_violation_count();
        assert_no_alloc(|| {
            for _ in 0..10 {
                worker.publish();
            }
        });
        assert_eq!(violation_count(), 0, "publishing allocated");
    }
}
