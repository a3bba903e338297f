//! CREPE's framing over a stream: resampled to 16 kHz, 1024-sample frames centred every hop
//! from the stream's first sample (512 samples of silence before it and after the last, as
//! torchcrepe pads), each normalized to zero mean and unit standard deviation and run as
//! soon as it is heard.

use std::sync::Arc;

use mirador_dsp::resampler::Resampler;

use super::{decode, CrepeNet, Pitch, FILE_HOP, FRAME, SAMPLE_RATE};
use crate::{ModelError, Pipeline};

pub struct MelodyPipeline {
    net: Arc<CrepeNet>,
    /// 16 kHz samples between frames.
    hop: usize,
    resampler: Resampler,
    /// 16 kHz samples from the next frame's start on.
    pending: Vec<f32>,
    /// The frame being run, normalized.
    frame: Vec<f32>,
    /// Index of the next frame since the stream (re)started.
    next: u64,
    /// 16 kHz samples heard since the stream (re)started.
    heard: u64,
    /// Where the stream (re)started, in seconds on the analysis timeline.
    origin: Option<f64>,
    pitches: Vec<Pitch>,
    /// The resampler's output for the block being pushed.
    resampled: Vec<f32>,
    error: Option<ModelError>,
}

impl MelodyPipeline {
    /// A pitch every 10 ms.
    pub fn for_clip(net: Arc<CrepeNet>) -> Result<Self, ModelError> {
        Self::new(net, FILE_HOP)
    }

    /// A pitch every `hop` samples at 16 kHz.
    pub fn new(net: Arc<CrepeNet>, hop: usize) -> Result<Self, ModelError> {
        Ok(Self {
            net,
            hop: hop.max(1),
            resampler: Resampler::new(crate::SAMPLE_RATE, SAMPLE_RATE, 1)?,
            pending: vec![0.0; FRAME / 2],
            frame: Vec::with_capacity(FRAME),
            next: 0,
            heard: 0,
            origin: None,
            pitches: Vec::new(),
            resampled: Vec::new(),
            error: None,
        })
    }

    /// The pitches found since the last call, in order.
    pub fn take_pitches(&mut self) -> std::vec::Drain<'_, Pitch> {
        self.pitches.drain(..)
    }

    fn hear(&mut self, samples: &[f32]) {
        self.heard += samples.len() as u64;
        self.pending.extend_from_slice(samples);
        while self.pending.len() >= FRAME {
            self.take_frame();
        }
    }

    /// Runs the frame at the start of `pending` (zero-padded) and moves on a hop.
    fn take_frame(&mut self) {
        let available = self.pending.len().min(FRAME);
        self.frame.clear();
        self.frame.extend_from_slice(&self.pending[..available]);
        self.frame.resize(FRAME, 0.0);
        normalize(&mut self.frame);
        let seconds = (self.next * self.hop as u64) as f64 / f64::from(SAMPLE_RATE);
        let time = self.origin.unwrap_or(0.0) + seconds;
        self.next += 1;
        self.pending.drain(..self.hop.min(self.pending.len()));
        match self.net.run(&self.frame) {
            Ok(probabilities) => {
                let (hz, confidence) = decode(&probabilities);
                self.pitches.push(Pitch {
                    time,
                    hz,
                    confidence,
                });
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Runs the frames up to the end of what was heard (`1 + heard / hop` in all).
    fn complete(&mut self) {
        let mut tail = Vec::new();
        self.resampler.flush(&mut |out| tail.extend_from_slice(out));
        self.heard += tail.len() as u64;
        self.pending.extend_from_slice(&tail);
        if self.origin.is_some() {
            self.pending.resize(self.pending.len() + FRAME / 2, 0.0);
            while self.next < 1 + self.heard / self.hop as u64 {
                self.take_frame();
            }
        }
    }

    fn restart(&mut self) {
        self.resampler.reset();
        self.pending.clear();
        self.pending.resize(FRAME / 2, 0.0);
        self.next = 0;
        self.heard = 0;
        self.origin = None;
    }
}

/// Zero mean, unit (sample) standard deviation, as torchcrepe normalizes a frame; silence
/// stays silence.
fn normalize(frame: &mut [f32]) {
    let n = frame.len() as f32;
    let mean = frame.iter().sum::<f32>() / n;
    let variance = frame.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / (n - 1.0);
    let scale = 1.0 / variance.sqrt().max(1e-10);
    for x in frame.iter_mut() {
        *x = (*x - mean) * scale;
    }
}

impl Pipeline for MelodyPipeline {
    fn push(&mut self, block: &[f32], position: u64) {
        if self.origin.is_none() {
            self.origin = Some(position as f64 / f64::from(crate::SAMPLE_RATE));
        }
        let mut resampled = std::mem::take(&mut self.resampled);
        resampled.clear();
        self.resampler
            .push(block, &mut |out| resampled.extend_from_slice(out));
        self.hear(&resampled);
        self.resampled = resampled;
    }

    fn discontinuity(&mut self, _position: u64) {
        self.complete();
        self.restart();
    }

    fn finish(&mut self) {
        self.complete();
    }

    fn take_error(&mut self) -> Option<ModelError> {
        self.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(audio: &[f32], block: usize) -> Vec<Pitch> {
        let net = Arc::new(CrepeNet::load().unwrap());
        let mut pipeline = MelodyPipeline::for_clip(net).unwrap();
        let mut position = 0;
        for chunk in audio.chunks(block) {
            pipeline.push(chunk, position);
            position += chunk.len() as u64;
        }
        pipeline.finish();
        assert!(pipeline.take_error().is_none());
        pipeline.take_pitches().collect()
    }

    fn tone(hz: f32, seconds: f32) -> Vec<f32> {
        let rate = crate::SAMPLE_RATE as f32;
        (0..(seconds * rate) as usize)
            .map(|i| 0.3 * (std::f32::consts::TAU * hz * i as f32 / rate).sin())
            .collect()
    }

    #[test]
    fn a_held_note_reads_as_itself_every_10_ms() {
        let pitches = run(&tone(440.0, 1.0), 333);
        // 16 000 samples at 16 kHz, a frame every 160: 101 frames, centred from 0 s.
        assert_eq!(pitches.len(), 101);
        assert!((pitches[50].time - 0.5).abs() < 1e-9);
        // Away from the edges, where the frame hears silence too.
        for p in &pitches[5..96] {
            let (note, cents) = p.note_and_cents();
            assert!(p.voiced() && note == 69 && cents.abs() < 10.0, "{p:?}");
        }
    }

    #[test]
    fn silence_is_unvoiced_and_nothing_heard_gives_nothing() {
        let pitches = run(&vec![0.0; crate::SAMPLE_RATE as usize / 2], 512);
        assert_eq!(pitches.len(), 51);
        assert!(pitches.iter().all(|p| !p.voiced()), "{pitches:?}");
        assert!(run(&[], 1).is_empty());
    }
}
