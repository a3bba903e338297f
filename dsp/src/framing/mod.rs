//! Cutting a signal into frames and putting frames back together: the framer (librosa's
//! centred frames with either pad mode, madmom's causal frames), the windows, overlap-add.

pub mod framer;
pub mod overlap_add;
pub mod window;

pub use framer::{Centering, FrameRef, Framer};
pub use overlap_add::OverlapAdd;
