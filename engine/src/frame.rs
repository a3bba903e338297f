//! What the audio thread hands the worker, in fixed-size payloads so the rings never
//! allocate: a copy of each analysis frame's features the live views use, and the mono
//! analysis-rate signal the models hear, in stamped blocks.

use mirador_dsp::Frame;

/// Mel bands and MFCCs in a live frame (the analysis defaults; the engine checks its config).
pub const LIVE_MELS: usize = 128;
pub const LIVE_MFCCS: usize = 20;
/// Samples in one [`SampleBlock`] (11.6 ms at 22.05 kHz).
pub const BLOCK_SAMPLES: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveFrame {
    pub index: u64,
    /// Input-rate sample index of the frame centre on the audio timeline.
    pub position: u64,
    pub time: f64,
    pub log_mel: [f32; LIVE_MELS],
    pub chroma: [f32; 12],
    pub mfcc: [f32; LIVE_MFCCS],
    pub rms: f32,
    pub centroid: f32,
    pub onset_strength: f32,
}

impl Default for LiveFrame {
    fn default() -> Self {
        Self {
            index: 0,
            position: 0,
            time: 0.0,
            log_mel: [-100.0; LIVE_MELS],
            chroma: [0.0; 12],
            mfcc: [0.0; LIVE_MFCCS],
            rms: 0.0,
            centroid: 0.0,
            onset_strength: 0.0,
        }
    }
}

impl LiveFrame {
    pub fn copy_features(&mut self, frame: &Frame) {
        self.index = frame.index;
        self.position = frame.position;
        self.time = frame.time;
        self.log_mel.copy_from_slice(&frame.log_mel[..LIVE_MELS]);
        self.chroma = frame.chroma;
        self.mfcc.copy_from_slice(&frame.mfcc[..LIVE_MFCCS]);
        self.rms = frame.rms;
        self.centroid = frame.centroid;
        self.onset_strength = frame.onset_strength;
    }
}

/// Mono analysis-rate samples with their place on the stream's analysis-rate timeline. A
/// block whose position does not follow the previous one, or that is marked, starts after a
/// gap: the listeners hear a discontinuity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleBlock {
    pub position: u64,
    pub len: usize,
    /// Audio before this block was not analyzed (analysis was switched off).
    pub discontinuity: bool,
    pub samples: [f32; BLOCK_SAMPLES],
}

impl Default for SampleBlock {
    fn default() -> Self {
        Self {
            position: 0,
            len: 0,
            discontinuity: false,
            samples: [0.0; BLOCK_SAMPLES],
        }
    }
}

impl SampleBlock {
    pub fn samples(&self) -> &[f32] {
        &self.samples[..self.len]
    }
}
