"""Reprints the cross-validation that chose what musicnn's genre head reads
(models/musicnn/README.md, "Why both models"): for each input, the share of each training
source's clips (GTZAN train/valid, Emotify 1-50, the 4Q training artists) the head names right
out of fold, grouped 5-fold as heads.py groups them, both heads' C at 0.01, the Pop/Rock clips
labelled once by a first head on all of them. Only training clips: no held-out clip is read.

Usage: python heads_crossval.py --data ../shared/data --model ../musicnn
"""

import argparse
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

import heads

C = 0.01
# Columns of what Embedder([msd, mtt], tags=True) gives: both embeddings, then both tag sets.
PARTS = {"MSD embedding": slice(0, 200), "MTT embedding": slice(200, 400),
         "MSD tags": slice(400, 450), "MTT tags": slice(450, 500)}
INPUTS = [["MSD embedding"], ["MSD embedding", "MSD tags"], ["MSD embedding", "MTT embedding"],
          ["MSD embedding", "MTT embedding", "MSD tags", "MTT tags"]]


def fit(patches, labels):
    scaler = StandardScaler().fit(patches)
    return scaler, LogisticRegression(C=C, max_iter=3000).fit(scaler.transform(patches), labels)


def clip_genre(model, patches):
    scaler, m = model
    return heads.GENRES[int(np.argmax(m.predict_proba(scaler.transform(patches)).mean(0)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="models/musicnn")
    args = ap.parse_args()
    embed = heads.Embedder([os.path.join(args.model, n)
                            for n in ("msd_musicnn.onnx", "mtt_musicnn.onnx")], tags=True)
    four_q, train, _ = heads.four_q_split(args.data)
    clips = heads.genre_clips(args.data, [four_q[i] for i in train])

    print("| heads read | GTZAN | Emotify 1-50 | 4Q | mean |\n|---|---:|---:|---:|---:|")
    for parts in INPUTS:
        x = {path: np.concatenate([embed(path)[:, PARTS[p]] for p in parts], 1)
             for path, _, _ in clips}

        def train_on(labelled):
            return fit(np.concatenate([x[p] for p, _ in labelled]),
                       np.concatenate([[heads.GENRES.index(g)] * len(x[p]) for p, g in labelled]))

        first = train_on([(p, g[0]) for p, g, _ in clips if len(g) == 1])
        labelled = []
        for path, genres, _ in clips:
            if len(genres) == 1:
                labelled.append((path, genres[0]))
            else:  # Pop/Rock: the one of pop, rock and metal the first head finds likeliest
                scaler, m = first
                p = m.predict_proba(scaler.transform(x[path])).mean(0)
                labelled.append((path, max(genres, key=lambda g: p[heads.GENRES.index(g)])))
        right = {"gtzan": [], "emotify": [], "4q": []}
        for a, b in GroupKFold(n_splits=5).split(clips, groups=[c[2] for c in clips]):
            model = train_on([labelled[i] for i in a])
            for i in b:
                path, accepted, group = clips[i]
                source = ("emotify" if group.startswith("emotify/")
                          else "gtzan" if os.sep + "gtzan" + os.sep in path else "4q")
                right[source].append(clip_genre(model, x[path]) in accepted)
        shares = [100 * np.mean(right[s]) for s in ("gtzan", "emotify", "4q")]
        print(f"| {' + '.join(parts)} | " + " | ".join(f"{v:.1f} %" for v in shares)
              + f" | {np.mean(shares):.1f} % |", flush=True)
    embed.save()


if __name__ == "__main__":
    main()
