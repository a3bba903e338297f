//! The slot through which models listen to the live stream on the worker thread. The models
//! live in another crate (`mirador-models`); the worker only knows this trait.

use crate::live::snapshot::Predictions;

/// A model fed the raw input on the worker thread (never on the audio thread).
pub trait Listener: Send {
    /// Interleaved input samples, whole frames, in the order the audio thread received them;
    /// `position` is the input-rate sample index of the first (the frames' timeline).
    fn listen(&mut self, samples: &[f32], position: u64);
    /// Writes whatever is new into `predictions`; called after each batch of samples.
    fn update(&mut self, predictions: &mut Predictions);
    /// Forgets the stream so far (a seek, a new file).
    fn reset(&mut self);
}
