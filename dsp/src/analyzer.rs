//! The streaming analyzer: blocks in, one [`Frame`] per hop out, no allocation after `new`.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};

use crate::config::{AnalysisParams, AnalyzerConfig, ConfigError, PadMode, TOP_DB};
use crate::frame::Frame;
use crate::input::InputStage;
use crate::rhythm::onset::OnsetStrength;
use crate::spectral::features::{power_to_db, rms, spectral_shape, zero_crossing_rate};
use crate::spectral::filters::{
    chroma_filterbank, dct_ortho, fft_frequencies, mel_filterbank, SparseBand,
};
use crate::spectral::window::hann;

/// Real-time contract: after [`StreamingAnalyzer::new`], `process_*`, `flush` and the sink
/// calls they make never allocate, lock or panic; blocks may be any length and change
/// between calls; NaN/Inf input is replaced by silence and counted.
pub struct StreamingAnalyzer {
    input: InputStage,
    core: FrameCore,
    /// Analysis-rate samples handed to taps so far.
    tapped: u64,
}

impl StreamingAnalyzer {
    pub fn new(config: &AnalyzerConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let a = &config.analysis;
        Ok(Self {
            input: InputStage::new(config.input_sample_rate, a.sample_rate, config.channels)?,
            core: FrameCore::new(a, config.input_sample_rate),
            tapped: 0,
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
        let mut feed = feed(&mut self.core, &mut self.tapped, sink, tap);
        self.input.push_interleaved(block, &mut feed);
    }

    /// [`Self::process_planar`] with a tap, as [`Self::process_interleaved_tapped`].
    pub fn process_planar_tapped<S: AsRef<[f32]>>(
        &mut self,
        planes: &[S],
        sink: &mut impl FnMut(&Frame),
        tap: &mut impl FnMut(&[f32], u64),
    ) {
        let mut feed = feed(&mut self.core, &mut self.tapped, sink, tap);
        self.input.push_planar(planes, &mut feed);
    }

    /// [`Self::flush`] with a tap, as [`Self::process_interleaved_tapped`].
    pub fn flush_tapped(
        &mut self,
        sink: &mut impl FnMut(&Frame),
        tap: &mut impl FnMut(&[f32], u64),
    ) {
        self.input
            .flush(&mut feed(&mut self.core, &mut self.tapped, sink, tap));
        self.core.finish(sink);
    }

    pub fn params(&self) -> &AnalysisParams {
        &self.core.params
    }

    /// Analysis-rate samples received so far (the signal length librosa would see).
    pub fn analysis_samples(&self) -> u64 {
        self.core.real_samples
    }

    /// NaN or infinite input samples replaced by silence so far.
    pub fn non_finite_samples(&self) -> u64 {
        self.input.non_finite_samples()
    }
}

/// What the input stage hands its mono analysis-rate samples to: the tap, with their
/// position, then the framing core.
fn feed<'a>(
    core: &'a mut FrameCore,
    tapped: &'a mut u64,
    sink: &'a mut impl FnMut(&Frame),
    tap: &'a mut impl FnMut(&[f32], u64),
) -> impl FnMut(&[f32]) + 'a {
    move |mono| {
        tap(mono, *tapped);
        *tapped += mono.len() as u64;
        core.push(mono, sink)
    }
}

/// Frames the analysis-rate signal (centred, zero-padded like librosa) and computes features.
struct FrameCore {
    params: AnalysisParams,
    input_rate: f64,
    buffer: Vec<f32>,
    filled: usize,
    real_samples: u64,
    ended: bool,
    /// Reflect padding: the first `n_fft / 2 + 1` samples, held until the mirror can be built.
    head: Vec<f32>,
    started: bool,
    /// Reflect padding: the mirrored end of the signal, built at `finish`.
    tail: Vec<f32>,
    next_index: u64,
    window: Vec<f32>,
    windowed: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    fft_scratch: Vec<Complex32>,
    magnitude: Vec<f32>,
    frequencies: Vec<f32>,
    mel_bands: Vec<SparseBand>,
    chroma_bank: Vec<[f32; 12]>,
    dct: Vec<Vec<f32>>,
    db_floor: f32,
    onset: OnsetStrength,
    frame: Frame,
}

