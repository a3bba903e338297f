"""Fine-tunes BeatNet's model 1 (PyPI BeatNet 1.1.3, CC BY 4.0) on the GTZAN clips here with
beat annotations, keeping the even clip ids out: they evaluate it (`cargo xtask eval`).

Training clips: odd ids in gtzan/full, gtzan/first_15_20s and gtzan/classical_first15s
(beat_this annotations; past a clip's end they do not apply). A fifth of them validate, those
whose id // 2 % 5 is `--fold` (0 unless told): the epoch whose network gives the best beat
F-measure on them through madmom's DBN (the decoder `mirador analyze` ports) is kept. Runs
in the BeatNet venv (`models/training/beatnet_venv.sh`) on CPU, deterministic.
`--held-out K` leaves the fifth K out of both (`beatnet_crossval.py`). `--split-weight W`
learns which beats are downbeats from model 1 instead of the annotations (a lever tried for
the downbeats, not shipped: models/beatnet/README.md).

    target/beatnet-venv/bin/python models/training/beatnet_finetune.py --data ../shared/data \
        --out target/beatnet-finetuned.pt
"""

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

warnings.filterwarnings("ignore")
import librosa  # noqa: E402
import mir_eval  # noqa: E402
from madmom.features.downbeats import DBNDownBeatTrackingProcessor  # noqa: E402

from beatnet_export import HIDDEN, features, load_network  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FPS = 50
FOLDERS = ["gtzan/full", "gtzan/first_15_20s", "gtzan/classical_first15s"]
CHUNK = 400  # frames (8 s) per training sequence
BATCH = 16
EPOCHS = 8
LEARNING_RATE = 3e-5
# Frames next to an annotated beat are half beat: the annotations are not frame-exact.
NEIGHBOUR = 0.5
FOLDS = 5


def fold(number):
    """Which fifth of the odd ids a clip's id falls in (0 validates unless told)."""
    return (number // 2) % FOLDS


def clips(data):
    """(id, path, beats [time, beat-in-bar]) of every clip with audio and beat annotations."""
    out = []
    for folder in FOLDERS:
        for name in sorted(os.listdir(Path(data) / folder)):
            stem = name.rsplit(".", 1)[0]
            genre, number = stem.split(".")
            ann = Path(data) / f"gtzan/annotations/beat_this/beats/gtzan_{genre}_{number}.beats"
            if not ann.exists():
                continue
            beats = np.loadtxt(ann, ndmin=2)
            if beats.shape[1] == 1:
                # Beat times only (no bar positions), as a few clips have: no downbeats.
                beats = np.column_stack([beats[:, 0], np.zeros(len(beats))])
            out.append((int(number), f"{genre}.{number}", Path(data) / folder / name, beats))
    return out


def targets(beats, frames):
    """[frames, 3] soft targets in BeatNet's order: beat (not downbeat), downbeat, none."""
    t = np.zeros((frames, 3), np.float32)
    for time, position in beats:
        frame = int(round(time * FPS))
        cls = 1 if int(position) == 1 else 0
        for offset, weight in [(0, 1.0), (-1, NEIGHBOUR), (1, NEIGHBOUR)]:
            f = frame + offset
            if 0 <= f < frames:
                t[f, cls] = max(t[f, cls], weight)
    t[:, 2] = 1.0 - t[:, :2].sum(1).clip(0, 1)
    return t / t.sum(1, keepdims=True)


def logits(net, x):
    """BDA over a batch of sequences [batch, frames, 272] from zero state: [batch, frames, 3]."""
    b, n, d = x.shape
    y = F.max_pool1d(F.relu(net.conv1(x.reshape(b * n, 1, d))), 2)
    y = net.linear0(y.reshape(b * n, -1)).reshape(b, n, -1)
    zeros = torch.zeros(2, b, HIDDEN)
    y, _ = net.lstm(y, (zeros, zeros))
    return net.linear(y)


def loss_of(net, model1, x, t, split_weight):
    """Soft cross-entropy against the annotations' beat, downbeat or neither; with a
    `split_weight`, against beat or not only, plus that weight times the cross-entropy of
    the beat/downbeat split against model 1's at the annotated beats."""
    log_p = torch.log_softmax(logits(net, x), -1)
    if not split_weight:
        return -(t * log_p).sum(-1).mean()
    log_beat = torch.logsumexp(log_p[..., :2], -1)
    is_beat = t[..., 0] + t[..., 1]
    beat_or_not = -(is_beat * log_beat + t[..., 2] * log_p[..., 2]).mean()
    with torch.no_grad():
        split = torch.softmax(logits(model1, x), -1)[..., :2]
        split = split / split.sum(-1, keepdim=True)
    log_split = log_p[..., :2] - log_beat[..., None]
    return beat_or_not - split_weight * (is_beat * (split * log_split).sum(-1)).mean()


def beat_f(net, items):
    """Mean beat F-measure (mir_eval, first 5 s skipped) of madmom's DBN over the network."""
    dbn = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=FPS)
    scores = []
    with torch.no_grad():
        for feats, _, beats in items:
            p = torch.softmax(logits(net, torch.from_numpy(feats)[None]), -1)[0].numpy()
            # (beat, downbeat), as BeatNet's offline mode and Mirador's decoder take them.
            found = dbn(p[:, :2])
            est = found[:, 0] if len(found) else np.zeros(0)
            ref = mir_eval.beat.trim_beats(beats[:, 0])
            scores.append(mir_eval.beat.f_measure(ref, mir_eval.beat.trim_beats(est)))
    return float(np.mean(scores))


