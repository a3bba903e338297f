//! librosa `feature.tempo`: the mean autocorrelation tempogram of the onset envelope
//! (8 s Hann windows, centred with linear ramps to zero), weighted by a log-normal prior
//! around 120 BPM, capped at 320 BPM.

use std::collections::VecDeque;
use std::sync::Arc;

use realfft::num_complex::Complex64;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::framing::window::hann_f64;

const AC_SECONDS: f64 = 8.0;
const START_BPM: f64 = 120.0;
const STD_OCTAVES: f64 = 1.0;
const MAX_TEMPO: f64 = 320.0;

/// Global tempo in BPM of a whole onset envelope (`onset_strength` frames at `hop_length`).
pub fn tempo(onset_envelope: &[f32], sample_rate: u32, hop_length: usize) -> f64 {
    let mut estimator = TempoEstimator::new(sample_rate, hop_length);
    for &onset in onset_envelope {
        estimator.push(onset);
    }
    estimator.finish()
}

/// [`tempo`] one onset frame at a time, holding one 8 s window instead of the whole
/// envelope, so memory does not grow with the clip.
pub struct TempoEstimator {
    frame_rate: f64,
    /// Half the window: the width of librosa's ramps.
    half: usize,
    window: Vec<f64>,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    time: Vec<f64>,
    spectrum: Vec<Complex64>,
    /// Sum over frames of each frame's normalized autocorrelation.
    sum: Vec<f64>,
    /// The latest window of the ramp-padded envelope.
    recent: VecDeque<f64>,
    /// Onset frames pushed, tempogram frames computed, and the last onset (the end ramp's top).
    pushed: usize,
    frames: usize,
    last: f64,
    failed: bool,
}

impl TempoEstimator {
    pub fn new(sample_rate: u32, hop_length: usize) -> Self {
        let frame_rate = sample_rate as f64 / hop_length as f64;
        let win = ((AC_SECONDS * frame_rate).floor() as usize).max(1);
        let n_pad = (2 * win - 1).next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(n_pad);
        Self {
            frame_rate,
            half: win / 2,
            window: hann_f64(win),
            spectrum: forward.make_output_vec(),
            time: forward.make_input_vec(),
            forward,
            inverse: planner.plan_fft_inverse(n_pad),
            sum: vec![0.0; win],
            recent: VecDeque::with_capacity(win),
            pushed: 0,
            frames: 0,
            last: 0.0,
            failed: false,
        }
    }

    pub fn push(&mut self, onset: f32) {
        let onset = onset as f64;
        if self.pushed == 0 {
            // numpy `pad(mode="linear_ramp", end_values=0)`: up from zero to the first value.
            for i in 0..self.half {
                self.extend(onset * i as f64 / self.half as f64);
            }
        }
        self.pushed += 1;
        self.last = onset;
        self.extend(onset);
    }

    /// The tempo of everything pushed; 0 when nothing was or the window is too short.
    pub fn finish(mut self) -> f64 {
        let n = self.pushed;
        if n == 0 || self.window.len() < 2 {
            return 0.0;
        }
        // The ramp back down to zero, then zeros until every onset frame has had its window.
        for i in 0..self.half {
            self.extend(self.last * (self.half - 1 - i) as f64 / self.half as f64);
        }
        while self.frames < n {
            self.extend(0.0);
        }
        if self.failed {
            return 0.0;
        }
        let mut best = (f64::NEG_INFINITY, 0usize);
        for (lag, &ac) in self.sum.iter().enumerate().skip(1) {
            let bpm = 60.0 * self.frame_rate / lag as f64;
            if bpm >= MAX_TEMPO {
                continue;
            }
            let score = (1e6 * ac / n as f64).ln_1p() + log_normal_prior(bpm);
            if score > best.0 {
                best = (score, lag);
            }
        }
        if best.1 == 0 {
            return 0.0;
        }
        60.0 * self.frame_rate / best.1 as f64
    }

    /// Appends one padded value; a full window is one tempogram frame.
    fn extend(&mut self, value: f64) {
        self.recent.push_back(value);
        if self.recent.len() < self.window.len() {
            return;
        }
        // One frame per onset frame, as in librosa: the window past the last one is dropped.
        if self.frames < self.pushed {
            self.add_frame();
        }
        self.recent.pop_front();
    }

    fn add_frame(&mut self) {
        self.frames += 1;
        let win = self.window.len();
        self.time.fill(0.0);
        for ((x, &v), &w) in self.time.iter_mut().zip(&self.recent).zip(&self.window) {
            *x = v * w;
        }
        if self
            .forward
            .process(&mut self.time, &mut self.spectrum)
            .is_err()
        {
            self.failed = true;
            return;
        }
        for c in self.spectrum.iter_mut() {
            *c = Complex64::new(c.norm_sqr(), 0.0);
        }
        if self
            .inverse
            .process(&mut self.spectrum, &mut self.time)
            .is_err()
        {
            self.failed = true;
            return;
        }
        // Normalize each frame by its largest |lag| value (librosa `norm=np.inf`).
        let peak = self.time[..win].iter().fold(0f64, |a, &b| a.max(b.abs()));
        let norm = if peak < f32::MIN_POSITIVE as f64 {
            1.0
        } else {
            peak
        };
        for (m, &x) in self.sum.iter_mut().zip(&self.time[..win]) {
            *m += x / norm;
        }
    }
}

/// librosa's tempo prior: log-normal around 120 BPM with a standard deviation of one octave.
pub fn log_normal_prior(bpm: f64) -> f64 {
    -0.5 * ((bpm.log2() - START_BPM.log2()) / STD_OCTAVES).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impulse_train_at_120_bpm_reads_120() {
        let frame_rate = 22050.0 / 512.0;
        let period = frame_rate * 60.0 / 120.0;
        let envelope: Vec<f32> = (0..1300)
            .map(|i| {
                let phase = (i as f64 / period).fract();
                if phase < 1.0 / period {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let bpm = tempo(&envelope, 22050, 512);
        assert!((bpm - 120.0).abs() < 3.0, "{bpm}");
    }
}
