"""How Mirador's key model was chosen: a librosa prototype of each evidence, tuning,
classifier and penalty, scored by 5-fold cross-validation over the GTZAN clips that fit the
key weights (a single-key label and an even id; the fold of id n is n / 2 mod 5; MIREX
weighted score, mir_eval's, over all five folds). The odd ids, which `cargo xtask eval key`
scores, are never read. Prints the table in `models/key/README.md`. Runs in the key venv
(`cargo xtask eval key` makes `target/key-venv`), about 2 minutes on two cores.

    target/key-venv/bin/python models/training/key_crossval.py --data ../shared/data
"""

import argparse
import os
import warnings
from pathlib import Path

import librosa
import mir_eval
import numpy as np
from scipy.optimize import minimize

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[2]
SR, N_FFT, HOP = 22050, 4096, 2048
FOLDERS = ["gtzan/full", "gtzan/first_15_20s", "gtzan/excerpts"]
FOLDS = 5


def label(data, stem):
    genre = stem.split(".")[0]
    path = Path(data) / f"gtzan/annotations/key_lerch/{genre}/{stem}.lerch.txt"
    if not path.exists():
        return None
    v = int(path.read_text().strip())
    # 0-11: A, A#, ... G# major; 12-23: the same minor.
    return ((v % 12 + 9) % 12, v >= 12) if 0 <= v < 24 else None


def clips(data):
    """Per labelled clip: its id, key (tonic, minor) and chroma variants [12, frames]."""
    out = []
    for folder in FOLDERS:
        for name in sorted(os.listdir(Path(data) / folder)):
            stem = name.rsplit(".", 1)[0]
            key = label(data, stem)
            if key is None or int(stem.split(".")[1]) % 2 == 1:
                continue
            y, _ = librosa.load(Path(data) / folder / name, sr=SR)
            seconds = len(y) / SR
            power_2048 = np.abs(librosa.stft(y, n_fft=2048, hop_length=512)) ** 2
            tunings = {
                # chroma_stft's estimate: power spectrogram, 2048-sample frames.
                "power": librosa.estimate_tuning(S=power_2048, sr=SR, n_fft=2048),
                # librosa's estimate of a signal: the magnitude spectrogram.
                "magnitude": librosa.estimate_tuning(y=y, sr=SR, n_fft=N_FFT),
                "none": 0.0,
            }
            tunings["magnitude, pulled to A440"] = tunings["magnitude"] * seconds / (seconds + 10)
            mag = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
            freqs = librosa.fft_frequencies(sr=SR, n_fft=N_FFT)
            band = lambda lo, hi: mag * ((freqs >= lo) & (freqs < hi))[:, None]  # noqa: E731
            harmonic, _ = librosa.decompose.hpss(mag)
            c = {}
            for name_t, t in tunings.items():
                fb = librosa.filters.chroma(sr=SR, n_fft=N_FFT, tuning=t)
                c[name_t] = {
                    "chroma": fb @ mag,
                    "bass": fb @ band(0, 260),
                    "mid": fb @ band(260, 1000),
                    "high": fb @ band(1000, SR),
                    "harmonic": fb @ harmonic,
                }
            out.append((int(stem.split(".")[1]), key, c))
    return out


def tonal(chroma):
    """Mean of the frames each scaled to a peak of 1; zeros without any."""
    peak = chroma.max(0)
    keep = peak > 1e-6 * max(peak.max(), 1e-12)
    return (chroma[:, keep] / peak[keep]).mean(1) if keep.any() else np.zeros(12)


def z(v):
    s = v.std()
    return (v - v.mean()) / s if s > 1e-12 else np.zeros_like(v)


def turned(parts, tonic):
    return np.concatenate([z(np.roll(p, -tonic)) for p in parts])


def key_index(key):
    return key[0] + 12 * key[1]


def key_name(index):
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    return f"{names[index % 12]} {'minor' if index >= 12 else 'major'}"


def mirex(est, ref):
    return mir_eval.key.weighted_score(key_name(ref), key_name(est))


