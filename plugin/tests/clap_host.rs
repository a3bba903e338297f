//! Loads the built `.clap` in a real CLAP host (clack-host), as a DAW would: instantiate,
//! activate at 44.1 and 48 kHz with blocks of 1 to 4096 samples, process a few seconds of
//! synthesized music, check the audio comes back bit-exact, then save and restore the state.
//!
//! The plugin file is `MIRADOR_CLAP` when set (CI points it at the bundle that
//! `cargo xtask bundle mirador --release` made), otherwise the cdylib cargo built beside
//! this test, copied to a `Mirador.clap` exactly as the bundler does on Linux.

mod common;

use std::ffi::CStr;
use std::path::{Path, PathBuf};

use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;

const PLUGIN_ID: &CStr = c"org.mirador.analyzer";

/// Held by each test while it runs: two of them keep time with the worker's real-time
/// analysis, which a third test busy on the same two cores would slow.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}
const SECONDS: f64 = 3.0;

struct TestHostShared;

impl SharedHandler<'_> for TestHostShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = TestHostShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

fn plugin_path() -> PathBuf {
    if let Some(bundle) = common::bundle_from_env("MIRADOR_CLAP") {
        return bundle;
    }
    let (library, folder) = common::built_library("clap-host-test");
    let bundle = folder.join("Mirador.clap");
    std::fs::create_dir_all(&folder).unwrap();
    // Copied aside and renamed into place: a test that has the bundle loaded keeps its file
    // (overwriting a mapped library in place crashes the process that mapped it).
    let copy = folder.join(format!(
        "Mirador.clap.{}",
        std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "-")
    ));
    std::fs::copy(&library, &copy).unwrap();
    std::fs::rename(&copy, &bundle).unwrap();
    bundle
}

fn load_entry(path: &Path) -> PluginEntry {
    // SAFETY: the library is our own plugin, built by this workspace.
    unsafe { PluginEntry::load(path) }.unwrap_or_else(|e| panic!("loading {path:?}: {e}"))
}

fn instantiate(entry: &PluginEntry) -> PluginInstance<TestHost> {
    let host = HostInfo::new("Mirador test host", "Mirador", "", "0.1").unwrap();
    PluginInstance::<TestHost>::new(|_| TestHostShared, |_| (), entry, PLUGIN_ID, &host)
        .expect("instantiate the plugin")
}

/// A 120 BPM kick over a C-major chord, different on each channel, with a quiet noise floor.
fn music(rate: f64, frames: usize) -> [Vec<f32>; 2] {
    let mut noise = 0x1234_5678_u32;
    let mut channel = |detune: f64| -> Vec<f32> {
        (0..frames)
            .map(|n| {
                let t = n as f64 / rate;
                let chord: f64 = [261.63, 329.63, 392.0]
                    .iter()
                    .map(|f| (2.0 * std::f64::consts::PI * f * detune * t).sin())
                    .sum::<f64>()
                    * 0.1;
                let since_beat = t % 0.5;
                let kick = (2.0 * std::f64::consts::PI * 60.0 * since_beat).sin()
                    * (-since_beat * 30.0).exp()
                    * 0.6;
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                let hiss = (noise as f64 / u32::MAX as f64 - 0.5) * 1e-3;
                (chord + kick + hiss) as f32
            })
            .collect()
    };
    [channel(1.0), channel(1.001)]
}

fn param_id(instance: &mut PluginInstance<TestHost>, name: &str) -> ClapId {
    let handle = instance.plugin_handle();
    let params: PluginParams = handle.get_extension().expect("params extension");
    let mut buffer = ParamInfoBuffer::new();
    (0..params.count(&handle))
        .filter_map(|i| {
            params
                .get_info(&handle, i, &mut buffer)
                .map(|info| (info.id, info.name.to_vec()))
        })
        .find(|(_, n)| n == name.as_bytes())
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("no parameter named {name}"))
}

