//! Clips: audio that can be played from the start more than once (a decoded file, a buffer),
//! and the one error type of everything that analyzes a whole clip.

use crate::config::ConfigError;

/// Audio that can be played from the start more than once: a decoded file, a buffer.
pub trait Replay {
    type Error;
    fn sample_rate(&self) -> u32;
    fn channels(&self) -> usize;
    /// Plays the whole clip from the start as interleaved blocks.
    fn play(&mut self, block: &mut dyn FnMut(&[f32])) -> Result<(), Self::Error>;
}

/// An in-memory interleaved signal.
pub struct Samples<'a> {
    pub samples: &'a [f32],
    pub sample_rate: u32,
    pub channels: usize,
}

impl Replay for Samples<'_> {
    type Error = std::convert::Infallible;
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    fn channels(&self) -> usize {
        self.channels
    }
    fn play(&mut self, block: &mut dyn FnMut(&[f32])) -> Result<(), Self::Error> {
        for chunk in self.samples.chunks(4096 * self.channels) {
            block(chunk);
        }
        Ok(())
    }
}

#[derive(Debug)]
pub enum ClipError<E> {
    Config(ConfigError),
    Source(E),
    /// The clip holds no samples.
    Empty,
}

impl<E: std::fmt::Display> std::fmt::Display for ClipError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(e) => write!(f, "{e}"),
            Self::Source(e) => write!(f, "{e}"),
            Self::Empty => write!(f, "no audio samples"),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for ClipError<E> {}
