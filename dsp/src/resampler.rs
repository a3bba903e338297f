//! One chunked resampler for every stream: rubato's FFT resampler over interleaved frames of
//! any channel count, fed blocks of any size, with its delay trimmed (output frame `n` lines
//! up with input frame `n / ratio`) and an exact flush (`ceil(input_frames * ratio)` frames in
//! all, like `librosa.resample`). No allocation after [`Resampler::new`].

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};

use crate::config::ConfigError;

/// Requested chunk in input frames; rubato rounds it to a multiple its ratio allows.
const CHUNK_FRAMES: usize = 1024;

pub struct Resampler {
    fft: Fft<f32>,
    channels: usize,
    ratio: f64,
    /// Interleaved input of the chunk being filled.
    chunk_in: Vec<f32>,
    filled_frames: usize,
    chunk_out: Vec<f32>,
    delay_left: usize,
    input_frames: u64,
    output_frames: u64,
}

impl Resampler {
    pub fn new(from_rate: u32, to_rate: u32, channels: usize) -> Result<Self, ConfigError> {
        let fft = Fft::<f32>::new(
            from_rate as usize,
            to_rate as usize,
            CHUNK_FRAMES,
            channels.max(1),
            FixedSync::Input,
        )
        .map_err(|e| ConfigError::Resampler(e.to_string()))?;
        Ok(Self {
            channels: channels.max(1),
            ratio: to_rate as f64 / from_rate as f64,
            chunk_in: vec![0.0; fft.input_frames_next() * channels.max(1)],
            filled_frames: 0,
            chunk_out: vec![0.0; fft.output_frames_max() * channels.max(1)],
            delay_left: fft.output_delay(),
            input_frames: 0,
            output_frames: 0,
            fft,
        })
    }

    /// Output rate over input rate.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Feeds interleaved frames (a partial last frame is ignored) and hands resampled
    /// interleaved frames to `out` as whole chunks complete.
    pub fn push(&mut self, block: &[f32], out: &mut impl FnMut(&[f32])) {
        let c = self.channels;
        let chunk_frames = self.chunk_in.len() / c;
        let mut rest = &block[..block.len() / c * c];
        self.input_frames += (rest.len() / c) as u64;
        while !rest.is_empty() {
            let n = (chunk_frames - self.filled_frames).min(rest.len() / c);
            let at = self.filled_frames * c;
            self.chunk_in[at..at + n * c].copy_from_slice(&rest[..n * c]);
            self.filled_frames += n;
            rest = &rest[n * c..];
            if self.filled_frames == chunk_frames {
                self.run_chunk(u64::MAX, out);
            }
        }
    }

    /// Pushes out what the resampler still holds, so the total output is
    /// `ceil(input_frames * ratio)` frames. Call at the end of a stream.
    pub fn flush(&mut self, out: &mut impl FnMut(&[f32])) {
        let expected = (self.input_frames as f64 * self.ratio).ceil() as u64;
        // Each zero-padded chunk yields at least one output frame, so this ends.
        while self.output_frames < expected {
            self.chunk_in[self.filled_frames * self.channels..].fill(0.0);
            self.filled_frames = self.chunk_in.len() / self.channels;
            self.run_chunk(expected, out);
        }
    }

    /// Forgets buffered input and starts a new stream (after a seek).
    pub fn reset(&mut self) {
        self.fft.reset();
        self.filled_frames = 0;
        self.delay_left = self.fft.output_delay();
        self.input_frames = 0;
        self.output_frames = 0;
    }

    fn run_chunk(&mut self, limit: u64, out: &mut impl FnMut(&[f32])) {
        self.filled_frames = 0;
        let c = self.channels;
        let (frames_in, frames_out) = (self.chunk_in.len() / c, self.chunk_out.len() / c);
        let (Ok(input), Ok(mut output)) = (
            InterleavedSlice::new(&self.chunk_in[..], c, frames_in),
            InterleavedSlice::new_mut(&mut self.chunk_out[..], c, frames_out),
        ) else {
            return;
        };
        // Only fails on buffer sizes, which are rubato's own.
        let Ok((_, written)) = self.fft.process_into_buffer(&input, &mut output, None) else {
            return;
        };
        let skip = self.delay_left.min(written);
        self.delay_left -= skip;
        let available = (written - skip) as u64;
        let n = available.min(limit.saturating_sub(self.output_frames)) as usize;
        if n > 0 {
            out(&self.chunk_out[skip * c..(skip + n) * c]);
            self.output_frames += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resampled(from: u32, to: u32, channels: usize, input: &[f32], block: usize) -> Vec<f32> {
        let mut r = Resampler::new(from, to, channels).unwrap();
        let mut out = Vec::new();
        for b in input.chunks(block * channels) {
            r.push(b, &mut |s| out.extend_from_slice(s));
        }
        r.flush(&mut |s| out.extend_from_slice(s));
        out
    }

    #[test]
    fn flush_gives_ceil_of_the_ratio_and_channels_stay_apart() {
        let frames = 10_001;
        // Left a 1 kHz tone, right its negative.
        let input: Vec<f32> = (0..frames)
            .flat_map(|n| {
                let s = (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 44_100.0).sin();
                [s, -s]
            })
            .collect();
        for block in [1, 7, 512, 4096] {
            let out = resampled(44_100, 48_000, 2, &input, block);
            let expected = (frames as f64 * 48_000.0 / 44_100.0).ceil() as usize;
            assert_eq!(out.len(), 2 * expected, "block {block}");
            assert!(out.chunks(2).all(|f| f[0] == -f[1]));
        }
    }

    #[test]
    fn delay_is_trimmed_so_an_impulse_stays_in_place() {
        let mut input = vec![0.0; 8000];
        input[3000] = 1.0;
        let out = resampled(16_000, 22_050, 1, &input, 333);
        let peak = (0..out.len())
            .max_by(|&a, &b| out[a].abs().total_cmp(&out[b].abs()))
            .unwrap();
        let expected = 3000.0 * 22_050.0 / 16_000.0;
        assert!(
            (peak as f64 - expected).abs() <= 1.0,
            "peak at {peak}, {expected}"
        );
    }

    #[test]
    fn reset_starts_over() {
        let input: Vec<f32> = (0..5000).map(|n| (n as f32 * 0.01).sin()).collect();
        let mut r = Resampler::new(48_000, 22_050, 1).unwrap();
        let mut first = Vec::new();
        r.push(&input, &mut |s| first.extend_from_slice(s));
        r.reset();
        let mut again = Vec::new();
        r.push(&input, &mut |s| again.extend_from_slice(s));
        assert_eq!(first, again);
    }
}
