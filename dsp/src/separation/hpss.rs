//! Streaming librosa `effects.hpss`: median filters of 31 frames across time (harmonic) and
//! 31 bins across frequency (percussive) on `|STFT|`, soft masks with power 2, and inverse
//! STFTs. It runs 15 frames behind its input and keeps only those frames, so clips of any
//! length take the same memory.

use realfft::num_complex::Complex32;

use crate::framing::OverlapAdd;

const KERNEL: usize = 31;
const HALF: usize = KERNEL / 2;
/// Frames kept: the filter window plus the frame that just left it (for sliding medians).
const RING: usize = KERNEL + 1;

pub struct HpssStream {
    n_bins: usize,
    /// The last `RING` input frames, slot `index % RING`.
    spectra: Vec<Vec<Complex32>>,
    magnitudes: Vec<Vec<f32>>,
    frames_in: usize,
    frames_out: usize,
    /// Per bin, the sorted time window of the last separated frame.
    time_windows: Vec<SlidingMedian>,
    harmonic_mag: Vec<f32>,
    harmonic: OverlapAdd,
    percussive: OverlapAdd,
    masked: Vec<Complex32>,
}

impl HpssStream {
    pub fn new(n_fft: usize, hop_length: usize) -> Self {
        let n_bins = n_fft / 2 + 1;
        Self {
            n_bins,
            spectra: vec![vec![Complex32::new(0.0, 0.0); n_bins]; RING],
            magnitudes: vec![vec![0.0; n_bins]; RING],
            frames_in: 0,
            frames_out: 0,
            time_windows: vec![SlidingMedian::default(); n_bins],
            harmonic_mag: vec![0.0; n_bins],
            harmonic: OverlapAdd::new(n_fft, hop_length),
            percussive: OverlapAdd::new(n_fft, hop_length),
            masked: vec![Complex32::new(0.0, 0.0); n_bins],
        }
    }

    /// Adds the next STFT frame; `out(harmonic, percussive)` receives finished samples of the
    /// centred, padded signal (the caller drops the first `n_fft / 2`).
    pub fn push(&mut self, spectrum: &[Complex32], out: &mut impl FnMut(&[f32], &[f32])) {
        let slot = self.frames_in % RING;
        self.spectra[slot].copy_from_slice(spectrum);
        for (m, c) in self.magnitudes[slot].iter_mut().zip(spectrum) {
            *m = c.norm();
        }
        self.frames_in += 1;
        while self.frames_out + HALF < self.frames_in {
            self.separate_next(None, out);
        }
    }

    /// Separates the remaining frames, reflecting at the end like `scipy.ndimage` does.
    pub fn finish(&mut self, out: &mut impl FnMut(&[f32], &[f32])) {
        let total = self.frames_in;
        while self.frames_out < total {
            self.separate_next(Some(total), out);
        }
        self.harmonic.finish();
        self.percussive.finish();
        out(self.harmonic.ready(), self.percussive.ready());
    }

    fn separate_next(&mut self, total: Option<usize>, out: &mut impl FnMut(&[f32], &[f32])) {
        let t = self.frames_out;
        // Frames past the current input mirror back once the length is known; before that,
        // `push` only gets here when the whole window exists.
        let n_frames = total.unwrap_or(usize::MAX);
        // Each bin's window slides by one frame: the mirrored indices make window(t) equal
        // window(t - 1) less frame t - 16 plus frame t + 15, edges included.
        let at = |offset: i64| reflect(t as i64 + offset, n_frames) % RING;
        let (leaving, entering) = (at(-(HALF as i64) - 1), at(HALF as i64));
        for k in 0..self.n_bins {
            let window = &mut self.time_windows[k];
            if t > 0 {
                window.replace(self.magnitudes[leaving][k], self.magnitudes[entering][k]);
            } else {
                let magnitudes = &self.magnitudes;
                window.fill(|j| magnitudes[at(j as i64 - HALF as i64)][k]);
            }
            self.harmonic_mag[k] = window.median();
        }
        let slot = t % RING;
        let magnitude = &self.magnitudes[slot];
        let spectrum = &self.spectra[slot];

        // Percussive: median across frequency of this frame, then the soft masks.
        let mut bins = SlidingMedian::default();
        let bin = |k: usize, offset: i64| magnitude[reflect(k as i64 + offset, self.n_bins)];
        bins.fill(|j| bin(0, j as i64 - HALF as i64));
        let columns = self
            .masked
            .iter_mut()
            .zip(spectrum)
            .zip(&mut self.harmonic_mag);
        for (k, ((masked, &value), harmonic)) in columns.enumerate() {
            if k > 0 {
                bins.replace(bin(k, -(HALF as i64) - 1), bin(k, HALF as i64));
            }
            let (mask_h, mask_p) = soft_masks(*harmonic, bins.median());
            *masked = value * mask_h;
            // Reuse the harmonic buffer for the percussive mask; the harmonic value is spent.
            *harmonic = mask_p;
        }
        self.harmonic.add_frame(&mut self.masked);
        for ((m, c), &mask_p) in self.masked.iter_mut().zip(spectrum).zip(&self.harmonic_mag) {
            *m = c * mask_p;
        }
        self.percussive.add_frame(&mut self.masked);
        self.frames_out += 1;
        out(self.harmonic.ready(), self.percussive.ready());
    }
}