fn param_value(instance: &mut PluginInstance<TestHost>, id: ClapId) -> f64 {
    let handle = instance.plugin_handle();
    let params: PluginParams = handle.get_extension().unwrap();
    params.get_value(&handle, id).unwrap()
}

/// Activates at `rate` with fixed `block` sizes, streams `input` through, and returns the output.
/// `events` are sent with the first block.
fn run(
    instance: &mut PluginInstance<TestHost>,
    rate: f64,
    block: usize,
    input: &[Vec<f32>; 2],
    events: &[ParamValueEvent],
) -> [Vec<f32>; 2] {
    stream(instance, rate, block, input, events, 0.0).0
}

/// A note event the plugin sent: (sample, channel, key, on).
type SentNote = (u64, i16, i16, bool);

/// [`run`], also sleeping `pace` times each block's duration after it, and returning every
/// note event the plugin sent.
fn stream(
    instance: &mut PluginInstance<TestHost>,
    rate: f64,
    block: usize,
    input: &[Vec<f32>; 2],
    events: &[ParamValueEvent],
    pace: f64,
) -> ([Vec<f32>; 2], Vec<SentNote>) {
    use clack_host::events::event_types::{NoteOffEvent, NoteOnEvent};

    let config = PluginAudioConfiguration {
        sample_rate: rate,
        min_frames_count: block as u32,
        max_frames_count: block as u32,
    };
    let processor = instance.activate(|_, _| (), config).expect("activate");
    let mut processor = processor.start_processing().expect("start processing");

    let frames = input[0].len();
    let mut output = [vec![0.0f32; frames], vec![0.0f32; frames]];
    let mut notes = Vec::new();
    let mut in_ports = AudioPorts::with_capacity(2, 1);
    let mut out_ports = AudioPorts::with_capacity(2, 1);
    let mut scratch_in = [vec![0.0f32; block], vec![0.0f32; block]];
    let mut scratch_out = [vec![0.0f32; block], vec![0.0f32; block]];
    let mut out_events = EventBuffer::new();
    let mut start = 0;
    while start < frames {
        let len = block.min(frames - start);
        for (scratch, channel) in scratch_in.iter_mut().zip(input) {
            scratch[..len].copy_from_slice(&channel[start..start + len]);
        }
        // Garbage in the output buffers: a pass-through must overwrite every sample.
        for scratch in &mut scratch_out {
            scratch.fill(f32::NAN);
        }
        let in_audio = in_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                scratch_in
                    .iter_mut()
                    .map(|b| InputChannel::variable(&mut b[..len])),
            ),
        }]);
        let mut out_audio = out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(
                scratch_out.iter_mut().map(|b| &mut b[..len]),
            ),
        }]);
        let batch: &[ParamValueEvent] = if start == 0 { events } else { &[] };
        let in_events = InputEvents::from_buffer(&batch);
        out_events.clear();
        processor
            .process(
                &in_audio,
                &mut out_audio,
                &in_events,
                &mut OutputEvents::from_buffer(&mut out_events),
                Some(start as u64),
                None,
            )
            .expect("process");
        for (channel, scratch) in output.iter_mut().zip(&scratch_out) {
            channel[start..start + len].copy_from_slice(&scratch[..len]);
        }
        for event in out_events.iter() {
            let note = if let Some(on) = event.as_event::<NoteOnEvent>() {
                Some((on.as_raw(), true))
            } else {
                event
                    .as_event::<NoteOffEvent>()
                    .map(|off| (off.as_raw(), false))
            };
            if let Some((raw, on)) = note {
                let at = start as u64 + u64::from(raw.header.time);
                notes.push((at, raw.channel, raw.key, on));
            }
        }
        start += len;
        if pace > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(len as f64 / rate * pace));
        }
    }
    instance.deactivate(processor.stop_processing());
    (output, notes)
}

