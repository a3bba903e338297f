#!/usr/bin/env python3
"""Generate the librosa golden fixtures for Mirador's DSP tests.

Run from the repository root:

    /tmp/pyenv/bin/python dsp/golden/generate.py            # all fixtures
    /tmp/pyenv/bin/python dsp/golden/generate.py chord      # only some

The data directory comes from $MIRADOR_DATA (default: ../shared/data relative
to the repository root). Output goes to dsp/golden/fixtures/<name>/ as float32
C-order .npy files plus a table.json. Everything is deterministic.

The GTZAN feature-table row is defined ONCE here (`clip_features` +
`table_from_clip`, wrapped by `table_row`); xtask/bench_librosa.py and
dsp/golden/csv_compare.py import it from this file.

See dsp/golden/README.md for the exact definitions.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

SR = 22050
N_FFT = 2048
HOP = 512

GOLDEN_DIR = Path(__file__).resolve().parent
REPO_ROOT = GOLDEN_DIR.parent.parent
FIXTURE_DIR = GOLDEN_DIR / "fixtures"

# Fixtures for which power.npy is decimated to every 4th frame (size budget).
REAL_RECORDINGS = {
    "vibe_ace": "librosa_examples/Kevin_MacLeod_-_Vibe_Ace.ogg",
    "hungarian_dance": (
        "librosa_examples/"
        "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg"
    ),
}
REAL_DURATION = 8.0
# Waveform outputs (harmonic / percussive) of every fixture longer than 1 s
# are decimated (every 4th sample, starting at sample 0) to keep the fixtures
# near 6 MB in total. Note percussive == input - harmonic to ~2e-7.
DECIMATE = 4
DECIMATE_MIN_SAMPLES = SR  # inputs with more samples than this are decimated

# Column order of gtzan/features_30_sec.csv (without `filename` and `label`).
TABLE_KEYS = (
    ["length"]
    + [
        f"{name}_{stat}"
        for name in [
            "chroma_stft",
            "rms",
            "spectral_centroid",
            "spectral_bandwidth",
            "rolloff",
            "zero_crossing_rate",
            "harmony",
            "perceptr",
        ]
        for stat in ("mean", "var")
    ]
    + ["tempo"]
    + [f"mfcc{i}_{stat}" for i in range(1, 21) for stat in ("mean", "var")]
)


def data_dir() -> Path:
    env = os.environ.get("MIRADOR_DATA")
    if env:
        return Path(env)
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


# --------------------------------------------------------------------------
# Synthetic inputs (computed in float64, cast to float32 once at the end)
# --------------------------------------------------------------------------


def synth_chord(sr: int = SR) -> np.ndarray:
    n = int(round(2.0 * sr))
    t = np.arange(n, dtype=np.float64) / sr
    x = np.zeros(n, dtype=np.float64)
    for f0 in (261.63, 329.63, 392.00):
        for k, amp in ((1, 1.0), (2, 0.5), (3, 0.25)):
            x += amp * np.sin(2.0 * np.pi * f0 * k * t)
    x *= 0.3 / np.max(np.abs(x))  # peak amplitude 0.3
    nf = int(round(0.010 * sr))  # 10 ms linear fade in / out
    ramp = np.linspace(0.0, 1.0, nf)
    x[:nf] *= ramp
    x[-nf:] *= ramp[::-1]
    return x.astype(np.float32)


def synth_clicks(sr: int = SR) -> np.ndarray:
    rng = np.random.default_rng(7)
    n = int(round(2.0 * sr))
    t = np.arange(n, dtype=np.float64) / sr
    x = 0.05 * np.sin(2.0 * np.pi * 110.0 * t)
    burst_len = int(round(0.020 * sr))  # 20 ms = 441 samples
    tb = np.arange(burst_len, dtype=np.float64) / sr
    env = np.exp(-tb / 0.004)  # 4 ms decay constant (e^-5 at 20 ms)
    period = int(round(60.0 / 120.0 * sr))  # 120 BPM -> 11025 samples
    for start in range(0, n, period):
        noise = rng.uniform(-1.0, 1.0, burst_len)
        seg = 0.8 * noise * env
        end = min(n, start + burst_len)
        x[start:end] += seg[: end - start]
    return x.astype(np.float32)


def synth_chirp(sr: int = SR) -> np.ndarray:
    import scipy.signal

    n = int(round(2.0 * sr))
    t = np.arange(n, dtype=np.float64) / sr
    x = 0.5 * scipy.signal.chirp(t, f0=50.0, t1=2.0, f1=10000.0, method="logarithmic")
    return x.astype(np.float32)


def synth_silence_then_tone(sr: int = SR) -> np.ndarray:
    n_sil = int(round(0.5 * sr))
    n_tone = int(round(1.0 * sr))
    t = np.arange(n_tone, dtype=np.float64) / sr
    x = np.concatenate([np.zeros(n_sil), 0.5 * np.sin(2.0 * np.pi * 440.0 * t)])
    return x.astype(np.float32)


def synth_odd_length(sr: int = SR) -> np.ndarray:
    rng = np.random.default_rng(3)
    x = 0.1 * rng.uniform(-1.0, 1.0, 12345)
    return x.astype(np.float32)


SYNTHETIC = {
    "chord": synth_chord,
    "clicks": synth_clicks,
    "chirp": synth_chirp,
    "silence_then_tone": synth_silence_then_tone,
    "odd_length": synth_odd_length,
}


def load_real(rel_path: str, duration: float = REAL_DURATION) -> np.ndarray:
    import librosa

    path = data_dir() / rel_path
    y, _ = librosa.load(str(path), sr=SR, mono=True, duration=duration)
    return np.ascontiguousarray(y, dtype=np.float32)


def load_input(name: str) -> np.ndarray:
    if name in SYNTHETIC:
        return SYNTHETIC[name]()
    return load_real(REAL_RECORDINGS[name])


# --------------------------------------------------------------------------
# Feature definitions
# --------------------------------------------------------------------------


def frame_features(y: np.ndarray, sr: int = SR) -> dict[str, np.ndarray]:
    """Per-frame ("streaming") features. No global top_db, tuning fixed 0."""
    import librosa

    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    mel = librosa.feature.melspectrogram(S=power, sr=sr)
    log_mel = librosa.power_to_db(mel, top_db=None)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=20)
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0)
    onset = librosa.onset.onset_strength(S=log_mel, sr=sr)
    return {
        "power": power,
        "mel": mel,
        "log_mel": log_mel,
        "mfcc": mfcc,
        "chroma": chroma,
        "onset": onset,
    }


def tempo_for_table(y: np.ndarray, sr: int = SR, pad_mode: str = "constant") -> np.ndarray:
    """Tempo as in the GTZAN CSV: librosa.beat.beat_track(y=y, sr=sr)[0], i.e.
    librosa.feature.tempo on an onset envelope aggregated with np.MEDIAN over
    the mel bands (onset_strength's own default is np.mean, which is what
    librosa.feature.tempo(y=y, sr=sr) / tempo.npy uses). Shape (1,).
    Like beat_track, returns 0.0 when that onset envelope is all zero (e.g. a
    steady chord: the median over bands of the positive flux is 0)."""
    import librosa

    onset = librosa.onset.onset_strength(y=y, sr=sr, aggregate=np.median, pad_mode=pad_mode)
    if not onset.any():
        return np.zeros(1)
    return np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sr))


def _hpss_old(y: np.ndarray, pad_mode: str) -> tuple[np.ndarray, np.ndarray]:
    """librosa < 0.9 effects.hpss: istft WITHOUT length, then zero-pad to
    len(y), so the last len(y) - hop*(T-1) samples are exactly 0."""
    import librosa

    D = librosa.stft(y, pad_mode=pad_mode)
    H, P = librosa.decompose.hpss(D)
    h = librosa.util.fix_length(librosa.istft(H, dtype=y.dtype), size=len(y))
    p = librosa.util.fix_length(librosa.istft(P, dtype=y.dtype), size=len(y))
    return h, p


def clip_features(y: np.ndarray, sr: int = SR, csv_compat: bool = False) -> dict[str, np.ndarray]:
    """Everything the GTZAN table row needs, computed from y with librosa's
    defaults (global top_db=80 in mfcc, estimated tuning in chroma_stft).

    csv_compat=True reproduces gtzan/features_30_sec.csv (made with librosa
    < 0.10) to ~1e-6: STFT/RMS padding 'reflect' instead of 'constant', and
    the old hpss tail (see _hpss_old). See CSV_FINDINGS.md."""
    import librosa

    pm = {"pad_mode": "reflect" if csv_compat else "constant"}
    if csv_compat:
        harmonic, percussive = _hpss_old(y, pm["pad_mode"])
    else:
        harmonic, percussive = librosa.effects.hpss(y)
    return {
        "clip_chroma": librosa.feature.chroma_stft(y=y, sr=sr, **pm),
        "rms": librosa.feature.rms(y=y, **pm)[0],
        "centroid": librosa.feature.spectral_centroid(y=y, sr=sr, **pm)[0],
        "bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=sr, **pm)[0],
        "rolloff": librosa.feature.spectral_rolloff(y=y, sr=sr, roll_percent=0.85, **pm)[0],
        "zcr": librosa.feature.zero_crossing_rate(y)[0],
        "harmonic": harmonic,
        "percussive": percussive,
        "tempo": tempo_for_table(y, sr, **pm),
        "clip_mfcc": librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, **pm),
    }


def table_from_clip(n_samples: int, c: dict[str, np.ndarray]) -> dict[str, float]:
    """GTZAN features_30_sec.csv row. np.mean / np.var over the whole matrix,
    in the array's own dtype (as the CSV was made), then cast to float64."""

    def mv(prefix: str, a: np.ndarray, row: dict) -> None:
        row[f"{prefix}_mean"] = float(np.mean(a))
        row[f"{prefix}_var"] = float(np.var(a))

    row: dict[str, float] = {"length": float(n_samples)}
    mv("chroma_stft", c["clip_chroma"], row)
    mv("rms", c["rms"], row)
    mv("spectral_centroid", c["centroid"], row)
    mv("spectral_bandwidth", c["bandwidth"], row)
    mv("rolloff", c["rolloff"], row)
    mv("zero_crossing_rate", c["zcr"], row)
    mv("harmony", c["harmonic"], row)
    mv("perceptr", c["percussive"], row)
    row["tempo"] = float(c["tempo"][0])
    for i in range(20):
        mv(f"mfcc{i + 1}", c["clip_mfcc"][i], row)
    assert list(row) == TABLE_KEYS, "table keys out of sync with the CSV header"
    return row


