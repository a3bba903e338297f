//! One row of the GTZAN feature table (`features_30_sec.csv`): means and variances over a
//! whole clip, in the CSV's column order.

use crate::clip::mean_var::MeanVar;
use crate::frame::Frame;
use crate::rhythm::tempo::PROFILE_BINS;

/// Number of MFCCs in the table.
pub const TABLE_MFCCS: usize = 20;

/// One row of the GTZAN feature table, without file name and label.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Samples at the analysis rate (22 050 Hz by default), like the CSV's `length`.
    pub length: u64,
    pub chroma_stft: MeanVar,
    pub rms: MeanVar,
    pub spectral_centroid: MeanVar,
    pub spectral_bandwidth: MeanVar,
    pub rolloff: MeanVar,
    pub zero_crossing_rate: MeanVar,
    /// The harmonic waveform of `effects.hpss`.
    pub harmony: MeanVar,
    /// The percussive waveform of `effects.hpss`.
    pub perceptr: MeanVar,
    pub tempo: f64,
    pub mfcc: [MeanVar; TABLE_MFCCS],
    /// The mean of each chroma bin, C to B: the clip's pitch-class profile (not a CSV column).
    pub chroma_profile: [f64; 12],
    /// The onsets' mean tempogram at log-spaced tempi (`rhythm::tempo::Tempo::profile`; not a
    /// CSV column).
    pub tempo_profile: [f32; PROFILE_BINS],
    /// The chroma tuning estimated in the first pass, in semitones.
    pub tuning: f32,
    /// Input samples (all channels) that were NaN or infinite, analyzed as silence.
    pub non_finite_samples: u64,
}

impl FeatureTable {
    /// Column names in `features_30_sec.csv` order, `filename` and `label` excluded.
    pub fn column_names() -> Vec<String> {
        let mut names = vec!["length".to_string()];
        for base in [
            "chroma_stft",
            "rms",
            "spectral_centroid",
            "spectral_bandwidth",
            "rolloff",
            "zero_crossing_rate",
            "harmony",
            "perceptr",
        ] {
            names.push(format!("{base}_mean"));
            names.push(format!("{base}_var"));
        }
        names.push("tempo".to_string());
        for i in 1..=TABLE_MFCCS {
            names.push(format!("mfcc{i}_mean"));
            names.push(format!("mfcc{i}_var"));
        }
        names
    }

    /// Values in [`FeatureTable::column_names`] order.
    pub fn values(&self) -> Vec<f64> {
        let mut values = vec![self.length as f64];
        for stat in [
            &self.chroma_stft,
            &self.rms,
            &self.spectral_centroid,
            &self.spectral_bandwidth,
            &self.rolloff,
            &self.zero_crossing_rate,
            &self.harmony,
            &self.perceptr,
        ] {
            values.push(stat.mean());
            values.push(stat.var());
        }
        values.push(self.tempo);
        for stat in &self.mfcc {
            values.push(stat.mean());
            values.push(stat.var());
        }
        values
    }

    /// An empty table for a clip whose chroma tuning is `tuning`.
    pub(crate) fn new(tuning: f32) -> Self {
        Self {
            length: 0,
            chroma_stft: MeanVar::default(),
            rms: MeanVar::default(),
            spectral_centroid: MeanVar::default(),
            spectral_bandwidth: MeanVar::default(),
            rolloff: MeanVar::default(),
            zero_crossing_rate: MeanVar::default(),
            harmony: MeanVar::default(),
            perceptr: MeanVar::default(),
            tempo: 0.0,
            mfcc: [MeanVar::default(); TABLE_MFCCS],
            chroma_profile: [0.0; 12],
            tempo_profile: [0.0; PROFILE_BINS],
            tuning,
            non_finite_samples: 0,
        }
    }

    /// Adds one frame to the per-frame statistics (chroma over all bins, as librosa's mean
    /// of the whole chromagram).
    pub(crate) fn add_frame(&mut self, frame: &Frame) {
        for &c in &frame.chroma {
            self.chroma_stft.add(c as f64);
        }
        self.rms.add(frame.rms as f64);
        self.spectral_centroid.add(frame.centroid as f64);
        self.spectral_bandwidth.add(frame.bandwidth as f64);
        self.rolloff.add(frame.rolloff as f64);
        self.zero_crossing_rate.add(frame.zero_crossing_rate as f64);
        for (stat, &c) in self.mfcc.iter_mut().zip(&frame.mfcc) {
            stat.add(c as f64);
        }
    }
}
