//! Every per-frame feature of a [`Frame`], computed from one frame of the analysis-rate
//! signal with librosa's definitions. No allocation after `new`.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};

use crate::config::{AnalysisParams, TOP_DB};
use crate::frame::Frame;
use crate::framing::window::hann;
use crate::framing::FrameRef;
use crate::rhythm::onset::OnsetStrength;
use crate::spectral::features::{power_to_db, rms, spectral_shape, zero_crossing_rate};
use crate::spectral::filters::{
    chroma_filterbank, dct_ortho, fft_frequencies, mel_filterbank, SparseBand,
};

pub(crate) struct FrameFeatures {
    params: AnalysisParams,
    input_rate: f64,
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

impl FrameFeatures {
    pub fn new(params: &AnalysisParams, input_rate: u32) -> Self {
        let sr = params.sample_rate as f64;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(params.n_fft);
        Self {
            input_rate: input_rate as f64,
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

    pub fn params(&self) -> &AnalysisParams {
        &self.params
    }

    /// The features of one `n_fft` frame of the analysis-rate signal.
    pub fn compute(&mut self, input: FrameRef<'_>) -> &Frame {
        let p = &self.params;
        let f = &mut self.frame;
        f.index = input.index;
        f.time = (input.index * p.hop_length as u64) as f64 / p.sample_rate as f64;
        f.position = (f.time * self.input_rate).round() as u64;

        // Time-domain features on the raw (padded) frame.
        f.rms = rms(input.samples);
        f.zero_crossing_rate = zero_crossing_rate(input.samples, input.signal);

        // Spectrum.
        for ((w, &x), &win) in self
            .windowed
            .iter_mut()
            .zip(input.samples)
            .zip(&self.window)
        {
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
        &self.frame
    }
}
