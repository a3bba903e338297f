//! The tuner: CREPE hears the stream on the worker every 50 ms; the reading shown is the
//! mean pitch (in cents) of the voiced frames of the last 400 ms that lie within a semitone
//! of their median, so a held note reads steady through a singer's vibrato (two cycles at
//! 5.5 Hz) and a stray octave; it clears about 250 ms after the sound stops being pitched.

use std::sync::Arc;

use mirador_models::melody::{CrepeNet, MelodyPipeline, Pitch};
use mirador_models::{ModelError, Pipeline};

use crate::listener::{Heard, Listener};

/// 16 kHz samples between readings (50 ms).
const HOP: usize = 800;
/// Pitches the reading rests on.
const KEPT: usize = 8;
/// Voiced pitches among them a reading needs.
const VOICED_NEEDED: usize = 4;

pub struct TunerListener {
    pipeline: MelodyPipeline,
    /// The newest pitches, oldest first.
    recent: Vec<Pitch>,
    newest: Option<Pitch>,
}

impl TunerListener {
    pub fn new(net: Arc<CrepeNet>) -> Result<Self, ModelError> {
        Ok(Self {
            pipeline: MelodyPipeline::new(net, HOP)?,
            recent: Vec::with_capacity(KEPT + 1),
            newest: None,
        })
    }

    fn reading(&self) -> Option<Pitch> {
        let mut voiced: Vec<&Pitch> = self.recent.iter().filter(|p| p.voiced()).collect();
        if voiced.len() < VOICED_NEEDED {
            return None;
        }
        voiced.sort_by(|a, b| a.hz.total_cmp(&b.hz));
        let median = voiced[voiced.len() / 2].hz;
        let near: Vec<&&Pitch> = voiced
            .iter()
            .filter(|p| (1200.0 * (p.hz / median).log2()).abs() <= 100.0)
            .collect();
        let n = near.len() as f32;
        let octaves = near.iter().map(|p| (p.hz / median).log2()).sum::<f32>() / n;
        Some(Pitch {
            time: self.recent.last().map_or(0.0, |p| p.time),
            hz: median * 2f32.powf(octaves),
            confidence: near.iter().map(|p| p.confidence).sum::<f32>() / n,
        })
    }
}

impl Listener for TunerListener {
    fn push(&mut self, block: &[f32], position: u64) {
        self.pipeline.push(block, position);
        for pitch in self.pipeline.take_pitches() {
            if self.recent.len() == KEPT {
                self.recent.remove(0);
            }
            self.recent.push(pitch);
        }
        self.newest = self.reading();
    }

    fn discontinuity(&mut self, position: u64) {
        self.pipeline.discontinuity(position);
        self.recent.clear();
    }

    fn update(&mut self, heard: &mut Heard) {
        if let Some(e) = self.pipeline.take_error() {
            heard.error = Some(format!("tuner: {e}"));
        }
        heard.tuner = self.newest;
    }

    fn reset(&mut self) {
        self.pipeline.discontinuity(0);
        self.recent.clear();
        self.newest = None;
    }
}

#[cfg(test)]
mod tests {
    use mirador_models::SAMPLE_RATE;

    use super::*;

    fn tone(hz: f32, seconds: f32, vibrato_cents: f32) -> Vec<f32> {
        let rate = SAMPLE_RATE as f32;
        let mut phase = 0.0f32;
        (0..(seconds * rate) as usize)
            .map(|i| {
                let t = i as f32 / rate;
                // 5.5 Hz vibrato, as a singer's.
                let f = hz
                    * 2f32.powf(vibrato_cents / 1200.0 * (std::f32::consts::TAU * 5.5 * t).sin());
                phase += std::f32::consts::TAU * f / rate;
                0.3 * phase.sin()
            })
            .collect()
    }

    #[test]
    fn a_held_note_with_vibrato_reads_steady_and_silence_clears_it() {
        let mut tuner = TunerListener::new(Arc::new(CrepeNet::load().unwrap())).unwrap();
        let audio = tone(196.0, 2.0, 30.0);
        let mut heard = Heard::default();
        let mut readings = Vec::new();
        for (i, block) in audio.chunks(512).enumerate() {
            tuner.push(block, (i * 512) as u64);
            tuner.update(&mut heard);
            if let Some(r) = heard.tuner.filter(|r| r.time > 0.5) {
                let (note, cents) = r.note_and_cents();
                readings.push(cents);
                assert_eq!(note, 55, "G3: {r:?}");
            }
        }
        assert!(readings.len() > 20);
        // With 30 cents of vibrato either way, the reading stays within a sixth of it.
        let spread = readings.iter().fold(0f32, |m, c| m.max(c.abs()));
        assert!(spread < 5.0, "cents off up to {spread}: {readings:?}");
        let silence = vec![0.0; SAMPLE_RATE as usize / 2];
        tuner.push(&silence, audio.len() as u64);
        tuner.update(&mut heard);
        assert_eq!(heard.tuner, None);
    }
}
