#!/usr/bin/env python3
"""Loads the Mirador VST3 in a second real host, Spotify's pedalboard (JUCE's VST3 hosting).

Usage: pedalboard_host.py BUNDLE_DIR AUDIO_FILE

BUNDLE_DIR is a `Mirador.vst3` bundle; AUDIO_FILE a real recording (the GTZAN clip, mono
22050 Hz). The script reads the clip, resamples it to 44.1 and 48 kHz, makes a stereo version
whose channels differ (right = left / 2), and checks that the plugin hands every sample back
bit-exact, in stereo and mono, at several block sizes. Then it changes parameters, saves the
plugin's state, restores it into a fresh instance and checks the values came back.

Prints one line per check; exits non-zero with the reason on the first failure.
"""

import sys
import time

try:
    import numpy as np
    import pedalboard
    from pedalboard.io import AudioFile
except ImportError as error:
    print(
        f"pedalboard_host: cannot import pedalboard/numpy ({error}); run scripts/setup.sh",
        file=sys.stderr,
    )
    sys.exit(2)

RATES = (44_100, 48_000)
# Block sizes, from the smallest a host may send to a large one; 511 is deliberately odd.
BLOCKS = (32, 511, 512, 4096)
# A one-sample block is far slower to stream, so it runs on the first seconds only.
ONE_SAMPLE_SECONDS = 1.0


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def load(bundle):
    plugin = pedalboard.load_plugin(bundle)
    check(
        isinstance(plugin, pedalboard.VST3Plugin),
        f"{bundle} loaded as {type(plugin).__name__}, not a VST3Plugin",
    )
    return plugin


def read_audio(path, rate):
    with AudioFile(path) as f:
        source = (f.samplerate, f.num_channels, f.frames)
        with f.resampled_to(rate) as resampled:
            audio = resampled.read(resampled.frames)
    check(audio.ndim == 2 and audio.shape[1] > rate, f"{path}: read {audio.shape} at {rate} Hz")
    mono = np.ascontiguousarray(audio[:1], dtype=np.float32)
    return source, mono


def assert_pass_through(plugin, audio, rate, block, label):
    start = time.monotonic()
    output = plugin.process(audio, float(rate), buffer_size=block, reset=True)
    seconds = time.monotonic() - start
    check(
        output.dtype == np.float32,
        f"{label}: output dtype {output.dtype}, expected float32",
    )
    check(
        output.shape == audio.shape,
        f"{label}: output shape {output.shape}, expected {audio.shape}",
    )
    if not np.array_equal(output.view(np.uint32), audio.view(np.uint32)):
        differs = np.argwhere(output.view(np.uint32) != audio.view(np.uint32))
        channel, frame = differs[0]
        raise CheckFailed(
            f"{label}: {len(differs)} samples differ from the input; first at channel "
            f"{channel}, frame {frame}: {output[channel, frame]!r} != {audio[channel, frame]!r}"
        )
    print(
        f"ok  {label}: {audio.shape[1]} frames x {audio.shape[0]} ch bit-exact "
        f"({seconds:.1f} s)"
    )


