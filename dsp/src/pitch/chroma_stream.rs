//! Chroma frames for chords: longer frames than the feature engine's (4096 samples at
//! 22.05 kHz, a hop of 2048, ~93 ms), for the frequency resolution that tells neighbouring
//! semitones apart in the bass, through librosa's chroma filterbank at the stream's tuning.
//! Frame `i` is centred on sample `i * hop` (zero padding, librosa's `center=True`). No
//! allocation after construction but on a change of tuning.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};

use crate::config::PadMode;
use crate::framing::window::hann;
use crate::framing::{Centering, Framer};
use crate::spectral::filters::chroma_filterbank;

pub const N_FFT: usize = 4096;
pub const HOP: usize = 2048;

/// Bins below this frequency also make the bass chroma: where a chord's root usually is.
const BASS_HZ: f64 = 260.0;

/// One frame: its index since the start, its chroma (unnormalized magnitude per pitch class)
/// and that of the bass alone, its RMS and its magnitude spectrum (for a tuning estimate).
pub struct ChromaFrame<'a> {
    pub index: u64,
    pub chroma: [f32; 12],
    pub bass: [f32; 12],
    pub rms: f32,
    pub magnitude: &'a [f32],
}

pub struct ChromaStream {
    framer: Framer,
    chroma: FrameChroma,
}

/// What turns one frame into chroma.
struct FrameChroma {
    sample_rate: u32,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    windowed: Vec<f32>,
    spectrum: Vec<Complex32>,
    scratch: Vec<Complex32>,
    magnitude: Vec<f32>,
    filters: Vec<[f32; 12]>,
    tuning: f32,
}

impl ChromaStream {
    /// Frames of a `sample_rate` Hz signal, with chroma at `tuning` (fractions of a semitone
    /// from A440, as librosa's `estimate_tuning` gives).
    pub fn new(sample_rate: u32, tuning: f32) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        let chroma = FrameChroma {
            sample_rate,
            windowed: vec![0.0; N_FFT],
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            magnitude: vec![0.0; N_FFT / 2 + 1],
            window: hann(N_FFT),
            filters: chroma_filterbank(f64::from(sample_rate), N_FFT, f64::from(tuning)),
            tuning,
            fft,
        };
        Self {
            framer: Framer::new(N_FFT, HOP, Centering::Librosa(PadMode::Constant)),
            chroma,
        }
    }

    /// Chroma from now on at `tuning`.
    pub fn set_tuning(&mut self, tuning: f32) {
        let c = &mut self.chroma;
        if tuning.is_finite() && tuning != c.tuning {
            c.tuning = tuning;
            c.filters = chroma_filterbank(f64::from(c.sample_rate), N_FFT, f64::from(tuning));
        }
    }

    pub fn push(&mut self, samples: &[f32], out: &mut impl FnMut(ChromaFrame<'_>)) {
        let chroma = &mut self.chroma;
        self.framer
            .push(samples, &mut |f| out(chroma.frame(f.index, f.samples)));
    }

    /// Ends the signal: the frames its end padding completes.
    pub fn finish(&mut self, out: &mut impl FnMut(ChromaFrame<'_>)) {
        let chroma = &mut self.chroma;
        self.framer
            .finish(&mut |f| out(chroma.frame(f.index, f.samples)));
    }

    /// Starts a new signal.
    pub fn reset(&mut self) {
        self.framer.reset();
    }
}

impl FrameChroma {
    fn frame(&mut self, index: u64, samples: &[f32]) -> ChromaFrame<'_> {
        let mut square = 0f32;
        for ((w, &x), &h) in self.windowed.iter_mut().zip(samples).zip(&self.window) {
            // NaN and infinities count as silence rather than poisoning the frame.
            let x = if x.is_finite() { x } else { 0.0 };
            square += x * x;
            *w = x * h;
        }
        let rms = (square / N_FFT as f32).sqrt();
        let ok = self
            .fft
            .process_with_scratch(&mut self.windowed, &mut self.spectrum, &mut self.scratch)
            .is_ok();
        let (mut chroma, mut bass) = ([0f32; 12], [0f32; 12]);
        let bass_bins = (BASS_HZ * N_FFT as f64 / f64::from(self.sample_rate)) as usize;
        for (k, ((magnitude, s), column)) in self
            .magnitude
            .iter_mut()
            .zip(&self.spectrum)
            .zip(&self.filters)
            .enumerate()
        {
            // Magnitude, not power: loud partials dominate chroma less.
            *magnitude = if ok { s.norm() } else { 0.0 };
            for (c, w) in chroma.iter_mut().zip(column) {
                *c += w * *magnitude;
            }
            if k < bass_bins {
                for (b, w) in bass.iter_mut().zip(column) {
                    *b += w * *magnitude;
                }
            }
        }
        ChromaFrame {
            index,
            chroma,
            bass,
            rms,
            magnitude: &self.magnitude,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_lights_its_pitch_class_and_frames_are_centred_every_hop() {
        let rate = 22_050;
        // A4 (440 Hz) for 2 s.
        let tone: Vec<f32> = (0..2 * rate)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin())
            .collect();
        let mut stream = ChromaStream::new(rate as u32, 0.0);
        let mut frames = Vec::new();
        for block in tone.chunks(1000) {
            stream.push(block, &mut |f| frames.push((f.index, f.chroma, f.rms)));
        }
        stream.finish(&mut |f| frames.push((f.index, f.chroma, f.rms)));
        assert_eq!(frames.len(), 1 + tone.len() / HOP);
        let (_, chroma, rms) = frames[10];
        let top = (0..12)
            .max_by(|&a, &b| chroma[a].total_cmp(&chroma[b]))
            .unwrap();
        assert_eq!(top, 9, "A is pitch class 9: {chroma:?}");
        assert!((rms - 0.5f32.sqrt()).abs() < 0.01);
        // A quarter-tone sharp, and told so: A again.
        let sharp: Vec<f32> = (0..rate)
            .map(|i| (2.0 * std::f32::consts::PI * 452.9 * i as f32 / rate as f32).sin())
            .collect();
        stream.reset();
        stream.set_tuning(0.5);
        let mut chroma = [0f32; 12];
        stream.push(&sharp, &mut |f| {
            if f.index == 5 {
                chroma = f.chroma;
            }
        });
        let top = (0..12)
            .max_by(|&a, &b| chroma[a].total_cmp(&chroma[b]))
            .unwrap();
        assert_eq!(top, 9, "{chroma:?}");
    }
}