def table_row(y: np.ndarray, sr: int = SR, csv_compat: bool = False) -> dict[str, float]:
    """The full GTZAN table row of one clip (what the benchmark times)."""
    return table_from_clip(len(y), clip_features(y, sr, csv_compat))


# --------------------------------------------------------------------------
# Fixture writing
# --------------------------------------------------------------------------


def _save(out: Path, name: str, arr: np.ndarray) -> int:
    a = np.ascontiguousarray(np.asarray(arr), dtype=np.float32)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{out.name}/{name}: non-finite values")
    path = out / f"{name}.npy"
    np.save(path, a, allow_pickle=False)
    return path.stat().st_size


def generate_fixture(name: str) -> int:
    import librosa

    y = load_input(name)
    assert y.dtype == np.float32 and y.ndim == 1
    real = name in REAL_RECORDINGS
    out = FIXTURE_DIR / name
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.npy"):
        old.unlink()

    fr = frame_features(y, SR)
    cl = clip_features(y, SR)
    clip_onset = librosa.onset.onset_strength(y=y, sr=SR)
    tuning = librosa.estimate_tuning(y=y, sr=SR, bins_per_octave=12)
    # The tuning chroma_stft(y=y) uses internally: estimated on the POWER
    # spectrogram (estimate_tuning(y=y) uses the magnitude one).
    chroma_tuning = librosa.estimate_tuning(S=fr["power"], sr=SR, bins_per_octave=12)
    check = librosa.feature.chroma_stft(S=fr["power"], sr=SR, tuning=chroma_tuning)
    np.testing.assert_allclose(check, cl["clip_chroma"], rtol=1e-5, atol=1e-6)
    bt = np.atleast_1d(librosa.beat.beat_track(y=y, sr=SR)[0])
    assert np.array_equal(bt, cl["tempo"]), (bt, cl["tempo"])

    size = _save(out, "input", y)
    if real:
        size += _save(out, "power_every4", fr["power"][:, ::4])
    else:
        size += _save(out, "power", fr["power"])
    for key in ("mel", "log_mel", "mfcc", "chroma", "onset"):
        size += _save(out, key, fr[key])
    for key in ("rms", "zcr", "centroid", "bandwidth", "rolloff"):
        size += _save(out, key, cl[key])
    size += _save(out, "flatness", librosa.feature.spectral_flatness(y=y)[0])
    size += _save(out, "clip_mfcc", cl["clip_mfcc"])
    size += _save(out, "clip_onset", clip_onset)
    size += _save(out, "clip_chroma", cl["clip_chroma"])
    size += _save(out, "tuning", np.array([tuning]))
    size += _save(out, "chroma_tuning", np.array([chroma_tuning]))
    if len(y) > DECIMATE_MIN_SAMPLES:
        size += _save(out, f"harmonic_every{DECIMATE}", cl["harmonic"][::DECIMATE])
        size += _save(out, f"percussive_every{DECIMATE}", cl["percussive"][::DECIMATE])
    else:
        size += _save(out, "harmonic", cl["harmonic"])
        size += _save(out, "percussive", cl["percussive"])
    # tempo.npy: librosa.feature.tempo(y=y, sr=sr) (onset aggregate = mean);
    # beat_tempo.npy: the median-aggregated tempo the GTZAN table uses.
    size += _save(out, "tempo", np.atleast_1d(librosa.feature.tempo(y=y, sr=SR)))
    size += _save(out, "beat_tempo", cl["tempo"])

    tables = {
        "table.json": table_from_clip(len(y), cl),
        "table_csv.json": table_row(y, SR, csv_compat=True),
    }
    for fname, row in tables.items():
        table_path = out / fname
        table_path.write_text(json.dumps(row, indent=1) + "\n")
        size += table_path.stat().st_size
    return size


def main(argv: list[str]) -> int:
    import librosa

    if librosa.__version__ != "0.11.0":
        print(f"warning: librosa {librosa.__version__}, fixtures are defined for 0.11.0",
              file=sys.stderr)
    names = argv[1:] or (list(SYNTHETIC) + list(REAL_RECORDINGS))
    total = 0
    for name in names:
        if name not in SYNTHETIC and name not in REAL_RECORDINGS:
            print(f"unknown fixture {name!r}", file=sys.stderr)
            return 2
        size = generate_fixture(name)
        total += size
        print(f"{name:20s} {size / 1024:8.1f} KiB")
    print(f"{'total':20s} {total / 1024:8.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
