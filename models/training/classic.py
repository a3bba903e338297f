"""Trains the five classic genre classifiers of the GTZAN feature-table pipeline.

k-nearest neighbours, logistic regression, an RBF SVM, a small neural network (MLP) and
gradient-boosted trees (XGBoost), each on the 57 features of features_30_sec.csv (every
column but filename, length and label), standardized.

Hyperparameters are chosen on the fault-filtered validation split (trained on its train
split); the shipped models are then trained on train+valid and scored on the test split.
10-fold stratified cross-validation over all 1000 rows is reported too (it mixes artists
across folds, so it flatters every model).

Each model is written as JSON that `mirador-models` reads (models/classic/<name>.json), with
a numpy re-implementation of its inference checked here against the library's own
predict_proba, so the Rust port has an exact spec. Golden inputs and outputs for the Rust
parity test go to models/classic/golden.json; the accuracies to models/classic/evaluation.json.

Usage: python classic.py --data ../shared/data/gtzan --out models/classic
"""

import argparse
import csv
import json
import os

import numpy as np
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

SEED = 20261122
GENRES = ["blues", "classical", "country", "disco", "hiphop",
          "jazz", "metal", "pop", "reggae", "rock"]


def load(data):
    with open(os.path.join(data, "features_30_sec.csv")) as f:
        rows = list(csv.DictReader(f))
    names = [c for c in rows[0] if c not in ("filename", "length", "label")]
    ids = [r["filename"].rsplit(".", 1)[0] for r in rows]
    x = np.array([[float(r[c]) for c in names] for r in rows])
    y = np.array([GENRES.index(r["label"]) for r in rows])
    return names, ids, x, y


def split_ids(data, name):
    with open(os.path.join(data, "splits", f"fault_filtered_{name}.txt")) as f:
        return {line.strip() for line in f if line.strip()}


# ---- the candidates: name -> list of (description, factory) -------------------------------

def candidates():
    return {
        "knn": [(f"k={k}, {w}", lambda k=k, w=w: KNeighborsClassifier(n_neighbors=k, weights=w))
                for k in (1, 3, 5, 7, 9, 15) for w in ("uniform", "distance")],
        "logreg": [(f"C={c}", lambda c=c: LogisticRegression(C=c, max_iter=5000))
                   for c in (0.01, 0.1, 1.0, 10.0)],
        "svm": [(f"C={c}", lambda c=c: SVC(C=c, kernel="rbf", gamma="scale", probability=True,
                                            random_state=SEED))
                for c in (1.0, 3.0, 10.0, 30.0)],
        "nn": [(f"hidden={h}, alpha={a}",
                lambda h=h, a=a: MLPClassifier(hidden_layer_sizes=h, alpha=a, max_iter=2000,
                                               early_stopping=False, random_state=SEED))
               for h in ((128,), (256, 128)) for a in (1e-3, 1e-1, 1.0)],
        "xgb": [(f"depth={d}, trees={n}",
                 lambda d=d, n=n: xgboost.XGBClassifier(
                     n_estimators=n, max_depth=d, learning_rate=0.1, subsample=0.8,
                     colsample_bytree=0.8, objective="multi:softprob", random_state=SEED,
                     n_jobs=2, tree_method="exact"))
                for d in (3, 5) for n in (200, 400)],
    }


# ---- export and reference inference ------------------------------------------------------

def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def export_knn(m, x_train, y_train):
    return {"k": int(m.n_neighbors), "weights": m.weights,
            "points": x_train.tolist(), "labels": y_train.tolist()}


def infer_knn(p, x):
    pts, labels = np.array(p["points"]), np.array(p["labels"])
    out = np.zeros((len(x), len(GENRES)))
    for i, row in enumerate(x):
        d = np.sqrt(((pts - row) ** 2).sum(axis=1))
        near = np.argsort(d, kind="stable")[: p["k"]]
        if p["weights"] == "distance":
            dn = d[near]
            w = np.where(dn == 0, 1.0, 0.0) if (dn == 0).any() else 1.0 / dn
        else:
            w = np.ones(len(near))
        for j, wj in zip(near, w):
            out[i, labels[j]] += wj
        out[i] /= out[i].sum()
    return out


