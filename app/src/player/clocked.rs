//! `--no-audio` playback: the engine is fed each block when the wall clock says it is due.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mirador_engine::AudioStage;

use super::thread::spawn;
use super::{Output, PlayError, Transport};
use crate::decode::Decoder;

/// Plays `path` into `audio` at the pace of the wall clock, with nothing heard.
pub fn play_clocked(path: PathBuf, audio: AudioStage) -> Result<Arc<Transport>, PlayError> {
    let decoder = Decoder::open(&path)?;
    let info = decoder.info().clone();
    let transport = Arc::new(Transport::new(
        info.sample_rate,
        info.declared_frames,
        "no sound device (--no-audio): paced by the clock".into(),
    ));
    let output = Clocked {
        audio,
        channels: info.channels,
        rate: info.sample_rate as f64,
        origin: Instant::now(),
    };
    spawn(path, decoder, output, transport.clone())?;
    Ok(transport)
}

/// Feeds the engine directly, each block when the wall clock says it is due.
struct Clocked {
    audio: AudioStage,
    channels: usize,
    rate: f64,
    /// Wall-clock instant at which the current position's frame 0 would have played.
    origin: Instant,
}

impl Clocked {
    fn set_origin(&mut self, position: u64) {
        self.origin = Instant::now() - Duration::from_secs_f64(position as f64 / self.rate);
    }
}

impl Output for Clocked {
    fn write(&mut self, block: &[f32], t: &Transport) {
        let position = t.position();
        let due = self.origin + Duration::from_secs_f64(position as f64 / self.rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        self.audio.process_interleaved(block);
        let frames = (block.len() / self.channels) as u64;
        t.position.fetch_add(frames, Ordering::Relaxed);
    }

    fn restart(&mut self, position: u64, t: &Transport) {
        t.position.store(position, Ordering::Relaxed);
        self.set_origin(position);
    }

    fn idle(&mut self, position: u64, _t: &Transport) {
        self.set_origin(position);
    }
}
