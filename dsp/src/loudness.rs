//! EBU R128 loudness (the `ebur128` crate) of a multichannel input: momentary, short-term
//! and integrated loudness, loudness range, and true peak, both held over the last 3 s for
//! the live view and over everything for a whole file.

use std::collections::VecDeque;

use ebur128::{EbuR128, Mode};

/// Seconds the live true peak is held.
const PEAK_HOLD_SECONDS: u64 = 3;

pub struct Meter {
    meter: EbuR128,
    channels: usize,
    rate: u64,
    /// True peak of each chunk with its length in frames, newest last.
    peaks: VecDeque<(f32, u64)>,
    /// The highest true peak since the start.
    max_peak: f32,
}

/// Loudness of everything measured so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    pub integrated_lufs: f64,
    /// EBU R128 loudness range, LU.
    pub range_lu: f64,
    pub true_peak_dbtp: f64,
}

impl Meter {
    pub fn new(channels: usize, rate: u32) -> Result<Self, ebur128::Error> {
        let mode = Mode::M | Mode::S | Mode::I | Mode::LRA | Mode::TRUE_PEAK;
        Ok(Self {
            meter: EbuR128::new(channels as u32, rate, mode)?,
            channels,
            rate: rate as u64,
            peaks: VecDeque::new(),
            max_peak: 0.0,
        })
    }

    /// Adds interleaved samples (whole frames).
    pub fn add(&mut self, samples: &[f32]) {
        let whole = samples.len() - samples.len() % self.channels;
        if whole == 0 || self.meter.add_frames_f32(&samples[..whole]).is_err() {
            return;
        }
        let mut peak = 0f32;
        for channel in 0..self.channels as u32 {
            peak = peak.max(self.meter.prev_true_peak(channel).unwrap_or(0.0) as f32);
        }
        self.max_peak = self.max_peak.max(peak);
        self.peaks.push_back((peak, (whole / self.channels) as u64));
        let hold = PEAK_HOLD_SECONDS * self.rate;
        while self.peaks.iter().map(|p| p.1).sum::<u64>()
            > hold + self.peaks.front().map_or(0, |p| p.1)
        {
            self.peaks.pop_front();
        }
    }

    pub fn momentary_lufs(&self) -> f64 {
        self.meter.loudness_momentary().unwrap_or(f64::NEG_INFINITY)
    }

    pub fn short_term_lufs(&self) -> f64 {
        self.meter.loudness_shortterm().unwrap_or(f64::NEG_INFINITY)
    }

    /// The highest true peak of the last 3 s, dBTP.
    pub fn held_peak_dbtp(&self) -> f64 {
        let held = self.peaks.iter().fold(0f32, |a, p| a.max(p.0));
        20.0 * f64::from(held.max(1e-10)).log10()
    }

    pub fn totals(&self) -> Totals {
        Totals {
            integrated_lufs: self.meter.loudness_global().unwrap_or(f64::NEG_INFINITY),
            range_lu: self.meter.loudness_range().unwrap_or(0.0),
            true_peak_dbtp: 20.0 * f64::from(self.max_peak.max(1e-10)).log10(),
        }
    }

    pub fn reset(&mut self) {
        self.meter.reset();
        self.peaks.clear();
        self.max_peak = 0.0;
    }
}
