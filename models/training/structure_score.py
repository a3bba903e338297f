#!/usr/bin/env python3
"""Scores song-structure estimates (sections: boundaries and repetition labels) against the
truth with mir_eval, and runs MSAF, the usual open peer, on the same audio.

Usage:
  structure_score.py [--no-msaf] SONG_DIR [METHOD=EST_DIR ...]
  structure_score.py [--no-msaf] [--work DIR] --reference-jams JAMS AUDIO [METHOD=LAB_FILE ...]

The first form scores every `song_NN.wav` of SONG_DIR that has its truth `song_NN.lab`
(structure_songs.py); each EST_DIR holds one `song_NN.lab` per song from a method. The
second scores one real recording against the first `segment_open` (or `segment_*`)
annotation of a JAMS file, e.g. ../shared/data/structure/sargon_mindless_cut.{mp3,jams};
each LAB_FILE is a method's estimate for that recording. Estimate files are lines of `start
end label`, tab- or space-separated, seconds.

The peer is MSAF 0.1.80 (Nieto and Bello, 2016) as a script would run it, `msaf.process` on
the audio file with MSAF's default configuration and beat-synchronous `pcp` features:
"MSAF sf" (structural features boundaries, Serra et al. 2014), "MSAF foote" (checkerboard
novelty, Foote 2000), both labelled by 2D-Fourier-magnitude clustering (`fmc2d`), and
"MSAF scluster" (spectral clustering, McFee and Ellis 2014, boundaries and labels, its own
pcp + mfcc). MSAF's features are cached under SONG_DIR/msaf/features (with
--reference-jams: under --work DIR, by default the system temp dir's
structure_score/<audio stem>), so a rerun only reruns the algorithms (remade audio, newer
than its cache, is analysed afresh); its estimates are also written there as .lab files
(msaf/labs/<algorithm>/song_NN.lab). Each MSAF row also carries `msaf_seconds`, the wall
time of that run: with features computed, or read from the cache on a rerun. Its output is scored as is, as MSAF's own
evaluation does, including the short edge segments it adds before the first and after the
last beat.

Scores, per song and averaged over songs, with mir_eval.segment: boundary hit rate
F-measure within 0.5 s and 3 s (trim=True: the song's start and end are not boundaries to
find, as in MSAF and MIREX), pairwise frame-clustering F (labels: are two frames in sections
with the same label?), and NCE F (normalized conditional entropy: the harmonic mean of over-
and under-segmentation scores). Estimates are cropped or padded to the truth's span first,
as mir_eval.segment.evaluate does (an estimate's end within 10 ms of the truth's is taken
as the truth's, so millisecond rounding in .lab files adds no boundary). Per song rows add
precisions, recalls, NCE over/under and the estimate's segment and label counts. Prints one
JSON object on stdout and nothing else:
{"songs": N, "methods": {NAME: {"hr_f_0.5", "hr_f_3", "pairwise_f", "nce_f", "per_song"}}};
MSAF's chatter and the timings go to stderr.
"""

import contextlib
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import mir_eval
import numpy as np

MSAF_RUNS = [
    ("MSAF sf", "sf", "fmc2d"),
    ("MSAF foote", "foote", "fmc2d"),
    ("MSAF scluster", "scluster", "scluster"),
]
METRICS = ["hr_f_0.5", "hr_f_3", "pairwise_f", "nce_f"]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def read_lab(path):
    """Intervals (N, 2) and labels from `start end label` lines (tab or spaces)."""
    intervals, labels = [], []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) < 2 or line.lstrip().startswith("#"):
            continue
        intervals.append((float(parts[0]), float(parts[1])))
        labels.append(" ".join(parts[2:]) if len(parts) > 2 else "_")
    return np.array(intervals, dtype=float).reshape(-1, 2), labels


def write_lab(path, intervals, labels):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for (start, end), label in zip(intervals, labels):
            f.write(f"{start:.3f}\t{end:.3f}\t{label}\n")


def read_jams(path):
    """The reference segmentation of a JAMS file: its first segment_open annotation, else
    the first segment_* one."""
    import jams

    annotations = jams.load(str(path), validate=False).annotations
    for pick in (lambda ns: ns == "segment_open", lambda ns: ns.startswith("segment_")):
        for ann in annotations:
            if pick(ann.namespace):
                intervals, labels = ann.to_interval_values()
                return np.array(intervals, dtype=float).reshape(-1, 2), [str(x) for x in labels]
    raise SystemExit(f"{path}: no segment annotation")