def held_out_network(data, folder, k, split_weight=0.0):
    """The weights fine-tuned without the fifth `k` of odd ids (the next fifth validating), as
    the cross-validations use them: `folder`/fold`k`.pt, made by running this script unless
    it is already there. Returns the path."""
    weights = Path(folder) / f"fold{k}.pt"
    if not weights.exists():
        subprocess.run([sys.executable, "-W", "ignore", __file__, "--data", str(data),
                        "--out", str(weights), "--held-out", str(k),
                        "--fold", str((k + 1) % FOLDS), "--split-weight", str(split_weight)],
                       check=True, stdout=sys.stderr)
    return weights


def held_out_networks(data, folder=None, split_weight=0.0):
    """Yields (k, weights) for each fifth k of odd ids, from `held_out_network`: kept in
    `folder` and reused when it is given, made in a temporary folder otherwise (removed once
    the loop ends)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(folder or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(FOLDS):
            yield k, held_out_network(data, folder, k, split_weight)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.environ.get("MIRADOR_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default=ROOT / "target" / "beatnet-finetuned.pt")
    parser.add_argument("--fold", type=int, default=0, help="the fifth of odd ids that validates")
    parser.add_argument("--held-out", type=int, help="a fifth of odd ids left out altogether")
    parser.add_argument("--split-weight", type=float, default=0.0,
                        help="learn which beats are downbeats from model 1 (not shipped)")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)

    train, valid = [], []
    for number, stem, path, beats in clips(args.data):
        if number % 2 == 0 or fold(number) == args.held_out:
            continue  # held out for the eval (or the cross-validation)
        audio, _ = librosa.load(path, sr=22050)
        feats = features(audio)
        beats = beats[beats[:, 0] < len(audio) / 22050]
        item = (feats, targets(beats, len(feats)), beats)
        (valid if fold(number) == args.fold else train).append(item)
    print(f"train {len(train)} clips, validate {len(valid)}", flush=True)

    net = load_network()
    model1 = load_network() if args.split_weight else None
    best = beat_f(net, valid)
    print(f"epoch 0 (BeatNet's weights): validation F {best:.4f}", flush=True)
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    # Every chunk start of every clip, in a fresh order each epoch.
    starts = [(i, s) for i, (f, _, _) in enumerate(train) for s in range(0, max(1, len(f) - CHUNK), CHUNK // 2)]
    for epoch in range(1, EPOCHS + 1):
        net.train()
        order = rng.permutation(len(starts))
        total = 0.0
        for b in range(0, len(order), BATCH):
            xs, ts = [], []
            for j in order[b : b + BATCH]:
                i, s = starts[j]
                f, t, _ = train[i]
                xs.append(np.pad(f[s : s + CHUNK], ((0, max(0, s + CHUNK - len(f))), (0, 0))))
                ts.append(np.pad(t[s : s + CHUNK], ((0, max(0, s + CHUNK - len(t))), (0, 0))))
            x, t = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ts))
            loss = loss_of(net, model1, x, t, args.split_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xs)
        net.eval()
        f = beat_f(net, valid)
        print(f"epoch {epoch}: train loss {total / len(starts):.4f}, validation F {f:.4f}", flush=True)
        if f > best:
            best, best_state = f, {k: v.clone() for k, v in net.state_dict().items()}
    torch.save(best_state, args.out)
    print(f"kept validation F {best:.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
