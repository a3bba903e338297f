//! librosa `estimate_tuning` as `chroma_stft` calls it: `piptrack` peaks of the power
//! spectrogram between 150 and 4000 Hz, kept if at least the median peak magnitude, then the
//! most common deviation from equal temperament in 0.01-semitone bins.

/// Collects spectral peaks frame by frame; memory grows with the number of peaks (a few dozen
/// bytes per frame), which is what makes the clip-wide median exact.
pub struct TuningEstimator {
    sample_rate: f32,
    n_fft: usize,
    bin_range: std::ops::Range<usize>,
    /// `(interpolated magnitude, frequency in Hz)` of every peak.
    peaks: Vec<(f32, f32)>,
}

const FMIN: f64 = 150.0;
const FMAX: f64 = 4000.0;
const THRESHOLD: f32 = 0.1;
const RESOLUTION_BINS: usize = 100;

impl TuningEstimator {
    pub fn new(sample_rate: u32, n_fft: usize) -> Self {
        let bin_hz = sample_rate as f64 / n_fft as f64;
        let fmax = FMAX.min(sample_rate as f64 / 2.0);
        let first = (FMIN / bin_hz).ceil() as usize;
        // Bins with frequency strictly below fmax.
        let end = ((fmax / bin_hz).ceil() as usize).min(n_fft / 2 + 1);
        Self {
            sample_rate: sample_rate as f32,
            n_fft,
            bin_range: first..end,
            peaks: Vec::new(),
        }
    }

    /// Adds one frame's spectrum (`|STFT|^2`, which is what `chroma_stft` hands to `piptrack`).
    pub fn push(&mut self, s: &[f32]) {
        let frame_max = s.iter().fold(0f32, |a, &b| a.max(b));
        let reference = THRESHOLD * frame_max;
        let gated = |k: usize| if s[k] > reference { s[k] } else { 0.0 };
        let last = s.len() - 1;
        for k in self.bin_range.clone() {
            // librosa `localmax` on the thresholded column; edges are padded by repetition,
            // so bin 0 is never a peak and the last bin only needs to beat its left neighbour.
            let here = gated(k);
            if k == 0 || here <= gated(k - 1) || (k < last && here < gated(k + 1)) {
                continue;
            }
            let shift = if k == last {
                0.0
            } else {
                parabolic_shift(s[k - 1], s[k], s[k + 1])
            };
            let gradient = if k == last {
                s[k] - s[k - 1]
            } else {
                (s[k + 1] - s[k - 1]) / 2.0
            };
            let magnitude = s[k] + 0.5 * gradient * shift;
            let frequency = (k as f32 + shift) * self.sample_rate / self.n_fft as f32;
            if frequency > 0.0 {
                self.peaks.push((magnitude, frequency));
            }
        }
    }

    /// The tuning offset in fractions of a bin (semitone), in `[-0.5, 0.5)`.
    pub fn estimate(&self) -> f32 {
        if self.peaks.is_empty() {
            return 0.0;
        }
        let mut magnitudes: Vec<f32> = self.peaks.iter().map(|p| p.0).collect();
        let threshold = crate::spectral::features::median(&mut magnitudes);
        let mut counts = [0u32; RESOLUTION_BINS];
        for &(magnitude, frequency) in &self.peaks {
            if magnitude < threshold {
                continue;
            }
            let octaves = (frequency / (440.0 / 16.0)).log2();
            let mut residual = (12.0 * octaves).rem_euclid(1.0);
            if residual >= 0.5 {
                residual -= 1.0;
            }
            // np.histogram over linspace(-0.5, 0.5, 101): half-open bins, last one closed.
            let bin = (((residual as f64 + 0.5) * RESOLUTION_BINS as f64).floor() as usize)
                .min(RESOLUTION_BINS - 1);
            counts[bin] += 1;
        }
        let best = counts
            .iter()
            .enumerate()
            .fold(0, |best, (i, &c)| if c > counts[best] { i } else { best });
        (-0.5 + best as f64 / RESOLUTION_BINS as f64) as f32
    }
}

/// librosa's parabolic peak offset in bins, 0 when the vertex lies more than a bin away.
fn parabolic_shift(left: f32, centre: f32, right: f32) -> f32 {
    let a = right + left - 2.0 * centre;
    let b = (right - left) / 2.0;
    if b.abs() >= a.abs() {
        0.0
    } else {
        -b / a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine_power_spectrum(freq: f32) -> Vec<f32> {
        // Hann-windowed sinusoid, evaluated directly at each bin.
        let (sr, n) = (22050.0f32, 2048usize);
        (0..=n / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for i in 0..n {
                    let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
                    let x =
                        w * (2.0 * std::f64::consts::PI * freq as f64 * i as f64 / sr as f64).sin();
                    let phase = -2.0 * std::f64::consts::PI * (k * i) as f64 / n as f64;
                    re += x * phase.cos();
                    im += x * phase.sin();
                }
                (re * re + im * im) as f32
            })
            .collect()
    }

    #[test]
    fn a_sharp_sine_reads_as_positive_tuning() {
        // 440 Hz raised by 0.2 semitone; A4's overtones stay out of the way with a pure tone.
        let freq = 440.0 * 2f32.powf(0.2 / 12.0);
        let mut estimator = TuningEstimator::new(22050, 2048);
        estimator.push(&sine_power_spectrum(freq));
        let tuning = estimator.estimate();
        assert!((tuning - 0.2).abs() <= 0.06, "tuning {tuning}");
    }

    #[test]
    fn no_peaks_means_no_offset() {
        let mut estimator = TuningEstimator::new(22050, 2048);
        estimator.push(&vec![0.0; 1025]);
        assert_eq!(estimator.estimate(), 0.0);
    }
}
