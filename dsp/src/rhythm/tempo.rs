//! librosa `feature.tempo`: the mean autocorrelation tempogram of the onset envelope
//! (8 s Hann windows, centred with linear ramps to zero), weighted by a log-normal prior
//! around 120 BPM, capped at 320 BPM.

use realfft::num_complex::Complex64;
use realfft::RealFftPlanner;

use crate::framing::window::hann_f64;

const AC_SECONDS: f64 = 8.0;
const START_BPM: f64 = 120.0;
const STD_OCTAVES: f64 = 1.0;
const MAX_TEMPO: f64 = 320.0;

/// Global tempo in BPM of a whole onset envelope (`onset_strength` frames at `hop_length`).
pub fn tempo(onset_envelope: &[f32], sample_rate: u32, hop_length: usize) -> f64 {
    let frame_rate = sample_rate as f64 / hop_length as f64;
    let win = (AC_SECONDS * frame_rate).floor() as usize;
    let n = onset_envelope.len();
    if n == 0 || win < 2 {
        return 0.0;
    }
    let padded = ramp_pad(onset_envelope, win / 2);
    let window = hann_f64(win);

    let n_pad = (2 * win - 1).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n_pad);
    let inverse = planner.plan_fft_inverse(n_pad);
    let mut time = vec![0.0; n_pad];
    let mut spectrum = vec![Complex64::new(0.0, 0.0); n_pad / 2 + 1];
    let mut mean = vec![0.0f64; win];

    for t in 0..n {
        time.fill(0.0);
        for (i, x) in time[..win].iter_mut().enumerate() {
            *x = padded.get(t + i).copied().unwrap_or(0.0) * window[i];
        }
        if forward.process(&mut time, &mut spectrum).is_err() {
            return 0.0;
        }
        for c in spectrum.iter_mut() {
            *c = Complex64::new(c.norm_sqr(), 0.0);
        }
        if inverse.process(&mut spectrum, &mut time).is_err() {
            return 0.0;
        }
        // Normalize each frame by its largest |lag| value (librosa `norm=np.inf`).
        let peak = time[..win].iter().fold(0f64, |a, &b| a.max(b.abs()));
        let norm = if peak < f32::MIN_POSITIVE as f64 {
            1.0
        } else {
            peak
        };
        for (m, &x) in mean.iter_mut().zip(&time[..win]) {
            *m += x / norm;
        }
    }

    let mut best = (f64::NEG_INFINITY, 0usize);
    for (lag, &ac) in mean.iter().enumerate().skip(1) {
        let bpm = 60.0 * frame_rate / lag as f64;
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
    60.0 * frame_rate / best.1 as f64
}

/// librosa's tempo prior: log-normal around 120 BPM with a standard deviation of one octave.
pub fn log_normal_prior(bpm: f64) -> f64 {
    -0.5 * ((bpm.log2() - START_BPM.log2()) / STD_OCTAVES).powi(2)
}

/// numpy `pad(mode="linear_ramp", end_values=0)` with `width` on both sides.
fn ramp_pad(x: &[f32], width: usize) -> Vec<f64> {
    let (first, last) = (x[0] as f64, x[x.len() - 1] as f64);
    let ramp = |edge: f64, i: usize| edge * i as f64 / width as f64;
    (0..width)
        .map(|i| ramp(first, i))
        .chain(x.iter().map(|&v| v as f64))
        .chain((0..width).map(|i| ramp(last, width - 1 - i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_pad_matches_numpy() {
        // np.pad([4, 8], 3, mode="linear_ramp") == [0, 1.33, 2.67, 4, 8, 5.33, 2.67, 0]
        let got = ramp_pad(&[4.0, 8.0], 3);
        let want = [
            0.0,
            4.0 / 3.0,
            8.0 / 3.0,
            4.0,
            8.0,
            16.0 / 3.0,
            8.0 / 3.0,
            0.0,
        ];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12);
        }
    }

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
