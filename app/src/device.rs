//! Sound devices through cpal: listing them, finding one by name, and choosing a stream
//! format. The streams themselves are built where their callbacks live (`player`, `live`).

use cpal::traits::{DeviceTrait, HostTrait};
use cpal::{Device, SampleFormat, StreamConfig, SupportedStreamConfigRange};

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("no default {0} device (see `mirador live --list-devices`)")]
    NoDefault(Direction),
    #[error("no {0} device named {1:?} (see `mirador live --list-devices`)")]
    NotFound(Direction, String),
    #[error("{0} device {1:?} offers no 32-bit float format")]
    NoFloatFormat(Direction, String),
    #[error("cannot convert to the device's sample rate: {0}")]
    Resampler(String),
    #[error("sound device: {0} (choose one with --device; see `mirador live --list-devices`)")]
    Backend(#[from] cpal::Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Input,
    Output,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Input => "input",
            Direction::Output => "output",
        })
    }
}

/// A device and the f32 stream format chosen for it.
pub struct Opened {
    pub device: Device,
    pub name: String,
    pub config: StreamConfig,
}

/// The short name a device is chosen by (ALSA's `hw:0,0`, `default`, `null`...).
pub fn id(device: &Device) -> String {
    device.id().map(|id| id.id().to_owned()).unwrap_or_default()
}

/// `id (description)`, or whichever of the two the backend gives.
pub fn name(device: &Device) -> String {
    let description = device.description().map(|d| d.name().to_owned());
    match (id(device), description) {
        (id, Ok(description)) if !id.is_empty() && id != description => {
            format!("{id} ({description})")
        }
        (_, Ok(description)) => description,
        (id, Err(_)) if !id.is_empty() => id,
        _ => "unnamed device".into(),
    }
}

fn devices(host: &cpal::Host, direction: Direction) -> Result<Vec<Device>, DeviceError> {
    Ok(match direction {
        Direction::Input => host.input_devices()?.collect(),
        Direction::Output => host.output_devices()?.collect(),
    })
}

/// Names of the devices that can record (`Input`) or play (`Output`), the default first.
pub fn list(direction: Direction) -> Result<Vec<String>, DeviceError> {
    quiet_alsa();
    let host = cpal::default_host();
    let default = default_device(&host, direction).map(|d| name(&d));
    let mut names: Vec<String> = devices(&host, direction)?.iter().map(name).collect();
    names.sort_by_key(|n| Some(n) != default.as_ref());
    names.dedup();
    Ok(names)
}

fn default_device(host: &cpal::Host, direction: Direction) -> Option<Device> {
    match direction {
        Direction::Input => host.default_input_device(),
        Direction::Output => host.default_output_device(),
    }
}

/// Opens the named device (its exact id, or else the first whose id or description contains
/// `wanted`, ignoring case), or the default one, with an f32 format as close as it offers to `rate` Hz and
/// `channels` channels.
pub fn open(
    direction: Direction,
    wanted: Option<&str>,
    rate: u32,
    channels: usize,
) -> Result<Opened, DeviceError> {
    quiet_alsa();
    let host = cpal::default_host();
    let device = match wanted {
        None => default_device(&host, direction).ok_or(DeviceError::NoDefault(direction))?,
        Some(wanted) => {
            let devices = devices(&host, direction)?;
            let lower = wanted.to_lowercase();
            let exact = devices.iter().position(|d| id(d) == wanted);
            let partial = || {
                devices
                    .iter()
                    .position(|d| name(d).to_lowercase().contains(&lower))
            };
            let index = exact
                .or_else(partial)
                .ok_or_else(|| DeviceError::NotFound(direction, wanted.into()))?;
            devices.into_iter().nth(index).expect("index found above")
        }
    };
    let device_name = name(&device);
    let ranges: Vec<SupportedStreamConfigRange> = match direction {
        Direction::Input => device.supported_input_configs()?.collect(),
        Direction::Output => device.supported_output_configs()?.collect(),
    };
    let range = best_range(&ranges, rate, channels)
        .ok_or_else(|| DeviceError::NoFloatFormat(direction, device_name.clone()))?;
    let rate = rate.clamp(range.min_sample_rate(), range.max_sample_rate());
    let mut config = range.with_sample_rate(rate).config();
    config.buffer_size = cpal::BufferSize::Default;
    Ok(Opened {
        device,
        name: device_name,
        config,
    })
}

/// Sends alsa-lib's own diagnostics on this thread ("ALSA lib pcm.c:2722:(snd_pcm_open_noupdate)
/// Unknown PCM ...", printed while devices are probed) to a buffer that is never shown: they
/// would bury the one line that says what went wrong, which cpal reports anyway.
fn quiet_alsa() {
    #[cfg(target_os = "linux")]
    let _ = alsa::Output::local_error_handler();
}

/// The f32 range that holds `rate`, preferring `channels` channels, then stereo, then fewest.
fn best_range(
    ranges: &[SupportedStreamConfigRange],
    rate: u32,
    channels: usize,
) -> Option<SupportedStreamConfigRange> {
    ranges
        .iter()
        .filter(|r| r.sample_format() == SampleFormat::F32)
        .min_by_key(|r| {
            let holds_rate = (r.min_sample_rate()..=r.max_sample_rate()).contains(&rate);
            let c = r.channels() as usize;
            (!holds_rate, c != channels, c != 2, c)
        })
        .cloned()
}
