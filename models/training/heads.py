"""Trains the genre and mood heads on what a patch network gives: for musicnn, the 200-d
embeddings and 50 tag likelihoods of both its models (models/musicnn/msd_musicnn.onnx and
mtt_musicnn.onnx, 500 values in all: both embeddings, then both tag sets); for the distilled
CNN (models/cnn/cnn.onnx), its 200-d embedding.

They come from the reference pipeline: musicnn's own log-mel front end (musicnn_logmel.py,
librosa) and onnxruntime on the networks, kept in target/heads-cache/.
A clip gives one embedding per 3 s patch (187 frames, no overlap); a clip shorter than a
patch is repeated to fill one, as Mirador does. Every patch of a clip trains.

Mood (4Q's Russell quadrants): 4Q clips split by artist, 80 % train / 20 % held out; the
held-out artists' clip names go to models/musicnn/mood_test.txt for `cargo xtask eval`.
Genre (GTZAN's 10 classes): the GTZAN audio here whose ids are in the fault-filtered
train/valid splits (excerpts, originals, classical first-15 s and other first-15-20 s
clips), Emotify's classical, pop and rock tracks 1-50, and the 4Q training artists' clips
whose AllMusic genres map onto GTZAN's. Held out for `cargo xtask eval`: GTZAN's test
split, Emotify's tracks 51-100, the 4Q held-out artists.

Each head is standardization plus logistic regression, C chosen by 5-fold grouped
cross-validation on the training clips, and a temperature that calibrates the clips'
probabilities (the mean over a clip's patches of softmax(logits / T)): T minimizes the
negative log-likelihood of the out-of-fold clip probabilities of that cross-validation, so
it is fitted on clips the folds' heads did not see (Guo et al., 2017). Writes
models/musicnn/{genre,mood}_head.json and heads_evaluation.json.

Usage: python heads.py --data ../shared/data --model models/musicnn \
           [--onnx msd_musicnn.onnx mtt_musicnn.onnx --tags]
"""

import argparse
import csv
import hashlib
import json
import os
import pickle

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


