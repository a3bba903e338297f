//! The plugin: parameters persisted with the host session, the engine built on activation,
//! the audio passed through bit-exact, and the editor reading the worker's snapshots.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use mirador_engine::{AudioStage, Control, LiveModels, SnapshotReader};
use mirador_library::{Catalog, Library};
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::editor::ResizeHint;
use nice_plug::prelude::*;
use nice_plug_egui::baseview::WindowSize;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier,
};

use mirador_view::tracks::references;
use mirador_view::{View, ViewSettings};

const DEFAULT_EDITOR_SIZE: (u32, u32) = (1000, 640);
const MIN_EDITOR_SIZE: (f32, f32) = (560.0, 360.0);

#[derive(Params)]
pub struct MiradorParams {
    /// The editor's logical size in points, saved with the session. Kept here rather than in
    /// an `EguiEditorState`, which nice-plug-egui cannot serialize.
    #[persist = "editor-size"]
    pub editor_size: Arc<RwLock<(u32, u32)>>,
    /// The host's bypass switch: audio passes through as always, and analysis stops.
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[id = "analysis"]
    pub analysis: BoolParam,
    #[id = "smoothing"]
    pub smoothing: FloatParam,
    #[id = "show-mel"]
    pub show_mel: BoolParam,
    #[id = "show-chroma"]
    pub show_chroma: BoolParam,
    #[id = "show-mfcc"]
    pub show_mfcc: BoolParam,
    #[id = "show-predictions"]
    pub show_predictions: BoolParam,
    /// A note on the plugin's note output at each tracked beat, placed to the sample.
    #[id = "midi-beats"]
    pub midi_beats: BoolParam,
    #[id = "beat-note"]
    pub beat_note: IntParam,
    #[id = "downbeat-note"]
    pub downbeat_note: IntParam,
    /// The notes played, transcribed live (basic-pitch, a fifth of a core; taken on at the
    /// next activation), on the note output's channel 1, about 0.4 s after each onset.
    #[id = "midi-notes"]
    pub midi_notes: BoolParam,
}

impl Default for MiradorParams {
    fn default() -> Self {
        Self {
            editor_size: Arc::new(RwLock::new(DEFAULT_EDITOR_SIZE)),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            analysis: BoolParam::new("Analysis", true),
            smoothing: FloatParam::new(
                "Display smoothing",
                0.8,
                FloatRange::Linear {
                    min: 0.0,
                    max: 0.99,
                },
            ),
            show_mel: BoolParam::new("Show spectrogram", true),
            show_chroma: BoolParam::new("Show chroma", true),
            show_mfcc: BoolParam::new("Show MFCC", true),
            show_predictions: BoolParam::new("Show predictions", true),
            midi_beats: BoolParam::new("MIDI beat notes", true),
            // General MIDI drums: closed hi-hat, bass drum.
            beat_note: IntParam::new("Beat note", 42, IntRange::Linear { min: 0, max: 127 }),
            downbeat_note: IntParam::new(
                "Downbeat note",
                36,
                IntRange::Linear { min: 0, max: 127 },
            ),
            midi_notes: BoolParam::new("MIDI notes (transcribed)", false),
        }
    }
}

impl MiradorParams {
    fn view_settings(&self) -> ViewSettings {
        ViewSettings {
            spectrogram: self.show_mel.value(),
            chroma: self.show_chroma.value(),
            mfcc: self.show_mfcc.value(),
            predictions: self.show_predictions.value(),
            // The saliency overlay is the app's: explaining costs the worker about 5 % of
            // a core, more than a plugin instance should take unasked.
            why: false,
            smoothing: self.smoothing.value(),
        }
    }
}

/// What the audio side shares with the editor; the audio thread never touches it.
#[derive(Default)]
struct Shared {
    reader: Mutex<Option<SnapshotReader>>,
    /// Why the engine is not running at the host's rate, if it is not.
    inactive: Mutex<Option<String>>,
    /// Whether the engine finds reference tracks (the user has a library).
    library: AtomicBool,
}

pub struct Mirador {
    params: Arc<MiradorParams>,
    audio: Option<AudioStage>,
    shared: Arc<Shared>,
    /// The live models (the distilled CNN with its heads, BeatNet), loaded at the first
    /// activation and kept across them.
    model: Option<Arc<LiveModels>>,
    /// The user's library (`mirador index`), for reference tracks; loaded with the models.
    library: Option<Arc<Catalog>>,
    /// Beat notes sounding: when (on the engine's timeline) each ends, and its key.
    sounding: [Option<(u64, u8)>; 4],
    /// Samples a beat note lasts (50 ms).
    note_length: u64,
}

