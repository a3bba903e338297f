"""Trains the genre and mood heads on a patch network's 200-d embedding: musicnn's
(models/musicnn/msd_musicnn.onnx) or the distilled CNN's (models/cnn/cnn.onnx).

Embeddings come from the reference pipeline: musicnn's own log-mel front end
(musicnn_logmel.py, librosa) and onnxruntime on the network.
A clip gives one embedding per 3 s patch (187 frames, no overlap); a clip shorter than a
patch is repeated to fill one, as Mirador does.

Genre (GTZAN's 10 classes): trained on the GTZAN audio here whose ids are in the
fault-filtered train/valid splits (excerpts, originals, classical first-15 s clips); clips
of the test split are held out for `cargo xtask eval`.
Mood (4Q's Russell quadrants): 4Q clips split by artist, 80 % train / 20 % held out; the
held-out artists' clip names go to models/musicnn/mood_test.txt for `cargo xtask eval`.

Each head is standardization plus logistic regression, C chosen by 5-fold grouped cross-validation on the training clips, and a temperature that calibrates the clips'
probabilities (the mean over a clip's patches of softmax(logits / T)): T minimizes the
negative log-likelihood of the out-of-fold clip probabilities of that cross-validation, so
it is fitted on clips the folds' heads did not see (Guo et al., 2017). Writes
models/musicnn/{genre,mood}_head.json and heads_evaluation.json.

Usage: python heads.py --data ../shared/data --model models/musicnn [--onnx msd_musicnn.onnx]
"""

import argparse
import csv
import json
import os

import numpy as np
import onnxruntime
from musicnn_logmel import logmel as log_mel
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, GroupShuffleSplit
from sklearn.preprocessing import StandardScaler

SEED = 20261122
PATCH = 187
GENRES = ["blues", "classical", "country", "disco", "hiphop",
          "jazz", "metal", "pop", "reggae", "rock"]
QUADRANTS = ["Q1", "Q2", "Q3", "Q4"]
# The mood head's class names, as the view and `mirador analyze` show them.
QUADRANT_NAMES = ["Q1 happy", "Q2 tense", "Q3 sad", "Q4 calm"]
# Mood clips are 30 s: three patches (start, middle, end) keep training to minutes.
MOOD_PATCHES = 3


def patches(mel, limit=None):
    if len(mel) < PATCH:
        mel = np.concatenate([mel] * (PATCH // max(len(mel), 1) + 1))[:PATCH]
    starts = list(range(0, len(mel) - PATCH + 1, PATCH))
    if limit and len(starts) > limit:
        starts = [starts[round(i * (len(starts) - 1) / (limit - 1))] for i in range(limit)]
    return [mel[s:s + PATCH] for s in starts]


class Embedder:
    def __init__(self, onnx_path):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        self.session = onnxruntime.InferenceSession(onnx_path, options)

    def __call__(self, path, limit=None):
        out = []
        for p in patches(log_mel(path), limit):
            emb = self.session.run(["embedding"], {"mel": p[None]})[0][0]
            out.append(emb)
        return out


def split_ids(data, name):
    with open(os.path.join(data, "gtzan", "splits", f"fault_filtered_{name}.txt")) as f:
        return {line.strip() for line in f if line.strip()}


def clip_probabilities(logits, y, clips, temperature):
    """Each clip's mean over its patches of softmax(logits / T), and its label."""
    z = logits / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    order = sorted(set(clips))
    index = {c: i for i, c in enumerate(order)}
    total = np.zeros((len(order), logits.shape[1]))
    count = np.zeros(len(order))
    label = np.zeros(len(order), dtype=int)
    for row, clip in enumerate(clips):
        total[index[clip]] += p[row]
        count[index[clip]] += 1
        label[index[clip]] = y[row]
    return total / count[:, None], label


def ece(p, label, bins=10):
    """Expected calibration error of the top class over equal-width bins."""
    top, right = p.max(axis=1), p.argmax(axis=1) == label
    which = np.minimum((top * bins).astype(int), bins - 1)
    return float(sum(abs(top[which == b].sum() - right[which == b].sum())
                     for b in range(bins)) / len(top))


def fit_temperature(logits, y, clips):
    """T minimizing the clips' negative log-likelihood, with ECE before and after."""
    def nll(log_t):
        p, label = clip_probabilities(logits, y, clips, np.exp(log_t))
        return -np.mean(np.log(p[np.arange(len(label)), label] + 1e-12))
    t = float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))
    before = ece(*clip_probabilities(logits, y, clips, 1.0))
    after = ece(*clip_probabilities(logits, y, clips, t))
    return t, before, after


def fit_head(x, y, groups, clips, classes):
    """Logistic regression with C chosen by grouped 5-fold CV, and a temperature fitted on
    that CV's out-of-fold clip probabilities; returns (head, cv accuracy, calibration)."""
    best = None
    for c in (0.001, 0.01, 0.1, 1.0):
        scores = []
        logits = np.zeros((len(x), len(classes)))
        for a, b in GroupKFold(n_splits=5).split(x, y, groups):
            scaler = StandardScaler().fit(x[a])
            m = LogisticRegression(C=c, max_iter=5000).fit(scaler.transform(x[a]), y[a])
            scores.append((m.predict(scaler.transform(x[b])) == y[b]).mean())
            logits[b] = m.decision_function(scaler.transform(x[b]))
        print(f"  C={c}: grouped 5-fold {np.mean(scores):.3f}", flush=True)
        if best is None or np.mean(scores) > best[0]:
            best = (float(np.mean(scores)), c, logits)
    temperature, before, after = fit_temperature(best[2], y, clips)
    print(f"  temperature {temperature:.3f}: out-of-fold clip ECE {before:.3f} -> {after:.3f}",
          flush=True)
    scaler = StandardScaler().fit(x)
    m = LogisticRegression(C=best[1], max_iter=5000).fit(scaler.transform(x), y)
    head = {"classes": classes, "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
            "network": {"layers": [{"weights": m.coef_.tolist(), "bias": m.intercept_.tolist()}]},
            "temperature": temperature,
            "hyperparameters": f"logistic regression, C={best[1]}, temperature {temperature:.3f}"}
    calibration = {"temperature": temperature, "out_of_fold_clip_ece_before": before,
                   "out_of_fold_clip_ece_after": after}
    return head, best[0], calibration


