"""Scores Mirador's f0 tracks (`cargo xtask eval melody`) with mir_eval.melody on the
annotated solo singing, beside librosa's pYIN run on the same audio in the same run.

Usage: python melody_score.py --ours OURS.json --data ../shared/data --out SCORES.json
"""

import argparse
import json
import os
import time

import librosa
import mir_eval
import numpy as np

ANNOTATIONS = {"melody/vocadito_1.flac": "melody/annotations/vocadito_1_f0.csv"}
THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7]


def scores(reference, times, hz, voiced):
    # Unvoiced frames keep their pitch guess as a negative frequency (mir_eval's convention),
    # so raw pitch accuracy does not depend on the voicing.
    s = mir_eval.melody.evaluate(reference[:, 0], reference[:, 1], times,
                                 np.where(voiced, hz, -hz))
    return {"raw_pitch_accuracy": s["Raw Pitch Accuracy"],
            "raw_chroma_accuracy": s["Raw Chroma Accuracy"],
            "voicing_recall": s["Voicing Recall"],
            "voicing_false_alarm": s["Voicing False Alarm"],
            "overall_accuracy": s["Overall Accuracy"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    ours = json.load(open(args.ours))
    out = {}
    for source, track in ours.items():
        reference = np.loadtxt(os.path.join(args.data, ANNOTATIONS[source]), delimiter=",")
        times, hz, confidence = (np.array(track[k], dtype=float)
                                 for k in ("times", "hz", "confidence"))
        result = {"mirador": {str(t): scores(reference, times, hz, confidence >= t)
                              for t in THRESHOLDS}}
        # pYIN as librosa's documentation runs it, on the file at 22.05 kHz with a 10 ms hop.
        y, sr = librosa.load(os.path.join(args.data, source), sr=22050)
        started = time.perf_counter()
        f0, voiced, _ = librosa.pyin(y, fmin=librosa.note_to_hz("C2"),
                                     fmax=librosa.note_to_hz("C7"), sr=sr, hop_length=220,
                                     fill_na=None)
        seconds = time.perf_counter() - started
        pyin_times = librosa.times_like(f0, sr=sr, hop_length=220)
        result["pyin"] = scores(reference, pyin_times, f0, voiced)
        result["pyin"]["seconds"] = seconds
        result["audio_seconds"] = len(y) / sr
        out[source] = result
    json.dump(out, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
