//! Live input for `mirador live`: an input device's callback feeds the engine's audio stage
//! with what the device records.

use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, StreamTrait};
use mirador_engine::AudioStage;

use crate::device::{DeviceError, Opened};

/// Frames handed to the audio stage per call, whatever size the device's buffers are.
const MAX_CALLBACK_FRAMES: usize = 4096;

/// What the window shows about the input.
pub struct Input {
    pub device: String,
    pub sample_rate: u32,
    pub channels: usize,
    error: Mutex<Option<String>>,
}

impl Input {
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok()?.clone()
    }
}

/// A recording stream; recording stops when it is dropped.
pub struct Capture {
    pub input: Arc<Input>,
    _stream: cpal::Stream,
}

/// Starts recording from `device` into `audio` (made for the device's rate and channels).
pub fn capture(device: Opened, mut audio: AudioStage) -> Result<Capture, DeviceError> {
    let channels = device.config.channels as usize;
    let input = Arc::new(Input {
        device: device.name,
        sample_rate: device.config.sample_rate,
        channels,
        error: Mutex::new(None),
    });
    let errors = input.clone();
    let stream = device.device.build_input_stream(
        device.config,
        move |data: &[f32], _: &cpal::InputCallbackInfo| {
            for block in data.chunks(MAX_CALLBACK_FRAMES * channels) {
                audio.process_interleaved(block);
            }
        },
        move |e| {
            if let Ok(mut error) = errors.error.lock() {
                *error = Some(format!("sound device: {e}"));
            }
        },
        None,
    )?;
    stream.play()?;
    Ok(Capture {
        input,
        _stream: stream,
    })
}
