//! Beats of a whole clip, computed exactly as live: the clip streamed frame by frame through
//! the front end, the network and the online tracker (no look-ahead).

use mirador_dsp::clip::Replay;
use mirador_dsp::input::InputStage;
use mirador_dsp::log_filtered::{LogFilteredSpectrogram, FRAMES_PER_SECOND, SAMPLE_RATE};

use super::{BeatNet, BeatTracker, ModelError, StreamState, TrackedBeat, TrackerConfig};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipBeat {
    pub time: f64,
    /// 1 on the downbeat.
    pub beat_in_bar: u8,
}

#[derive(Debug, Clone, Default)]
pub struct ClipBeats {
    pub beats: Vec<ClipBeat>,
    /// From the median interval between the announced beats.
    pub tempo_bpm: Option<f64>,
    /// The meter most beats were announced in.
    pub beats_per_bar: Option<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClipError<E: std::fmt::Display> {
    #[error("{0}")]
    Audio(E),
    #[error(transparent)]
    Config(#[from] mirador_dsp::ConfigError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

pub fn track<R: Replay>(net: &BeatNet, clip: &mut R) -> Result<ClipBeats, ClipError<R::Error>>
where
    R::Error: std::fmt::Display,
{
    let mut input = InputStage::new(clip.sample_rate(), SAMPLE_RATE, clip.channels())?;
    let mut spectrogram = LogFilteredSpectrogram::new();
    let mut state = StreamState::default();
    let mut tracker = BeatTracker::new(TrackerConfig::default());
    let mut tracked = Vec::new();
    let mut failure = None;
    let mut frame = |features: &[f32]| match net.step(features, &mut state) {
        Ok(a) => tracked.extend(tracker.step(a.beat, a.downbeat)),
        Err(e) => failure = Some(e),
    };
    clip.play(&mut |block| {
        input.push_interleaved(block, &mut |mono| spectrogram.process(mono, &mut frame))
    })
    .map_err(ClipError::Audio)?;
    input.flush(&mut |mono| spectrogram.process(mono, &mut frame));
    spectrogram.finish(&mut frame);
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(summarize(&tracked))
}

fn summarize(tracked: &[TrackedBeat]) -> ClipBeats {
    let mut intervals: Vec<u64> = tracked
        .windows(2)
        .map(|w| w[1].frame - w[0].frame)
        .collect();
    intervals.sort_unstable();
    let tempo_bpm = intervals
        .get(intervals.len() / 2)
        .map(|&frames| 60.0 * FRAMES_PER_SECOND / frames as f64);
    let mut meters = [0usize; 256];
    tracked
        .iter()
        .for_each(|b| meters[b.beats_per_bar as usize] += 1);
    let meter = (0..meters.len())
        .max_by_key(|&m| meters[m])
        .filter(|&m| meters[m] > 0);
    ClipBeats {
        beats: tracked
            .iter()
            .map(|b| ClipBeat {
                time: b.frame as f64 / FRAMES_PER_SECOND,
                beat_in_bar: b.beat_in_bar,
            })
            .collect(),
        tempo_bpm,
        beats_per_bar: meter.map(|m| m as u8),
    }
}