/// A sorted window of `KERNEL` values whose median can be slid one value at a time.
#[derive(Clone, Copy)]
struct SlidingMedian {
    sorted: [f32; KERNEL],
}

impl Default for SlidingMedian {
    fn default() -> Self {
        Self {
            sorted: [0.0; KERNEL],
        }
    }
}

impl SlidingMedian {
    fn fill(&mut self, value: impl Fn(usize) -> f32) {
        for (j, slot) in self.sorted.iter_mut().enumerate() {
            *slot = value(j);
        }
        self.sorted.sort_unstable_by(f32::total_cmp);
    }

    /// Swaps `leaving` (which must be in the window) for `entering`, keeping the order.
    /// Magnitudes are finite (the input stage replaces NaN), so `<` orders them totally.
    fn replace(&mut self, leaving: f32, entering: f32) {
        let s = &mut self.sorted;
        let at = s.partition_point(|&x| x < leaving);
        let to = s.partition_point(|&x| x < entering);
        if to > at {
            // Shift the values between left by one; the new value goes just before `to`.
            s.copy_within(at + 1..to, at);
            s[to - 1] = entering;
        } else {
            s.copy_within(to..at, to + 1);
            s[to] = entering;
        }
    }

    fn median(&self) -> f32 {
        self.sorted[HALF]
    }
}

/// `scipy.ndimage` "reflect" boundary: `d c b a | a b c d | d c b a`.
fn reflect(index: i64, len: usize) -> usize {
    if len == usize::MAX {
        return if index < 0 { -index - 1 } else { index } as usize;
    }
    let period = 2 * len as i64;
    let i = index.rem_euclid(period);
    (if i >= len as i64 { period - 1 - i } else { i }) as usize
}

/// librosa `util.softmask(x, ref, power=2, split_zeros=True)` for both masks.
fn soft_masks(h: f32, p: f32) -> (f32, f32) {
    let z = h.max(p);
    if z < f32::MIN_POSITIVE {
        return (0.5, 0.5);
    }
    let (h2, p2) = ((h / z).powi(2), (p / z).powi(2));
    (h2 / (h2 + p2), p2 / (h2 + p2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_scipy() {
        let got: Vec<usize> = (-4..8).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
    }

    #[test]
    fn sliding_median_matches_sorting() {
        let values: Vec<f32> = (0..200).map(|i| ((i * 7919) % 101) as f32 * 0.5).collect();
        let mut window = SlidingMedian::default();
        window.fill(|j| values[j]);
        for start in 1..values.len() - KERNEL {
            window.replace(values[start - 1], values[start + KERNEL - 1]);
            let mut sorted = values[start..start + KERNEL].to_vec();
            sorted.sort_by(f32::total_cmp);
            assert_eq!(window.sorted.to_vec(), sorted, "window at {start}");
        }
    }

    #[test]
    fn masks_split_energy_and_halve_silence() {
        assert_eq!(soft_masks(0.0, 0.0), (0.5, 0.5));
        let (h, p) = soft_masks(3.0, 1.0);
        assert!((h - 0.9).abs() < 1e-6 && (p - 0.1).abs() < 1e-6);
    }
}
