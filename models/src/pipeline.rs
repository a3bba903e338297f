//! The seam every model's chain fits: a plain sink of mono analysis-rate audio that serves a
//! whole file and a live stream alike (madmom's processors, beatnet-rs's `Engine`). The file
//! path feeds it from the feature table's second pass ([`run_clip`] when there is no table);
//! the live engine's listener feeds it from the audio thread's ring.

use mirador_dsp::clip::{ClipError, Replay};
use mirador_dsp::input::InputStage;

use crate::ModelError;

/// The rate pipelines hear: `mirador-dsp`'s analysis rate, which is also BeatNet's.
pub const SAMPLE_RATE: u32 = 22_050;

pub trait Pipeline {
    /// Mono samples at [`SAMPLE_RATE`]; `position` is the index of `block[0]` on the stream's
    /// analysis-rate timeline. Blocks follow each other without gaps until a
    /// [`Pipeline::discontinuity`].
    fn push(&mut self, block: &[f32], position: u64);
    /// Audio is missing (dropped, skipped): forget the signal so far; the next block starts
    /// the stream again at `position`. What was announced stays announced.
    fn discontinuity(&mut self, position: u64);
    /// The signal has ended: complete what end padding completes. Call once.
    fn finish(&mut self);
    /// The first error since the last call; the pipeline goes on with the next block.
    fn take_error(&mut self) -> Option<ModelError>;
}

/// Plays `clip` once through `pipelines` (downmixed and resampled to [`SAMPLE_RATE`]), for
/// callers without a feature table to ride along.
pub fn run_clip<R: Replay>(
    clip: &mut R,
    pipelines: &mut [&mut dyn Pipeline],
) -> Result<(), ClipError<R::Error>> {
    let mut input = InputStage::new(clip.sample_rate(), SAMPLE_RATE, clip.channels())
        .map_err(ClipError::Config)?;
    let mut position = 0u64;
    let mut feed = |mono: &[f32]| {
        for pipeline in pipelines.iter_mut() {
            pipeline.push(mono, position);
        }
        position += mono.len() as u64;
    };
    clip.play(&mut |block| input.push_interleaved(block, &mut feed))
        .map_err(ClipError::Source)?;
    input.flush(&mut feed);
    for pipeline in pipelines.iter_mut() {
        pipeline.finish();
    }
    Ok(())
}
