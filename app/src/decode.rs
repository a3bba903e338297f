//! Decoding files with symphonia, packet by packet, so memory stays flat however long the file.

use std::fs::File;
use std::path::{Path, PathBuf};

use mirador_dsp::clip::Replay;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// What a file is, read from its headers.
#[derive(Debug, Clone)]
pub struct AudioInfo {
    pub sample_rate: u32,
    pub channels: usize,
    pub codec: String,
    pub container: String,
    /// Frames per channel as the container declares it, when it does.
    pub declared_frames: Option<u64>,
}

/// An audio file that can be decoded from the start as often as needed.
pub struct AudioFile {
    path: PathBuf,
    info: AudioInfo,
    /// Frames per channel delivered by the last complete decode.
    pub decoded_frames: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot open: {0}")]
    Open(std::io::Error),
    #[error("unknown or unsupported format ({0})")]
    Format(String),
    #[error("no audio track")]
    NoTrack,
    #[error("unsupported codec: {0}")]
    Codec(String),
    #[error("no sample rate or channel layout in the stream")]
    MissingParameters,
    #[error("truncated: the file ends at {0:.2} s, before its declared end")]
    Truncated(f64),
    #[error("corrupt audio at {at:.2} s: {reason}")]
    Corrupt { at: f64, reason: String },
    #[error("the channel count changes mid-stream ({from} to {to})")]
    ChannelsChanged { from: usize, to: usize },
}

struct Stream {
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::audio::AudioDecoder>,
    track_id: u32,
    info: AudioInfo,
}

fn open(path: &Path) -> Result<Stream, DecodeError> {
    let file = File::open(path).map_err(DecodeError::Open)?;
    let source = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    // Decoders trim encoder delay and padding by default (gapless), like libsndfile does.
    let reader = symphonia::default::get_probe()
        .probe(
            &hint,
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| DecodeError::Format(e.to_string()))?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or(DecodeError::NoTrack)?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or(DecodeError::NoTrack)?
        .clone();
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| DecodeError::Codec(e.to_string()))?;
    let sample_rate = params.sample_rate.ok_or(DecodeError::MissingParameters)?;
    let channels = params
        .channels
        .as_ref()
        .map(|c| c.count())
        .ok_or(DecodeError::MissingParameters)?;
    let info = AudioInfo {
        sample_rate,
        channels,
        codec: decoder.codec_info().short_name.to_string(),
        container: reader.format_info().short_name.to_string(),
        declared_frames: track.num_frames,
    };
    let track_id = track.id;
    Ok(Stream {
        reader,
        decoder,
        track_id,
        info,
    })
}

impl AudioFile {
    /// Opens the file and reads its headers; nothing is decoded yet.
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let stream = open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            info: stream.info,
            decoded_frames: 0,
        })
    }

    pub fn info(&self) -> &AudioInfo {
        &self.info
    }
}

impl Replay for AudioFile {
    type Error = DecodeError;

    fn sample_rate(&self) -> u32 {
        self.info.sample_rate
    }

    fn channels(&self) -> usize {
        self.info.channels
    }

    fn play(&mut self, block: &mut dyn FnMut(&[f32])) -> Result<(), DecodeError> {
        let mut decoder = Decoder::open(&self.path)?;
        while let Some(samples) = decoder.next_block()? {
            block(samples);
        }
        self.decoded_frames = decoder.frames;
        Ok(())
    }
}

/// Decodes a file packet by packet into interleaved f32 blocks.
pub struct Decoder {
    stream: Stream,
    interleaved: Vec<f32>,
    /// Frames per channel delivered so far.
    pub frames: u64,
}

impl Decoder {
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        Ok(Self {
            stream: open(path)?,
            interleaved: Vec::new(),
            frames: 0,
        })
    }

    pub fn info(&self) -> &AudioInfo {
        &self.stream.info
    }

    /// The next decoded block, `None` at a clean end of stream.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, DecodeError> {
        let info = &self.stream.info;
        let rate = info.sample_rate as f64;
        let at = self.frames as f64 / rate;
        loop {
            let packet = match self.stream.reader.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => {
                    // Containers that state a length (WAV, FLAC) and deliver less were cut short.
                    let short = info.declared_frames.is_some_and(|d| self.frames < d);
                    if short && info.container != "ogg" {
                        return Err(DecodeError::Truncated(at));
                    }
                    return Ok(None);
                }
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Err(DecodeError::Truncated(at));
                }
                Err(e) => {
                    return Err(DecodeError::Corrupt {
                        at,
                        reason: e.to_string(),
                    })
                }
            };
            if packet.track_id != self.stream.track_id {
                continue;
            }
            let buffer = self
                .stream
                .decoder
                .decode(&packet)
                .map_err(|e| DecodeError::Corrupt {
                    at,
                    reason: e.to_string(),
                })?;
            let got = buffer.spec().channels().count();
            if got != info.channels {
                return Err(DecodeError::ChannelsChanged {
                    from: info.channels,
                    to: got,
                });
            }
            self.interleaved.resize(buffer.samples_interleaved(), 0.0);
            buffer.copy_to_slice_interleaved(&mut self.interleaved[..]);
            self.frames += buffer.frames() as u64;
            return Ok(Some(&self.interleaved));
        }
    }
}
