//! Decoding files block by block, so memory stays flat however long the file: symphonia for
//! what it reads, ffmpeg (when installed) for the rest and for streams symphonia gives up on.
//! Damaged audio is skipped with a warning naming where; a file fails only when nothing can
//! decode it.

mod ffmpeg;
mod symphonia;

use std::path::{Path, PathBuf};

use mirador_dsp::clip::Replay;

/// What a file is, read from its headers.
#[derive(Debug, Clone)]
pub struct AudioInfo {
    pub sample_rate: u32,
    pub channels: usize,
    pub codec: String,
    pub container: String,
    /// Frames per channel as the container declares it, when it does.
    pub declared_frames: Option<u64>,
    /// Title, artist and album from the file's tags, where it has them.
    pub tags: FileTags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
}

/// An audio file that can be decoded from the start as often as needed.
pub struct AudioFile {
    path: PathBuf,
    info: AudioInfo,
    /// Frames per channel delivered by the last complete decode.
    pub decoded_frames: u64,
    /// Which decoder the last complete decode used, and what it warned about.
    pub decoder: &'static str,
    pub warnings: Vec<String>,
    /// Size and modification time when opened: a file rewritten between the passes fails.
    stamp: Option<(u64, std::time::SystemTime)>,
}

fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
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
    #[error("corrupt audio at {at:.2} s: {reason}")]
    Corrupt { at: f64, reason: String },
    #[error("the file changed while it was being analyzed")]
    Changed,
}

impl DecodeError {
    /// What symphonia could not read, with the way to read more.
    fn without_ffmpeg(self) -> Self {
        const HINT: &str = "installing ffmpeg lets Mirador decode it";
        match self {
            DecodeError::Format(reason) => DecodeError::Format(format!("{reason}; {HINT}")),
            DecodeError::Codec(reason) => DecodeError::Codec(format!("{reason}; {HINT}")),
            other => other,
        }
    }
}

impl AudioFile {
    /// Opens the file and reads its headers; nothing is decoded yet.
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let decoder = Decoder::open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            info: decoder.info.clone(),
            decoded_frames: 0,
            decoder: decoder.decoder,
            warnings: Vec::new(),
            stamp: stamp(path),
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
        if stamp(&self.path) != self.stamp {
            return Err(DecodeError::Changed);
        }
        let mut decoder = Decoder::open(&self.path)?;
        while let Some(samples) = decoder.next_block()? {
            block(samples);
        }
        if stamp(&self.path) != self.stamp {
            return Err(DecodeError::Changed);
        }
        self.decoded_frames = decoder.frames;
        self.decoder = decoder.decoder;
        self.warnings = decoder.warnings;
        Ok(())
    }
}

/// Decodes a whole in-memory recording (Ogg, FLAC, WAV ... as symphonia reads them) into
/// interleaved f32, with what its headers say; `extension` hints at the format.
pub fn decode_bytes(
    bytes: impl AsRef<[u8]> + Send + Sync + 'static,
    extension: Option<&str>,
) -> Result<(AudioInfo, Vec<f32>), DecodeError> {
    let cursor = std::io::Cursor::new(bytes);
    let mut stream = symphonia::Stream::from_source(Box::new(cursor), extension)?;
    let (mut samples, mut warnings) = (Vec::new(), Vec::new());
    loop {
        let frames = (samples.len() / stream.info.channels) as u64;
        match stream.next_block(frames, &mut warnings) {
            Ok(block) => samples.extend_from_slice(block),
            Err(symphonia::Stop::End) => return Ok((stream.info.clone(), samples)),
            Err(symphonia::Stop::Failed(reason) | symphonia::Stop::Handoff(reason)) => {
                let at = frames as f64 / f64::from(stream.info.sample_rate);
                return Err(DecodeError::Corrupt { at, reason });
            }
        }
    }
}

/// Decodes a file block by block into interleaved f32: with symphonia, or with ffmpeg when
/// symphonia cannot read the file or gives up part way (ffmpeg then takes over where it
/// stopped).
pub struct Decoder {
    path: PathBuf,
    backend: Backend,
    info: AudioInfo,
    /// Which decoder delivered the audio: "symphonia", "ffmpeg", or "symphonia+ffmpeg".
    pub decoder: &'static str,
    /// Frames per channel delivered so far.
    pub frames: u64,
    /// What was skipped or did not add up, one line each.
    pub warnings: Vec<String>,
    /// Frames ffmpeg must decode and drop before its output is new (after a take-over).
    skip: u64,
    block: Vec<f32>,
}

enum Backend {
    Symphonia(symphonia::Stream),
    Ffmpeg(ffmpeg::Stream),
    Done,
}

enum Step {
    Block,
    End,
    /// Why symphonia stopped, and whether more audio surely follows.
    Failed(String, bool),
}

/// Decoded and declared lengths further apart than this are a warning.
const LENGTH_TOLERANCE: f64 = 0.01;

