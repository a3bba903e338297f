//! The bundled demo input: 30 s of synthesized music with known content, a C-major chord
//! under a 120 BPM kick and hi-hat pattern, so `mirador analyze --demo` works with no files.

use std::f32::consts::PI;
use std::path::PathBuf;

use mirador_dsp::clip::{Samples, TableStyle};

use crate::batch::{self, Analysis, Models};
use crate::decode::AudioInfo;

pub const SAMPLE_RATE: u32 = 22050;
pub const SECONDS: f32 = 30.0;
pub const BPM: f32 = 120.0;

/// The demo signal, mono at [`SAMPLE_RATE`].
pub fn signal() -> Vec<f32> {
    let beat = 60.0 / BPM;
    let mut noise_state = 0x1234_5678u32;
    (0..(SAMPLE_RATE as f32 * SECONDS) as usize)
        .map(|i| {
            let t = i as f32 / SAMPLE_RATE as f32;
            let chord: f32 = [261.63f32, 329.63, 392.0]
                .iter()
                .flat_map(|f| [(1.0, *f), (0.4, 2.0 * f), (0.2, 3.0 * f)])
                .map(|(a, f)| a * (2.0 * PI * f * t).sin())
                .sum();
            // Kick on every beat: a decaying 60 Hz thump with a falling pitch.
            let since_beat = t % beat;
            let kick = (-since_beat * 25.0).exp()
                * (2.0 * PI * (60.0 + 80.0 * (-since_beat * 40.0).exp()) * since_beat).sin();
            // Hi-hat on the off-beats: short bursts of white noise.
            noise_state ^= noise_state << 13;
            noise_state ^= noise_state >> 17;
            noise_state ^= noise_state << 5;
            let noise = noise_state as f32 / u32::MAX as f32 * 2.0 - 1.0;
            let since_offbeat = (t + beat / 2.0) % beat;
            let hat = (-since_offbeat * 120.0).exp() * noise;
            0.08 * chord + 0.5 * kick + 0.15 * hat
        })
        .collect()
}

/// The demo analyzed like a file.
pub fn analysis(style: TableStyle, models: &Models) -> Result<Analysis, String> {
    let samples = signal();
    let mut clip = Samples {
        samples: &samples,
        sample_rate: SAMPLE_RATE,
        channels: 1,
    };
    let clip_analysis = batch::analyze_clip(&mut clip, style, models)?;
    Ok(Analysis {
        path: PathBuf::from("demo.wav"),
        info: AudioInfo {
            sample_rate: SAMPLE_RATE,
            channels: 1,
            codec: "synthesized".into(),
            container: "none".into(),
            declared_frames: Some(samples.len() as u64),
        },
        frames: samples.len() as u64,
        decoder: "none",
        warnings: Vec::new(),
        clip: clip_analysis,
    })
}