impl FrameCore {
    fn new(params: &AnalysisParams, input_rate: u32) -> Self {
        let sr = params.sample_rate as f64;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(params.n_fft);
        Self {
            input_rate: input_rate as f64,
            // librosa centres frame 0 on sample 0: n_fft / 2 padding samples come first.
            filled: params.n_fft / 2,
            buffer: vec![0.0; params.n_fft],
            real_samples: 0,
            ended: false,
            head: Vec::with_capacity(params.n_fft / 2 + 1),
            started: params.pad_mode == PadMode::Constant,
            tail: vec![0.0; params.n_fft / 2],
            next_index: 0,
            window: hann(params.n_fft),
            windowed: vec![0.0; params.n_fft],
            fft_scratch: fft.make_scratch_vec(),
            fft,
            magnitude: vec![0.0; params.n_bins()],
            frequencies: fft_frequencies(sr, params.n_fft)
                .into_iter()
                .map(|f| f as f32)
                .collect(),
            mel_bands: mel_filterbank(sr, params.n_fft, params.n_mels),
            chroma_bank: chroma_filterbank(sr, params.n_fft, params.tuning as f64),
            dct: dct_ortho(params.n_mfcc, params.n_mels),
            db_floor: params
                .clip_peak_db
                .map_or(f32::NEG_INFINITY, |p| p - TOP_DB),
            onset: OnsetStrength::new(params.n_mels, params.n_fft, params.hop_length),
            frame: Frame::new(params),
            params: params.clone(),
        }
    }

    fn push(&mut self, mut samples: &[f32], sink: &mut impl FnMut(&Frame)) {
        if !self.ended {
            self.real_samples += samples.len() as u64;
        }
        if !self.started {
            let n = (self.head.capacity() - self.head.len()).min(samples.len());
            self.head.extend_from_slice(&samples[..n]);
            samples = &samples[n..];
            if self.head.len() < self.head.capacity() {
                return;
            }
            self.start_reflected(sink);
        }
        self.feed(samples, sink);
    }

    /// Mirrors the held head around sample 0 (numpy "reflect": `x[2] x[1] | x[0] x[1] ...`).
    fn start_reflected(&mut self, sink: &mut impl FnMut(&Frame)) {
        let half = self.params.n_fft / 2;
        let n = self.head.len();
        for (j, slot) in self.buffer[..half].iter_mut().enumerate() {
            *slot = self.head[reflect_index(j as i64 - half as i64, n)];
        }
        self.started = true;
        let head = std::mem::take(&mut self.head);
        self.feed(&head, sink);
        self.head = head;
    }

    fn feed(&mut self, mut samples: &[f32], sink: &mut impl FnMut(&Frame)) {
        let n_fft = self.params.n_fft;
        while !samples.is_empty() {
            let n = (n_fft - self.filled).min(samples.len());
            self.buffer[self.filled..self.filled + n].copy_from_slice(&samples[..n]);
            self.filled += n;
            samples = &samples[n..];
            if self.filled == n_fft {
                self.analyze_frame();
                sink(&self.frame);
                let hop = self.params.hop_length;
                self.buffer.copy_within(hop.., 0);
                self.filled -= hop;
            }
        }
    }