def find_parameter(parameters, *names):
    for name in names:
        if name in parameters:
            return name
    raise CheckFailed(f"none of the parameters {names} exposed; got {sorted(parameters)}")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    bundle, audio_path = argv[1], argv[2]
    print(f"pedalboard {pedalboard.__version__}, numpy {np.__version__}")

    start = time.monotonic()
    plugin = load(bundle)
    print(
        f"ok  loaded {plugin.name!r} by {plugin.manufacturer_name!r} version {plugin.version} "
        f"({plugin.category}) in {time.monotonic() - start:.1f} s"
    )
    check(plugin.is_effect and not plugin.is_instrument, "Mirador should load as an effect")
    check(
        plugin.reported_latency_samples == 0,
        f"reported latency {plugin.reported_latency_samples}, expected 0",
    )
    print("ok  an effect with zero latency")

    parameters = plugin.parameters
    print("    parameters: " + ", ".join(
        f"{name}={parameters[name].string_value!r}" for name in parameters
    ))

    for rate in RATES:
        source, mono = read_audio(audio_path, rate)
        stereo = np.ascontiguousarray(np.vstack([mono[0], mono[0] * np.float32(0.5)]))
        check(
            not np.array_equal(stereo[0], stereo[1]),
            "the two stereo channels should differ",
        )
        print(
            f"    {audio_path}: {source[0]} Hz, {source[1]} ch, {source[2]} frames "
            f"-> {rate} Hz, {mono.shape[1]} frames"
        )
        short = int(rate * ONE_SAMPLE_SECONDS)
        assert_pass_through(
            plugin, np.ascontiguousarray(stereo[:, :short]), rate, 1,
            f"stereo {rate} Hz block 1",
        )
        for block in BLOCKS:
            assert_pass_through(plugin, stereo, rate, block, f"stereo {rate} Hz block {block}")
        for block in (1, 512):
            audio = mono if block != 1 else np.ascontiguousarray(mono[:, :short])
            assert_pass_through(plugin, audio, rate, block, f"mono   {rate} Hz block {block}")

    # Parameters and state. pedalboard names parameters after their display names.
    toggle = find_parameter(parameters, "show_mfcc", "show_spectrogram", "analysis")
    smoothing = find_parameter(parameters, "display_smoothing", "smoothing")
    analysis = find_parameter(parameters, "analysis")
    check(bool(getattr(plugin, toggle)), f"{toggle} should default to on")
    default_smoothing = float(getattr(plugin, smoothing))
    setattr(plugin, toggle, False)
    setattr(plugin, smoothing, 0.25)
    check(not bool(getattr(plugin, toggle)), f"setting {toggle} off did not stick")
    check(
        abs(float(getattr(plugin, smoothing)) - 0.25) < 0.01,
        f"setting {smoothing} to 0.25 did not stick: {getattr(plugin, smoothing)!r}",
    )
    saved_toggle = parameters[toggle].raw_value
    saved_smoothing = parameters[smoothing].raw_value
    print(f"ok  set {toggle}=off, {smoothing}=0.25 (default {default_smoothing})")

    # Analysis off, and the host's bypass, are pass-throughs too.
    _, mono = read_audio(audio_path, 48_000)
    stereo = np.ascontiguousarray(np.vstack([mono[0], mono[0] * np.float32(0.5)]))
    setattr(plugin, analysis, False)
    assert_pass_through(plugin, stereo, 48_000, 512, "stereo 48000 Hz block 512, analysis off")
    setattr(plugin, analysis, True)
    if "bypass" in parameters:
        plugin.bypass = True
        assert_pass_through(plugin, stereo, 48_000, 512, "stereo 48000 Hz block 512, bypassed")
        plugin.bypass = False

    state = plugin.raw_state
    check(isinstance(state, bytes) and len(state) > 0, f"raw_state is {type(state).__name__}")
    print(f"ok  saved raw_state: {len(state)} bytes")
    preset = plugin.preset_data
    check(b"editor-size" in preset, "the .vstpreset data lacks the persisted editor size")
    print(f"ok  preset_data: {len(preset)} bytes, holds the editor size")

    fresh = load(bundle)
    fresh_parameters = fresh.parameters
    check(bool(getattr(fresh, toggle)), f"a fresh instance should start with {toggle} on")
    check(
        abs(fresh_parameters[smoothing].raw_value - saved_smoothing) > 1e-3,
        f"a fresh instance already has {smoothing} at the saved value",
    )
    fresh.raw_state = state
    check(
        fresh_parameters[toggle].raw_value == saved_toggle and not bool(getattr(fresh, toggle)),
        f"{toggle} not restored: {fresh_parameters[toggle].raw_value} != {saved_toggle}",
    )
    check(
        abs(fresh_parameters[smoothing].raw_value - saved_smoothing) < 1e-6,
        f"{smoothing} not restored: {fresh_parameters[smoothing].raw_value} != {saved_smoothing}",
    )
    print(
        f"ok  restored into a fresh instance: {toggle}={getattr(fresh, toggle)}, "
        f"{smoothing}={float(getattr(fresh, smoothing))}"
    )
    assert_pass_through(fresh, stereo, 48_000, 256, "restored instance stereo 48000 Hz block 256")

    print("pedalboard_host: all checks passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except CheckFailed as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # pedalboard reports load failures as ImportError, etc.
        print(f"FAIL {type(error).__name__}: {error}", file=sys.stderr)
        raise