def export_logreg(m):
    return {"weights": m.coef_.tolist(), "bias": m.intercept_.tolist()}


def infer_logreg(p, x):
    return softmax(x @ np.array(p["weights"]).T + np.array(p["bias"]))


def export_svm(m):
    return {"gamma": float(m._gamma), "support_vectors": m.support_vectors_.tolist(),
            "n_support": m.n_support_.tolist(), "dual_coef": m.dual_coef_.tolist(),
            "rho": (-m.intercept_).tolist(), "prob_a": m.probA_.tolist(),
            "prob_b": m.probB_.tolist()}


def svm_pairwise(p, row):
    """libsvm's one-against-one decision values, in (0,1), (0,2).. (1,2).. order."""
    sv = np.array(p["support_vectors"])
    kernel = np.exp(-p["gamma"] * ((sv - row) ** 2).sum(axis=1))
    coef = np.array(p["dual_coef"])
    start = np.concatenate([[0], np.cumsum(p["n_support"])])
    k = len(p["n_support"])
    values = []
    for i in range(k):
        for j in range(i + 1, k):
            si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
            s = coef[j - 1, si] @ kernel[si] + coef[i, sj] @ kernel[sj]
            values.append(s - p["rho"][len(values)])
    return values


def sigmoid_predict(dec, a, b):
    f = dec * a + b
    return np.exp(-f) / (1.0 + np.exp(-f)) if f >= 0 else 1.0 / (1.0 + np.exp(f))


def coupling(r):
    """libsvm's multiclass_probability: pairwise probabilities to class probabilities."""
    k = len(r)
    q = np.zeros((k, k))
    for t in range(k):
        for j in range(k):
            if j != t:
                q[t, t] += r[j][t] * r[j][t]
                q[t, j] = -r[j][t] * r[t][j]
    p = np.full(k, 1.0 / k)
    for _ in range(max(100, k)):
        qp = q @ p
        pqp = p @ qp
        if np.abs(qp - pqp).max() < 0.005 / k:
            break
        for t in range(k):
            diff = (-qp[t] + pqp) / q[t, t]
            p[t] += diff
            pqp = (pqp + diff * (diff * q[t, t] + 2 * qp[t])) / (1 + diff) / (1 + diff)
            qp = (qp + diff * q[t]) / (1 + diff)
            p /= 1 + diff
    return p


def infer_svm(p, x):
    k = len(p["n_support"])
    out = []
    for row in x:
        dec = svm_pairwise(p, row)
        r = np.zeros((k, k))
        n = 0
        for i in range(k):
            for j in range(i + 1, k):
                prob = sigmoid_predict(dec[n], p["prob_a"][n], p["prob_b"][n])
                r[i, j] = min(max(prob, 1e-7), 1 - 1e-7)
                r[j, i] = 1 - r[i, j]
                n += 1
        out.append(coupling(r))
    return np.array(out)


def export_nn(m):
    assert m.activation == "relu" and m.out_activation_ == "softmax"
    return {"layers": [{"weights": w.T.tolist(), "bias": b.tolist()}
                       for w, b in zip(m.coefs_, m.intercepts_)]}


def infer_nn(p, x):
    h = x
    for i, layer in enumerate(p["layers"]):
        h = h @ np.array(layer["weights"]).T + np.array(layer["bias"])
        if i + 1 < len(p["layers"]):
            h = np.maximum(h, 0)
    return softmax(h)


def export_xgb(m):
    booster = m.get_booster()
    model = json.loads(booster.save_raw("json"))
    learner = model["learner"]
    gb = learner["gradient_booster"]["model"]
    base = json.loads(learner["learner_model_param"]["base_score"])
    base = base if isinstance(base, list) else [base] * len(GENRES)
    trees = []
    for tree, cls in zip(gb["trees"], gb["tree_info"]):
        trees.append({"class": cls, "left": tree["left_children"],
                      "right": tree["right_children"], "feature": tree["split_indices"],
                      "threshold": tree["split_conditions"],
                      "default_left": [bool(d) for d in tree["default_left"]]})
    return {"base_margin": base, "trees": trees}


