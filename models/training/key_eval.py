"""Scores key estimates on GTZAN clips against Lerch's key annotations with mir_eval's MIREX
weighted score (same key 1, fifth 0.5, relative 0.3, parallel 0.2), in one run: Mirador's
keys (written by `cargo xtask eval key`: the batch key `analyze` prints, and the live key the
engine shows over time) and two peers on the same audio: Essentia's KeyExtractor (its
default profile, and 'edma', tuned for electronic dance music) and a librosa Krumhansl-
Schmuckler estimator (mean chroma_cqt against Krumhansl-Kessler profiles).

    target/key-venv/bin/python models/training/key_eval.py --ours OURS.json --data DATA --out OUT.json

OURS.json: [{"clip": "gtzan/full/pop.00003.ogg", "set": "...", "label": "C major",
             "batch": "C major" | null, "estimate": "C major" | null,
             "live": ["C major" | null, ...], "seconds": {"batch": 0.1, "live": 0.2}}, ...]
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
import essentia  # noqa: E402
import essentia.standard as es  # noqa: E402
import librosa  # noqa: E402
import mir_eval  # noqa: E402

essentia.log.infoActive = False
PITCHES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def essentia_key(audio, profile):
    key, scale, _ = es.KeyExtractor(profileType=profile, sampleRate=22050)(audio)
    return f"{key} {scale}"


def librosa_key(audio):
    chroma = librosa.feature.chroma_cqt(y=audio.astype(np.float64), sr=22050).mean(axis=1)
    best, name = -2.0, None
    for tonic in range(12):
        for profile, mode in ((KK_MAJOR, "major"), (KK_MINOR, "minor")):
            r = np.corrcoef(chroma, np.roll(profile, tonic))[0, 1]
            if r > best:
                best, name = r, f"{PITCHES[tonic]} {mode}"
    return name


def weighted(label, estimate):
    if estimate is None:
        return 0.0
    # Essentia spells some keys with flats (Eb, Ab, Bb); mir_eval reads both.
    return float(mir_eval.key.weighted_score(label, estimate))


def single(score):
    """One answer's (weighted score, exactly right)."""
    return score, float(score == 1.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    data = Path(args.data)
    ours = json.loads(Path(args.ours).read_text())
    peers = {
        "essentia": lambda a: essentia_key(a, "bgate"),
        "essentia edma": lambda a: essentia_key(a, "edma"),
        "librosa": librosa_key,
    }
    rows = []
    for clip in ours:
        audio = es.MonoLoader(filename=str(data / clip["clip"]), sampleRate=22050)()
        label = clip["label"]
        live = [weighted(label, k) for k in clip["live"]] or [0.0]
        # Per system: (weighted score, share exactly right); live, over the times asked.
        row = {
            "set": clip["set"],
            "seconds": len(audio) / 22050,
            "scores": {
                "batch": single(weighted(label, clip["batch"])),
                "estimate": single(weighted(label, clip["estimate"])),
                "live": (float(np.mean(live)), float(np.mean([v == 1.0 for v in live]))),
                "live end": single(live[-1]),
            },
            "cpu": {"batch": clip["seconds"]["batch"], "live": clip["seconds"]["live"]},
        }
        row["cpu"]["estimate"] = row["cpu"]["batch"]
        row["cpu"]["live end"] = row["cpu"]["live"]
        for name, run in peers.items():
            started = time.perf_counter()
            estimate = run(audio)
            row["cpu"][name] = time.perf_counter() - started
            row["scores"][name] = single(weighted(label, estimate))
        rows.append(row)
        print(clip["clip"], label, {k: round(v[0], 2) for k, v in row["scores"].items()}, file=sys.stderr)
    systems = list(rows[0]["scores"])
    summary = {}
    for set_name in list(dict.fromkeys(r["set"] for r in rows)) + ["all"]:
        chosen = [r for r in rows if set_name in ("all", r["set"])]
        audio = sum(r["seconds"] for r in chosen)
        summary[set_name] = {
            "clips": len(chosen),
            "audio seconds": audio,
            "weighted": {s: float(np.mean([r["scores"][s][0] for r in chosen])) for s in systems},
            "correct": {s: float(np.mean([r["scores"][s][1] for r in chosen])) for s in systems},
            "cpu seconds per audio second": {s: sum(r["cpu"][s] for r in chosen) / audio for s in systems},
        }
    Path(args.out).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
