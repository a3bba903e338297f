//! What the audio thread hands the worker for every analysis frame: a fixed-size copy of the
//! features the live views and analyses use, so the ring buffer never allocates.

use crate::frame::Frame;

/// Mel bands and MFCCs in a live frame (the analysis defaults; the engine checks its config).
pub const LIVE_MELS: usize = 128;
pub const LIVE_MFCCS: usize = 20;

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
