//! Decoding with symphonia, packet by packet. Packets it cannot decode are skipped and
//! replaced by silence of their length, so the timeline stays the file's; each is a warning.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;

use super::{AudioInfo, DecodeError, FileTags};

/// Silence inserted for one undecodable packet or gap at most (longer ones are skipped).
const MAX_GAP_SECONDS: f64 = 10.0;
/// A jump in the packets' timestamps longer than this is audio lost to damage (shorter ones
/// are codec framing: Vorbis' first packets overlap).
const MIN_GAP_SECONDS: f64 = 0.02;

pub struct Stream {
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    pub info: AudioInfo,
    interleaved: Vec<f32>,
    /// Where the next packet should start (time-base units, 1 / rate for audio).
    next_ts: Option<i64>,
    /// A packet read after a gap in the timestamps, decoded on the next call.
    held: Option<Packet>,
}

/// Title, artist and album from the newest metadata the reader has (an album artist when
/// there is no artist).
fn file_tags(reader: &mut dyn FormatReader) -> FileTags {
    use symphonia::core::meta::StandardTag as Std;
    let mut tags = FileTags::default();
    let mut metadata = reader.metadata();
    let Some(revision) = metadata.skip_to_latest() else {
        return tags;
    };
    let all = revision.media.tags.iter().chain(
        revision
            .per_track
            .iter()
            .flat_map(|t| t.metadata.tags.iter()),
    );
    let mut album_artist = None;
    for tag in all {
        let text = |v: &std::sync::Arc<String>| {
            let v = v.trim();
            (!v.is_empty()).then(|| v.to_string())
        };
        match &tag.std {
            Some(Std::TrackTitle(v)) => tags.title = tags.title.take().or_else(|| text(v)),
            Some(Std::Artist(v)) => tags.artist = tags.artist.take().or_else(|| text(v)),
            Some(Std::Album(v)) => tags.album = tags.album.take().or_else(|| text(v)),
            Some(Std::AlbumArtist(v)) => album_artist = album_artist.or_else(|| text(v)),
            _ => {}
        }
    }
    tags.artist = tags.artist.or(album_artist);
    tags
}

/// How a block request ended when it is not a block.
pub enum Stop {
    /// The end of the stream.
    End,
    /// symphonia cannot go on (the reader lost the stream); what follows may be junk after
    /// the audio, or audio another decoder can read.
    Failed(String),
    /// There is more audio that symphonia will not deliver: another decoder must take over.
    Handoff(String),
}

impl Stream {
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let file = File::open(path).map_err(DecodeError::Open)?;
        Self::from_source(Box::new(file), path.extension().and_then(|e| e.to_str()))
    }

    /// A stream read from `source`, with the file extension as a hint of its format.
    pub fn from_source(
        source: Box<dyn MediaSource>,
        extension: Option<&str>,
    ) -> Result<Self, DecodeError> {
        let source = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = extension {
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
            .map_err(|e| DecodeError::Codec(format!("{:?} ({e})", params.codec)))?;
        // A header may say 0 Hz or no channels (found by fuzzing): nothing could play or
        // analyze that, so it is an error here rather than a division by zero later.
        let sample_rate = params
            .sample_rate
            .filter(|&rate| rate > 0)
            .ok_or(DecodeError::MissingParameters)?;
        let channels = params
            .channels
            .as_ref()
            .map(|c| c.count())
            .filter(|&count| count > 0)
            .ok_or(DecodeError::MissingParameters)?;
        let info = AudioInfo {
            sample_rate,
            channels,
            codec: decoder.codec_info().short_name.to_string(),
            container: reader.format_info().short_name.to_string(),
            declared_frames: track.num_frames,
            tags: FileTags::default(),
        };
        let track_id = track.id;
        let mut reader = reader;
        let info = AudioInfo {
            tags: file_tags(&mut *reader),
            ..info
        };
        Ok(Self {
            reader,
            decoder,
            track_id,
            info,
            interleaved: Vec::new(),
            next_ts: None,
            held: None,
        })
    }

    /// The next block; `frames` is how many the caller has had so far (for the warnings'
    /// times).
    pub fn next_block(&mut self, frames: u64, warnings: &mut Vec<String>) -> Result<&[f32], Stop> {
        let rate = f64::from(self.info.sample_rate);
        let channels = self.info.channels;
        loop {
            let next = match self.held.take() {
                Some(packet) => Ok(Some(packet)),
                None => self.reader.next_packet(),
            };
            let packet = match next {
                Ok(Some(packet)) => packet,
                Ok(None) => return Err(Stop::End),
                // The file ends mid-packet: what came before is the audio.
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Err(Stop::End)
                }
                // A chained Ogg stream's next link, a new track: ffmpeg follows it.
                Err(SymphoniaError::ResetRequired) => {
                    return Err(Stop::Handoff("a new stream starts (chained Ogg)".into()))
                }
                Err(e) => return Err(Stop::Failed(e.to_string())),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            // A jump in the timestamps is audio the reader skipped (a damaged frame):
            // silence of its length keeps the timeline.
            let pts = packet.pts.get();
            let expected = self.next_ts.unwrap_or(pts);
            self.next_ts = Some(pts + packet.dur.get() as i64);
            let gap = (pts - expected) as f64 / rate;
            if gap > MIN_GAP_SECONDS && frames > 0 {
                let at = frames as f64 / rate;
                warnings.push(format!(
                    "skipped damaged audio at {at:.2}-{:.2} s",
                    at + gap
                ));
                self.held = Some(packet);
                if gap <= MAX_GAP_SECONDS {
                    self.interleaved.clear();
                    self.interleaved
                        .resize((pts - expected) as usize * channels, 0.0);
                    return Ok(&self.interleaved);
                }
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buffer) => {
                    let got = buffer.spec().channels().count();
                    if got != self.info.channels {
                        return Err(Stop::Failed(format!(
                            "the channel count changes mid-stream ({} to {got})",
                            self.info.channels
                        )));
                    }
                    // An MP3 without a Xing header has an estimated length, and symphonia
                    // trims every frame past it to nothing.
                    let past_estimate = self.info.declared_frames.is_some_and(|d| frames >= d);
                    if buffer.frames() == 0 && !packet.data.is_empty() && past_estimate {
                        return Err(Stop::Handoff(format!(
                            "the {} declares no length and the estimate ends at {:.2} s",
                            self.info.container,
                            frames as f64 / rate
                        )));
                    }
                    self.interleaved.resize(buffer.samples_interleaved(), 0.0);
                    buffer.copy_to_slice_interleaved(&mut self.interleaved[..]);
                    return Ok(&self.interleaved);
                }
                // Damage after the declared end is junk after the audio.
                Err(SymphoniaError::DecodeError(reason))
                    if self.info.declared_frames.is_some_and(|d| frames >= d) =>
                {
                    return Err(Stop::Failed(reason.to_string()))
                }
                Err(SymphoniaError::DecodeError(reason)) => {
                    // One damaged packet: silence of its length keeps the timeline.
                    let at = frames as f64 / rate;
                    let gap = packet.dur.get() as f64 / rate;
                    warnings.push(format!(
                        "skipped damaged audio at {at:.2}-{:.2} s ({reason})",
                        at + gap
                    ));
                    if gap > 0.0 && gap <= MAX_GAP_SECONDS {
                        self.interleaved.clear();
                        self.interleaved
                            .resize(packet.dur.get() as usize * self.info.channels, 0.0);
                        return Ok(&self.interleaved);
                    }
                }
                Err(e) => return Err(Stop::Failed(e.to_string())),
            }
        }
    }
}
