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

/// The tempi [`Tempo::profile`] reads the mean tempogram at: 8 per octave from 40 to 320 BPM.
pub const PROFILE_BPM_LOW: f64 = 40.0;
pub const PROFILE_BINS_PER_OCTAVE: usize = 8;
pub const PROFILE_BINS: usize = 3 * PROFILE_BINS_PER_OCTAVE;

/// What the tempogram says about a clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tempo {
    /// librosa's tempo in BPM; 0 when there was nothing to estimate it from.
    pub bpm: f64,
    /// The strongest mean normalized autocorrelation around each of [`PROFILE_BINS`]
    /// log-spaced tempi (1 at the strongest): how strongly the onsets repeat at each period, the clip's
    /// rhythm in a form that compares across tempi. All zero when `bpm` is 0.
    pub profile: [f32; PROFILE_BINS],
}

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
    pub fn finish(self) -> f64 {
        self.finish_with_profile().bpm
    }

    /// The tempo and the tempogram profile of everything pushed.
    pub fn finish_with_profile(mut self) -> Tempo {
        let none = Tempo {
            bpm: 0.0,
            profile: [0.0; PROFILE_BINS],
        };
        let n = self.pushed;
        if n == 0 || self.window.len() < 2 {
            return none;
        }
        // The ramp back down to zero, then zeros until every onset frame has had its window.
        for i in 0..self.half {
            self.extend(self.last * (self.half - 1 - i) as f64 / self.half as f64);
        }
        while self.frames < n {
            self.extend(0.0);
        }
        if self.failed {
            return none;
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
            return none;
        }
        Tempo {
            bpm: 60.0 * self.frame_rate / best.1 as f64,
            profile: self.profile(),
        }
    }

    /// The mean tempogram's largest value over the lags in each profile bin (a peak between
    /// two lags is not averaged away), scaled to peak 1.
    fn profile(&self) -> [f32; PROFILE_BINS] {
        let mut peaks = [None::<f64>; PROFILE_BINS];
        for (lag, &ac) in self.sum.iter().enumerate().skip(1) {
            let bpm = 60.0 * self.frame_rate / lag as f64;
            let bin = ((bpm / PROFILE_BPM_LOW).log2() * PROFILE_BINS_PER_OCTAVE as f64).floor();
            if (0.0..PROFILE_BINS as f64).contains(&bin) {
                let p = &mut peaks[bin as usize];
                *p = Some(p.unwrap_or(0.0).max(ac));
            }
        }
        // Bins narrower than one lag (fast tempi at a coarse hop) take the nearest lag's value.
        let mut profile = [0.0f32; PROFILE_BINS];
        for (i, p) in profile.iter_mut().enumerate() {
            *p = if let Some(peak) = peaks[i] {
                peak as f32
            } else {
                let bpm =
                    PROFILE_BPM_LOW * 2f64.powf((i as f64 + 0.5) / PROFILE_BINS_PER_OCTAVE as f64);
                let lag = (60.0 * self.frame_rate / bpm).round() as usize;
                self.sum.get(lag).map_or(0.0, |&ac| ac as f32)
            };
        }
        let peak = profile.iter().fold(0f32, |a, &b| a.max(b));
        if peak > 0.0 {
            profile.iter_mut().for_each(|p| *p = (*p / peak).max(0.0));
        }
        profile
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

    #[test]
    fn profile_peaks_at_the_pulse_and_its_multiples() {
        let frame_rate = 22050.0 / 512.0;
        for target in [75.0, 100.0, 140.0] {
            let period = frame_rate * 60.0 / target;
            let mut estimator = TempoEstimator::new(22050, 512);
            for i in 0..1300 {
                let phase = (i as f64 / period).fract();
                estimator.push(if phase < 1.0 / period { 1.0 } else { 0.0 });
            }
            let tempo = estimator.finish_with_profile();
            let bin_of = |bpm: f64| {
                ((bpm / PROFILE_BPM_LOW).log2() * PROFILE_BINS_PER_OCTAVE as f64).floor() as usize
            };
            // An impulse every 18.5 frames is split between two lags: peaks are not all 1.
            let (pulse, off_beat) = (bin_of(target), bin_of(target * 1.25));
            assert!(tempo.profile[pulse] > 0.5, "{target}: {:?}", tempo.profile);
            assert!(
                tempo.profile[off_beat] < 0.2,
                "{target}: {:?}",
                tempo.profile
            );
        }
        let silent = TempoEstimator::new(22050, 512).finish_with_profile();
        assert_eq!(silent.profile, [0.0; PROFILE_BINS]);
    }
}
