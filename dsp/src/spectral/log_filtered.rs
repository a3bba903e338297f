//! madmom's log-filtered spectrogram with positive differences: BeatNet's input, frame by frame.
//!
//! At 22 050 Hz: 1411-sample frames (64 ms) centred every 441 samples (50 fps), a symmetric
//! Hann window, a 1411-point FFT (705 bins, no Nyquist), 24 triangular bands per octave from
//! 30 Hz to 17 kHz (area-normalized, duplicates at low frequencies removed), `log10(1 + x)`,
//! then the positive difference to the previous frame stacked after the bands. This is what
//! `madmom.audio.spectrogram` computes over a whole signal (BeatNet's `LOG_SPECT`), computed
//! causally: a frame is out as soon as its last sample is in, so a stream and a file give the
//! same frames.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};

use crate::framing::window::hann_symmetric;
use crate::framing::{Centering, FrameRef, Framer};
use crate::spectral::filters::SparseBand;

pub const SAMPLE_RATE: u32 = 22_050;
pub const FRAME_SIZE: usize = 1411;
pub const HOP: usize = 441;
pub const FRAMES_PER_SECOND: f64 = SAMPLE_RATE as f64 / HOP as f64;
const BANDS_PER_OCTAVE: f64 = 24.0;
const FMIN: f64 = 30.0;
const FMAX: f64 = 17_000.0;
const FREF: f64 = 440.0;

pub struct LogFilteredSpectrogram {
    framer: Framer,
    spectrum: FrameSpectrum,
}

/// One frame's bands and differences.
struct FrameSpectrum {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    bands: Vec<SparseBand>,
    windowed: Vec<f32>,
    spectrum: Vec<Complex32>,
    scratch: Vec<Complex32>,
    magnitude: Vec<f32>,
    previous: Vec<f32>,
    /// Bands then positive differences.
    features: Vec<f32>,
}

impl Default for LogFilteredSpectrogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LogFilteredSpectrogram {
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FRAME_SIZE);
        let bands = log_filterbank();
        let n = bands.len();
        Self {
            framer: Framer::new(FRAME_SIZE, HOP, Centering::Madmom),
            spectrum: FrameSpectrum {
                window: hann_symmetric(FRAME_SIZE),
                windowed: fft.make_input_vec(),
                spectrum: fft.make_output_vec(),
                scratch: fft.make_scratch_vec(),
                fft,
                bands,
                magnitude: vec![0.0; FRAME_SIZE / 2],
                previous: vec![0.0; n],
                features: vec![0.0; 2 * n],
            },
        }
    }

    /// Length of each feature vector: the bands, then their positive differences (272).
    pub fn len(&self) -> usize {
        self.spectrum.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spectrum.features.is_empty()
    }

    /// Frames emitted so far; frame `i` is centred on sample `i * HOP`.
    pub fn frames(&self) -> u64 {
        self.framer.frames()
    }

    /// Feeds mono 22 050 Hz samples; calls `out` with each completed frame's features.
    pub fn process(&mut self, samples: &[f32], out: &mut impl FnMut(&[f32])) {
        let spectrum = &mut self.spectrum;
        self.framer.push(samples, &mut |f| out(spectrum.compute(f)));
    }

    /// Ends a signal as madmom does: zero padding until there are `ceil(samples / HOP)` frames.
    pub fn finish(&mut self, out: &mut impl FnMut(&[f32])) {
        let spectrum = &mut self.spectrum;
        self.framer.finish(&mut |f| out(spectrum.compute(f)));
    }

    /// Starts a new signal.
    pub fn reset(&mut self) {
        self.framer.reset();
        self.spectrum.previous.fill(0.0);
    }
}

impl FrameSpectrum {
    fn compute(&mut self, frame: FrameRef<'_>) -> &[f32] {
        for ((w, &x), &h) in self
            .windowed
            .iter_mut()
            .zip(frame.samples)
            .zip(&self.window)
        {
            *w = x * h;
        }
        // Only fails on buffer sizes, which are the planner's own.
        let _ = self.fft.process_with_scratch(
            &mut self.windowed,
            &mut self.spectrum,
            &mut self.scratch,
        );
        for (m, c) in self.magnitude.iter_mut().zip(&self.spectrum) {
            *m = c.norm();
        }
        let n = self.bands.len();
        let (bands, diffs) = self.features.split_at_mut(n);
        for (b, band) in bands.iter_mut().zip(&self.bands) {
            let filtered: f32 = self.magnitude[band.start..]
                .iter()
                .zip(&band.weights)
                .map(|(m, w)| m * w)
                .sum();
            *b = (1.0 + filtered).log10();
        }
        // madmom's diff_frames for a 0.5 ratio is 1 at this frame and hop size; the first
        // frame has no predecessor and a zero difference.
        for ((d, &b), p) in diffs.iter_mut().zip(bands.iter()).zip(&mut self.previous) {
            *d = if frame.index == 0 {
                0.0
            } else {
                (b - *p).max(0.0)
            };
            *p = b;
        }
        &self.features
    }
}

