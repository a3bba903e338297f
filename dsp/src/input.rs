//! The input stage: interleaved or planar blocks of any size in, mono analysis-rate samples out.
//! Downmixes, replaces non-finite samples, flushes denormals, and resamples with rubato's
//! FFT resampler (its delay removed, so sample `n` out lines up with `n / ratio` in).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::config::{ConfigError, MAX_BLOCK};

/// Samples beyond this magnitude (60 dB over full scale) are clamped so powers stay finite.
const MAX_ABS_SAMPLE: f32 = 1000.0;
/// Anything quieter is inaudible and only slows the arithmetic as a denormal.
const DENORMAL_FLOOR: f32 = 1e-30;
/// Requested resampler chunk in input frames; rubato rounds it to a multiple its ratio allows.
const RESAMPLER_CHUNK: usize = 1024;

pub struct InputStage {
    channels: usize,
    mono: Vec<f32>,
    resampler: Option<Resampling>,
    input_frames: u64,
    non_finite: u64,
}

struct Resampling {
    fft: Fft<f32>,
    ratio: f64,
    chunk_in: Vec<f32>,
    filled: usize,
    chunk_out: Vec<f32>,
    delay_left: usize,
    output_frames: u64,
}

impl InputStage {
    pub fn new(input_rate: u32, output_rate: u32, channels: usize) -> Result<Self, ConfigError> {
        let resampler = if input_rate == output_rate {
            None
        } else {
            let fft = Fft::<f32>::new(
                input_rate as usize,
                output_rate as usize,
                RESAMPLER_CHUNK,
                1,
                FixedSync::Input,
            )
            .map_err(|e| ConfigError::Resampler(e.to_string()))?;
            Some(Resampling {
                ratio: output_rate as f64 / input_rate as f64,
                chunk_in: vec![0.0; fft.input_frames_next()],
                filled: 0,
                chunk_out: vec![0.0; fft.output_frames_max()],
                delay_left: fft.output_delay(),
                output_frames: 0,
                fft,
            })
        };
        Ok(Self {
            channels,
            mono: vec![0.0; MAX_BLOCK],
            resampler,
            input_frames: 0,
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
        self.input_frames += frames as u64;
        match &mut self.resampler {
            None => out(&self.mono[..frames]),
            Some(r) => {
                let mut taken = 0;
                while taken < frames {
                    let n = (r.chunk_in.len() - r.filled).min(frames - taken);
                    r.chunk_in[r.filled..r.filled + n]
                        .copy_from_slice(&self.mono[taken..taken + n]);
                    r.filled += n;
                    taken += n;
                    if r.filled == r.chunk_in.len() {
                        r.run_chunk(u64::MAX, out);
                    }
                }
            }
        }
    }

    /// Pushes out what the resampler still holds, so the total output is
    /// `ceil(input_frames * ratio)` samples like `librosa.resample`.
    pub fn flush(&mut self, out: &mut impl FnMut(&[f32])) {
        let input_frames = self.input_frames;
        if let Some(r) = &mut self.resampler {
            let expected = (input_frames as f64 * r.ratio).ceil() as u64;
            // Each zero-padded chunk yields at least one output sample, so this ends.
            while r.output_frames < expected {
                r.chunk_in[r.filled..].fill(0.0);
                r.filled = r.chunk_in.len();
                r.run_chunk(expected, out);
            }
        }
    }
}

impl Resampling {
    fn run_chunk(&mut self, limit: u64, out: &mut impl FnMut(&[f32])) {
        self.filled = 0;
        let frames_in = self.chunk_in.len();
        let frames_out = self.chunk_out.len();
        let (Ok(input), Ok(mut output)) = (
            InterleavedSlice::new(&self.chunk_in[..], 1, frames_in),
            InterleavedSlice::new_mut(&mut self.chunk_out[..], 1, frames_out),
        ) else {
            return;
        };
        let Ok((_, written)) = self.fft.process_into_buffer(&input, &mut output, None) else {
            return;
        };
        let skip = self.delay_left.min(written);
        self.delay_left -= skip;
        let available = (written - skip) as u64;
        let n = available.min(limit.saturating_sub(self.output_frames)) as usize;
        if n > 0 {
            out(&self.chunk_out[skip..skip + n]);
            self.output_frames += n as u64;
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
