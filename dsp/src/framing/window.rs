//! The one home for window functions.

use std::f64::consts::PI;

/// Periodic Hann window in f64 (scipy `get_window("hann", n, fftbins=True)`), as librosa's
/// STFT and tempogram use it.
pub fn hann_f64(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
        .collect()
}

/// [`hann_f64`] in f32, for frames of samples.
pub fn hann(n: usize) -> Vec<f32> {
    hann_f64(n).into_iter().map(|w| w as f32).collect()
}

/// numpy's `hanning`: symmetric, zero at both ends (madmom's frames).
pub fn hann_symmetric(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (0.5 - 0.5 * (2.0 * PI * i as f64 / (n - 1) as f64).cos()) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_and_symmetric_hann_differ_only_in_period() {
        let p = hann(8);
        assert_eq!(p[0], 0.0);
        assert!((p[4] - 1.0).abs() < 1e-7, "periodic peaks at n / 2");
        let s = hann_symmetric(9);
        assert_eq!((s[0], s[8]), (0.0, 0.0));
        assert!((s[4] - 1.0).abs() < 1e-7);
        for (a, b) in p.iter().zip(&s) {
            assert!(
                (a - b).abs() < 1e-7,
                "hann(n) is hann_symmetric(n + 1) less its end"
            );
        }
    }
}
