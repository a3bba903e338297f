//! The streaming analyzer: blocks in, one [`Frame`] per hop out, no allocation after `new`.

use crate::config::{AnalysisParams, AnalyzerConfig, ConfigError};
use crate::frame::Frame;
use crate::frame_features::FrameFeatures;
use crate::framing::{Centering, Framer};
use crate::input::InputStage;

/// Real-time contract: after [`StreamingAnalyzer::new`], `process_*`, `flush` and the sink
/// calls they make never allocate, lock or panic; blocks may be any length and change
/// between calls; NaN/Inf input is replaced by silence and counted.
pub struct StreamingAnalyzer {
    input: InputStage,
    frames: Frames,
}

/// What takes the input stage's mono analysis-rate samples: the tap, with their position,
/// then the framer and the features of each frame.
struct Frames {
    framer: Framer,
    features: FrameFeatures,
    /// Analysis-rate samples handed to taps so far.
    tapped: u64,
}

impl StreamingAnalyzer {
    pub fn new(config: &AnalyzerConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let a = &config.analysis;
        Ok(Self {
            input: InputStage::new(config.input_sample_rate, a.sample_rate, config.channels)?,
            frames: Frames {
                framer: Framer::new(a.n_fft, a.hop_length, Centering::Librosa(a.pad_mode)),
                features: FrameFeatures::new(a, config.input_sample_rate),
                tapped: 0,
            },
        })
    }

    /// Analyzes interleaved samples (`channels` per frame).
    pub fn process_interleaved(&mut self, block: &[f32], sink: &mut impl FnMut(&Frame)) {
        self.process_interleaved_tapped(block, sink, &mut |_, _| {});
    }

    /// Analyzes one slice per channel.
    pub fn process_planar<S: AsRef<[f32]>>(&mut self, planes: &[S], sink: &mut impl FnMut(&Frame)) {
        self.process_planar_tapped(planes, sink, &mut |_, _| {});
    }

    /// Ends the stream: emits the frames librosa's end padding produces, so a whole signal
    /// gives `1 + len / hop_length` frames at the analysis rate. Call once, at the end.
    pub fn flush(&mut self, sink: &mut impl FnMut(&Frame)) {
        self.flush_tapped(sink, &mut |_, _| {});
    }

    /// [`Self::process_interleaved`], also handing `tap` the mono analysis-rate signal the
    /// frames are cut from, with the analysis-rate index of its first sample: what the models'
    /// pipelines hear, so a signal is downmixed and resampled once for everything.
    pub fn process_interleaved_tapped(
        &mut self,
        block: &[f32],
        sink: &mut impl FnMut(&Frame),
        tap: &mut impl FnMut(&[f32], u64),
    ) {
        self.input
            .push_interleaved(block, &mut self.frames.feed(sink, tap));
    }

    /// [`Self::process_planar`] with a tap, as [`Self::process_interleaved_tapped`].
    pub fn process_planar_tapped<S: AsRef<[f32]>>(
        &mut self,
        planes: &[S],
        sink: &mut impl FnMut(&Frame),
        tap: &mut impl FnMut(&[f32], u64),
    ) {
        self.input
            .push_planar(planes, &mut self.frames.feed(sink, tap));
    }

    /// [`Self::flush`] with a tap, as [`Self::process_interleaved_tapped`].
    pub fn flush_tapped(
        &mut self,
        sink: &mut impl FnMut(&Frame),
        tap: &mut impl FnMut(&[f32], u64),
    ) {
        self.input.flush(&mut self.frames.feed(sink, tap));
        let Frames {
            framer, features, ..
        } = &mut self.frames;
        framer.finish(&mut |f| sink(features.compute(f)));
    }

    pub fn params(&self) -> &AnalysisParams {
        self.frames.features.params()
    }

    /// Analysis-rate samples received so far (the signal length librosa would see).
    pub fn analysis_samples(&self) -> u64 {
        self.frames.framer.samples()
    }

    /// NaN or infinite input samples replaced by silence so far.
    pub fn non_finite_samples(&self) -> u64 {
        self.input.non_finite_samples()
    }
}

impl Frames {
    fn feed<'a>(
        &'a mut self,
        sink: &'a mut impl FnMut(&Frame),
        tap: &'a mut impl FnMut(&[f32], u64),
    ) -> impl FnMut(&[f32]) + 'a {
        move |mono| {
            tap(mono, self.tapped);
            self.tapped += mono.len() as u64;
            let features = &mut self.features;
            self.framer.push(mono, &mut |f| sink(features.compute(f)));
        }
    }
}
