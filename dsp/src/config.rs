//! What an analyzer is built from: the input stream's format and the analysis parameters.

use std::fmt;

/// Sample rates the input stage accepts: every rate a host may ask for.
pub const MIN_SAMPLE_RATE: u32 = 1_000;
pub const MAX_SAMPLE_RATE: u32 = 768_000;
/// Largest block handled in one pass; longer blocks are split internally, so any length works.
pub const MAX_BLOCK: usize = 8192;

/// Analysis parameters, librosa's defaults unless changed.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisParams {
    /// Rate all features are computed at; input is resampled to it.
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop_length: usize,
    pub n_mels: usize,
    pub n_mfcc: usize,
    pub roll_percent: f32,
    /// Tuning offset in fractions of a semitone for the chroma filterbank (librosa `tuning`).
    pub tuning: f32,
    /// Peak mel power of the whole clip in dB, when known in advance. librosa's `power_to_db`
    /// clips log-mel values to `peak - 80 dB` over the whole clip; a live stream cannot know the
    /// peak, so it leaves this `None` and only applies the `amin = 1e-10` floor.
    pub clip_peak_db: Option<f32>,
    /// How the signal is padded so that frame `t` is centred on sample `t * hop_length`.
    pub pad_mode: PadMode,
}

/// numpy padding modes librosa's centred framing uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PadMode {
    /// Zeros (librosa >= 0.10, and the only mode a live stream can start with at once).
    #[default]
    Constant,
    /// Mirror around the first and last sample (librosa < 0.10, which made the GTZAN table);
    /// the first frame waits for `n_fft / 2 + 1` samples.
    Reflect,
}

/// `power_to_db`'s `top_db`.
pub const TOP_DB: f32 = 80.0;

impl Default for AnalysisParams {
    fn default() -> Self {
        Self {
            sample_rate: 22_050,
            n_fft: 2048,
            hop_length: 512,
            n_mels: 128,
            n_mfcc: 20,
            roll_percent: 0.85,
            tuning: 0.0,
            clip_peak_db: None,
            pad_mode: PadMode::Constant,
        }
    }
}

impl AnalysisParams {
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }
}

/// Everything an analyzer is constructed from.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzerConfig {
    /// Sample rate of the incoming audio, 1 to 768 kHz.
    pub input_sample_rate: u32,
    /// Interleaved channel count of the incoming audio; channels are averaged to mono.
    pub channels: usize,
    pub analysis: AnalysisParams,
}

impl AnalyzerConfig {
    pub fn new(input_sample_rate: u32, channels: usize) -> Self {
        Self {
            input_sample_rate,
            channels,
            analysis: AnalysisParams::default(),
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let a = &self.analysis;
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&self.input_sample_rate) {
            return Err(ConfigError::SampleRate(self.input_sample_rate));
        }
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&a.sample_rate) {
            return Err(ConfigError::SampleRate(a.sample_rate));
        }
        if self.channels == 0 || self.channels > 64 {
            return Err(ConfigError::Channels(self.channels));
        }
        if a.n_fft < 16 || !a.n_fft.is_multiple_of(2) || a.hop_length == 0 || a.hop_length > a.n_fft
        {
            return Err(ConfigError::Framing {
                n_fft: a.n_fft,
                hop_length: a.hop_length,
            });
        }
        if a.n_mels == 0 || a.n_mfcc == 0 || a.n_mfcc > a.n_mels {
            return Err(ConfigError::Bands {
                n_mels: a.n_mels,
                n_mfcc: a.n_mfcc,
            });
        }
        let roll_ok = a.roll_percent > 0.0 && a.roll_percent < 1.0;
        if !roll_ok || !a.tuning.is_finite() {
            return Err(ConfigError::Parameter);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    SampleRate(u32),
    Channels(usize),
    Framing { n_fft: usize, hop_length: usize },
    Bands { n_mels: usize, n_mfcc: usize },
    Parameter,
    Resampler(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SampleRate(sr) => write!(
                f,
                "sample rate {sr} Hz is outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE} Hz"
            ),
            Self::Channels(n) => write!(f, "{n} channels is not supported (1 to 64)"),
            Self::Framing { n_fft, hop_length } => write!(
                f,
                "n_fft {n_fft} must be even and >= 16, hop_length {hop_length} in 1..=n_fft"
            ),
            Self::Bands { n_mels, n_mfcc } => {
                write!(f, "need 1 <= n_mfcc ({n_mfcc}) <= n_mels ({n_mels})")
            }
            Self::Parameter => write!(f, "roll_percent must be in (0, 1) and tuning finite"),
            Self::Resampler(e) => write!(f, "resampler: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {}
