//! MIDI out (`--midi-out [PORT]`, the `midir` crate): MIDI beat clock following the tracked
//! beats ([`BeatClock`]), optionally a note on every beat and downbeat, the transcribed notes
//! (with `--notes`), and loudness as control changes. A thread of its own drains the engine's
//! event queue and keeps time with the audio: it maps the engine's audio clock (which
//! advances a device block at a time) onto the system clock, sleeps until each message is
//! due and sends it then; the MIDI port never holds up the engine. A port that fails is
//! named once on stderr and the analysis goes on.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mirador_engine::{Event, EventSource};

use crate::beat_clock::{BeatClock, Tick};

/// Control change numbers for the short-term and momentary loudness (general purpose 1, 2).
pub const CC_LOUDNESS: u8 = 16;
pub const CC_ENERGY: u8 = 17;
/// The loudness range the control changes span, LUFS: -60 is 0, 0 is 127.
const LOUDNESS_FLOOR: f32 = -60.0;
/// The audio is paused when its clock has stood still this long.
const PAUSED_AFTER: Duration = Duration::from_millis(150);
/// A jump of the audio clock from where it should be by more than this is a seek, seconds.
const SEEK_JUMP: f64 = 0.5;
/// The sender wakes at least this often to take new events.
const POLL: Duration = Duration::from_millis(2);
/// The last stretch before a message is due is waited for by spinning, not sleeping.
const SPIN: Duration = Duration::from_micros(300);

/// What is sent besides the clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MidiOptions {
    /// Notes on each beat and downbeat (beat, downbeat), on `beat_channel`.
    pub beat_notes: Option<(u8, u8)>,
    /// 0-based.
    pub beat_channel: u8,
    /// The channel of the transcribed notes and the control changes, 0-based.
    pub channel: u8,
}

impl Default for MidiOptions {
    fn default() -> Self {
        Self {
            beat_notes: None,
            beat_channel: 9,
            channel: 0,
        }
    }
}

/// Where the messages go: a MIDI port, or a test's recorder.
pub trait MidiPort: Send {
    fn send(&mut self, bytes: &[u8]) -> Result<(), String>;
}

/// A port kept open across engines (each file `play` opens gets a new engine and sender).
pub type SharedPort = Arc<Mutex<Box<dyn MidiPort>>>;

impl MidiPort for midir::MidiOutputConnection {
    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        midir::MidiOutputConnection::send(self, bytes).map_err(|e| e.to_string())
    }
}

fn output() -> Result<midir::MidiOutput, String> {
    midir::MidiOutput::new("Mirador").map_err(|e| {
        format!("no MIDI system ({e}; on Linux the ALSA sequencer, /dev/snd/seq, is needed)")
    })
}

/// The MIDI output ports there are.
pub fn list_ports() -> Result<Vec<String>, String> {
    let out = output()?;
    Ok(out
        .ports()
        .iter()
        .filter_map(|p| out.port_name(p).ok())
        .collect())
}

/// Connects to the output port whose name contains `name` (any case); without a name, on
/// Linux and macOS, makes a virtual port called "Mirador" for other programs to connect to.
pub fn open(name: Option<&str>) -> Result<Box<dyn MidiPort>, String> {
    let out = output()?;
    let Some(name) = name else {
        return virtual_port(out);
    };
    let wanted = name.to_lowercase();
    let ports = out.ports();
    let port = ports.iter().find(|p| {
        out.port_name(p)
            .is_ok_and(|n| n.to_lowercase().contains(&wanted))
    });
    let Some(port) = port else {
        let names: Vec<String> = ports.iter().filter_map(|p| out.port_name(p).ok()).collect();
        return Err(format!(
            "no MIDI output port named {name:?} (there are: {})",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        ));
    };
    let connection = out
        .connect(port, "Mirador")
        .map_err(|e| format!("cannot connect to {name:?}: {e}"))?;
    Ok(Box::new(connection))
}

