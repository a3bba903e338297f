//! The beat grid the audio thread reads: the newest beat the beat model placed, its period
//! and its place in the bar, which the worker publishes through a triple buffer (wait-free on
//! both sides, no allocation). From it the audio thread predicts where the beats of each
//! block fall, to the sample, and hands each one out once (the plugin's MIDI beat notes).

/// Where the beats fall, in input-rate samples on the engine's timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BeatGrid {
    /// The newest beat; none until the beat model has one (or after it lost the beat).
    pub beat: Option<u64>,
    /// Samples between beats.
    pub period: f64,
    /// The newest beat's place in the bar, 1 on the downbeat (0: no meter).
    pub beat_in_bar: u8,
    pub beats_per_bar: u8,
}

/// The audio thread's end: predicts each block's beats from the newest grid.
pub struct BeatPredictor {
    grid: triple_buffer::Output<BeatGrid>,
    /// The last beat handed out, so a beat predicted and then announced is handed out once.
    last: Option<u64>,
}

/// The worker's end and the audio thread's.
pub(crate) fn channel() -> (triple_buffer::Input<BeatGrid>, BeatPredictor) {
    let (input, grid) = triple_buffer::TripleBuffer::new(&BeatGrid::default()).split();
    (input, BeatPredictor { grid, last: None })
}

impl BeatPredictor {
    /// Calls `beat(offset, beat_in_bar)` for each beat in the `len` samples from position
    /// `start`: the newest beat and those a whole number of periods after it (`beat_in_bar`
    /// counted on from its, 0 without a meter). Real-time safe: no allocation, no lock, at
    /// most `len / period + 1` steps.
    pub fn beats_in(&mut self, start: u64, len: usize, mut beat: impl FnMut(usize, u8)) {
        let grid = *self.grid.read();
        let Some(newest) = grid.beat else {
            return;
        };
        // A period below 10 samples is no tempo (it would be 4410 BPM at 44.1 kHz).
        if !(grid.period.is_finite() && grid.period >= 10.0) {
            return;
        }
        let end = start + len as u64;
        let first = (start.saturating_sub(newest) as f64 / grid.period).floor() as u64;
        for k in first..first + (len as f64 / grid.period) as u64 + 2 {
            let at = newest + (k as f64 * grid.period).round() as u64;
            if at >= end {
                break;
            }
            let seen = self
                .last
                .is_some_and(|l| (at as f64) < l as f64 + grid.period / 2.0);
            if at < start || seen {
                continue;
            }
            self.last = Some(at);
            let in_bar = if grid.beat_in_bar > 0 && grid.beats_per_bar > 0 {
                let bar = u64::from(grid.beats_per_bar);
                ((u64::from(grid.beat_in_bar) - 1 + k) % bar) as u8 + 1
            } else {
                0
            };
            beat((at - start) as usize, in_bar);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beats(predictor: &mut BeatPredictor, start: u64, len: usize) -> Vec<(usize, u8)> {
        let mut out = Vec::new();
        predictor.beats_in(start, len, |o, b| out.push((o, b)));
        out
    }

    #[test]
    fn beats_are_predicted_to_the_sample_and_handed_out_once() {
        let (mut input, mut predictor) = channel();
        assert!(beats(&mut predictor, 0, 48_000).is_empty(), "no grid yet");
        // A beat at 1 s, 120 BPM at 48 kHz, the second of four.
        input.write(BeatGrid {
            beat: Some(48_000),
            period: 24_000.0,
            beat_in_bar: 2,
            beats_per_bar: 4,
        });
        assert_eq!(beats(&mut predictor, 60_000, 512), vec![]);
        // Blocks of 100 samples over 1.5 s to 2.5 s: the beats at 1.5 s, 2 s, 2.5 s.
        let mut all = Vec::new();
        for b in 0..481 {
            let start = 72_000 + b * 100;
            for (offset, in_bar) in beats(&mut predictor, start, 100) {
                all.push((start + offset as u64, in_bar));
            }
        }
        assert_eq!(all, vec![(72_000, 3), (96_000, 4), (120_000, 1)]);
        // The model announces the beat at 2 s it was predicted on, 30 samples later: not
        // handed out again; the next ones follow the new grid.
        input.write(BeatGrid {
            beat: Some(96_030),
            period: 24_100.0,
            beat_in_bar: 4,
            beats_per_bar: 4,
        });
        assert_eq!(beats(&mut predictor, 120_000, 200), vec![]);
        assert_eq!(beats(&mut predictor, 144_000, 512), vec![(230, 2)]);
    }

    #[test]
    fn nonsense_periods_give_no_beats() {
        let (mut input, mut predictor) = channel();
        for period in [0.0, -5.0, f64::NAN, f64::INFINITY, 3.0] {
            input.write(BeatGrid {
                beat: Some(0),
                period,
                beat_in_bar: 0,
                beats_per_bar: 0,
            });
            assert!(beats(&mut predictor, 0, 8192).is_empty(), "{period}");
        }
    }
}
