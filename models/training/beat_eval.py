"""Scores beat trackers on annotated GTZAN clips with mir_eval, in one run: Mirador's beats
(written by `cargo xtask eval`, online and offline), the original BeatNet package (same
weights, its own madmom features; online with its particle filter, offline with madmom's
DBN) and librosa's offline beat tracker.

    target/beatnet-venv/bin/python models/training/beat_eval.py --ours OURS.json --out OUT.json

OURS.json: [{"clip": "gtzan/full/blues.00000.flac", "set": "GTZAN originals",
             "systems": {"online": {"seconds": 1.2, "beats": [[time, beat_in_bar], ...],
                                    "tempo": 120.0}, "offline": {...}}}, ...]
"""

import argparse
import json
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
# BeatNet imports pyaudio for its microphone mode, which is not used here.
sys.modules.setdefault("pyaudio", types.ModuleType("pyaudio"))
import librosa  # noqa: E402
import mir_eval  # noqa: E402
from BeatNet.BeatNet import BeatNet  # noqa: E402

METRICS = ["F", "CMLt", "AMLt", "downbeat F", "tempo Acc1", "tempo Acc2"]


def annotation(data, clip):
    """(beats, downbeats, tempo) for a clip, cut to the audio's length."""
    name = Path(clip).stem  # blues.00000
    genre, number = name.split(".")
    stem = f"gtzan_{genre}_{number}"
    notes = np.loadtxt(data / "gtzan/annotations/beat_this/beats" / f"{stem}.beats", ndmin=2)
    tempo = float(np.loadtxt(data / "gtzan/annotations/boeck2019/tempo" / f"{stem}.bpm", ndmin=1)[0])
    length = librosa.get_duration(path=str(data / clip))
    notes = notes[notes[:, 0] < length]
    # A few clips' annotations have beat times only (no bar positions): no downbeats.
    downbeats = notes[notes[:, 1] == 1, 0] if notes.shape[1] > 1 else None
    return notes[:, 0], downbeats, tempo


def tempo_accuracy(estimate, reference):
    if not estimate or not np.isfinite(estimate):
        return 0.0, 0.0
    close = lambda f: abs(estimate - f * reference) <= 0.04 * f * reference  # noqa: E731
    return float(close(1)), float(any(close(f) for f in (1, 2, 0.5, 3, 1 / 3)))


def score(reference, estimate):
    ref_beats, ref_down, ref_tempo = reference
    beats, downbeats, tempo = estimate
    trim = mir_eval.beat.trim_beats
    ref_b, est_b = trim(np.asarray(ref_beats)), trim(np.asarray(beats))
    _, cmlt, _, amlt = mir_eval.beat.continuity(ref_b, est_b)
    row = {
        "F": mir_eval.beat.f_measure(ref_b, est_b),
        "CMLt": cmlt,
        "AMLt": amlt,
        "downbeat F": None
        if downbeats is None or ref_down is None
        else mir_eval.beat.f_measure(trim(np.asarray(ref_down)), trim(np.asarray(downbeats))),
    }
    row["tempo Acc1"], row["tempo Acc2"] = tempo_accuracy(tempo, ref_tempo)
    return row


def median_tempo(beats):
    return 60.0 / float(np.median(np.diff(beats))) if len(beats) > 2 else None


def beatnet_original(path):
    # A fresh instance per clip: the particle filter keeps its state and clock across calls.
    np.random.seed(1)
    tracker = BeatNet(1, mode="online", inference_model="PF", plot=[], thread=False)
    out = tracker.process(str(path))
    out = np.asarray(out).reshape(-1, 2)
    beats = out[:, 0]
    return beats, out[out[:, 1] == 1, 0], median_tempo(beats)


def beatnet_offline(path):
    tracker = BeatNet(1, mode="offline", inference_model="DBN", plot=[], thread=False)
    out = np.asarray(tracker.process(str(path))).reshape(-1, 2)
    beats = out[:, 0]
    return beats, out[out[:, 1] == 1, 0], median_tempo(beats)


def librosa_tracker(path):
    y, sr = librosa.load(str(path), sr=22050)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    return beats, None, float(np.atleast_1d(tempo)[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    data = Path(args.data)
    ours = json.loads(Path(args.ours).read_text())
    peers = {"beatnet offline": beatnet_offline, "beatnet online": beatnet_original, "librosa": librosa_tracker}
    systems = list(ours[0]["systems"]) + list(peers)
    # Per clip: set name, audio seconds, {system: (scores, cpu seconds)}.
    results = []
    for clip in ours:
        path = data / clip["clip"]
        reference = annotation(data, clip["clip"])
        scored = {}
        for name, system in clip["systems"].items():
            beats = np.array([b[0] for b in system["beats"]])
            downbeats = np.array([b[0] for b in system["beats"] if b[1] == 1])
            scored[name] = (score(reference, (beats, downbeats, system["tempo"])), system["seconds"])
        for name, run in peers.items():
            started = time.perf_counter()
            estimate = run(path)
            scored[name] = (score(reference, estimate), time.perf_counter() - started)
        results.append((clip["set"], librosa.get_duration(path=str(path)), scored))
        print(clip["clip"], {k: round(v[0]["F"], 3) for k, v in scored.items()}, file=sys.stderr)
    summary = {}
    for set_name in sorted({r[0] for r in results}) + ["all"]:
        chosen = [r for r in results if set_name in ("all", r[0])]
        audio = sum(r[1] for r in chosen)
        entry = {"clips": len(chosen), "audio seconds": audio}
        for name in systems:
            scores = [r[2][name][0] for r in chosen]
            # Means over the clips with a value (downbeats: annotated, and estimated).
            values = {m: [s[m] for s in scores if s[m] is not None] for m in METRICS}
            entry[name] = {m: (float(np.mean(v)) if v else None) for m, v in values.items()}
            entry[name]["cpu seconds per audio second"] = sum(r[2][name][1] for r in chosen) / audio
        summary[set_name] = entry
    Path(args.out).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