    fn finish(&mut self, sink: &mut impl FnMut(&Frame)) {
        if self.ended || self.real_samples == 0 {
            return;
        }
        if !self.started {
            // Shorter than the head: the mirror is built from what there is.
            self.start_reflected(sink);
        }
        self.ended = true;
        let half = self.params.n_fft / 2;
        match self.params.pad_mode {
            // librosa pads n_fft / 2 zeros at the end too.
            PadMode::Constant => self.tail.fill(0.0),
            PadMode::Reflect => {
                // The last real samples are still in the buffer (it holds >= n_fft / 2 + 1,
                // or the whole signal when shorter).
                let n = (self.real_samples as usize).min(self.filled);
                let last = &self.buffer[self.filled - n..self.filled];
                for (j, slot) in self.tail.iter_mut().enumerate() {
                    *slot = last[reflect_index((n + j) as i64, n)];
                }
            }
        }
        let tail = std::mem::take(&mut self.tail);
        self.feed(&tail[..half], sink);
        self.tail = tail;
    }

    fn analyze_frame(&mut self) {
        let p = &self.params;
        let (n_fft, hop) = (p.n_fft, p.hop_length);
        let index = self.next_index;
        self.next_index += 1;
        let f = &mut self.frame;
        f.index = index;
        let centre = index * hop as u64;
        f.time = centre as f64 / p.sample_rate as f64;
        f.position = (f.time * self.input_rate).round() as u64;

        // Time-domain features on the raw (zero-padded) frame.
        let start = centre as i64 - (n_fft / 2) as i64;
        let real_start = (-start).clamp(0, n_fft as i64) as usize;
        let real_end = (self.real_samples as i64 - start).clamp(real_start as i64, n_fft as i64);
        f.rms = rms(&self.buffer);
        f.zero_crossing_rate = zero_crossing_rate(&self.buffer, real_start..real_end as usize);

        // Spectrum.
        for ((w, &x), &win) in self.windowed.iter_mut().zip(&self.buffer).zip(&self.window) {
            *w = x * win;
        }
        if self
            .fft
            .process_with_scratch(&mut self.windowed, &mut f.spectrum, &mut self.fft_scratch)
            .is_err()
        {
            f.spectrum.fill(Complex32::new(0.0, 0.0));
        }
        for (pw, c) in f.power.iter_mut().zip(&f.spectrum) {
            *pw = c.norm_sqr();
        }

        // Mel, log-mel, MFCC.
        for (m, band) in f.mel.iter_mut().zip(&self.mel_bands) {
            *m = band
                .weights
                .iter()
                .zip(&f.power[band.start..])
                .map(|(w, p)| w * p)
                .sum();
        }
        for (l, &m) in f.log_mel.iter_mut().zip(&f.mel) {
            *l = power_to_db(m, self.db_floor);
        }
        for (c, row) in f.mfcc.iter_mut().zip(&self.dct) {
            *c = row.iter().zip(&f.log_mel).map(|(a, b)| a * b).sum();
        }

        // Chroma, each frame scaled to a maximum of 1 (left as is when silent).
        let mut chroma = [0f32; 12];
        for (column, &pw) in self.chroma_bank.iter().zip(&f.power) {
            for (c, w) in chroma.iter_mut().zip(column) {
                *c += w * pw;
            }
        }
        let peak = chroma.iter().fold(0f32, |a, &b| a.max(b.abs()));
        let norm = if peak < f32::MIN_POSITIVE { 1.0 } else { peak };
        for (out, c) in f.chroma.iter_mut().zip(chroma) {
            *out = c / norm;
        }

        let shape = spectral_shape(
            &f.power,
            &mut self.magnitude,
            &self.frequencies,
            p.roll_percent,
        );
        f.centroid = shape.centroid;
        f.bandwidth = shape.bandwidth;
        f.rolloff = shape.rolloff;
        f.flatness = shape.flatness;
        (f.onset_strength, f.onset_strength_median) = self.onset.next(&f.log_mel);
    }
}

/// numpy "reflect" (no edge repeat) index into a signal of `len` samples.
fn reflect_index(index: i64, len: usize) -> usize {
    if len <= 1 {
        return 0;
    }
    let period = 2 * (len as i64 - 1);
    let i = index.rem_euclid(period);
    (if i >= len as i64 { period - i } else { i }) as usize
}
