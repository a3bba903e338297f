//! Converts decoded audio to what a sound device takes: its channel count (mono is copied to
//! every channel, extra channels beyond the device's are dropped) and its sample rate
//! (rubato's FFT resampler, only when the rates differ).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::device::DeviceError;

/// Input frames per resampler call.
const CHUNK_FRAMES: usize = 1024;

pub struct Converter {
    from_channels: usize,
    to_channels: usize,
    resampler: Option<Resampling>,
}

struct Resampling {
    fft: Fft<f32>,
    chunk_in: Vec<f32>,
    chunk_out: Vec<f32>,
}

impl Converter {
    pub fn new(
        from_rate: u32,
        from_channels: usize,
        to_rate: u32,
        to_channels: usize,
    ) -> Result<Self, DeviceError> {
        let resampler = if from_rate == to_rate {
            None
        } else {
            let fft = Fft::<f32>::new(
                from_rate as usize,
                to_rate as usize,
                CHUNK_FRAMES,
                to_channels,
                FixedSync::Input,
            )
            .map_err(|e| DeviceError::Resampler(e.to_string()))?;
            Some(Resampling {
                chunk_in: Vec::with_capacity(fft.input_frames_max() * to_channels),
                chunk_out: vec![0.0; fft.output_frames_max() * to_channels],
                fft,
            })
        };
        Ok(Self {
            from_channels,
            to_channels,
            resampler,
        })
    }

    /// Appends `block` (interleaved, input format) converted to the output format to `out`.
    pub fn process(&mut self, block: &[f32], out: &mut Vec<f32>) {
        let Some(r) = &mut self.resampler else {
            self.remap(block, out);
            return;
        };
        let (from, to) = (self.from_channels, self.to_channels);
        for frame in block.chunks_exact(from) {
            r.chunk_in
                .extend((0..to).map(|c| if c < from { frame[c] } else { frame[0] }));
            if r.chunk_in.len() == r.fft.input_frames_next() * to {
                r.run(to, out);
            }
        }
    }

    /// Forgets buffered input, after a seek.
    pub fn reset(&mut self) {
        if let Some(r) = &mut self.resampler {
            r.chunk_in.clear();
            r.fft.reset();
        }
    }

    fn remap(&self, block: &[f32], out: &mut Vec<f32>) {
        let (from, to) = (self.from_channels, self.to_channels);
        if from == to {
            out.extend_from_slice(block);
            return;
        }
        for frame in block.chunks_exact(from) {
            out.extend((0..to).map(|c| if c < from { frame[c] } else { frame[0] }));
        }
    }
}

impl Resampling {
    fn run(&mut self, channels: usize, out: &mut Vec<f32>) {
        let frames_in = self.chunk_in.len() / channels;
        let frames_out = self.chunk_out.len() / channels;
        let written = match (
            InterleavedSlice::new(&self.chunk_in[..], channels, frames_in),
            InterleavedSlice::new_mut(&mut self.chunk_out[..], channels, frames_out),
        ) {
            (Ok(input), Ok(mut output)) => self
                .fft
                .process_into_buffer(&input, &mut output, None)
                .map_or(0, |(_, written)| written),
            _ => 0,
        };
        out.extend_from_slice(&self.chunk_out[..written * channels]);
        self.chunk_in.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(from_rate: u32, from_channels: usize, to_rate: u32, input: &[f32]) -> Vec<f32> {
        let mut converter = Converter::new(from_rate, from_channels, to_rate, 2).unwrap();
        let mut out = Vec::new();
        for block in input.chunks(512 * from_channels) {
            converter.process(block, &mut out);
        }
        out
    }

    #[test]
    fn mono_is_copied_to_both_channels_and_extra_channels_are_dropped() {
        assert_eq!(
            converted(48_000, 1, 48_000, &[1.0, 2.0]),
            [1.0, 1.0, 2.0, 2.0]
        );
        let quad = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        assert_eq!(converted(48_000, 4, 48_000, &quad), [1.0, 2.0, 5.0, 6.0]);
    }

    #[test]
    fn resampling_keeps_pitch_and_duration() {
        let (from, to, hz) = (44_100, 48_000, 1000.0);
        let mono: Vec<f32> = (0..from)
            .map(|n| (2.0 * std::f32::consts::PI * hz * n as f32 / from as f32).sin())
            .collect();
        let out = converted(from, 1, to, &mono);
        let frames = out.len() / 2;
        // All but the last partial chunk comes out.
        assert!((to as usize - frames) < 2048, "{frames} frames");
        let left: Vec<f32> = out.iter().step_by(2).copied().collect();
        assert_eq!(
            left,
            out.iter().skip(1).step_by(2).copied().collect::<Vec<_>>()
        );
        // Rising zero crossings per second, away from the filter's start-up.
        let steady = &left[4096..frames];
        let crossings = steady
            .windows(2)
            .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
            .count();
        let measured = crossings as f32 * to as f32 / steady.len() as f32;
        assert!((measured - hz).abs() < 3.0, "{measured} Hz");
    }
}