#[cfg(unix)]
fn virtual_port(out: midir::MidiOutput) -> Result<Box<dyn MidiPort>, String> {
    use midir::os::unix::VirtualOutput;
    let connection = out
        .create_virtual("Mirador")
        .map_err(|e| format!("cannot make a virtual MIDI port: {e}"))?;
    Ok(Box::new(connection))
}

#[cfg(not(unix))]
fn virtual_port(_: midir::MidiOutput) -> Result<Box<dyn MidiPort>, String> {
    Err("this system has no virtual MIDI ports: name one with --midi-out PORT".into())
}

/// The engine's audio time mapped onto the system clock. The audio clock steps a device
/// block at a time, so the mapping takes the latest the steps allow (the largest audio time
/// minus system time seen lately) and lets it sink slowly for drift.
struct Timeline {
    started: Instant,
    offset: Option<f64>,
    /// The audio time last read, and when it last moved.
    last: f64,
    moved: Instant,
}

impl Timeline {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            offset: None,
            last: f64::NAN,
            moved: Instant::now(),
        }
    }

    fn system(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Reads the audio clock: whether the audio is running, and whether it jumped.
    fn observe(&mut self, audio: f64) -> (bool, bool) {
        let system = self.system();
        let moved = audio != self.last;
        let expected = self.offset.map(|o| system + o);
        let jumped = moved && expected.is_some_and(|e| (audio - e).abs() > SEEK_JUMP);
        if moved {
            self.last = audio;
            self.moved = Instant::now();
            let offset = audio - system;
            self.offset = Some(match self.offset {
                Some(o) if !jumped => (o - 1e-4).max(offset),
                _ => offset,
            });
        }
        (self.moved.elapsed() < PAUSED_AFTER, jumped)
    }

    /// The audio time now.
    fn now(&self) -> f64 {
        self.system() + self.offset.unwrap_or(f64::NAN)
    }

    /// The system instant at audio time `t`.
    fn instant(&self, t: f64) -> Instant {
        let from_start = (t - self.offset.unwrap_or(0.0)).max(0.0);
        self.started + Duration::from_secs_f64(from_start)
    }
}

/// Sends what `source` announces and the beat clock to `port` until the engine is gone;
/// `audio_now` is the engine's audio clock ([`mirador_engine::SnapshotReader::clock`]).
pub fn spawn(
    port: SharedPort,
    source: EventSource,
    audio_now: impl Fn() -> f64 + Send + 'static,
    options: MidiOptions,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("mirador-midi".into())
        .spawn(move || Sender::new(port, options).run(&source, audio_now))
}

struct Sender {
    port: SharedPort,
    options: MidiOptions,
    clock: BeatClock,
    /// The beat note sounding, to end at the next pulse.
    beat_note: Option<u8>,
    failed: bool,
}

impl Sender {
    fn new(port: SharedPort, options: MidiOptions) -> Self {
        Self {
            port,
            options,
            clock: BeatClock::default(),
            beat_note: None,
            failed: false,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        if self.failed {
            return;
        }
        let sent = match self.port.lock() {
            Ok(mut port) => port.send(bytes),
            Err(_) => Err("the port's sender panicked".into()),
        };
        if let Err(e) = sent {
            eprintln!("mirador: MIDI out stopped: {e}; the analysis goes on");
            self.failed = true;
        }
    }

    fn run(mut self, source: &EventSource, audio_now: impl Fn() -> f64) {
        let mut timeline = Timeline::new();
        let mut running = false;
        loop {
            let (playing, jumped) = timeline.observe(audio_now());
            let now = timeline.now();
            if jumped {
                self.clock.seek(now, now);
            } else if running && !playing {
                self.clock.pause(now);
            }
            running = playing;
            loop {
                match source.events.try_recv() {
                    Ok(event) => self.event(&event, now),
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        self.send(&Tick::Stop.bytes());
                        return;
                    }
                }
            }
            // Everything due before the next wake-up, each at its time.
            let wake = Instant::now() + POLL;
            while let Some((t, tick)) = self.clock.next() {
                let due = timeline.instant(t);
                if due > wake {
                    break;
                }
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    if wait > SPIN {
                        std::thread::sleep(wait - SPIN);
                    }
                    while Instant::now() < due {
                        std::hint::spin_loop();
                    }
                }
                self.tick(tick);
                self.clock.sent();
            }
            if let Some(wait) = wake.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }

