//! One analysis frame: every per-frame feature, placed on the audio timeline.

use realfft::num_complex::Complex32;

use crate::config::AnalysisParams;

/// Features of one STFT frame (librosa conventions: centred frames, `n_fft` window, `hop_length`
/// apart). Buffers are sized once by [`Frame::new`] and overwritten in place for every frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Frame number since the start of the stream (librosa's column index).
    pub index: u64,
    /// Input-rate sample index of the frame's centre: where this frame sits in what is heard.
    pub position: u64,
    /// Centre time in seconds from the start of the stream.
    pub time: f64,
    /// Complex STFT, `n_fft / 2 + 1` bins (Hann window, no scaling).
    pub spectrum: Vec<Complex32>,
    /// `|STFT|^2`.
    pub power: Vec<f32>,
    /// Slaney mel power spectrogram, `n_mels` bands.
    pub mel: Vec<f32>,
    /// `power_to_db(mel)`, floored at -100 dB and, when the clip peak is known, at peak - 80 dB.
    pub log_mel: Vec<f32>,
    /// DCT-II (ortho) of `log_mel`, `n_mfcc` coefficients.
    pub mfcc: Vec<f32>,
    /// `chroma_stft`, C..B, each frame scaled so its largest bin is 1 (all zero in silence).
    pub chroma: [f32; 12],
    pub rms: f32,
    pub zero_crossing_rate: f32,
    /// Spectral centroid in Hz (0 in silence).
    pub centroid: f32,
    /// Second-order spectral bandwidth in Hz.
    pub bandwidth: f32,
    /// Frequency below which `roll_percent` of the magnitude lies, in Hz.
    pub rolloff: f32,
    /// Spectral flatness (1 in silence, like librosa).
    pub flatness: f32,
    /// librosa `onset_strength` for this frame (mean positive log-mel flux, centred).
    pub onset_strength: f32,
    /// The same flux with the median over bands, as librosa's `beat_track` computes it.
    pub onset_strength_median: f32,
}

impl Frame {
    pub fn new(params: &AnalysisParams) -> Self {
        let n_bins = params.n_bins();
        Self {
            index: 0,
            position: 0,
            time: 0.0,
            spectrum: vec![Complex32::new(0.0, 0.0); n_bins],
            power: vec![0.0; n_bins],
            mel: vec![0.0; params.n_mels],
            log_mel: vec![0.0; params.n_mels],
            mfcc: vec![0.0; params.n_mfcc],
            chroma: [0.0; 12],
            rms: 0.0,
            zero_crossing_rate: 0.0,
            centroid: 0.0,
            bandwidth: 0.0,
            rolloff: 0.0,
            flatness: 0.0,
            onset_strength: 0.0,
            onset_strength_median: 0.0,
        }
    }
}