impl Decoder {
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let (backend, info, decoder) = match symphonia::Stream::open(path) {
            Ok(stream) => {
                let info = stream.info.clone();
                (Backend::Symphonia(stream), info, "symphonia")
            }
            Err(DecodeError::Open(e)) => return Err(DecodeError::Open(e)),
            Err(e) if ffmpeg::available() => {
                let info = ffmpeg::probe(path).map_err(|fallback| match (&e, fallback) {
                    // Neither can read it: say what each said.
                    (DecodeError::Format(ours), DecodeError::Format(theirs)) => {
                        DecodeError::Format(format!("{ours}; {theirs}"))
                    }
                    (_, other) => other,
                })?;
                let stream = ffmpeg::Stream::open(path, &info)?;
                (Backend::Ffmpeg(stream), info, "ffmpeg")
            }
            Err(e) => return Err(e.without_ffmpeg()),
        };
        Ok(Self {
            path: path.to_path_buf(),
            backend,
            info,
            decoder,
            frames: 0,
            warnings: Vec::new(),
            skip: 0,
            block: Vec::new(),
        })
    }

    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// The next decoded block, `None` at the end of the stream.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, DecodeError> {
        let channels = self.info.channels;
        loop {
            let step = match &mut self.backend {
                Backend::Symphonia(stream) => {
                    match stream.next_block(self.frames, &mut self.warnings) {
                        Ok(block) => {
                            self.block.clear();
                            self.block.extend_from_slice(block);
                            Step::Block
                        }
                        Err(symphonia::Stop::End) => Step::End,
                        Err(symphonia::Stop::Failed(reason)) => Step::Failed(reason, false),
                        Err(symphonia::Stop::Handoff(reason)) => Step::Failed(reason, true),
                    }
                }
                Backend::Ffmpeg(stream) => match stream.next_block(&mut self.warnings)? {
                    Some(block) => {
                        // After a take-over, what symphonia delivered comes again first.
                        let drop = self.skip.min((block.len() / channels) as u64);
                        self.skip -= drop;
                        self.block.clear();
                        self.block
                            .extend_from_slice(&block[drop as usize * channels..]);
                        Step::Block
                    }
                    None => Step::End,
                },
                Backend::Done => return Ok(None),
            };
            match step {
                Step::Block if self.block.is_empty() => {}
                Step::Block => {
                    self.frames += (self.block.len() / channels) as u64;
                    return Ok(Some(&self.block));
                }
                // A header that declares no audio (written to a pipe) over a file that has some.
                Step::End if self.frames == 0 && self.decoder == "symphonia" && self.has_data() => {
                    self.take_over("the header declares no audio".into(), true)?
                }
                Step::End => {
                    self.finish();
                    return Ok(None);
                }
                Step::Failed(reason, more) => self.take_over(reason, more)?,
            }
        }
    }

    /// More than a header's worth of bytes.
    fn has_data(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| m.len() > 4096)
    }

    fn seconds(&self, frames: u64) -> f64 {
        frames as f64 / f64::from(self.info.sample_rate)
    }

    /// symphonia stopped at `self.frames`: unless `more` audio surely follows, what follows
    /// the audio is ignored when the audio is all there; otherwise ffmpeg decodes the rest,
    /// if it can.
    fn take_over(&mut self, reason: String, more: bool) -> Result<(), DecodeError> {
        let at = self.seconds(self.frames);
        let complete = !more
            && self
                .declared_frames()
                .is_some_and(|d| self.frames as f64 >= d as f64 * (1.0 - LENGTH_TOLERANCE));
        if complete {
            self.warnings.push(format!(
                "ignored what follows the audio at {at:.2} s ({reason})"
            ));
            self.finish();
            return Ok(());
        }
        if self.decoder != "symphonia" || !ffmpeg::available() {
            if more {
                // Keep what there is, and say what is missing.
                self.warnings.push(format!(
                    "stopped at {at:.2} s: {reason}; installing ffmpeg lets Mirador decode the rest"
                ));
                self.finish();
                return Ok(());
            }
            return Err(DecodeError::Corrupt { at, reason });
        }
        let info = ffmpeg::probe(&self.path)?;
        if (info.sample_rate, info.channels) != (self.info.sample_rate, self.info.channels) {
            return Err(DecodeError::Corrupt { at, reason });
        }
        self.backend = Backend::Ffmpeg(ffmpeg::Stream::open(&self.path, &info)?);
        // ffmpeg's length covers what symphonia's did not (a chain's further links).
        self.info.declared_frames = info.declared_frames;
        self.skip = self.frames;
        self.decoder = "symphonia+ffmpeg";
        self.warnings.push(format!(
            "symphonia stopped at {at:.2} s ({reason}); ffmpeg decoded the rest"
        ));
        Ok(())
    }

    /// The container's length, unless it is a placeholder: a WAV written to a pipe declares
    /// 0 or a 2 to 4 GB data chunk (0x7FFFFFFF or 0xFFFFFFFF bytes) its file cannot hold.
    fn declared_frames(&self) -> Option<u64> {
        const PLACEHOLDER_SAMPLES: u64 = (1 << 29) - (1 << 18);
        let declared = self.info.declared_frames?;
        let samples = declared.saturating_mul(self.info.channels as u64);
        let bytes = std::fs::metadata(&self.path).map_or(u64::MAX, |m| m.len());
        let placeholder = declared == 0 || (samples >= PLACEHOLDER_SAMPLES && samples > bytes);
        (!placeholder).then_some(declared)
    }

    /// At the end: the decoded length against the declared one.
    fn finish(&mut self) {
        self.backend = Backend::Done;
        let Some(declared) = self.declared_frames() else {
            return;
        };
        let (got, want) = (self.frames as f64, declared as f64);
        if want > 0.0 && (got - want).abs() > LENGTH_TOLERANCE * want {
            let what = if got < want { "truncated? " } else { "" };
            self.warnings.push(format!(
                "{what}decoded {:.2} s, the container declares {:.2} s",
                self.seconds(self.frames),
                self.seconds(declared)
            ));
        }
    }
}
