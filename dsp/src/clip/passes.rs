//! The GTZAN feature table of a clip, computed in two passes so that memory does not grow
//! with the clip. The first pass finds
//! what librosa derives from the whole clip (the mel peak behind `top_db`, the chroma tuning);
//! the second runs the streaming analyzer with both known and accumulates the statistics.

use crate::analyzer::StreamingAnalyzer;
use crate::clip::mean_var::MeanVar;
use crate::clip::replay::{ClipError, Replay};
use crate::clip::table::FeatureTable;
use crate::config::{AnalyzerConfig, PadMode};
use crate::frame::Frame;
use crate::pitch::tuning::{towards_a440, TuningEstimator};
use crate::rhythm::tempo::TempoEstimator;
use crate::separation::hpss::HpssStream;
use crate::spectral::features::power_to_db;

/// What the first pass learns about the whole clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipScan {
    /// `10 log10` of the largest mel power in the clip (librosa's `log_spec.max()`).
    pub peak_db: f32,
    /// Chroma tuning (librosa `estimate_tuning` on the power spectrogram).
    pub tuning: f32,
    /// The tuning key and chords read: `estimate_tuning` on the magnitude spectrogram (as
    /// librosa estimates a signal's), pulled towards A440 for short clips.
    pub pitch_tuning: f32,
}

/// Which librosa the table agrees with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableStyle {
    /// As `features_30_sec.csv` was made (librosa < 0.10): reflect padding, and the old
    /// `istft`, which left the last `len - hop * (frames - 1)` separated samples at zero.
    /// The default, so tables line up with the GTZAN data models are trained on.
    #[default]
    Gtzan,
    /// librosa 0.10 and later: zero padding, exact-length `istft`.
    Librosa,
}

/// Computes the feature table of a clip with analysis parameters from `base` (its input
/// rate, channels and padding are taken from the clip and `style`).
pub fn feature_table<R: Replay>(
    clip: &mut R,
    base: &AnalyzerConfig,
    style: TableStyle,
) -> Result<FeatureTable, ClipError<R::Error>> {
    feature_table_tapped(clip, base, style, &mut ())
}

/// What rides along the feature table's second pass, so nothing else decodes the clip again.
pub trait ClipTap {
    /// What the first pass found, before the second starts.
    fn scanned(&mut self, _scan: &ClipScan) {}
    /// The clip's interleaved blocks as they are played.
    fn input(&mut self, _block: &[f32]) {}
    /// The mono analysis-rate signal the frames are cut from, with the index of its first
    /// sample (see [`StreamingAnalyzer::process_interleaved_tapped`]).
    fn analysis(&mut self, _samples: &[f32], _position: u64) {}
    /// Each feature frame of the second pass (structure reads chroma and MFCCs from it).
    fn frame(&mut self, _frame: &Frame) {}
}

impl ClipTap for () {}

/// [`feature_table`] with `tap` riding along the second pass.
pub fn feature_table_tapped<R: Replay>(
    clip: &mut R,
    base: &AnalyzerConfig,
    style: TableStyle,
    tap: &mut impl ClipTap,
) -> Result<FeatureTable, ClipError<R::Error>> {
    let mut config = base.clone();
    config.input_sample_rate = clip.sample_rate();
    config.channels = clip.channels();
    config.analysis.pad_mode = match style {
        TableStyle::Gtzan => PadMode::Reflect,
        TableStyle::Librosa => PadMode::Constant,
    };
    let scan = scan(clip, &config)?;
    tap.scanned(&scan);
    config.analysis.tuning = scan.tuning;
    config.analysis.clip_peak_db = Some(scan.peak_db);
    accumulate(clip, &config, scan.tuning, style, tap)
}

/// The first pass: the clip's mel peak and chroma tuning.
pub fn scan<R: Replay>(
    clip: &mut R,
    config: &AnalyzerConfig,
) -> Result<ClipScan, ClipError<R::Error>> {
    let mut analyzer = StreamingAnalyzer::new(config).map_err(ClipError::Config)?;
    let a = analyzer.params().clone();
    let mut tuning = TuningEstimator::new(a.sample_rate, a.n_fft);
    let mut pitch_tuning = TuningEstimator::new(a.sample_rate, a.n_fft);
    let mut magnitude = Vec::new();
    let mut peak = 0f32;
    let mut sink = |frame: &Frame| {
        peak = frame.mel.iter().fold(peak, |p, &m| p.max(m));
        tuning.push(&frame.power);
        magnitude.clear();
        magnitude.extend(frame.power.iter().map(|p| p.sqrt()));
        pitch_tuning.push(&magnitude);
    };
    clip.play(&mut |block| analyzer.process_interleaved(block, &mut sink))
        .map_err(ClipError::Source)?;
    analyzer.flush(&mut sink);
    if analyzer.analysis_samples() == 0 {
        return Err(ClipError::Empty);
    }
    let seconds = analyzer.analysis_samples() as f32 / a.sample_rate as f32;
    Ok(ClipScan {
        peak_db: power_to_db(peak, f32::NEG_INFINITY),
        tuning: tuning.estimate(),
        pitch_tuning: towards_a440(pitch_tuning.estimate(), seconds),
    })
}

