//! File playback for `mirador play`: a thread decodes the file, handles pause and seek, and
//! hands blocks to an output. On a sound device the output callback plays each block and
//! feeds the same samples to the live engine, so the analysis follows what is heard. With
//! `--no-audio` a clock paces the blocks instead, so the analysis runs where no device exists.

mod clocked;
mod device;
mod thread;
mod transport;

use crate::decode::DecodeError;
use crate::device::DeviceError;

pub use clocked::play_clocked;
pub use device::play_on_device;
pub use transport::Transport;

/// Frames handed to the output at a time.
const BLOCK_FRAMES: usize = 512;
const NO_SEEK: u64 = u64::MAX;

#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("sound device: {0}")]
    Stream(#[from] cpal::Error),
}

/// Where the player thread's blocks go.
trait Output: Send {
    /// Takes a block of interleaved samples at the file's rate and channel count; returns
    /// when it is ready for the next one (or early, when a seek is pending).
    fn write(&mut self, block: &[f32], t: &Transport);
    /// Drops what is queued and restarts the timeline at file frame `position`.
    fn restart(&mut self, position: u64, t: &Transport);
    /// Called while paused or finished, so a clock does not run ahead.
    fn idle(&mut self, position: u64, t: &Transport);
}
