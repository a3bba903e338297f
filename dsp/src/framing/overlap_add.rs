//! Inverse STFT by overlap-add, normalized by the summed squared window like librosa `istft`.
//! Frames in, finished samples out, no allocation after `new`.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner};

use crate::framing::window::hann;

/// Inverse STFT by overlap-add, normalized by the summed squared window like librosa `istft`.
pub struct OverlapAdd {
    hop: usize,
    inverse: Arc<dyn ComplexToReal<f32>>,
    scratch: Vec<Complex32>,
    time: Vec<f32>,
    window: Vec<f32>,
    sum: Vec<f32>,
    window_sum: Vec<f32>,
    out: Vec<f32>,
    ready_len: usize,
}

impl OverlapAdd {
    pub fn new(n_fft: usize, hop: usize) -> Self {
        let inverse = RealFftPlanner::<f32>::new().plan_fft_inverse(n_fft);
        Self {
            hop,
            scratch: inverse.make_scratch_vec(),
            inverse,
            time: vec![0.0; n_fft],
            window: hann(n_fft),
            sum: vec![0.0; n_fft],
            window_sum: vec![0.0; n_fft],
            out: vec![0.0; n_fft],
            ready_len: 0,
        }
    }

    pub fn add_frame(&mut self, spectrum: &mut [Complex32]) {
        let n = self.time.len();
        // numpy's irfft ignores these imaginary parts; realfft insists they are zero.
        spectrum[0].im = 0.0;
        spectrum[n / 2].im = 0.0;
        if self
            .inverse
            .process_with_scratch(spectrum, &mut self.time, &mut self.scratch)
            .is_err()
        {
            self.time.fill(0.0);
        }
        let scale = 1.0 / n as f32;
        for i in 0..n {
            let w = self.window[i];
            self.sum[i] += self.time[i] * scale * w;
            self.window_sum[i] += w * w;
        }
        self.take(self.hop);
    }

    pub fn finish(&mut self) {
        self.take(self.time.len() - self.hop);
    }

    /// Moves the first `n` accumulated samples, which no later frame touches, to `out`.
    pub fn take(&mut self, n: usize) {
        for i in 0..n {
            let w = self.window_sum[i];
            self.out[i] = if w > f32::MIN_POSITIVE {
                self.sum[i] / w
            } else {
                self.sum[i]
            };
        }
        self.ready_len = n;
        self.sum.copy_within(n.., 0);
        self.window_sum.copy_within(n.., 0);
        let len = self.sum.len();
        self.sum[len - n..].fill(0.0);
        self.window_sum[len - n..].fill(0.0);
    }

    pub fn ready(&self) -> &[f32] {
        &self.out[..self.ready_len]
    }
}