def infer_xgb(p, x):
    margin = np.tile(np.array(p["base_margin"], dtype=np.float64), (len(x), 1))
    x32 = x.astype(np.float32)
    for tree in p["trees"]:
        for i, row in enumerate(x32):
            node = 0
            while tree["left"][node] != -1:
                v = row[tree["feature"][node]]
                go_left = tree["default_left"][node] if np.isnan(v) else v < np.float32(tree["threshold"][node])
                node = tree["left"][node] if go_left else tree["right"][node]
            margin[i, tree["class"]] += np.float32(tree["threshold"][node])
    return softmax(margin)


def export(name, m, x_train, y_train):
    if name == "knn":
        return export_knn(m, x_train, y_train)
    return {"logreg": export_logreg, "svm": export_svm, "nn": export_nn, "xgb": export_xgb}[name](m)


INFER = {"knn": infer_knn, "logreg": infer_logreg, "svm": infer_svm, "nn": infer_nn,
         "xgb": infer_xgb}


def fit(factory, x, y):
    scaler = StandardScaler().fit(x)
    return scaler, factory().fit(scaler.transform(x), y)


def accuracy(scaler, m, x, y):
    return float((m.predict(scaler.transform(x)) == y).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="../shared/data/gtzan")
    ap.add_argument("--out", required=True, help="models/classic")
    ap.add_argument("--only", help="train only this model (for development)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    names, ids, x, y = load(args.data)
    where = {s: np.array([i in split_ids(args.data, s) for i in ids])
             for s in ("train", "valid", "test")}
    fit_rows = where["train"] | where["valid"]
    test_x, test_y = x[where["test"]], y[where["test"]]
    evaluation, golden = {}, {"features": names, "classes": GENRES,
                              "ids": [i for i, t in zip(ids, where["test"]) if t][:40],
                              "inputs": test_x[:40].tolist(), "probabilities": {}}

    for name, options in candidates().items():
        if args.only and name != args.only:
            continue
        scored = []
        for description, factory in options:
            scaler, m = fit(factory, x[where["train"]], y[where["train"]])
            scored.append((accuracy(scaler, m, x[where["valid"]], y[where["valid"]]),
                           description, factory))
            print(f"{name:7s} {description:24s} valid {scored[-1][0]:.3f}", flush=True)
        valid_acc, description, factory = max(scored, key=lambda s: s[0])

        scaler, m = fit(factory, x[fit_rows], y[fit_rows])
        test_acc = accuracy(scaler, m, test_x, test_y)
        folds = StratifiedKFold(n_splits=10, shuffle=True, random_state=SEED)
        cv = [accuracy(*fit(factory, x[a], y[a]), x[b], y[b]) for a, b in folds.split(x, y)]
        print(f"{name:7s} chose {description}: test {test_acc:.3f}, "
              f"10-fold {np.mean(cv):.3f} ± {np.std(cv):.3f}", flush=True)

        params = export(name, m, scaler.transform(x[fit_rows]), y[fit_rows])
        reference = INFER[name](params, scaler.transform(test_x))
        library = m.predict_proba(scaler.transform(test_x))
        gap = float(np.abs(reference - library).max())
        assert gap < 1e-4, f"{name}: re-implementation differs from the library by {gap}"

        model = {"name": name, "hyperparameters": description, "classes": GENRES,
                 "features": names, "scaler": {"mean": scaler.mean_.tolist(),
                                               "scale": scaler.scale_.tolist()},
                 "model": params}
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump(model, f, separators=(",", ":"))
        golden["probabilities"][name] = reference[:40].tolist()
        evaluation[name] = {"hyperparameters": description, "valid_accuracy": valid_acc,
                            "test_accuracy": test_acc, "test_clips": int(where["test"].sum()),
                            "cv10_mean": float(np.mean(cv)), "cv10_std": float(np.std(cv)),
                            "reference_gap": gap}

    if not args.only:
        with open(os.path.join(args.out, "golden.json"), "w") as f:
            json.dump(golden, f, separators=(",", ":"))
        with open(os.path.join(args.out, "evaluation.json"), "w") as f:
            json.dump(evaluation, f, indent=1)


if __name__ == "__main__":
    main()
