//! MIDI beat clock from tracked beats: a phase-locked oscillator whose phase counts beats
//! on the audio timeline. It starts on a predicted beat a little ahead of now, sends 24
//! pulses a beat, and at each beat the tracker announces it nudges its rate so the pulses
//! drift onto the beats: the phase never jumps (so no pulse is skipped or doubled), the
//! tempo it follows moves at most [`RAMP`] a beat, and the correction for a phase error at
//! most [`CORRECTION`] of the tempo. A seek stops it, sets the song position and continues
//! on the next beat; a pause stops it and continues where it was.

/// Pulses per quarter note (MIDI beat clock).
pub const PULSES_PER_BEAT: u64 = 24;
/// How far the followed tempo moves toward the tracker's per beat (a fraction of it).
pub const RAMP: f64 = 0.04;
/// The largest share of the tempo a phase correction may add or take away.
pub const CORRECTION: f64 = 0.04;
/// Beats over which a phase error is corrected.
const CORRECT_OVER_BEATS: f64 = 2.0;
/// How far ahead of now the clock starts (room for the sender to be on time).
const LEAD_SECONDS: f64 = 0.05;

/// A message of the clock, at a time on the audio timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tick {
    /// Start (0xFA): the song from its beginning; the next pulse is its first.
    Start,
    /// Continue (0xFB) from the song position.
    Continue,
    /// Stop (0xFC).
    Stop,
    /// Song Position Pointer (0xF2) in sixteenth notes.
    SongPosition(u16),
    /// Timing clock (0xF8); `beat` is set on a pulse that falls on a beat (its index since
    /// Start, and its place in the bar, 1 on the downbeat, when the meter is known).
    Pulse { beat: Option<(u64, u8)> },
}