def patches(mel):
    if len(mel) < PATCH:
        mel = np.concatenate([mel] * (PATCH // max(len(mel), 1) + 1))[:PATCH]
    return [mel[s:s + PATCH] for s in range(0, len(mel) - PATCH + 1, PATCH)]


class Embedder:
    """What the heads read from each of a clip's patches: the networks' embeddings, then
    (with `tags`) their tag likelihoods, as Mirador's `tagger::Network` gives them. Kept in
    target/heads-cache/ by the networks' hash and the clip's path (retraining a network, or
    another checkout, starts a new cache)."""

    def __init__(self, onnx_paths, tags=False):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        self.sessions = [onnxruntime.InferenceSession(p, options) for p in onnx_paths]
        self.outputs = ["embedding", "tags"] if tags else ["embedding"]
        digest = hashlib.sha256(str(self.outputs).encode())
        for p in onnx_paths:
            with open(p, "rb") as f:
                digest.update(f.read())
        digest = digest.hexdigest()[:16]
        root = os.path.join(os.path.dirname(__file__), "..", "..", "target", "heads-cache")
        os.makedirs(root, exist_ok=True)
        self.cache_path = os.path.join(root, f"{digest}.pkl")
        self.cache = {}
        if os.path.exists(self.cache_path):
            with open(self.cache_path, "rb") as f:
                self.cache = pickle.load(f)
        self.unsaved = 0

    def __call__(self, path):
        key = os.path.realpath(path)
        if key not in self.cache:
            self.cache[key] = np.array([self.features(p) for p in patches(log_mel(path))])
            self.unsaved += 1
            if self.unsaved >= 200:
                self.save()
        return self.cache[key]

    def features(self, patch):
        runs = [s.run(self.outputs, {"mel": patch[None]}) for s in self.sessions]
        return np.concatenate([run[i][0] for i in range(len(self.outputs)) for run in runs])

    def save(self):
        if self.unsaved:
            with open(self.cache_path + ".tmp", "wb") as f:
                pickle.dump(self.cache, f)
            os.replace(self.cache_path + ".tmp", self.cache_path)
            self.unsaved = 0


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


def clip_probability(head, embeddings):
    """A clip's calibrated probabilities: the mean over its patches of the head's softmax."""
    layer = head["network"]["layers"][0]
    z = ((np.array(embeddings) - np.array(head["mean"])) / np.array(head["scale"])) \
        @ np.array(layer["weights"]).T + np.array(layer["bias"])
    p, _ = clip_probabilities(z, [0] * len(z), [0] * len(z), head["temperature"])
    return p[0]


def clip_accuracy(head, per_clip, labels):
    """The share of clips whose calibrated mean probability peaks on their label."""
    if not labels:
        return 0.0
    return float(np.mean([clip_probability(head, embs).argmax() == label
                          for embs, label in zip(per_clip, labels)]))


# AllMusic's genres in 4Q's metadata that map onto GTZAN's (Pop/Rock, under which AllMusic
# files metal, onto three); xtask/src/eval/sets.rs maps the held-out clips the same way.
ALLMUSIC_TO_GTZAN = {"Blues": ["blues"], "Classical": ["classical"], "Country": ["country"],
                     "Jazz": ["jazz"], "Rap": ["hiphop"], "Reggae": ["reggae"],
                     "Pop/Rock": ["pop", "rock", "metal"]}
# Emotify's genres GTZAN has; its tracks 1-50 of each train the genre head, 51-100 are held
# out (`cargo xtask eval`). Emotify names no artists; consecutive numbers keep an album's
# neighbouring tracks more likely on one side.
EMOTIFY_GENRES = ["classical", "pop", "rock"]
EMOTIFY_TRAIN_LAST = 50


def four_q_split(data):
    """4Q's clips as (path, quadrant index, artist), and the indices of the training and the
    held-out artists' clips (held out from both heads)."""
    with open(os.path.join(data, "4q", "panda_dataset_taffc_metadata.csv")) as f:
        artist = {r["Song"]: r["Artist"] for r in csv.DictReader(f)}
    clips = []
    for q in QUADRANTS:
        for name in sorted(os.listdir(os.path.join(data, "4q", q))):
            song = name.rsplit(".", 1)[0]
            clips.append((os.path.join(data, "4q", q, name), QUADRANTS.index(q),
                          artist.get(song, song)))
    split = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=SEED)
    train, test = next(split.split(clips, groups=[c[2] for c in clips]))
    return clips, train, test


def allmusic_genres(data):
    """A function from a 4Q clip's path to the GTZAN genres its AllMusic genres map onto."""
    with open(os.path.join(data, "4q", "panda_dataset_taffc_metadata.csv")) as f:
        genres = {r["Song"]: r["GenresStr"] for r in csv.DictReader(f)}

    def mapped(path):
        song = os.path.basename(path).rsplit(".", 1)[0]
        return [g for listed in genres.get(song, "").split(";")
                for g in ALLMUSIC_TO_GTZAN.get(listed.strip(), [])]
    return mapped


def test_excerpts(data):
    """(path, genre) of the GTZAN excerpts in the fault-filtered test split."""
    held_out = split_ids(data, "test")
    root = os.path.join(data, "gtzan", "excerpts")
    return [(os.path.join(root, name), name.split(".")[0]) for name in sorted(os.listdir(root))
            if name.rsplit(".", 1)[0] in held_out]


def genre_clips(data, four_q_train):
    """(path, accepted GTZAN genres, group) of every clip the genre head may train on."""
    held_out = split_ids(data, "test")
    clips = []
    for folder in ("excerpts", "full", "classical_first15s", "first_15_20s"):
        root = os.path.join(data, "gtzan", folder)
        for name in sorted(os.listdir(root)):
            clip = name.rsplit(".", 1)[0]
            if clip not in held_out:
                clips.append((os.path.join(root, name), [clip.split(".")[0]], clip))
    for genre in EMOTIFY_GENRES:
        root = os.path.join(data, "emotify", genre)
        for name in sorted(os.listdir(root), key=lambda n: int(n.split(".")[0])):
            if int(name.split(".")[0]) <= EMOTIFY_TRAIN_LAST:
                clips.append((os.path.join(root, name), [genre], f"emotify/{genre}/{name}"))
    gtzan_genres = allmusic_genres(data)
    for path, _, artist in four_q_train:
        mapped = gtzan_genres(path)
        if mapped:
            clips.append((path, mapped, artist))
    return clips


def train_genre(embed, clips):
    """The genre head on clips with one genre; a clip AllMusic files under several (Pop/Rock)
    takes the one of them a first head, trained without those clips, finds most likely."""
    def fit(labelled):
        x, y, groups, clip_of = [], [], [], []
        for i, (path, genre, group) in enumerate(labelled):
            for e in embed(path):
                x.append(e)
                y.append(GENRES.index(genre))
                groups.append(group)
                clip_of.append(i)
        print(f"genre: {len(labelled)} clips, {len(x)} patches", flush=True)
        return fit_head(np.array(x), np.array(y), np.array(groups), clip_of, GENRES)

    single = [(path, genres[0], group) for path, genres, group in clips if len(genres) == 1]
    first, _, _ = fit(single)
    several = []
    for path, genres, group in clips:
        if len(genres) > 1:
            p = clip_probability(first, embed(path))
            several.append((path, max(genres, key=lambda g: p[GENRES.index(g)]), group))
    head, cv, calibration = fit(single + several)
    return head, cv, calibration, len(several)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="models/musicnn or models/cnn")
    ap.add_argument("--onnx", nargs="+", default=["msd_musicnn.onnx"],
                    help="the networks in --model")
    ap.add_argument("--tags", action="store_true", help="heads read the tags too")
    args = ap.parse_args()
    embed = Embedder([os.path.join(args.model, n) for n in args.onnx], args.tags)
    evaluation = {}

    clips, train, test = four_q_split(args.data)

    # ---- genre ----
    genre_training = genre_clips(args.data, [clips[i] for i in train])
    head, cv, calibration, pseudo = train_genre(embed, genre_training)
    head["name"] = "genre"
    with open(os.path.join(args.model, "genre_head.json"), "w") as f:
        json.dump(head, f, separators=(",", ":"))
    test_clips = test_excerpts(args.data)
    reference_test = clip_accuracy(head, [embed(p) for p, _ in test_clips],
                                   [GENRES.index(g) for _, g in test_clips])
    print(f"genre: held-out test-split excerpts {reference_test:.3f} (python reference)",
          flush=True)
    evaluation["genre"] = {"train_clips": len(genre_training),
                           "train_clips_labelled_by_a_first_head": pseudo,
                           "grouped_cv5_patch_accuracy": cv,
                           "reference_test_excerpts": len(test_clips),
                           "reference_test_accuracy": reference_test,
                           "calibration": calibration,
                           "hyperparameters": head["hyperparameters"]}

    # ---- mood ----
    x, y, groups, clip_of = [], [], [], []
    for i in train:
        path, q, who = clips[i]
        for e in embed(path):
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
    reference_test = clip_accuracy(head, [embed(clips[i][0]) for i in test],
                                   [clips[i][1] for i in test])
    print(f"mood: held-out artists' clips {reference_test:.3f} (python reference)", flush=True)
    evaluation["mood"] = {"train_clips": len(train), "test_clips": len(test),
                          "grouped_cv5_patch_accuracy": cv,
                          "reference_test_accuracy": reference_test,
                          "calibration": calibration,
                          "hyperparameters": head["hyperparameters"]}
    with open(os.path.join(args.model, "heads_evaluation.json"), "w") as f:
        json.dump(evaluation, f, indent=1)
    embed.save()


if __name__ == "__main__":
    main()
