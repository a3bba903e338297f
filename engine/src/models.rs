//! The models the live engine runs, loaded once and given to each new engine as listeners:
//! the CNN distilled from musicnn for mood (about once a second), musicnn for genre (every
//! 5 s, on its own thread; where it is not built in, as in the plugin, the CNN names the
//! genre too), BeatNet for beats
//! (every frame), the chord HMM (every 93 ms), CREPE for the tuner (every 50 ms), when asked
//! basic-pitch for the notes (every 302 ms) and, with a library, the reference tracks.

use std::sync::Arc;

use mirador_models::beats::BeatNet;
use mirador_models::clip::Models;
use mirador_models::melody::CrepeNet;
use mirador_models::notes::NoteNet;
use mirador_models::tagger::{Tagger, Variant};
use mirador_models::ModelError;

use mirador_library::Catalog;

use crate::listener::Listener;
use crate::listeners::beats::BeatListener;
use crate::listeners::chords::ChordListener;
use crate::listeners::notes::NoteListener;
use crate::listeners::references::ReferenceListener;
use crate::listeners::tagger::TaggerListener;
use crate::listeners::tuner::TunerListener;
use crate::EngineError;

pub struct LiveModels {
    tagger: Arc<Tagger>,
    /// Where mirador-models' `musicnn` feature built it in (the app, not the plugin).
    musicnn: Option<Arc<Tagger>>,
    beats: Arc<BeatNet>,
    pitch: Arc<CrepeNet>,
    /// basic-pitch, when the notes are transcribed live ([`LiveModels::transcribing`]).
    notes: Option<Arc<NoteNet>>,
}

impl LiveModels {
    pub fn load() -> Result<Self, ModelError> {
        Ok(Self {
            tagger: Arc::new(Tagger::load(Variant::Cnn)?),
            musicnn: Variant::Musicnn
                .is_built_in()
                .then(|| Tagger::load(Variant::Musicnn).map(Arc::new))
                .transpose()?,
            beats: Arc::new(BeatNet::load()?),
            pitch: Arc::new(CrepeNet::load()?),
            notes: None,
        })
    }

    /// Whether the notes heard are transcribed.
    pub fn transcribes(&self) -> bool {
        self.notes.is_some()
    }

    /// Also transcribes the notes heard (basic-pitch on its own thread, a fifth of a core).
    pub fn transcribing(mut self) -> Result<Self, ModelError> {
        self.notes = Some(Arc::new(NoteNet::load()?));
        Ok(self)
    }

    /// Fresh listeners for a stream of `input_rate` Hz; with a `library`, one more that
    /// finds the reference tracks.
    pub fn listeners(
        &self,
        input_rate: u32,
        library: Option<&Arc<Catalog>>,
    ) -> Result<Vec<Box<dyn Listener>>, EngineError> {
        let mut tagger = TaggerListener::new(self.tagger.clone())?;
        if let Some(musicnn) = &self.musicnn {
            tagger = tagger.with_genre_thread(musicnn.clone())?;
        }
        let mut listeners: Vec<Box<dyn Listener>> = vec![
            Box::new(tagger),
            Box::new(BeatListener::new(self.beats.clone(), input_rate)),
            Box::new(ChordListener::new()),
            Box::new(TunerListener::new(self.pitch.clone())?),
        ];
        if let Some(net) = &self.notes {
            listeners.push(Box::new(NoteListener::new(net.clone())?));
        }
        if let Some(catalog) = library {
            let models = Models::for_library(self.tagger.clone(), self.beats.clone());
            listeners.push(Box::new(ReferenceListener::new(catalog.clone(), models)?));
        }
        Ok(listeners)
    }
}
