"""Scores Mirador's transcriptions (`cargo xtask eval notes`) with mir_eval.transcription:
files and live against the basic-pitch package's own notes (models/basic_pitch/golden.json),
and files on the annotated solo singing (vocadito, notes by two annotators: accuracy).

Usage: python notes_score.py --ours OURS.json --data ../shared/data --out SCORES.json
"""

import argparse
import json
import os

import mir_eval
import numpy as np

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "basic_pitch", "golden.json")
ANNOTATED = {"melody/vocadito_1.flac": ["melody/annotations/vocadito_1_notesA1.csv",
                                        "melody/annotations/vocadito_1_notesA2.csv"]}


def as_arrays(notes):
    """(intervals, pitches in Hz) of [start, end, midi, ...] rows."""
    if not notes:
        return np.zeros((0, 2)), np.zeros(0)
    rows = np.array([n[:3] for n in notes], dtype=float)
    return rows[:, :2], mir_eval.util.midi_to_hz(rows[:, 2])


def scores(reference, estimate):
    ref_i, ref_p = reference
    est_i, est_p = estimate
    _, _, with_offsets, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p)
    _, _, onsets_only, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p, offset_ratio=None)
    return {"f_onset_offset": with_offsets, "f_onset": onsets_only}


def annotated(path):
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    return np.stack([rows[:, 0], rows[:, 0] + rows[:, 2]], axis=1), rows[:, 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    ours = json.load(open(args.ours))
    golden = {c["source"]: c["notes"] for c in json.load(open(GOLDEN))["cases"]}
    out = {"parity": {}, "annotated": {}, "live": {}}
    for source, notes in ours["live"].items():
        out["live"][source] = scores(as_arrays(golden[source]), as_arrays(notes))
    for source, notes in ours["file"].items():
        out["parity"][source] = scores(as_arrays(golden[source]), as_arrays(notes))
        for path in ANNOTATED.get(source, []):
            reference = annotated(os.path.join(args.data, path))
            out["annotated"][path] = {
                "mirador": scores(reference, as_arrays(notes)),
                "package": scores(reference, as_arrays(golden[source])),
            }
    json.dump(out, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