/// Each band's centre frequency in Hz (madmom's `center_frequencies`), in feature order.
pub fn band_centres_hz() -> Vec<f64> {
    log_filterbank()
        .iter()
        .map(|band| {
            // The triangle peaks (weight 1 before normalization) at its centre bin.
            let peak = band
                .weights
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            bin_hz(band.start + peak)
        })
        .collect()
}

/// madmom's `fft_frequencies` spaces bins by sr / (2 * num_bins), not sr / frame_size.
fn bin_hz(k: usize) -> f64 {
    k as f64 * SAMPLE_RATE as f64 / (2 * (FRAME_SIZE / 2)) as f64
}

/// madmom `LogarithmicFilterbank(num_bands=24, fmin=30, fmax=17000, norm_filters=True,
/// unique_filters=True)` over the bins of a 1411-point FFT.
fn log_filterbank() -> Vec<SparseBand> {
    let num_bins = FRAME_SIZE / 2;
    let left = ((FMIN / FREF).log2() * BANDS_PER_OCTAVE).floor() as i32;
    let right = ((FMAX / FREF).log2() * BANDS_PER_OCTAVE).ceil() as i32;
    let frequencies = (left..right)
        .map(|i| FREF * 2f64.powf(i as f64 / BANDS_PER_OCTAVE))
        .filter(|&f| (FMIN..=FMAX).contains(&f));
    // The nearest bin to each frequency (ties go up), without duplicates.
    let mut bins: Vec<usize> = frequencies
        .map(|f| {
            let above = (0..num_bins)
                .position(|k| bin_hz(k) >= f)
                .unwrap_or(num_bins)
                .clamp(1, num_bins - 1);
            if f - bin_hz(above - 1) < bin_hz(above) - f {
                above - 1
            } else {
                above
            }
        })
        .collect();
    bins.dedup();
    bins.windows(3)
        .map(|w| {
            let (start, mut center, mut stop) = (w[0], w[1], w[2]);
            if stop - start < 2 {
                center = start;
                stop = start + 1;
            }
            let (rise, fall) = (center - start, stop - center);
            let mut weights: Vec<f32> = (0..rise)
                .map(|i| i as f64 / rise as f64)
                .chain((0..fall).map(|i| 1.0 - i as f64 / fall as f64))
                .map(|w| w as f32)
                .collect();
            let area: f32 = weights.iter().sum();
            weights.iter_mut().for_each(|w| *w /= area);
            SparseBand { start, weights }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_beatnets_272_features() {
        let spec = LogFilteredSpectrogram::new();
        assert_eq!(spec.len(), 272);
    }

    #[test]
    fn band_centres_are_madmoms() {
        // madmom's `center_frequencies` of this filterbank: the first two and the last.
        let centres = band_centres_hz();
        assert_eq!(centres.len(), 136);
        for (got, want) in [(centres[0], 46.914_893_6), (centres[1], 62.553_191_5)] {
            assert!((got - want).abs() < 1e-6, "{got}");
        }
        assert!((centres[135] - 10_852.978_723_4).abs() < 1e-6);
        assert!(centres.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn frames_are_centred_and_padded_like_madmom() {
        let mut spec = LogFilteredSpectrogram::new();
        let mut frames = 0;
        let signal = vec![0.1f32; 10_000];
        // Frame i needs samples up to i * HOP + FRAME_SIZE / 2.
        spec.process(&signal[..FRAME_SIZE / 2], &mut |_| frames += 1);
        assert_eq!(frames, 0);
        spec.process(&signal[FRAME_SIZE / 2..FRAME_SIZE / 2 + 1], &mut |_| {
            frames += 1
        });
        assert_eq!(frames, 1);
        spec.process(&signal[FRAME_SIZE / 2 + 1..], &mut |_| frames += 1);
        spec.finish(&mut |_| frames += 1);
        assert_eq!(frames, 10_000usize.div_ceil(HOP));
    }

    #[test]
    fn a_tone_lights_its_band_and_its_onset_only_once() {
        let tone: Vec<f32> = (0..SAMPLE_RATE as usize)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 22050.0).sin())
            .collect();
        let mut spec = LogFilteredSpectrogram::new();
        let mut frames = Vec::new();
        let mut silence = vec![0.0; SAMPLE_RATE as usize / 2];
        silence.extend_from_slice(&tone);
        spec.process(&silence, &mut |f| frames.push(f.to_vec()));
        let n = spec.len() / 2;
        let steady = &frames[frames.len() - 1];
        let loudest = (0..n)
            .max_by(|&a, &b| steady[a].total_cmp(&steady[b]))
            .unwrap();
        let band = &spec.spectrum.bands[loudest];
        let centre_hz = (band.start + band.weights.len() / 2) as f64 * 22050.0 / 1410.0;
        assert!((centre_hz / 1000.0).log2().abs() < 0.1, "{centre_hz} Hz");
        // The onset shows in the differences of the frames around 0.5 s, and then not again.
        let onset_frames: Vec<usize> = frames
            .iter()
            .enumerate()
            .filter(|(_, f)| f[n + loudest] > 0.05)
            .map(|(i, _)| i)
            .collect();
        assert!(!onset_frames.is_empty());
        assert!(
            onset_frames.iter().all(|&i| (23..=27).contains(&i)),
            "{onset_frames:?}"
        );
    }
}
