//! The seam through which models hear the live stream on the worker thread (never on the
//! audio thread): each listener wraps one model's [`Pipeline`](mirador_models::Pipeline) and
//! says what is new in [`Heard`].

use std::sync::Arc;

use mirador_dsp::pitch::key::Key;
use mirador_models::melody::Pitch;
use mirador_models::notes::NoteEvent;

use crate::snapshot::{Beat, ClassProbabilities, LiveChord, References, SaliencyCell};

pub trait Listener: Send {
    /// Mono analysis-rate samples; `position` is the analysis-rate index of `block[0]`.
    fn push(&mut self, block: &[f32], position: u64);
    /// Audio before `position` is missing (dropped, or analysis was off).
    fn discontinuity(&mut self, position: u64);
    /// Writes whatever is new into `heard`; called after each batch of blocks.
    fn update(&mut self, heard: &mut Heard);
    /// Forgets the stream so far and everything said about it (a seek, a new file).
    fn reset(&mut self);
    /// Starts or stops explaining what it says (costly; only while a view shows it).
    fn explain(&mut self, _on: bool) {}
}

/// The newest beat a beat model announced, with where it falls in the bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarBeat {
    pub beat: Beat,
    /// 1 on the downbeat.
    pub beat_in_bar: u8,
    pub beats_per_bar: u8,
    pub tempo_bpm: f32,
}

/// What the listeners have said, newest values only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Heard {
    pub genre: Option<ClassProbabilities>,
    pub mood: Option<ClassProbabilities>,
    pub beat: Option<BarBeat>,
    pub chord: Option<LiveChord>,
    pub key: Option<Key>,
    pub tuner: Option<Pitch>,
    /// Why there is no genre or mood yet, when a model is listening (not enough audio yet,
    /// or silence).
    pub predictions_withheld: Option<&'static str>,
    pub error: Option<String>,
    pub references: Option<Arc<References>>,
    /// Saliency cells explained since the last update, oldest first.
    pub saliency: Vec<SaliencyCell>,
    /// Notes started and ended since the last update, in order.
    pub notes: Vec<NoteEvent>,
}
