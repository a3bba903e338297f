#!/usr/bin/env python3
"""Scores chord estimates against the truth with mir_eval, and runs a plain template-matching
peer on the same audio.

Usage: chord_score.py SONG_DIR METHOD=EST_DIR [METHOD=EST_DIR ...]

SONG_DIR holds `song_NN.wav` and the truth `song_NN.lab` (chord_songs.py); each EST_DIR holds
one `song_NN.lab` per song from a method. The peer, "template matching (librosa)", is what a
script would do: librosa's `chroma_cqt`, the same 108 binary templates (12 roots times maj,
min, 7, maj7, min7, dim, aug, sus2, sus4) by cosine frame by frame, no smoothing, N where the
frame is quiet. Prints one JSON object: per method, mir_eval's duration-weighted root, majmin
and sevenths recall over all songs, and the number of songs.
"""

import json
import sys
from pathlib import Path

import librosa
import mir_eval
import numpy as np

# The same vocabulary the songs are made from.
from chord_songs import NAMES, QUALITIES

HOP = 512


def templates():
    labels, rows = [], []
    for quality, intervals in QUALITIES.items():
        for root in range(12):
            row = np.zeros(12)
            row[[(root + i) % 12 for i in intervals]] = 1.0
            rows.append(row / np.linalg.norm(row))
            labels.append(f"{NAMES[root]}:{quality}")
    return labels, np.array(rows)


def template_peer(wav):
    y, sr = librosa.load(wav, sr=22050, mono=True)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=HOP)
    rms = librosa.feature.rms(y=y, hop_length=HOP)[0][: chroma.shape[1]]
    labels, rows = templates()
    norms = np.linalg.norm(chroma, axis=0) + 1e-12
    best = np.argmax(rows @ (chroma / norms), axis=0)
    frame = HOP / sr
    out = []
    for i, b in enumerate(best):
        label = labels[b] if i < len(rms) and rms[i] > 1e-3 else "N"
        start, end = i * frame, (i + 1) * frame
        if out and out[-1][2] == label:
            out[-1][1] = end
        else:
            out.append([start, end, label])
    intervals = np.array([[s, e] for s, e, _ in out])
    return intervals, [l for _, _, l in out]


def score(ref, est):
    ref_i, ref_l = ref
    est_i, est_l = est
    est_i, est_l = mir_eval.util.adjust_intervals(
        est_i, est_l, ref_i.min(), ref_i.max(), mir_eval.chord.NO_CHORD, mir_eval.chord.NO_CHORD
    )
    intervals, ref_l, est_l = mir_eval.util.merge_labeled_intervals(ref_i, ref_l, est_i, est_l)
    durations = mir_eval.util.intervals_to_durations(intervals)
    scores = {}
    for name, fn in [
        ("root", mir_eval.chord.root),
        ("majmin", mir_eval.chord.majmin),
        ("sevenths", mir_eval.chord.sevenths),
    ]:
        # -1: a reference chord outside the metric's vocabulary (dim under majmin): not counted.
        comparison = fn(ref_l, est_l)
        counted = comparison >= 0
        scores[name] = (
            float(np.sum(comparison[counted] * durations[counted])),
            float(np.sum(durations[counted])),
        )
    return scores


def main():
    songs = Path(sys.argv[1])
    methods = dict(arg.split("=", 1) for arg in sys.argv[2:])
    totals = {}
    refs = sorted(songs.glob("song_*.lab"))
    for ref_path in refs:
        ref = mir_eval.io.load_labeled_intervals(str(ref_path))
        estimates = {
            name: mir_eval.io.load_labeled_intervals(str(Path(d) / ref_path.name))
            for name, d in methods.items()
        }
        estimates["template matching (librosa)"] = template_peer(str(ref_path.with_suffix(".wav")))
        for name, est in estimates.items():
            for metric, (hit, total) in score(ref, est).items():
                h, t = totals.setdefault(name, {}).get(metric, (0.0, 0.0))
                totals[name][metric] = (h + hit, t + total)
    result = {
        name: {metric: hit / total for metric, (hit, total) in metrics.items()}
        for name, metrics in totals.items()
    }
    print(json.dumps({"songs": len(refs), "methods": result}))


if __name__ == "__main__":
    main()