#[test]
fn hosted_plugin_passes_audio_through_and_restores_state() {
    let _alone = one_at_a_time();
    let path = plugin_path();
    let entry = load_entry(&path);
    let factory = entry.get_plugin_factory().expect("plugin factory");
    let descriptor = factory
        .plugin_descriptors()
        .find(|d| d.id() == Some(PLUGIN_ID))
        .expect("Mirador in the factory");
    assert_eq!(descriptor.name().unwrap().to_bytes(), b"Mirador");

    let mut instance = instantiate(&entry);
    {
        let handle = instance.plugin_handle();
        let latency: Option<PluginLatency> = handle.get_extension();
        if let Some(latency) = latency {
            assert_eq!(
                latency.get(&handle),
                0,
                "the analyzer must report zero latency"
            );
        }
        let ports: PluginAudioPorts = handle.get_extension().expect("audio ports");
        let mut buffer = AudioPortInfoBuffer::new();
        for is_input in [true, false] {
            assert_eq!(ports.count(&handle, is_input), 1);
            let info = ports.get(&handle, 0, is_input, &mut buffer).unwrap();
            assert_eq!(info.channel_count, 2);
        }
    }

    let smoothing = param_id(&mut instance, "Display smoothing");
    let show_mfcc = param_id(&mut instance, "Show MFCC");
    let changes = [
        ParamValueEvent::new(0, smoothing, Pckn::match_all(), 0.25),
        ParamValueEvent::new(0, show_mfcc, Pckn::match_all(), 0.0),
    ];

    // Every rate a host may ask for, fractional ones included, with odd block sizes.
    let rates = [
        1_000.0,
        8_000.0,
        22_050.0,
        44_100.0,
        48_000.0,
        88_200.0,
        96_000.0 - 0.5,
        192_000.0,
        384_000.0,
        768_000.0,
    ];
    for rate in rates {
        let seconds = if rate > 100_000.0 { 0.5 } else { SECONDS };
        let input = music(rate, (rate * seconds) as usize);
        let blocks: &[usize] = match rate as u32 {
            44_100 | 48_000 => &[1, 64, 511, 512, 4096],
            _ => &[97, 1024],
        };
        for &block in blocks {
            let output = run(&mut instance, rate, block, &input, &changes);
            for (channel, (out, inp)) in output.iter().zip(&input).enumerate() {
                let first_difference = out
                    .iter()
                    .zip(inp)
                    .position(|(o, i)| o.to_bits() != i.to_bits());
                assert_eq!(
                    first_difference, None,
                    "{rate} Hz, block {block}, channel {channel}: output differs from input"
                );
            }
        }
    }
    assert_eq!(param_value(&mut instance, smoothing), 0.25);
    assert_eq!(param_value(&mut instance, show_mfcc), 0.0);

    let state_ext: PluginState = instance.plugin_handle().get_extension().expect("state");
    let mut saved = Vec::new();
    state_ext
        .save(&instance.plugin_handle(), &mut saved)
        .expect("save state");
    let text = String::from_utf8_lossy(&saved);
    assert!(
        text.contains("editor-size"),
        "editor size not saved: {text}"
    );

    let mut restored = instantiate(&entry);
    assert_ne!(param_value(&mut restored, smoothing), 0.25);
    assert_eq!(param_value(&mut restored, show_mfcc), 1.0);
    let state_ext: PluginState = restored.plugin_handle().get_extension().unwrap();
    state_ext
        .load(&restored.plugin_handle(), &mut saved.as_slice())
        .expect("load state");
    assert_eq!(param_value(&mut restored, smoothing), 0.25);
    assert_eq!(param_value(&mut restored, show_mfcc), 0.0);

    // The restored instance still processes.
    let input = music(48_000.0, 4800);
    let output = run(&mut restored, 48_000.0, 256, &input, &[]);
    assert_eq!(output, input);
}

