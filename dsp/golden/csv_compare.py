#!/usr/bin/env python3
"""How was gtzan/features_30_sec.csv computed?

Recomputes the GTZAN feature-table row for the clips in <data>/gtzan/full
(genre.00000.flac) with the installed librosa under several settings and
prints, per setting, the max relative error per CSV column over the clips
(as a markdown table; see dsp/golden/CSV_FINDINGS.md).

    /tmp/pyenv/bin/python dsp/golden/csv_compare.py            # all variants
    /tmp/pyenv/bin/python dsp/golden/csv_compare.py v011 old   # some variants
    /tmp/oldenv/bin/python dsp/golden/csv_compare.py installed # any librosa

Variants (one setting changed at a time; see VARIANTS):
  v011_mean_tempo  librosa 0.11 defaults, tempo = librosa.feature.tempo(y=y)
  golden           generate.table_row: 0.11 defaults, beat_track (median) tempo
  reflect          golden + STFT/RMS pad_mode='reflect' (librosa < 0.10)
  reflect_oldprior reflect + the librosa <= 0.9 multiplicative tempo prior
  old_hpss         golden + the old hpss tail (istft w/o length, zero-pad)
  csv              generate.table_row(csv_compat=True): reflect + old hpss
  installed        plain calls with the installed librosa's own defaults,
                   beat_track tempo (run it under an old librosa venv)

Relative error = |ours - csv| / |csv|. harmony_mean / perceptr_mean are ~1e-5
(means of zero-mean waveforms), so a second number, |ours - csv| / sqrt(var),
is printed for them.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as g  # noqa: E402  (one definition of the table row)

SR = 22050


def _mv(prefix, a, row):
    row[f"{prefix}_mean"] = float(np.mean(a))
    row[f"{prefix}_var"] = float(np.var(a))


def tempo_old_prior(y, sr=SR, pad_mode="reflect", hop_length=512, start_bpm=120.0,
                    std_bpm=1.0, ac_size=8.0, max_tempo=320.0):
    """librosa <= 0.9 beat.tempo rule: argmax of tg * prior (0.10+ uses
    argmax of log1p(1e6 tg) + log prior), on the beat_track onset envelope."""
    import librosa

    onset = librosa.onset.onset_strength(y=y, sr=sr, aggregate=np.median, pad_mode=pad_mode)
    win_length = int(librosa.time_to_frames(ac_size, sr=sr, hop_length=hop_length))
    tg = librosa.feature.tempogram(onset_envelope=onset, sr=sr,
                                   hop_length=hop_length, win_length=win_length)
    tg = np.mean(tg, axis=1, keepdims=True)
    bpms = librosa.tempo_frequencies(tg.shape[0], hop_length=hop_length, sr=sr)
    prior = np.exp(-0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2)
    prior[: int(np.argmax(bpms < max_tempo))] = 0
    return bpms[np.argmax(tg * prior[:, None], axis=0)]


def table_variant(y, sr=SR, pad_mode="constant", old_hpss=False, tempo="median"):
    """The table row with one setting changed at a time."""
    import librosa

    c = g.clip_features(y, sr)  # 0.11 defaults (+ median-aggregated tempo)
    if pad_mode != "constant":
        pm = {"pad_mode": pad_mode}
        c["clip_chroma"] = librosa.feature.chroma_stft(y=y, sr=sr, **pm)
        c["rms"] = librosa.feature.rms(y=y, **pm)[0]
        c["centroid"] = librosa.feature.spectral_centroid(y=y, sr=sr, **pm)[0]
        c["bandwidth"] = librosa.feature.spectral_bandwidth(y=y, sr=sr, **pm)[0]
        c["rolloff"] = librosa.feature.spectral_rolloff(y=y, sr=sr, **pm)[0]
        c["clip_mfcc"] = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, **pm)
        c["tempo"] = g.tempo_for_table(y, sr, pad_mode)
        if not old_hpss:
            D = librosa.stft(y, **pm)
            H, P = librosa.decompose.hpss(D)
            c["harmonic"] = librosa.istft(H, length=len(y), dtype=y.dtype)
            c["percussive"] = librosa.istft(P, length=len(y), dtype=y.dtype)
    if old_hpss:
        c["harmonic"], c["percussive"] = g._hpss_old(y, pad_mode)
    if tempo == "mean":  # librosa.feature.tempo(y=y, sr=sr) as in tempo.npy
        c["tempo"] = np.atleast_1d(librosa.feature.tempo(y=y, sr=sr))
    elif tempo == "old_prior":
        c["tempo"] = tempo_old_prior(y, sr, pad_mode)
    return g.table_from_clip(len(y), c)


def table_installed(y, sr=SR):
    """Plain calls with the installed librosa's own defaults (0.7 - 0.11),
    tempo from beat_track as in the CSV."""
    import librosa

    row = {"length": float(len(y))}
    _mv("chroma_stft", librosa.feature.chroma_stft(y=y, sr=sr), row)
    _mv("rms", librosa.feature.rms(y=y), row)
    _mv("spectral_centroid", librosa.feature.spectral_centroid(y=y, sr=sr), row)
    _mv("spectral_bandwidth", librosa.feature.spectral_bandwidth(y=y, sr=sr), row)
    _mv("rolloff", librosa.feature.spectral_rolloff(y=y, sr=sr), row)
    _mv("zero_crossing_rate", librosa.feature.zero_crossing_rate(y), row)
    h, p = librosa.effects.hpss(y)
    _mv("harmony", h, row)
    _mv("perceptr", p, row)
    row["tempo"] = float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=sr)[0])[0])
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    for i in range(20):
        _mv(f"mfcc{i + 1}", mfcc[i], row)
    return row


VARIANTS = {
    # librosa 0.11 defaults, tempo = librosa.feature.tempo(y=y, sr=sr)
    "v011_mean_tempo": lambda y: table_variant(y, tempo="mean"),
    # the golden definition: 0.11 defaults, beat_track (median) tempo
    "golden": lambda y: g.table_row(y, SR),
    "reflect": lambda y: table_variant(y, pad_mode="reflect"),
    "reflect_oldprior": lambda y: table_variant(y, pad_mode="reflect", tempo="old_prior"),
    "old_hpss": lambda y: table_variant(y, old_hpss=True),
    # everything the CSV did: generate.table_row(csv_compat=True)
    "csv": lambda y: g.table_row(y, SR, csv_compat=True),
    "installed": lambda y: table_installed(y, SR),
}


def load_clips(data: Path):
    import soundfile as sf
    import librosa

    clips = []
    for path in sorted((data / "gtzan" / "full").glob("*.flac")):
        y_sf, sr_sf = sf.read(str(path), dtype="float32")
        y_lr, sr_lr = librosa.load(str(path), sr=SR)
        assert sr_sf == SR and sr_lr == SR
        if not np.array_equal(y_sf, y_lr):
            print(f"# {path.name}: soundfile and librosa.load differ by "
                  f"{np.max(np.abs(y_sf - y_lr)):.3g}", file=sys.stderr)
        clips.append((path.name.replace(".flac", ".wav"), y_lr))
    return clips


def main(argv):
    import librosa

    data = g.data_dir()
    csv_rows = {r["filename"]: r for r in csv.DictReader(
        open(data / "gtzan" / "features_30_sec.csv", newline=""))}
    clips = load_clips(data)
    names = argv[1:] or ["v011_mean_tempo", "golden", "reflect", "old_hpss", "csv"]
    results = {}
    tempos = {}
    for v in names:
        rel = {k: [] for k in g.TABLE_KEYS}
        z_mean = {"harmony_mean": [], "perceptr_mean": []}
        tempos[v] = []
        for fname, y in clips:
            ours = VARIANTS[v](y)
            ref = {k: float(csv_rows[fname][k]) for k in g.TABLE_KEYS}
            for k in g.TABLE_KEYS:
                d = abs(ours[k] - ref[k])
                rel[k].append(d / abs(ref[k]) if ref[k] != 0 else d)
            for k in z_mean:
                z_mean[k].append(abs(ours[k] - ref[k]) / np.sqrt(ref[k[:-5] + "_var"]))
            tempos[v].append((fname, ours["tempo"], ref["tempo"]))
        results[v] = (rel, z_mean)
        print(f"# done {v}", file=sys.stderr, flush=True)

    print(f"librosa {librosa.__version__}, numpy {np.__version__}, {len(clips)} clips\n")
    print("| column | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for k in g.TABLE_KEYS:
        cells = []
        for v in names:
            rel, _ = results[v]
            i = int(np.argmax(rel[k]))
            cells.append(f"{rel[k][i]:.2e} ({clips[i][0].split('.')[0]})")
        print(f"| {k} | " + " | ".join(cells) + " |")
    for k in ("harmony_mean", "perceptr_mean"):
        cells = [f"{max(results[v][1][k]):.2e}" for v in names]
        print(f"| {k} (abs err / std) | " + " | ".join(cells) + " |")
    print()
    print("| clip | csv tempo | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for i, (fname, _, ref) in enumerate(tempos[names[0]]):
        print(f"| {fname} | {ref:.2f} | " +
              " | ".join(f"{tempos[v][i][1]:.2f}" for v in names) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