def score(ref, est):
    """mir_eval.segment scores of one estimate against one truth."""
    ref_int, ref_lab = ref
    est_int, est_lab = est
    segments, distinct = len(est_lab), len(set(est_lab))
    if len(est_int) and abs(est_int[-1, 1] - ref_int[-1, 1]) < 0.01:
        # An end that differs from the truth's by rounding only (.lab files carry
        # milliseconds) would otherwise become a spurious boundary once padded.
        est_int = est_int.copy()
        est_int[-1, 1] = ref_int[-1, 1]
    ref_int, ref_lab = mir_eval.util.adjust_intervals(ref_int, labels=ref_lab, t_min=0.0)
    est_int, est_lab = mir_eval.util.adjust_intervals(est_int, labels=est_lab, t_min=0.0, t_max=ref_int.max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "estimated boundaries are empty" for one segment
        p05, r05, f05 = mir_eval.segment.detection(ref_int, est_int, window=0.5, trim=True)
        p3, r3, f3 = mir_eval.segment.detection(ref_int, est_int, window=3.0, trim=True)
        pp, pr, pf = mir_eval.segment.pairwise(ref_int, ref_lab, est_int, est_lab)
        over, under, nf = mir_eval.segment.nce(ref_int, ref_lab, est_int, est_lab)
    return {
        "hr_f_0.5": f05,
        "hr_p_0.5": p05,
        "hr_r_0.5": r05,
        "hr_f_3": f3,
        "hr_p_3": p3,
        "hr_r_3": r3,
        "pairwise_f": pf,
        "pairwise_p": pp,
        "pairwise_r": pr,
        "nce_f": nf,
        "nce_over": over,
        "nce_under": under,
        "segments": segments,
        "distinct_labels": distinct,
    }


class Msaf:
    """MSAF on audio files, features cached per file under WORK/features. Each audio file is
    linked into WORK/audio so that MSAF's file layout (audio/, features/, estimations/ side by
    side) lands in WORK, never beside the audio."""

    def __init__(self, work):
        os.environ.setdefault("MPLBACKEND", "Agg")
        with contextlib.redirect_stdout(sys.stderr):
            import msaf
        self.msaf = msaf
        self.work = Path(work).resolve()
        for sub in ("audio", "features", "estimations"):
            (self.work / sub).mkdir(parents=True, exist_ok=True)

    def run(self, audio, name):
        audio = Path(audio).resolve()
        link = self.work / "audio" / (name + audio.suffix)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(audio)
        features = self.work / "features" / f"{name}.json"
        if features.exists() and features.stat().st_mtime < audio.stat().st_mtime:
            features.unlink()  # the audio was remade since: never score stale features
        self.msaf.config.features_tmp_file = str(features)
        out = {}
        for method, bounds_id, labels_id in MSAF_RUNS:
            start = time.time()
            with contextlib.redirect_stdout(sys.stderr):
                times, labels = self.msaf.process(str(link), boundaries_id=bounds_id, labels_id=labels_id)
            seconds = time.time() - start
            times = np.asarray(times, dtype=float)
            intervals = np.stack([times[:-1], times[1:]], axis=1)
            labels = [str(int(x)) if float(x).is_integer() else str(x) for x in labels]
            write_lab(self.work / "labs" / bounds_id / f"{name}.lab", intervals, labels)
            log(f"structure_score: {method} on {name}: {seconds:.1f} s, {len(labels)} segments")
            out[method] = ((intervals, labels), seconds)
        return out


def parse_methods(args):
    methods = []
    for arg in args:
        if "=" not in arg:
            raise SystemExit(f"expected METHOD=PATH, got {arg!r}")
        name, path = arg.split("=", 1)
        methods.append((name, Path(path)))
    return methods


def summarize(results, order):
    out = {}
    for name in order:
        rows = results[name]
        entry = {m: float(np.mean([r[m] for r in rows])) for m in METRICS}
        if rows and "msaf_seconds" in rows[0]:
            entry["msaf_seconds_mean"] = float(np.mean([r["msaf_seconds"] for r in rows]))
        entry["per_song"] = rows
        out[name] = entry
    return out


def main():
    args = sys.argv[1:]
    use_msaf = "--no-msaf" not in args
    args = [a for a in args if a != "--no-msaf"]
    work = None
    if "--work" in args:
        i = args.index("--work")
        work = Path(args[i + 1])
        del args[i : i + 2]

    if args and args[0] == "--reference-jams":
        if len(args) < 3:
            raise SystemExit(__doc__.split("\n\n")[0] + "\n" + __doc__.split("\n\n")[1])
        jams_path, audio = Path(args[1]), Path(args[2])
        methods = parse_methods(args[3:])
        name = audio.stem
        tracks = [(name, audio, read_jams(jams_path), {m: p for m, p in methods})]
        work = work or Path(tempfile.gettempdir()) / "structure_score" / name
    else:
        if not args:
            raise SystemExit(__doc__.split("\n\n")[1])
        song_dir = Path(args[0])
        methods = parse_methods(args[1:])
        tracks = []
        for wav in sorted(song_dir.glob("song_*.wav")):
            truth = wav.with_suffix(".lab")
            if truth.exists():
                tracks.append((wav.stem, wav, read_lab(truth), {m: p / f"{wav.stem}.lab" for m, p in methods}))
        if not tracks:
            raise SystemExit(f"{song_dir}: no song_NN.wav with its song_NN.lab")
        work = work or song_dir / "msaf"

    missing = [str(p) for _, _, _, ests in tracks for p in ests.values() if not p.exists()]
    if missing:
        raise SystemExit("missing estimates: " + ", ".join(missing))

    order = ([m for m, _, _ in MSAF_RUNS] if use_msaf else []) + [m for m, _ in methods]
    results = {name: [] for name in order}
    msaf = Msaf(work) if use_msaf else None
    for name, audio, ref, ests in tracks:
        if msaf:
            for method, (est, seconds) in msaf.run(audio, name).items():
                row = {"song": name, **score(ref, est), "msaf_seconds": round(seconds, 2)}
                results[method].append(row)
        for method, path in ests.items():
            results[method].append({"song": name, **score(ref, read_lab(path))})

    print(json.dumps({"songs": len(tracks), "methods": summarize(results, order)}, indent=1))


if __name__ == "__main__":
    main()
