//! Streaming librosa `onset_strength` (lag 1, no max filter, centred), aggregated over bands
//! both by mean (`onset_strength`'s default) and by median (what `beat_track` asks for).

use crate::spectral::features::median;

/// librosa shifts the flux by `lag + n_fft / (2 * hop)` frames so onsets line up with centred
/// frames: frame `t` reports the flux from frame `t - 3` to `t - 2` at the default framing.
pub struct OnsetStrength {
    previous: Vec<f32>,
    rises: Vec<f32>,
    /// `(mean, median)` of the last few fluxes, oldest first.
    delay: Vec<(f32, f32)>,
    frames_seen: u64,
}

impl OnsetStrength {
    pub fn new(n_mels: usize, n_fft: usize, hop_length: usize) -> Self {
        let centering = n_fft / (2 * hop_length);
        Self {
            previous: vec![0.0; n_mels],
            rises: vec![0.0; n_mels],
            delay: vec![(0.0, 0.0); centering.max(1)],
            frames_seen: 0,
        }
    }

    /// Takes the log-mel column of the next frame, returns that frame's onset strength
    /// as `(mean over bands, median over bands)`.
    pub fn next(&mut self, log_mel: &[f32]) -> (f32, f32) {
        let flux = if self.frames_seen == 0 {
            (0.0, 0.0)
        } else {
            for ((rise, &now), &before) in self.rises.iter_mut().zip(log_mel).zip(&self.previous) {
                *rise = (now - before).max(0.0);
            }
            let mean = self.rises.iter().sum::<f32>() / self.rises.len() as f32;
            (mean, median(&mut self.rises))
        };
        self.previous.copy_from_slice(log_mel);
        self.frames_seen += 1;
        // Delay line: the oldest flux leaves, the newest enters.
        let out = self.delay[0];
        self.delay.rotate_left(1);
        let last = self.delay.len() - 1;
        self.delay[last] = flux;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_appears_three_frames_after_the_step() {
        let mut onset = OnsetStrength::new(3, 2048, 512);
        let quiet = [0.0, 0.0, 0.0];
        let loud = [10.0, 20.0, 0.0];
        let out: Vec<(f32, f32)> = [quiet, quiet, loud, loud, loud, loud, loud]
            .iter()
            .map(|col| onset.next(col))
            .collect();
        // librosa: onset[t] = mean(max(0, S[t-2] - S[t-3])); the step is between frames 1 and 2.
        let mut want = vec![(0.0, 0.0); 7];
        want[4] = (10.0, 10.0);
        assert_eq!(out, want);
    }
}
