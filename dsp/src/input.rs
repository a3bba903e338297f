//! The input stage: interleaved or planar blocks of any size in, mono analysis-rate samples out.
//! Downmixes, replaces non-finite samples, flushes denormals, and resamples with the
//! [`Resampler`].

use crate::config::{ConfigError, MAX_BLOCK};
use crate::resampler::Resampler;

/// Samples beyond this magnitude (60 dB over full scale) are clamped so powers stay finite.
const MAX_ABS_SAMPLE: f32 = 1000.0;
/// Anything quieter is inaudible and only slows the arithmetic as a denormal.
const DENORMAL_FLOOR: f32 = 1e-30;

pub struct InputStage {
    channels: usize,
    mono: Vec<f32>,
    resampler: Option<Resampler>,
    non_finite: u64,
}

impl InputStage {
    pub fn new(input_rate: u32, output_rate: u32, channels: usize) -> Result<Self, ConfigError> {
        let resampler = if input_rate == output_rate {
            None
        } else {
            Some(Resampler::new(input_rate, output_rate, 1)?)
        };
        Ok(Self {
            channels,
            mono: vec![0.0; MAX_BLOCK],
            resampler,
            non_finite: 0,
        })
    }

    /// NaN or infinite input samples replaced by silence so far.
    pub fn non_finite_samples(&self) -> u64 {
        self.non_finite
    }

    /// Feeds interleaved samples (`len` a multiple of the channel count; a partial last frame
    /// is ignored) and hands analysis-rate mono samples to `out`.
    pub fn push_interleaved(&mut self, block: &[f32], out: &mut impl FnMut(&[f32])) {
        let channels = self.channels;
        for chunk in block.chunks(MAX_BLOCK * channels) {
            let frames = chunk.len() / channels;
            let scale = 1.0 / channels as f32;
            for (i, frame) in chunk.chunks_exact(channels).enumerate() {
                let mut sum = 0.0;
                for &s in frame {
                    sum += sanitize(s, &mut self.non_finite);
                }
                self.mono[i] = sum * scale;
            }
            self.emit_mono(frames, out);
        }
    }

    /// Feeds one slice per channel (all the same length; extra samples in longer ones are ignored).
    pub fn push_planar<S: AsRef<[f32]>>(&mut self, planes: &[S], out: &mut impl FnMut(&[f32])) {
        let frames = planes.iter().map(|p| p.as_ref().len()).min().unwrap_or(0);
        if planes.is_empty() {
            return;
        }
        let scale = 1.0 / planes.len() as f32;
        let mut start = 0;
        while start < frames {
            let n = (frames - start).min(MAX_BLOCK);
            self.mono[..n].fill(0.0);
            for plane in planes {
                for (m, &s) in self.mono[..n]
                    .iter_mut()
                    .zip(&plane.as_ref()[start..start + n])
                {
                    *m += sanitize(s, &mut self.non_finite);
                }
            }
            for m in &mut self.mono[..n] {
                *m *= scale;
            }
            self.emit_mono(n, out);
            start += n;
        }
    }

    fn emit_mono(&mut self, frames: usize, out: &mut impl FnMut(&[f32])) {
        match &mut self.resampler {
            None => out(&self.mono[..frames]),
            Some(r) => r.push(&self.mono[..frames], out),
        }
    }

    /// Pushes out what the resampler still holds, so the total output is
    /// `ceil(input_frames * ratio)` samples like `librosa.resample`.
    pub fn flush(&mut self, out: &mut impl FnMut(&[f32])) {
        if let Some(r) = &mut self.resampler {
            r.flush(out);
        }
    }
}

fn sanitize(s: f32, non_finite: &mut u64) -> f32 {
    if !s.is_finite() {
        *non_finite += 1;
        0.0
    } else if s.abs() < DENORMAL_FLOOR {
        0.0
    } else {
        s.clamp(-MAX_ABS_SAMPLE, MAX_ABS_SAMPLE)
    }
}