impl Default for Mirador {
    fn default() -> Self {
        Self {
            params: Arc::new(MiradorParams::default()),
            audio: None,
            shared: Arc::new(Shared::default()),
            model: None,
            library: None,
            sounding: [None; 4],
            note_length: 2205,
        }
    }
}

pub struct EditorApp {
    params: Arc<MiradorParams>,
    shared: Arc<Shared>,
    view: View,
    repaint: RepaintNotifier,
}

impl NiceEguiApp for EditorApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let settings = self.params.view_settings();
        egui::Frame::central_panel(ui.style()).show(ui, |ui| {
            if let Ok(mut reader) = self.shared.reader.lock() {
                match reader.as_mut() {
                    Some(reader) => {
                        if self.shared.library.load(Ordering::Relaxed) {
                            let heard = reader.read().references.clone();
                            egui::Panel::right("references")
                                .default_size(300.0)
                                .size_range(200.0..=520.0)
                                .show(ui, |ui| {
                                    ui.heading("Reference tracks");
                                    egui::ScrollArea::vertical().show(ui, |ui| {
                                        references(ui, heard.as_deref(), None);
                                    });
                                });
                        }
                        self.view.ui(ui, reader, &settings);
                    }
                    None => {
                        let why = self.shared.inactive.lock().ok().and_then(|w| w.clone());
                        ui.label(why.unwrap_or("Waiting for the host to start audio.".into()));
                    }
                }
            }
        });
        // Draw continuously while open; nothing is drawn while the editor is closed.
        self.repaint.request_repaint();
    }

    fn resized(&mut self, new_size: WindowSize) {
        if let Ok(mut size) = self.params.editor_size.write() {
            *size = (
                new_size.logical.width.round() as u32,
                new_size.logical.height.round() as u32,
            );
        }
    }
}

impl Plugin for Mirador {
    const NAME: &'static str = "Mirador";
    const VENDOR: &'static str = "Mirador";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    /// Beat and downbeat notes out, for the host to record or route.
    const MIDI_OUTPUT: MidiConfig = MidiConfig::Basic;

    type Editor = EguiEditor<EditorApp>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        let repaint = RepaintNotifier::new();
        let app = EditorApp {
            params: self.params.clone(),
            shared: self.shared.clone(),
            view: View::default(),
            repaint: repaint.clone(),
        };
        let settings = EguiNiceSettings::new()
            .with_tile("Mirador")
            .with_resize_hint(
                ResizeHint::resizable()
                    .with_min_logical_size(LogicalSize::new(MIN_EDITOR_SIZE.0, MIN_EDITOR_SIZE.1)),
            );
        let (width, height) = self
            .params
            .editor_size
            .read()
            .map_or(DEFAULT_EDITOR_SIZE, |size| *size);
        let state = EguiEditorState::from_size(LogicalSize::new(width as f32, height as f32), 1.0);
        create_egui_editor(state, repaint, settings, app)
    }

    fn activate(
        &mut self,
        layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // The audio passes through whatever happens here: a rate the analysis cannot serve
        // leaves the plugin active, bit-exact and saying so in its editor.
        self.audio = None;
        self.shutdown_worker();
        let channels = layout.main_input_channels.map_or(0, NonZeroU32::get) as usize;
        let rate = buffer_config.sample_rate.round() as u32;
        self.note_length = u64::from(rate / 20).max(1);
        self.sounding = [None; 4];
        if self.model.is_none() {
            // No library, or an empty one: no reference tracks, nothing else changes.
            self.library = Catalog::open(&Library::default_path()).ok().map(Arc::new);
        }
        let transcribe = self.params.midi_notes.value();
        if self
            .model
            .as_ref()
            .is_none_or(|m| m.transcribes() != transcribe)
        {
            // Without the models the analyzer still runs; the view says no model is loaded.
            let models = LiveModels::load();
            let models = if transcribe {
                models.and_then(LiveModels::transcribing)
            } else {
                models
            };
            self.model = models.ok().map(Arc::new);
        }
        let with_library = self.library.is_some() && self.model.is_some();
        self.shared.library.store(with_library, Ordering::Relaxed);
        let started = mirador_engine::start(
            rate,
            channels,
            self.model.as_deref(),
            self.library.as_ref(),
            None,
        );
        let why = match started {
            Ok((audio, reader)) => {
                if let Ok(mut slot) = self.shared.reader.lock() {
                    *slot = Some(reader);
                }
                self.audio = Some(audio);
                None
            }
            Err(e) => Some(format!(
                "No analysis at {} Hz: {e}. Audio passes through untouched.",
                buffer_config.sample_rate
            )),
        };
        if let Ok(mut slot) = self.shared.inactive.lock() {
            *slot = why;
        }
        true
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        // The audio is only read: the host gets its input back unchanged.
        let Some(audio) = &mut self.audio else {
            return ProcessStatus::Normal;
        };
        let enabled = self.params.analysis.value() && !self.params.bypass.value();
        audio.set_enabled(enabled);
        let start = audio.position();
        let len = buffer.samples();
        match buffer.as_slice_immutable() {
            [mono] => audio.process_planar(&[&mono[..]]),
            [left, right] => audio.process_planar(&[&left[..], &right[..]]),
            _ => {}
        }
        if enabled {
            let notes = self.params.midi_beats.value().then(|| {
                let key = |p: &IntParam| p.value().clamp(0, 127) as u8;
                (key(&self.params.beat_note), key(&self.params.downbeat_note))
            });
            beat_notes(
                audio,
                start,
                len,
                notes,
                &mut self.sounding,
                self.note_length,
                context,
            );
        }
        // Already late: each at the block's start.
        let transcribed = self.params.midi_notes.value();
        audio.take_notes(|event| {
            if transcribed {
                let (key, velocity) = match event {
                    mirador_engine::NoteEvent::On {
                        pitch, velocity, ..
                    } => (pitch, velocity),
                    mirador_engine::NoteEvent::Off { pitch, .. } => (pitch, 0),
                };
                send(context, 0, 0, key, f32::from(velocity) / 127.0);
            }
        });
        ProcessStatus::Normal
    }

    fn deactivate(&mut self) {
        self.audio = None;
        self.shutdown_worker();
    }
}

