//! The models the live engine runs, loaded once and given to each new engine as listeners:
//! the CNN distilled from musicnn for genre and mood (about once a second), BeatNet for beats
//! (every frame).

use std::sync::Arc;

use mirador_dsp::live::Listener;
use mirador_dsp::ConfigError;

use crate::beats::{BeatNet, LiveBeats};
use crate::musicnn::{ClipModel, LivePatches, Variant};

pub struct LiveModels {
    genre_and_mood: Arc<ClipModel>,
    beats: Arc<BeatNet>,
}

impl LiveModels {
    pub fn load() -> Result<Self, String> {
        Ok(Self {
            genre_and_mood: Arc::new(ClipModel::load(Variant::Cnn).map_err(|e| e.to_string())?),
            beats: Arc::new(BeatNet::load().map_err(|e| e.to_string())?),
        })
    }

    /// Fresh listeners for a stream of `rate` Hz and `channels` channels.
    pub fn listeners(
        &self,
        rate: u32,
        channels: usize,
    ) -> Result<Vec<Box<dyn Listener>>, ConfigError> {
        Ok(vec![
            Box::new(LivePatches::new(
                self.genre_and_mood.clone(),
                rate,
                channels,
            )?),
            Box::new(LiveBeats::new(self.beats.clone(), rate, channels)?),
        ])
    }
}
