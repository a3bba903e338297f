"""What fine-tuning BeatNet gives on clips it did not see (models/beatnet/README.md,
"Cross-validation"), on the odd GTZAN ids only: the clips with an even id stay for the eval.

For each fifth K of the odd ids, beatnet_finetune.py runs without K (`--held-out K`, the
next fifth validating), and K's clips are decoded with madmom's DBN (which `mirador analyze`
ports) from the activations of that network, and of model 1 as the package ships it. A
third row keeps the fine-tuned network's beats and meter but takes the bar's phase from both
networks: the phase whose beats have the highest mean log-odds of the two networks' mean
downbeat share. Prints beat F, downbeat F and tempo Acc1 (mir_eval, means over clips, as
beat_eval.py scores them) per set. Runs in the BeatNet venv, about 6 minutes on two cores.

    target/beatnet-venv/bin/python models/training/beatnet_crossval.py --data ../shared/data \
        [--split-weight W]
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
import librosa  # noqa: E402
from madmom.features.downbeats import DBNDownBeatTrackingProcessor  # noqa: E402

from beat_eval import annotation, median_tempo, score  # noqa: E402
from beatnet_export import features, load_network, sequence_activations  # noqa: E402
from beatnet_finetune import clips, fold, held_out_networks  # noqa: E402

ROWS = ["model 1", "fine-tuned", "fine-tuned, bar phase from both"]


def set_name(path):
    folder = path.parent.name
    if folder == "classical_first15s" or path.stem.startswith("classical"):
        return "classical"
    return "pop, 30 s" if folder == "full" else "eight other genres, 15-20 s"


def downbeat_share(activations, frames):
    """Each beat's downbeat share of its beat and downbeat peaks (within 40 ms)."""
    around = [activations[max(0, f - 2) : f + 3, :2].max(0) for f in frames]
    return np.array([d / (b + d + 1e-9) for b, d in around])


def rephased(found, shares):
    """`found`'s beats and meter, with the downbeat at the phase the shares favour."""
    beats, meter = found[:, 0], int(found[:, 1].max())
    share = np.clip(shares, 1e-4, 1 - 1e-4)
    log_odds = np.log(share / (1 - share))
    index = np.arange(len(beats))
    phase = int(np.argmax([log_odds[(index - p) % meter == 0].mean() for p in range(meter)]))
    return beats[(index - phase) % meter == 0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--split-weight", default="0", help="passed to beatnet_finetune.py")
    args = parser.parse_args()
    data = Path(args.data)
    dbn = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=50)
    model1 = load_network()
    results = {}  # (set, row) -> [score dicts]
    for k, weights in held_out_networks(data, split_weight=args.split_weight):
        tuned = load_network(weights)
        for number, _, path, _ in clips(data):
            if number % 2 == 0 or fold(number) != k:
                continue
            reference = annotation(data, path.relative_to(data))
            feats = features(librosa.load(path, sr=22050)[0])
            acts = {"model 1": sequence_activations(model1, feats),
                    "fine-tuned": sequence_activations(tuned, feats)}
            found = {name: dbn(np.clip(a[:, :2], 1e-6, 1)) for name, a in acts.items()}
            estimates = {name: (f[:, 0], f[f[:, 1] == 1, 0], median_tempo(f[:, 0]))
                         for name, f in found.items()}
            tuned_found = found["fine-tuned"]
            frames = np.round(tuned_found[:, 0] * 50).astype(int)
            shares = np.mean([downbeat_share(a, frames) for a in acts.values()], axis=0)
            estimates[ROWS[2]] = (tuned_found[:, 0], rephased(tuned_found, shares),
                                  estimates["fine-tuned"][2])
            for row, estimate in estimates.items():
                for name in (set_name(path), "all"):
                    results.setdefault((name, row), []).append(score(reference, estimate))
        print(f"fold {k} done", file=sys.stderr, flush=True)

    print("| set | clips | network | beat F | downbeat F | tempo Acc1 |\n|---|---:|---|---:|---:|---:|")
    for name in ["pop, 30 s", "classical", "eight other genres, 15-20 s", "all"]:
        for row in ROWS:
            scores = results[(name, row)]
            mean = lambda m: np.mean([s[m] for s in scores if s[m] is not None])  # noqa: E731
            print(f"| {name} | {len(scores)} | {row} | {mean('F'):.3f} | {mean('downbeat F'):.3f} "
                  f"| {mean('tempo Acc1'):.3f} |")


if __name__ == "__main__":
    main()