/// The beat notes of the block of `len` samples from `start`: the ends of those sounding
/// that fall in it, then a note on each beat the engine predicts in it (`notes`: beat and
/// downbeat keys), each at its sample. Real-time safe: a fixed number of notes sound at once.
fn beat_notes(
    audio: &mut AudioStage,
    start: u64,
    len: usize,
    notes: Option<(u8, u8)>,
    sounding: &mut [Option<(u64, u8)>; 4],
    note_length: u64,
    context: &mut impl ProcessContext<Mirador>,
) {
    let end = start + len as u64;
    let end_due = |sounding: &mut [Option<(u64, u8)>; 4], context: &mut _| {
        for slot in sounding.iter_mut() {
            if let Some((at, key)) = *slot {
                if at < end {
                    send(
                        context,
                        (at.max(start) - start) as u32,
                        BEAT_CHANNEL,
                        key,
                        0.0,
                    );
                    *slot = None;
                }
            }
        }
    };
    end_due(sounding, context);
    let Some((beat, downbeat)) = notes else {
        return;
    };
    audio.beats_in(start, len, |offset, in_bar| {
        let key = if in_bar == 1 { downbeat } else { beat };
        send(context, offset as u32, BEAT_CHANNEL, key, 0.8);
        if let Some(slot) = sounding.iter_mut().find(|s| s.is_none()) {
            *slot = Some((start + offset as u64 + note_length, key));
        }
    });
    // A note shorter than what is left of the block ends in it.
    end_due(sounding, context);
}

/// Channel 10 (0-based 9), General MIDI's drums.
const BEAT_CHANNEL: u8 = 9;

/// A note on (`velocity` above 0) or off at sample `timing` of the block.
fn send(
    context: &mut impl ProcessContext<Mirador>,
    timing: u32,
    channel: u8,
    key: u8,
    velocity: f32,
) {
    let (voice_id, channel, key) = (
        nice_plug::midi::VoiceID::Wildcard,
        nice_plug::midi::Channel::Number(channel),
        nice_plug::midi::Key::Number(key.min(127)),
    );
    let event = if velocity > 0.0 {
        NoteEvent::NoteOn {
            timing,
            voice_id,
            channel,
            key,
            velocity,
        }
    } else {
        NoteEvent::NoteOff {
            timing,
            voice_id,
            channel,
            key,
            velocity: 0.0,
        }
    };
    // A host without an output buffer, or a full one, loses the note; nothing waits.
    let _ = context.try_send_event(event);
}

impl Mirador {
    fn shutdown_worker(&mut self) {
        if let Ok(mut slot) = self.shared.reader.lock() {
            if let Some(reader) = slot.take() {
                reader.send(Control::Shutdown);
            }
        }
    }
}

impl ClapPlugin for Mirador {
    const CLAP_ID: &'static str = "org.mirador.analyzer";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("Real-time music analysis");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for Mirador {
    const VST3_CLASS_ID: [u8; 16] = *b"MiradorAnalyzer1";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Analyzer];
}

nice_export_clap!(Mirador);
nice_export_vst3!(Mirador);
