//! Converts decoded audio to what a sound device takes: its channel count (mono is copied to
//! every channel, extra channels beyond the device's are dropped) and its sample rate
//! (dsp's resampler, only when the rates differ).

use mirador_dsp::resampler::Resampler;

use crate::device::DeviceError;

pub struct Converter {
    from_channels: usize,
    to_channels: usize,
    resampler: Option<Resampler>,
    /// One block remapped to the output channels, before resampling.
    remapped: Vec<f32>,
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
            Some(
                Resampler::new(from_rate, to_rate, to_channels)
                    .map_err(|e| DeviceError::Resampler(e.to_string()))?,
            )
        };
        Ok(Self {
            from_channels,
            to_channels,
            resampler,
            remapped: Vec::new(),
        })
    }

    /// Appends `block` (interleaved, input format) converted to the output format to `out`.
    pub fn process(&mut self, block: &[f32], out: &mut Vec<f32>) {
        let Some(r) = &mut self.resampler else {
            remap(self.from_channels, self.to_channels, block, out);
            return;
        };
        self.remapped.clear();
        remap(
            self.from_channels,
            self.to_channels,
            block,
            &mut self.remapped,
        );
        r.push(&self.remapped, &mut |s| out.extend_from_slice(s));
    }

    /// Appends what the resampler still holds, at the end of the file.
    pub fn flush(&mut self, out: &mut Vec<f32>) {
        if let Some(r) = &mut self.resampler {
            r.flush(&mut |s| out.extend_from_slice(s));
        }
    }

    /// Forgets buffered input, after a seek.
    pub fn reset(&mut self) {
        if let Some(r) = &mut self.resampler {
            r.reset();
        }
    }
}

/// Mono is copied to every channel; channels beyond the output's are dropped.
fn remap(from: usize, to: usize, block: &[f32], out: &mut Vec<f32>) {
    if from == to {
        out.extend_from_slice(block);
        return;
    }
    for frame in block.chunks_exact(from) {
        out.extend((0..to).map(|c| if c < from { frame[c] } else { frame[0] }));
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
        converter.flush(&mut out);
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
        // One second comes out (librosa's length rule, `ceil` of a float product, may add one).
        assert!(frames.abs_diff(to as usize) <= 1, "{frames} frames");
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