def clip_accuracy(head, per_clip, labels):
    """The share of clips whose calibrated mean probability peaks on their label."""
    if not labels:
        return 0.0
    scaler_mean, scaler_scale = np.array(head["mean"]), np.array(head["scale"])
    layer = head["network"]["layers"][0]
    w, b = np.array(layer["weights"]), np.array(layer["bias"])
    logits, y, clips = [], [], []
    for clip, (embs, label) in enumerate(zip(per_clip, labels)):
        z = ((np.array(embs) - scaler_mean) / scaler_scale) @ w.T + b
        logits.append(z)
        y += [label] * len(z)
        clips += [clip] * len(z)
    p, label = clip_probabilities(np.vstack(logits), y, clips, head["temperature"])
    return float((p.argmax(axis=1) == label).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="models/musicnn or models/cnn")
    ap.add_argument("--onnx", default="msd_musicnn.onnx", help="the network in --model")
    args = ap.parse_args()
    embed = Embedder(os.path.join(args.model, args.onnx))
    evaluation = {}

    # ---- genre ----
    held_out = split_ids(args.data, "test")
    x, y, groups = [], [], []
    for folder in ("excerpts", "full", "classical_first15s"):
        root = os.path.join(args.data, "gtzan", folder)
        for name in sorted(os.listdir(root)):
            clip = name.rsplit(".", 1)[0]
            if clip in held_out:
                continue
            for e in embed(os.path.join(root, name)):
                x.append(e)
                y.append(GENRES.index(clip.split(".")[0]))
                groups.append(clip)
    print(f"genre: {len(set(groups))} clips, {len(x)} patches", flush=True)
    head, cv, calibration = fit_head(np.array(x), np.array(y), np.array(groups), groups, GENRES)
    head["name"] = "genre"
    with open(os.path.join(args.model, "genre_head.json"), "w") as f:
        json.dump(head, f, separators=(",", ":"))
    test_clips = [(os.path.join(args.data, "gtzan", "excerpts", name), name.split(".")[0])
                  for name in sorted(os.listdir(os.path.join(args.data, "gtzan", "excerpts")))
                  if name.rsplit(".", 1)[0] in held_out]
    reference_test = clip_accuracy(head, [embed(p) for p, _ in test_clips],
                                   [GENRES.index(g) for _, g in test_clips])
    print(f"genre: held-out test-split excerpts {reference_test:.3f} (python reference)",
          flush=True)
    evaluation["genre"] = {"train_clips": len(set(groups)), "train_patches": len(x),
                           "grouped_cv5_patch_accuracy": cv,
                           "reference_test_excerpts": len(test_clips),
                           "reference_test_accuracy": reference_test,
                           "calibration": calibration,
                           "hyperparameters": head["hyperparameters"]}

    # ---- mood ----
    with open(os.path.join(args.data, "4q", "panda_dataset_taffc_metadata.csv")) as f:
        artist = {r["Song"]: r["Artist"] for r in csv.DictReader(f)}
    clips = []
    for q in QUADRANTS:
        for name in sorted(os.listdir(os.path.join(args.data, "4q", q))):
            song = name.rsplit(".", 1)[0]
            clips.append((os.path.join(args.data, "4q", q, name), QUADRANTS.index(q),
                          artist.get(song, song)))
    split = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=SEED)
    train, test = next(split.split(clips, groups=[c[2] for c in clips]))
    x, y, groups, clip_of = [], [], [], []
    for i in train:
        path, q, who = clips[i]
        for e in embed(path, MOOD_PATCHES):
            x.append(e)
            y.append(q)
            groups.append(who)
            clip_of.append(i)
    print(f"mood: {len(train)} clips, {len(x)} patches", flush=True)
    head, cv, calibration = fit_head(np.array(x), np.array(y), np.array(groups), clip_of,
                                     QUADRANT_NAMES)
    head["name"] = "mood"
    with open(os.path.join(args.model, "mood_head.json"), "w") as f:
        json.dump(head, f, separators=(",", ":"))
    test_paths = sorted(os.path.relpath(clips[i][0], os.path.join(args.data, "4q"))
                        for i in test)
    with open(os.path.join(args.model, "mood_test.txt"), "w") as f:
        f.write("\n".join(test_paths) + "\n")
    reference_test = clip_accuracy(head, [embed(clips[i][0], MOOD_PATCHES) for i in test],
                                   [clips[i][1] for i in test])
    print(f"mood: held-out artists' clips {reference_test:.3f} (python reference)", flush=True)
    evaluation["mood"] = {"train_clips": len(train), "test_clips": len(test),
                          "grouped_cv5_patch_accuracy": cv,
                          "reference_test_accuracy": reference_test,
                          "calibration": calibration,
                          "hyperparameters": head["hyperparameters"]}
    with open(os.path.join(args.model, "heads_evaluation.json"), "w") as f:
        json.dump(evaluation, f, indent=1)


if __name__ == "__main__":
    main()