def fit_profiles(train, alpha):
    """Mean profile per mode and part; a clip's score sums its parts' correlations."""
    parts = len(train[0][0])
    prof = np.zeros((2, parts, 12))
    for p, k in train:
        for i in range(parts):
            prof[int(k >= 12), i] += z(np.roll(p[i], -(k % 12)))
    weights = [1.0] + [alpha] * (parts - 1)

    def scores(p):
        return np.array([
            sum(w * np.dot(z(np.roll(p[i], -(k % 12))), z(prof[int(k >= 12), i])) / 12 for i, w in enumerate(weights))
            for k in range(24)
        ])

    return scores


def fit_softmax(train, l2=1.0):
    """Softmax regression: one weight vector per mode over the turned parts, a minor bias,
    `l2` times the weights' squared norm added to the summed cross-entropy."""
    d = 12 * len(train[0][0])
    feats = [np.array([turned(p, k % 12) for k in range(24)]) for p, _ in train]

    def loss(w):
        total, grad = l2 * w[: 2 * d] @ w[: 2 * d], np.zeros_like(w)
        grad[: 2 * d] = 2 * l2 * w[: 2 * d]
        for f, (_, y) in zip(feats, train):
            s = np.concatenate([f[:12] @ w[:d], f[12:] @ w[d : 2 * d] + w[-1]])
            p = np.exp(s - s.max())
            p /= p.sum()
            total -= np.log(p[y] + 1e-12)
            e = p.copy()
            e[y] -= 1
            grad[:d] += e[:12] @ f[:12]
            grad[d : 2 * d] += e[12:] @ f[12:]
            grad[-1] += e[12:].sum()
        return total, grad

    w = minimize(loss, np.zeros(2 * d + 1), jac=True, method="L-BFGS-B").x

    def scores(p):
        f = np.array([turned(p, k % 12) for k in range(24)])
        return np.concatenate([f[:12] @ w[:d], f[12:] @ w[d : 2 * d] + w[-1]])

    return scores


def crossval(data, tuning, parts, classifier):
    right = []
    for fold in range(FOLDS):
        train, test = [], []
        for number, key, c in data:
            p = [tonal(c[tuning][part]) for part in parts]
            (test if number // 2 % FOLDS == fold else train).append((p, key_index(key)))
        scores = classifier(train)
        right += [mirex(int(np.argmax(scores(p))), k) for p, k in test]
    return float(np.mean(right))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.environ.get("MIRADOR_DATA", ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    data = clips(args.data)
    profiles = lambda alpha=1.0: lambda train: fit_profiles(train, alpha)  # noqa: E731
    rows = [
        ("chroma, mean profiles (the previous model)", "power", ["chroma"], profiles()),
        ("chroma, mean profiles", "magnitude", ["chroma"], profiles()),
        ("chroma, mean profiles", "none", ["chroma"], profiles()),
        ("chroma, softmax regression", "magnitude", ["chroma"], fit_softmax),
    ]
    for alpha in (0.25, 0.5, 1.0):
        rows.append((f"chroma + bass, mean profiles summed (bass weighed {alpha})", "magnitude, pulled to A440", ["chroma", "bass"], profiles(alpha)))
    rows += [
        ("chroma + bass, softmax regression", "magnitude", ["chroma", "bass"], fit_softmax),
    ]
    penalty = lambda l2: lambda train: fit_softmax(train, l2)  # noqa: E731
    for l2 in (0.3, 1.0, 3.0, 10.0):
        shipped = " (shipped)" if l2 == 3.0 else ""
        rows.append((f"chroma + bass, softmax regression, L2 penalty {l2:g}{shipped}", "magnitude, pulled to A440", ["chroma", "bass"], penalty(l2)))
    rows += [
        ("chroma + bass + 260-1000 Hz + above 1 kHz, softmax regression", "magnitude, pulled to A440", ["chroma", "bass", "mid", "high"], fit_softmax),
        ("harmonic part (HPSS) + bass, softmax regression", "magnitude", ["harmonic", "bass"], fit_softmax),
    ]
    for l2 in (1.0, 3.0, 10.0):
        rows.append((f"harmonic part (HPSS) + bass, softmax regression, L2 penalty {l2:g}", "magnitude, pulled to A440", ["harmonic", "bass"], penalty(l2)))
    print(f"{len(data)} clips\n\n| evidence, classifier | tuning | score |\n|---|---|---:|")
    for title, tuning, parts, classifier in rows:
        print(f"| {title} | {tuning} | {crossval(data, tuning, parts, classifier):.3f} |", flush=True)


if __name__ == "__main__":
    main()
