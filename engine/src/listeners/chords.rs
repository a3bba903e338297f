//! Chords and key in the live engine: the chord pipeline hears the stream on the worker; the
//! chord its forward filter names is published with the next snapshot, placed on the
//! timeline, with the key of what was heard (older frames fading).

use mirador_models::chords::ChordPipeline;
use mirador_models::{Pipeline, SAMPLE_RATE};

use crate::listener::{Heard, Listener};
use crate::snapshot::LiveChord;

pub struct ChordListener {
    pipeline: ChordPipeline,
    /// The chord now, and since when it has been named.
    newest: Option<LiveChord>,
}

impl ChordListener {
    pub fn new() -> Self {
        Self {
            pipeline: ChordPipeline::live(),
            newest: None,
        }
    }
}

impl Default for ChordListener {
    fn default() -> Self {
        Self::new()
    }
}

impl Listener for ChordListener {
    fn push(&mut self, block: &[f32], position: u64) {
        self.pipeline.push(block, position);
        let Some(now) = self.pipeline.current() else {
            return;
        };
        // Seconds are the same on the analysis timeline and the input's.
        let time = now.position as f64 / f64::from(SAMPLE_RATE);
        match &mut self.newest {
            Some(shown) if shown.chord == now.chord => {
                shown.probability = now.probability;
                shown.next = now.next;
            }
            _ => {
                self.newest = Some(LiveChord {
                    chord: now.chord,
                    probability: now.probability,
                    since: time,
                    next: now.next,
                })
            }
        }
    }

    fn discontinuity(&mut self, position: u64) {
        self.pipeline.discontinuity(position);
    }

    fn update(&mut self, heard: &mut Heard) {
        heard.chord = self.newest;
        heard.key = self.pipeline.key();
    }

    fn reset(&mut self) {
        self.pipeline.discontinuity(0);
        self.newest = None;
    }
}

#[cfg(test)]
mod tests {
    use mirador_dsp::pitch::chords::{Chord, Quality};

    use super::*;

    /// Tones with three harmonics each at MIDI `notes`, `seconds` long, at the analysis rate.
    fn chord(notes: &[u8], seconds: f64) -> Vec<f32> {
        let rate = f64::from(SAMPLE_RATE);
        (0..(seconds * rate) as usize)
            .map(|i| {
                let t = i as f64 / rate;
                let mut x = 0.0;
                for &n in notes {
                    let f = 440.0 * 2f64.powf((f64::from(n) - 69.0) / 12.0);
                    for h in 1..=3 {
                        x += (2.0 * std::f64::consts::PI * f * h as f64 * t).sin() / h as f64;
                    }
                }
                (0.1 * x) as f32
            })
            .collect()
    }

    #[test]
    fn the_chord_heard_is_named_and_changes_with_the_music() {
        let mut listener = ChordListener::new();
        let mut heard = Heard::default();
        let mut position = 0u64;
        let mut play = |listener: &mut ChordListener, samples: &[f32]| {
            for block in samples.chunks(777) {
                listener.push(block, position);
                position += block.len() as u64;
            }
        };
        // C major (C3 in the bass, E4 G4 C5), then G major (G2, B3 D4 G4), then silence.
        play(&mut listener, &chord(&[48, 64, 67, 72], 3.0));
        listener.update(&mut heard);
        let c = heard.chord.expect("a chord after 3 s");
        assert_eq!(
            c.chord,
            Chord::Some(0, Quality::Major),
            "{}",
            c.chord.name()
        );
        assert!(c.probability > 0.5 && c.since < 0.5, "{c:?}");
        play(&mut listener, &chord(&[43, 59, 62, 67], 3.0));
        listener.update(&mut heard);
        let g = heard.chord.unwrap();
        assert_eq!(
            g.chord,
            Chord::Some(7, Quality::Major),
            "{}",
            g.chord.name()
        );
        // Named within half a second of the change at 3 s.
        assert!((3.0..3.5).contains(&g.since), "{g:?}");
        play(&mut listener, &vec![0.0; SAMPLE_RATE as usize]);
        listener.update(&mut heard);
        assert_eq!(heard.chord.unwrap().chord, Chord::None);
        listener.reset();
        listener.update(&mut heard);
        assert_eq!(heard.chord, None);
    }
}
