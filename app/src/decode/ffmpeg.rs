//! Decoding through the `ffmpeg` program (Debian's package), for what symphonia cannot read:
//! Opus, RF64, W64, chained Ogg and streams it gives up on. `ffprobe` reads the headers;
//! `ffmpeg` writes the first audio stream as interleaved 32-bit floats to a pipe, which is
//! read block by block, so memory stays flat.

use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;

use super::{AudioInfo, DecodeError};

/// Frames read from the pipe per block.
const BLOCK_FRAMES: usize = 4096;

/// Whether `ffmpeg` and `ffprobe` can be run (checked once per process).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        ["ffmpeg", "ffprobe"].iter().all(|program| {
            Command::new(program)
                .arg("-version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    })
}

/// The first audio stream's format, from `ffprobe`.
pub fn probe(path: &Path) -> Result<AudioInfo, DecodeError> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-of", "json"])
        .args([
            "-show_entries",
            "stream=codec_name,sample_rate,channels,duration_ts,time_base",
        ])
        .args(["-show_entries", "format=format_name:format_tags"])
        .arg(path)
        .output()
        .map_err(DecodeError::Open)?;
    let reason = || {
        let text = String::from_utf8_lossy(&out.stderr);
        text.lines().map(str::trim).collect::<Vec<_>>().join("; ")
    };
    if !out.status.success() {
        return Err(DecodeError::Format(format!("ffmpeg: {}", reason())));
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| DecodeError::Format(format!("ffprobe: {e}")))?;
    let stream = json["streams"].get(0).ok_or(DecodeError::NoTrack)?;
    let sample_rate: u32 = stream["sample_rate"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .ok_or(DecodeError::MissingParameters)?;
    let channels = stream["channels"]
        .as_u64()
        .ok_or(DecodeError::MissingParameters)? as usize;
    if sample_rate == 0 || channels == 0 {
        return Err(DecodeError::MissingParameters);
    }
    // duration_ts counts time-base units; a 1 / rate time base makes them frames.
    let declared_frames = match (stream["duration_ts"].as_u64(), stream["time_base"].as_str()) {
        (Some(ts), Some(base)) => base
            .split_once('/')
            .and_then(|(n, d)| Some((n.parse::<f64>().ok()?, d.parse::<f64>().ok()?)))
            .map(|(n, d)| (ts as f64 * n / d * f64::from(sample_rate)).round() as u64),
        _ => None,
    };
    let name = |v: &serde_json::Value| v.as_str().unwrap_or("unknown").to_string();
    // ffprobe gives tag keys as the file spells them (ARTIST, artist, ...).
    let tag = |key: &str| {
        json["format"]["tags"].as_object().and_then(|t| {
            t.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .and_then(|(_, v)| v.as_str())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    };
    Ok(AudioInfo {
        tags: super::FileTags {
            title: tag("title"),
            artist: tag("artist").or_else(|| tag("album_artist")),
            album: tag("album"),
        },
        sample_rate,
        channels,
        codec: name(&stream["codec_name"]),
        container: name(&json["format"]["format_name"]),
        declared_frames,
    })
}

/// A running `ffmpeg` decoding one file.
pub struct Stream {
    child: Child,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<String>>,
    channels: usize,
    bytes: Vec<u8>,
    samples: Vec<f32>,
}

impl Stream {
    pub fn open(path: &Path, info: &AudioInfo) -> Result<Self, DecodeError> {
        let mut child = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-i"])
            .arg(path)
            .args(["-map", "0:a:0", "-f", "f32le", "-acodec", "pcm_f32le"])
            .args(["-ac", &info.channels.to_string()])
            .args(["-ar", &info.sample_rate.to_string()])
            .arg("pipe:1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(DecodeError::Open)?;
        let stdout = child.stdout.take().ok_or(DecodeError::NoTrack)?;
        let mut stderr = child.stderr.take().ok_or(DecodeError::NoTrack)?;
        // Read apart from the samples, so a chatty ffmpeg never blocks on a full pipe.
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Ok(Self {
            child,
            stdout,
            stderr: Some(stderr),
            channels: info.channels,
            bytes: vec![0; BLOCK_FRAMES * info.channels * 4],
            samples: Vec::with_capacity(BLOCK_FRAMES * info.channels),
        })
    }

    /// The next block, `None` at the end; what ffmpeg complained about (corrupt frames it
    /// skipped) goes to `warnings`.
    pub fn next_block(
        &mut self,
        warnings: &mut Vec<String>,
    ) -> Result<Option<&[f32]>, DecodeError> {
        let mut filled = 0;
        while filled < self.bytes.len() {
            match self.stdout.read(&mut self.bytes[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(DecodeError::Open(e)),
            }
        }
        let whole = filled / (4 * self.channels) * 4 * self.channels;
        if whole == 0 {
            let status = self.child.wait().map_err(DecodeError::Open)?;
            let complaints = self
                .stderr
                .take()
                .and_then(|h| h.join().ok())
                .unwrap_or_default();
            let complaints = complaints.trim();
            if !status.success() {
                return Err(DecodeError::Corrupt {
                    at: 0.0,
                    reason: format!("ffmpeg: {complaints}"),
                });
            }
            // What the input side said (the f32le muxer's own notes are not about the file).
            let first: Vec<&str> = complaints
                .lines()
                .filter(|l| !l.starts_with("[f32le"))
                .take(3)
                .collect();
            if !first.is_empty() {
                warnings.push(format!(
                    "ffmpeg skipped damaged audio: {}",
                    first.join("; ")
                ));
            }
            return Ok(None);
        }
        self.samples.clear();
        self.samples.extend(
            self.bytes[..whole]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        Ok(Some(&self.samples))
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // A stream dropped before its end (a seek, an error) must not leave ffmpeg running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