impl Tick {
    /// The MIDI bytes.
    pub fn bytes(self) -> Vec<u8> {
        match self {
            Tick::Start => vec![0xFA],
            Tick::Continue => vec![0xFB],
            Tick::Stop => vec![0xFC],
            Tick::SongPosition(p) => vec![0xF2, (p & 0x7F) as u8, ((p >> 7) & 0x7F) as u8],
            Tick::Pulse { .. } => vec![0xF8],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Waiting for a beat to start on; `resume` after a pause or seek (Continue, not Start).
    Stopped {
        resume: bool,
    },
    Running,
}

#[derive(Debug, Clone)]
pub struct BeatClock {
    state: State,
    /// The phase in beats is `phase0` at audio time `t0` and grows at `rate` beats a second.
    t0: f64,
    phase0: f64,
    rate: f64,
    /// The tempo followed, beats a second, before phase correction.
    tempo: f64,
    /// Pulses sent since Start (the song position in pulses).
    pulses: u64,
    /// Beats in a bar, and the phase (in beats) of a downbeat, when the tracker says.
    meter: Option<(u8, f64)>,
    /// What is due before any pulse (Start, Continue, Stop, Song Position).
    due: Vec<(f64, Tick)>,
}

impl Default for BeatClock {
    fn default() -> Self {
        Self {
            state: State::Stopped { resume: false },
            t0: 0.0,
            phase0: 0.0,
            rate: 2.0,
            tempo: 2.0,
            pulses: 0,
            meter: None,
            due: Vec::new(),
        }
    }
}

impl BeatClock {
    fn phase(&self, t: f64) -> f64 {
        self.phase0 + (t - self.t0) * self.rate
    }

    /// The tracker announced a beat at `time` (`beat_in_bar` 1 on the downbeat, 0 unknown)
    /// at `bpm`; `now` is the audio time it was heard.
    pub fn beat(&mut self, time: f64, bpm: f32, beat_in_bar: u8, beats_per_bar: u8, now: f64) {
        let observed = f64::from(bpm) / 60.0;
        if !(observed.is_finite() && observed > 0.0) {
            return;
        }
        if let State::Stopped { resume } = self.state {
            // Start (or continue) on the first beat predicted after a short lead.
            let period = 1.0 / observed;
            let ahead = ((now + LEAD_SECONDS - time) / period).ceil().max(0.0);
            self.t0 = time + ahead * period;
            self.phase0 = self.pulses as f64 / PULSES_PER_BEAT as f64;
            self.rate = observed;
            self.tempo = observed;
            self.due
                .push((self.t0, if resume { Tick::Continue } else { Tick::Start }));
            self.state = State::Running;
            self.set_meter(self.phase0 - ahead, beat_in_bar, beats_per_bar);
            return;
        }
        // The beat should be on a whole phase: correct the error over the next beats.
        let phase = self.phase(time);
        let error = phase - phase.round();
        self.tempo += (observed - self.tempo).clamp(-RAMP * self.tempo, RAMP * self.tempo);
        let correction = (-error / CORRECT_OVER_BEATS).clamp(-CORRECTION, CORRECTION);
        let phase_now = self.phase(now);
        self.t0 = now;
        self.phase0 = phase_now;
        self.rate = self.tempo * (1.0 + correction);
        self.set_meter(phase.round(), beat_in_bar, beats_per_bar);
    }

    /// Remembers where downbeats fall: the beat announced, at whole phase `phase`, is
    /// `beat_in_bar` in its bar (0: the tracker has no meter).
    fn set_meter(&mut self, phase: f64, beat_in_bar: u8, beats_per_bar: u8) {
        self.meter = (beat_in_bar > 0 && beats_per_bar > 0)
            .then(|| (beats_per_bar, phase - f64::from(beat_in_bar - 1)));
    }

    /// The audio stream jumped (a seek) to `position` seconds: Stop, the song position there
    /// at the tempo followed, and Continue on the next beat.
    pub fn seek(&mut self, position: f64, now: f64) {
        if self.state == State::Running {
            self.due.push((now, Tick::Stop));
        }
        let beats = (position.max(0.0) * self.tempo).floor();
        let sixteenths = (beats * 4.0).min(16_383.0) as u16;
        self.pulses = u64::from(sixteenths) * PULSES_PER_BEAT / 4;
        self.due.push((now, Tick::SongPosition(sixteenths)));
        self.state = State::Stopped { resume: true };
    }

    /// The audio stopped (paused, or the music ended): Stop now; the next beat continues.
    pub fn pause(&mut self, now: f64) {
        if self.state == State::Running {
            self.due.push((now, Tick::Stop));
            self.state = State::Stopped { resume: true };
        }
    }

    /// The next message and its audio time: what is due first, else the next pulse while
    /// running.
    pub fn next(&self) -> Option<(f64, Tick)> {
        if let Some(first) = self.due.first() {
            return Some(*first);
        }
        if self.state != State::Running {
            return None;
        }
        let phase = self.pulses as f64 / PULSES_PER_BEAT as f64;
        let time = self.t0 + (phase - self.phase0) / self.rate;
        let on_beat = self.pulses.is_multiple_of(PULSES_PER_BEAT);
        let beat = on_beat.then(|| {
            let index = self.pulses / PULSES_PER_BEAT;
            let in_bar = self.meter.map_or(0, |(bar, downbeat)| {
                ((phase - downbeat).round() as i64).rem_euclid(i64::from(bar)) as u8 + 1
            });
            (index, in_bar)
        });
        Some((time, Tick::Pulse { beat }))
    }

    /// Marks the message [`BeatClock::next`] gave as sent.
    pub fn sent(&mut self) {
        if !self.due.is_empty() {
            self.due.remove(0);
        } else if self.state == State::Running {
            self.pulses += 1;
        }
    }

    /// Beats a minute the clock runs at now.
    pub fn bpm(&self) -> f64 {
        self.rate * 60.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the clock over beats at `beats` (announced `delay` s after each) until `until`:
    /// the time of every message.
    fn run(
        clock: &mut BeatClock,
        beats: &[(f64, f32)],
        delay: f64,
        until: f64,
    ) -> Vec<(f64, Tick)> {
        let mut out = Vec::new();
        let mut pending = beats.iter().peekable();
        loop {
            let next_beat = pending.peek().map(|b| b.0 + delay);
            let next_tick = clock.next().map(|m| m.0);
            match (next_beat, next_tick) {
                (Some(b), t) if t.is_none_or(|t| b <= t) => {
                    let (time, bpm) = *pending.next().unwrap();
                    clock.beat(time, bpm, 0, 0, b);
                }
                (_, Some(t)) if t <= until => {
                    out.push(clock.next().unwrap());
                    clock.sent();
                }
                _ => return out,
            }
        }
    }

    fn pulses(out: &[(f64, Tick)]) -> Vec<f64> {
        out.iter()
            .filter(|m| matches!(m.1, Tick::Pulse { .. }))
            .map(|m| m.0)
            .collect()
    }

    #[test]
    fn steady_beats_give_steady_pulses_on_the_beats() {
        let beats: Vec<(f64, f32)> = (0..40).map(|i| (0.3 + 0.5 * i as f64, 120.0)).collect();
        let mut clock = BeatClock::default();
        let out = run(&mut clock, &beats, 0.03, 20.0);
        assert_eq!(out[0].1, Tick::Start);
        let p = pulses(&out);
        // Started on the beat after the first was heard, with a lead: 0.8 s.
        assert!((p[0] - 0.8).abs() < 1e-9, "{}", p[0]);
        for w in p.windows(2) {
            assert!((w[1] - w[0] - 0.5 / 24.0).abs() < 1e-9);
        }
        // Every 24th pulse on a beat.
        for (i, t) in p.iter().step_by(24).enumerate() {
            assert!((t - (0.8 + 0.5 * i as f64)).abs() < 1e-6, "{t}");
        }
    }

    #[test]
    fn a_tempo_change_is_ramped_and_the_phase_follows_without_jumps() {
        // 120 BPM for 10 s, then 126 BPM; each beat announced 40 ms late, with 10 ms jitter.
        let mut beats = Vec::new();
        let mut t = 0.2;
        while t < 30.0 {
            let jitter = 0.01 * ((beats.len() * 7 % 5) as f64 / 2.0 - 1.0);
            let bpm = if t < 10.0 { 120.0 } else { 126.0 };
            beats.push((t + jitter, bpm));
            t += 60.0 / bpm as f64;
        }
        let mut clock = BeatClock::default();
        let out = run(&mut clock, &beats, 0.04, 30.0);
        let p = pulses(&out);
        // No pulse interval more than the corrections and the ramp allow: never a skipped or
        // doubled pulse.
        let nominal = 0.5 / 24.0;
        for w in p.windows(2) {
            let interval = w[1] - w[0];
            assert!(
                interval > nominal * 0.85 && interval < nominal * 1.1,
                "{interval}"
            );
        }
        // Locked by the end: the beat pulses within 15 ms of the beats.
        let beat_pulses: Vec<f64> = out
            .iter()
            .filter(|m| matches!(m.1, Tick::Pulse { beat: Some(_) }))
            .map(|m| m.0)
            .filter(|&t| t > 20.0)
            .collect();
        for t in beat_pulses {
            let nearest = beats
                .iter()
                .map(|b| (b.0 - t).abs())
                .fold(f64::MAX, f64::min);
            assert!(nearest < 0.015, "beat pulse at {t} is {nearest} s off");
        }
        assert!((clock.bpm() - 126.0).abs() < 1.5, "{}", clock.bpm());
    }

    #[test]
    fn seek_and_pause_stop_and_continue_at_the_song_position() {
        let mut clock = BeatClock::default();
        clock.beat(1.0, 120.0, 1, 4, 1.02);
        assert_eq!(clock.next().unwrap().1, Tick::Start);
        clock.sent();
        clock.seek(30.0, 1.2);
        assert_eq!(clock.next(), Some((1.2, Tick::Stop)));
        clock.sent();
        // 30 s at 120 BPM: beat 60, sixteenth 240.
        assert_eq!(clock.next(), Some((1.2, Tick::SongPosition(240))));
        assert_eq!(Tick::SongPosition(240).bytes(), vec![0xF2, 240 & 0x7F, 1]);
        clock.sent();
        assert_eq!(clock.next(), None, "stopped until a beat");
        clock.beat(30.5, 120.0, 2, 4, 30.52);
        assert_eq!(clock.next().unwrap().1, Tick::Continue);
        clock.sent();
        assert_eq!(
            clock.next().unwrap().1,
            Tick::Pulse {
                beat: Some((60, 3))
            },
            "the beat after the one announced, third in its bar"
        );
        clock.pause(31.0);
        assert_eq!(clock.next(), Some((31.0, Tick::Stop)));
    }
}
