"""Measures a tempo prior for the offline beat decoder on the odd GTZAN ids only (the even
ids stay for the eval): a lever tried and not shipped (models/beatnet/README.md, "Tempo
prior").

madmom's DBN, which `mirador analyze` ports, finds the likeliest path with every tempo from
55 to 215 BPM equally welcome, so a clip whose off-beats the network marks weakly can be
followed at half its tempo (or a slow one at double). The prior adds, at every frame,
`weight * ln N(log2 bpm; mean, spread)` to each state's score: a log-normal over the tempo
whose mean and spread are those of the odd clips' annotated tempi (Böck 2019). Each odd clip
is decoded from the activations of the network fine-tuned without its fifth (as
`bar_phase.py` does), so the prior is weighed against activations as sure of themselves as
they will be on unseen music. Runs in the BeatNet venv; `--folds DIR` keeps and reuses the
five fine-tuned networks and their activations (30 minutes to make, then about 5 minutes).

    target/beatnet-venv/bin/python models/training/tempo_prior.py --data ../shared/data \
        --folds target/bar-phase-folds
"""

import argparse
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
import librosa  # noqa: E402
from madmom.features.beats_hmm import (BarStateSpace, BarTransitionModel,  # noqa: E402
                                       RNNDownBeatTrackingObservationModel)
from madmom.ml.hmm import HiddenMarkovModel, ObservationModel  # noqa: E402

from beatnet_export import features, load_network, sequence_activations  # noqa: E402
from beat_eval import annotation, median_tempo, score  # noqa: E402
from beatnet_finetune import clips, fold, held_out_networks  # noqa: E402

FPS = 50
WEIGHTS = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1]


class PriorObservations(ObservationModel):
    """madmom's downbeat observation model with a per-state log prior added to each frame:
    one density column per state, so the pointers are the states themselves."""

    def __init__(self, space, log_prior):
        self.base = RNNDownBeatTrackingObservationModel(space, 16)
        self.log_prior = log_prior
        super().__init__(np.arange(space.num_states, dtype=np.uint32))

    def log_densities(self, observations):
        return np.ascontiguousarray(
            self.base.log_densities(observations)[:, self.base.pointers] + self.log_prior)


def decode(activations, weight, mean, spread):
    """madmom's `DBNDownBeatTrackingProcessor` (3 and 4 beats a bar, its defaults, threshold
    0.05, beats corrected to their region's peak) with the tempo prior: [beats, 2] of time
    and beat in bar."""
    activations = np.ascontiguousarray(np.clip(activations, 1e-6, 1))
    idx = np.nonzero(activations >= 0.05)[0]
    if not idx.any():
        return np.empty((0, 2))
    first, last = idx.min(), idx.max() + 1
    activations = activations[first:last]
    best = None
    for beats in (3, 4):
        space = BarStateSpace(beats, 60.0 * FPS / 215, 60.0 * FPS / 55, 60)
        bpm = 60.0 * FPS / space.state_intervals
        log_prior = -0.5 * weight * ((np.log2(bpm) - mean) / spread) ** 2
        hmm = HiddenMarkovModel(BarTransitionModel(space, 100), PriorObservations(space, log_prior))
        path, log_p = hmm.viterbi(activations)
        if best is None or log_p > best[0]:
            best = (log_p, path, space, hmm.observation_model.base)
    _, path, space, om = best
    numbers = space.state_positions[path].astype(int) + 1
    in_beat = (om.pointers[path] >= 1).astype(int)
    edges = np.nonzero(np.diff(in_beat))[0] + 1
    if in_beat[0]:
        edges = np.r_[0, edges]
    if in_beat[-1]:
        edges = np.r_[edges, in_beat.size]
    peaks = [np.argmax(activations[a:b]) // 2 + a for a, b in edges.reshape(-1, 2)]
    return np.array([[(p + first) / FPS, numbers[p]] for p in peaks]).reshape(-1, 2)


def odd_clips(data):
    """(id, set, path under `data`) of every odd-id clip with beat annotations."""
    out = []
    for number, name, path, _ in clips(data):
        if number % 2 == 1:
            kind = "classical" if name.startswith("classical") else (
                "pop, 30 s" if path.parent.name == "full" else "eight other genres, 15-20 s")
            out.append((number, kind, str(path.relative_to(data))))
    return out


def ratio_name(ratio):
    """The simple ratio a found tempo is of the annotated one (within 4 %), or "other"."""
    for name, r in [("right", 1), ("double", 2), ("half", 1 / 2), ("3/2", 3 / 2), ("2/3", 2 / 3),
                    ("triple", 3), ("a third", 1 / 3)]:
        if abs(ratio - r) <= 0.04 * r:
            return name
    return "other"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--folds", help="where the fine-tuned networks are kept and reused")
    args = parser.parse_args()
    data = Path(args.data)
    odd = odd_clips(data)
    reference = {clip: annotation(data, clip) for _, _, clip in odd}
    tempi = [beats_and_tempo[2] for beats_and_tempo in reference.values()]
    mean, spread = np.mean(np.log2(tempi)), np.std(np.log2(tempi))
    print(f"{len(tempi)} odd clips: log2 of the annotated tempo, mean {mean:.4f} "
          f"({2 ** mean:.1f} BPM), spread {spread:.4f} octaves\n")
    # With --folds, the activations are kept beside the networks.
    cache = Path(args.folds) / "activations.pkl" if args.folds else None
    if cache and cache.exists():
        items = pickle.loads(cache.read_bytes())
    else:
        items = []  # (set, clip, activations)
        for k, weights in held_out_networks(data, args.folds):
            tuned = load_network(weights)
            for number, kind, clip in odd:
                if fold(number) == k:
                    feats = features(librosa.load(data / clip, sr=22050)[0])
                    items.append((kind, clip, sequence_activations(tuned, feats)[:, :2]))
            print(f"fifth {k} done", file=sys.stderr, flush=True)
        if cache:
            cache.write_bytes(pickle.dumps(items))

    print("| weight | set | clips | beat F | downbeat F (own numbering) | tempo Acc1 |")
    print("|---:|---|---:|---:|---:|---:|")
    totals, misses = {}, {}
    for weight in WEIGHTS:
        rows = []
        for kind, clip, activations in items:
            found = decode(activations, weight, mean, spread)
            estimate = (found[:, 0], found[found[:, 1] == 1, 0], median_tempo(found[:, 0]))
            rows.append((kind, score(reference[clip], estimate)))
            if weight == 0:
                miss = ratio_name((estimate[2] or 0) / reference[clip][2])
                misses[(kind, miss)] = misses.get((kind, miss), 0) + 1
        for kind in ["pop, 30 s", "classical", "eight other genres, 15-20 s", "all"]:
            chosen = [r for k, r in rows if kind in ("all", k)]
            means = [np.mean([r[m] for r in chosen if r[m] is not None])
                     for m in ["F", "downbeat F", "tempo Acc1"]]
            print(f"| {weight:g} | {kind} | {len(chosen)} | {means[0]:.3f} | {means[1]:.3f} |"
                  f" {means[2]:.3f} |", flush=True)
        totals[weight] = np.mean([r["F"] for _, r in rows])
    print("\nwithout a prior, the found tempo against the annotated one:")
    for (kind, miss), count in sorted(misses.items()):
        print(f"  {kind}: {miss} {count}")
    print(f"\nbest beat F over all odd clips: weight {max(WEIGHTS, key=totals.get):g}")


if __name__ == "__main__":
    main()
