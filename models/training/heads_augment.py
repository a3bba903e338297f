"""Measures augmentation as a lever for musicnn's genre head (models/musicnn/README.md): the
head trained on its training clips alone, and with one or two augmented copies of each,
scored on the held-out sets (GTZAN test-split excerpts, Emotify tracks 51-100, the 4Q held-out
artists whose AllMusic genres map onto GTZAN's; clip right when the mean of its patches'
probabilities peaks on a genre it maps onto), C 0.003 to 0.03, no temperature.

A copy (--kind noise-eq): the clip with white noise at 25-45 dB SNR, then an EQ on the mel
power (a tilt of +-6 dB across the bands, a bell of +-6 dB at a random band and width) and a
gain of +-6 dB, drawn per clip and copy. A copy (--kind pitch-tempo): the clip shifted by up
to +-2 semitones and played 0.9-1.1 times as fast (librosa's phase vocoder). The copies'
network outputs are kept in target/heads-cache/ (about 13 minutes a copy on two cores, more
for pitch-tempo). The Pop/Rock clips take the label a first head on the originals gives them;
their copies take the same.

Usage: python heads_augment.py --data ../shared/data --model ../musicnn [--copies 2]
       [--kind noise-eq|pitch-tempo]
"""

import argparse
import os
import pickle
import zlib

import librosa
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import heads
from musicnn_logmel import N_MELS, SR, compress, mel_power


def pitch_tempo_logmel(path, rng):
    audio, sr = librosa.load(path, sr=SR)
    audio = librosa.effects.pitch_shift(audio, sr=sr, n_steps=rng.uniform(-2, 2))
    audio = librosa.effects.time_stretch(audio, rate=rng.uniform(0.9, 1.1))
    return compress(mel_power(audio))


def noise_eq_logmel(path, rng):
    audio, sr = librosa.load(path, sr=SR)
    power = np.mean(audio ** 2) + 1e-12
    noise_db = rng.uniform(25, 45)
    audio = audio + rng.normal(0, np.sqrt(power / 10 ** (noise_db / 10)), len(audio))
    mel = mel_power(audio)
    bands = np.linspace(-1, 1, N_MELS)
    bell = np.exp(-0.5 * ((bands - rng.uniform(-1, 1)) / rng.uniform(0.1, 0.4)) ** 2)
    db = rng.uniform(-6, 6) * bands + rng.uniform(-6, 6) * bell + rng.uniform(-6, 6)
    return compress(mel * 10 ** (db / 10))


def held_out_sets(data, four_q, test):
    """(path, accepted genre indices) of each held-out set's clips."""
    genres = heads.GENRES
    sets = {"GTZAN excerpts": [(p, [genres.index(g)]) for p, g in heads.test_excerpts(data)]}
    sets["Emotify 51-100"] = [
        (os.path.join(data, "emotify", g, n), [genres.index(g)]) for g in heads.EMOTIFY_GENRES
        for n in sorted(os.listdir(os.path.join(data, "emotify", g)))
        if int(n.split(".")[0]) > heads.EMOTIFY_TRAIN_LAST]
    gtzan_genres = heads.allmusic_genres(data)
    sets["4Q held out"] = [(four_q[i][0], [genres.index(g) for g in gtzan_genres(four_q[i][0])])
                           for i in test if gtzan_genres(four_q[i][0])]
    return sets


def fit(pairs, c):
    x = np.concatenate([f for f, _ in pairs])
    y = np.concatenate([[g] * len(f) for f, g in pairs])
    scaler = StandardScaler().fit(x)
    return scaler, LogisticRegression(C=c, max_iter=5000).fit(scaler.transform(x), y)


def probabilities(model, patches):
    scaler, m = model
    return m.predict_proba(scaler.transform(patches)).mean(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="models/musicnn")
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--kind", choices=("noise-eq", "pitch-tempo"), default="noise-eq")
    args = ap.parse_args()
    augmented_logmel = {"noise-eq": noise_eq_logmel, "pitch-tempo": pitch_tempo_logmel}[args.kind]
    embed = heads.Embedder([os.path.join(args.model, n)
                            for n in ("msd_musicnn.onnx", "mtt_musicnn.onnx")], tags=True)
    four_q, train, test = heads.four_q_split(args.data)
    clips = heads.genre_clips(args.data, [four_q[i] for i in train])
    x = {path: embed(path) for path, _, _ in clips}

    suffix = "-augmented.pkl" if args.kind == "noise-eq" else f"-{args.kind}.pkl"
    cache_path = embed.cache_path.replace(".pkl", suffix)
    copies = {}
    if os.path.exists(cache_path):
        with open(cache_path, "rb") as f:
            copies = pickle.load(f)
    for copy in range(args.copies):
        for i, (path, _, _) in enumerate(clips):
            key = (copy, os.path.relpath(path, args.data))
            if key not in copies:
                rng = np.random.default_rng([copy, zlib.crc32(key[1].encode())])
                copies[key] = np.array([embed.features(p)
                                        for p in heads.patches(augmented_logmel(path, rng))])
            if i % 200 == 0:
                print(f"  copy {copy + 1}: {i}/{len(clips)} clips", flush=True)
        with open(cache_path, "wb") as f:
            pickle.dump(copies, f)

    genres = heads.GENRES
    first = fit([(x[p], genres.index(g[0])) for p, g, _ in clips if len(g) == 1], 0.01)
    label = {}
    for path, accepted, _ in clips:
        p = probabilities(first, x[path])
        label[path] = max((genres.index(g) for g in accepted), key=lambda k: p[k])
    sets = held_out_sets(args.data, four_q, test)
    features = {name: [embed(p) for p, _ in s] for name, s in sets.items()}
    embed.save()

    print("| C | training copies | " + " | ".join(sets) + " |\n|---:|---|"
          + "---:|" * len(sets))
    for c in (0.003, 0.01, 0.03):
        for n in range(args.copies + 1):
            pairs = [(x[p], label[p]) for p, _, _ in clips]
            pairs += [(copies[(k, os.path.relpath(p, args.data))], label[p])
                      for k in range(n) for p, _, _ in clips]
            model = fit(pairs, c)
            shares = [100 * np.mean([probabilities(model, f).argmax() in accepted
                                     for f, (_, accepted) in zip(features[name], s)])
                      for name, s in sets.items()]
            what = "originals" if n == 0 else f"originals + {n} augmented"
            print(f"| {c} | {what} | " + " | ".join(f"{v:.1f} %" for v in shares) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