/// Plays `input` at 48 kHz in 512-sample blocks at about 1.5 times real time, so the worker
/// keeps up as it would live (beside the other host tests on two cores): the notes sent.
fn play_collecting_notes(
    instance: &mut PluginInstance<TestHost>,
    input: &[Vec<f32>; 2],
    events: &[ParamValueEvent],
) -> Vec<SentNote> {
    stream(instance, 48_000.0, 512, input, events, 1.0 / 1.5).1
}

/// The note output: with the default parameters, a note on every beat of the 120 BPM kick
/// (the key of a beat or a downbeat, on channel 10), each placed in its block to the sample
/// and ended 50 ms later. Once BeatNet has settled, one note per kick, within 25 ms of it.
#[test]
fn hosted_plugin_plays_a_note_on_each_beat() {
    let _alone = one_at_a_time();
    let entry = load_entry(&plugin_path());
    let mut instance = instantiate(&entry);
    let rate = 48_000.0;
    let input = music(rate, (rate * 14.0) as usize);
    let notes = play_collecting_notes(&mut instance, &input, &[]);
    assert!(notes.iter().all(|n| n.1 == 9), "beats only, on channel 10");
    let ons: Vec<(u64, i16)> = notes.iter().filter(|n| n.3).map(|n| (n.0, n.2)).collect();
    assert!(
        ons.iter().all(|&(_, key)| key == 42 || key == 36),
        "{ons:?}"
    );
    // Each note ends 50 ms (2400 samples) after it starts.
    for &(at, key) in &ons {
        assert!(
            notes.iter().any(|n| !n.3 && n.2 == key && n.0 == at + 2400)
                || at + 2400 >= input[0].len() as u64,
            "no end for the note at {at}"
        );
    }
    let period = 0.5 * rate;
    let settled: Vec<u64> = ons
        .iter()
        .map(|n| n.0)
        .filter(|&at| at as f64 > 6.0 * rate)
        .collect();
    assert!(settled.len() >= 14, "{ons:?}");
    for w in settled.windows(2) {
        let gap = (w[1] - w[0]) as f64 / period;
        assert!(
            (gap - 1.0).abs() < 0.1,
            "notes {gap} beats apart: {settled:?}"
        );
    }
    let offsets: Vec<f64> = settled
        .iter()
        .map(|&at| {
            let beats = at as f64 / period;
            (beats - beats.round()) * 0.5
        })
        .collect();
    let mean = offsets.iter().sum::<f64>() / offsets.len() as f64;
    let worst = offsets.iter().map(|o| o.abs()).fold(0.0, f64::max);
    println!(
        "{} beat notes after 6 s: {:.1} ms from the kicks on average, {:.1} ms at most",
        settled.len(),
        mean * 1e3,
        worst * 1e3
    );
    assert!(worst < 0.025, "a note {worst} s from its kick");
}

/// With `MIDI notes (transcribed)` on (taken at the next activation) and the beat notes off,
/// the note output carries the notes played: the C-major chord's C4, E4 and G4, on channel 1.
#[test]
fn hosted_plugin_sends_the_transcribed_notes_when_asked() {
    let _alone = one_at_a_time();
    let entry = load_entry(&plugin_path());
    let mut instance = instantiate(&entry);
    let changes = [
        ParamValueEvent::new(
            0,
            param_id(&mut instance, "MIDI notes (transcribed)"),
            Pckn::match_all(),
            1.0,
        ),
        ParamValueEvent::new(
            0,
            param_id(&mut instance, "MIDI beat notes"),
            Pckn::match_all(),
            0.0,
        ),
    ];
    let rate = 48_000.0;
    play_collecting_notes(&mut instance, &music(rate, 4800), &changes);
    let notes = play_collecting_notes(&mut instance, &music(rate, (rate * 6.0) as usize), &[]);
    assert!(
        notes.iter().all(|n| n.1 == 0),
        "notes only, on channel 1: {notes:?}"
    );
    for key in [60, 64, 67] {
        assert!(
            notes.iter().any(|n| n.3 && n.2 == key),
            "no {key} among {notes:?}"
        );
    }
}