fn accumulate<R: Replay>(
    clip: &mut R,
    config: &AnalyzerConfig,
    tuning: f32,
    style: TableStyle,
    tap: &mut impl ClipTap,
) -> Result<FeatureTable, ClipError<R::Error>> {
    let mut analyzer = StreamingAnalyzer::new(config).map_err(ClipError::Config)?;
    let a = analyzer.params().clone();
    let mut table = FeatureTable::new(tuning);
    let mut chroma_bins = [MeanVar::default(); 12];
    let mut tempo = TempoEstimator::new(a.sample_rate, a.hop_length);
    let (mut frames, mut any_onset) = (0u64, false);
    let mut hpss = HpssStream::new(a.n_fft, a.hop_length);
    let mut hpss_samples = HpssSamples::new(a.n_fft / 2);
    {
        let table = &mut table;
        // The frame sink and the sample tap both reach the tap, one call at a time.
        let tap = std::cell::RefCell::new(tap);
        let mut sink = |frame: &Frame| {
            table.add_frame(frame);
            for (bin, &c) in chroma_bins.iter_mut().zip(&frame.chroma) {
                bin.add(c as f64);
            }
            frames += 1;
            any_onset |= frame.onset_strength_median != 0.0;
            tempo.push(frame.onset_strength_median);
            hpss.push(&frame.spectrum, &mut |h, p| {
                hpss_samples.add(h, p, u64::MAX)
            });
            tap.borrow_mut().frame(frame);
        };
        clip.play(&mut |block| {
            analyzer.process_interleaved_tapped(block, &mut sink, &mut |m, p| {
                tap.borrow_mut().analysis(m, p)
            });
            tap.borrow_mut().input(block);
        })
        .map_err(ClipError::Source)?;
        analyzer.flush_tapped(&mut sink, &mut |samples, position| {
            tap.borrow_mut().analysis(samples, position)
        });
    }
    table.chroma_profile = chroma_bins.map(|b| b.mean());
    table.length = analyzer.analysis_samples();
    table.non_finite_samples = analyzer.non_finite_samples();
    if table.length == 0 {
        return Err(ClipError::Empty);
    }
    let length = table.length;
    let kept = match style {
        TableStyle::Gtzan => (a.hop_length as u64 * (frames - 1)).min(length),
        TableStyle::Librosa => length,
    };
    hpss.finish(&mut |h, p| hpss_samples.add(h, p, kept));
    hpss_samples.add_zeros(length - kept);
    table.harmony = hpss_samples.harmonic;
    table.perceptr = hpss_samples.percussive;
    // librosa `beat_track`: median-aggregated onsets, and no tempo at all when they are all zero.
    if any_onset {
        let tempo = tempo.finish_with_profile();
        table.tempo = tempo.bpm;
        table.tempo_profile = tempo.profile;
    }
    Ok(table)
}

/// Statistics of the separated waveforms, dropping the centring pad and anything past the end.
struct HpssSamples {
    skip: u64,
    position: u64,
    harmonic: MeanVar,
    percussive: MeanVar,
}

impl HpssSamples {
    fn new(pad: usize) -> Self {
        Self {
            skip: pad as u64,
            position: 0,
            harmonic: MeanVar::default(),
            percussive: MeanVar::default(),
        }
    }

    fn add(&mut self, harmonic: &[f32], percussive: &[f32], length: u64) {
        for (&h, &p) in harmonic.iter().zip(percussive) {
            let index = self.position;
            self.position += 1;
            if index < self.skip || index - self.skip >= length {
                continue;
            }
            self.harmonic.add(h as f64);
            self.percussive.add(p as f64);
        }
    }

    fn add_zeros(&mut self, n: u64) {
        for _ in 0..n {
            self.harmonic.add(0.0);
            self.percussive.add(0.0);
        }
    }
}