    fn tick(&mut self, tick: Tick) {
        let channel = self.options.beat_channel & 0x0F;
        if let (Tick::Pulse { .. }, Some(note)) = (tick, self.beat_note.take()) {
            self.send(&[0x80 | channel, note, 0]);
        }
        self.send(&tick.bytes());
        if let (
            Tick::Pulse {
                beat: Some((_, in_bar)),
            },
            Some((beat, downbeat)),
        ) = (tick, self.options.beat_notes)
        {
            let note = if in_bar == 1 { downbeat } else { beat };
            self.send(&[
                0x90 | channel,
                note & 0x7F,
                if in_bar == 1 { 120 } else { 90 },
            ]);
            self.beat_note = Some(note & 0x7F);
        }
    }

    fn event(&mut self, event: &Event, now: f64) {
        let channel = self.options.channel & 0x0F;
        match *event {
            Event::Beat {
                time,
                beat_in_bar,
                beats_per_bar,
                tempo_bpm,
                ..
            } => self
                .clock
                .beat(time, tempo_bpm, beat_in_bar, beats_per_bar, now),
            Event::Note {
                pitch, velocity, ..
            } => {
                let status = if velocity > 0 { 0x90 } else { 0x80 };
                self.send(&[status | channel, pitch & 0x7F, velocity & 0x7F]);
            }
            Event::Loudness {
                momentary_lufs,
                short_term_lufs,
                ..
            } => {
                self.send(&[0xB0 | channel, CC_LOUDNESS, cc_value(short_term_lufs)]);
                self.send(&[0xB0 | channel, CC_ENERGY, cc_value(momentary_lufs)]);
            }
            _ => {}
        }
    }
}

/// LUFS as a controller value: -60 LUFS (or less, or silence) 0, 0 LUFS 127.
fn cc_value(lufs: f32) -> u8 {
    if !lufs.is_finite() {
        return 0;
    }
    ((lufs - LOUDNESS_FLOOR) / -LOUDNESS_FLOOR * 127.0)
        .round()
        .clamp(0.0, 127.0) as u8
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// What was sent, with when.
    type Sent = Vec<(Instant, Vec<u8>)>;

    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Sent>>);

    impl MidiPort for Recorder {
        fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
            self.0
                .lock()
                .unwrap()
                .push((Instant::now(), bytes.to_vec()));
            Ok(())
        }
    }

    struct Broken;

    impl MidiPort for Broken {
        fn send(&mut self, _: &[u8]) -> Result<(), String> {
            Err("the port went away".into())
        }
    }

    #[test]
    fn loudness_spans_the_controller_range() {
        assert_eq!(cc_value(f32::NEG_INFINITY), 0);
        assert_eq!(cc_value(-70.0), 0);
        assert_eq!(cc_value(-30.0), 64);
        assert_eq!(cc_value(0.0), 127);
    }

    #[test]
    fn a_port_that_fails_is_named_once_and_nothing_waits() {
        let mut sender = Sender::new(
            Arc::new(Mutex::new(Box::new(Broken))),
            MidiOptions::default(),
        );
        sender.send(&[0xF8]);
        sender.send(&[0xF8]);
        assert!(sender.failed);
    }

    /// Audio played in real time through a fake device (512-sample blocks at 48 kHz, the
    /// clock a sender sees), beats at 120 BPM announced 40 ms late: the clock's pulses are
    /// sent on time (the jitter of their intervals) and its beat notes on the beats.
    #[test]
    fn the_clock_keeps_time_with_the_audio() {
        let samples = Arc::new(AtomicU64::new(0));
        let (events, rx) = crossbeam_channel::bounded(1024);
        let source = EventSource {
            events: rx,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        let recorder = Recorder::default();
        let heard = samples.clone();
        let options = MidiOptions {
            beat_notes: Some((42, 36)),
            ..MidiOptions::default()
        };
        let sender = spawn(
            Arc::new(Mutex::new(Box::new(recorder.clone()))),
            source,
            move || heard.load(Ordering::Relaxed) as f64 / 48_000.0,
            options,
        )
        .unwrap();
        // (system instant, audio time) at each of the device's callbacks.
        let mut device = Vec::new();
        let (mut next_beat, mut index) = (0.25, 0);
        let started = Instant::now();
        let block = Duration::from_secs_f64(512.0 / 48_000.0);
        for n in 1..(6.0 / block.as_secs_f64()) as u32 {
            // A device's callbacks keep its clock's pace, however late each one runs.
            let due = started + block * n;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let now = (samples.fetch_add(512, Ordering::Relaxed) + 512) as f64 / 48_000.0;
            device.push((Instant::now(), now));
            if now > next_beat + 0.04 {
                index += 1;
                events
                    .send(Event::Beat {
                        time: next_beat,
                        index,
                        beat_in_bar: ((index - 1) % 4) as u8 + 1,
                        beats_per_bar: 4,
                        tempo_bpm: 120.0,
                    })
                    .unwrap();
                next_beat += 0.5;
            }
        }
        drop(events);
        sender.join().unwrap();
        // The audio time at an instant, between the callbacks around it.
        let audio_at = |t: Instant| {
            let i = device
                .partition_point(|d| d.0 <= t)
                .clamp(1, device.len() - 1);
            let ((t0, a0), (t1, a1)) = (device[i - 1], device[i]);
            let span = (t1 - t0).as_secs_f64().max(1e-9);
            let into = t.saturating_duration_since(t0).as_secs_f64();
            a0 + (a1 - a0) * into / span
        };
        let sent = recorder.0.lock().unwrap().clone();
        let pulses: Vec<Instant> = sent
            .iter()
            .filter(|(_, b)| b == &[0xF8])
            .map(|(t, _)| *t)
            .collect();
        assert!(pulses.len() > 200, "{} pulses", pulses.len());
        let nominal = 0.5 / 24.0;
        let deviations: Vec<f64> = pulses
            .windows(2)
            .map(|w| ((w[1] - w[0]).as_secs_f64() - nominal).abs())
            .collect();
        let mean = deviations.iter().sum::<f64>() / deviations.len() as f64;
        let worst = deviations.iter().copied().fold(0.0, f64::max);
        let beat_notes: Vec<f64> = sent
            .iter()
            .filter(|(_, b)| b[0] == 0x99)
            .map(|(t, _)| audio_at(*t))
            .collect();
        let offsets: Vec<f64> = beat_notes
            .iter()
            .map(|t| t - (0.25 + ((t - 0.25) / 0.5).round() * 0.5))
            .collect();
        let late = offsets.iter().sum::<f64>() / offsets.len() as f64;
        let mut off: Vec<f64> = offsets.iter().map(|o| o.abs()).collect();
        off.sort_by(f64::total_cmp);
        let (median, off) = (off[off.len() / 2], off[off.len() - 1]);
        println!(
            "pulses every {:.3} ms: jitter mean {:.3} ms, worst {:.3} ms; beat notes {:.2} ms \
             after the beats on average, {:.2} ms off in the median, {:.2} ms at most",
            nominal * 1e3,
            mean * 1e3,
            worst * 1e3,
            late * 1e3,
            median * 1e3,
            off * 1e3
        );
        // The audio clock steps 10.7 ms at a time; the pulses do not. (Loose bounds: the
        // test shares two cores with the others.)
        assert!(mean < 0.002, "jitter {mean}");
        assert!(median < 0.012, "beat notes {median} s off in the median");
        assert_eq!(sent[0].1, vec![0xFA], "Start first");
        let downbeats = sent.iter().filter(|(_, b)| b == &[0x99, 36, 120]).count();
        let beats = sent.iter().filter(|(_, b)| b == &[0x99, 42, 90]).count();
        assert!(
            downbeats >= 2 && beats >= 6,
            "{downbeats} downbeats, {beats} beats"
        );
        assert_eq!(
            sent.last().unwrap().1,
            vec![0xFC],
            "Stop when the engine goes"
        );
    }
}
