"""Chooses the cues and fits the weights of the offline decoder's bar phase
(`models/src/beats/bar_phase.rs`, models/beatnet/README.md "Bar phase"), on the odd GTZAN ids
only: the even ids stay for the eval.

The Viterbi path (madmom's DBN, which `mirador analyze` ports) counts the beats of each bar;
which of them is the downbeat is chosen again by weighing cues averaged over each beat of the
bar, each in units of its spread over the clip. A clip's target is the bar position whose
beats give the best downbeat F-measure. Each odd clip is decoded from the activations of the
network fine-tuned without its fifth (`beatnet_finetune.py --held-out K`, as
`beatnet_crossval.py` does), so that the cues are weighed as they will be on unseen music.
The weights are a conditional logit over the bar positions with an L2 penalty; cue sets and
penalties are compared by 5-fold cross-validation over the same fifths, and the chosen set is
fitted on all the odd ids and printed. Runs in the BeatNet venv, about 30 minutes on two cores
(the five fine-tunings; `--folds DIR` keeps and reuses them).

    target/beatnet-venv/bin/python models/training/bar_phase.py --data ../shared/data \
        [--folds target/bar-phase-folds]
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

warnings.filterwarnings("ignore")
import librosa  # noqa: E402
import mir_eval  # noqa: E402
from madmom.audio.filters import LogarithmicFilterbank  # noqa: E402
from madmom.audio.stft import fft_frequencies  # noqa: E402
from madmom.features.downbeats import DBNDownBeatTrackingProcessor  # noqa: E402

from beatnet_export import features, load_network, sequence_activations  # noqa: E402
from beatnet_finetune import FOLDS, clips, fold, held_out_networks  # noqa: E402

# BeatNet's bands (its LOG_SPECT at 22 050 Hz: 1411-sample frames, 24 bands per octave).
CENTRES = LogarithmicFilterbank(fft_frequencies(705, 22050), num_bands=24, fmin=30, fmax=17000,
                                norm_filters=True, unique_filters=True).center_frequencies
LOW_HZ = 150.0
PITCH_CLASS = np.round(12 * np.log2(CENTRES / 440.0)).astype(int) % 12
CANDIDATES = {
    "downbeat share": ["share"],
    "share + low onset": ["share", "low onset"],
    "share + pitch-class change, 1 beat": ["share", "pitch-class change 1"],
    "share + pitch-class change, 2 beats": ["share", "pitch-class change 2"],
    "share + pitch-class change, a bar": ["share", "pitch-class change bar"],
    "share + spectrum change, 2 beats": ["share", "spectrum change 2"],
    "share + pitch-class change, 2 beats + low onset": ["share", "pitch-class change 2", "low onset"],
    "the three + bass pitch-class change, 1 beat": ["share", "pitch-class change 2",
                                                    "low onset", "bass change 1"],
    "the three + bass pitch-class change, 2 beats": ["share", "pitch-class change 2",
                                                     "low onset", "bass change 2"],
    "the three + bass pitch-class change, a bar": ["share", "pitch-class change 2",
                                                   "low onset", "bass change bar"],
    "share + bass pitch-class change, 2 beats + low onset": ["share", "bass change 2",
                                                             "low onset"],
    "the three + model 1's share": ["share", "pitch-class change 2", "low onset",
                                    "model 1 share"],
    "model 1's share + pitch-class change, 2 beats + low onset": ["model 1 share",
                                                                  "pitch-class change 2",
                                                                  "low onset"],
    "all eight": ["share", "low onset", "onset", "pitch-class change 1", "pitch-class change 2",
                  "pitch-class change bar", "spectrum change 2", "spectrum change bar"],
}
CHOSEN = "share + pitch-class change, 2 beats + low onset"
PENALTIES = [0.3, 1.0, 3.0, 10.0]


def change(matrix, frames, span):
    """Per beat, the cosine distance between `matrix`'s sums over the `span` beats before and
    after it (NaN where the clip has fewer)."""
    out = np.full(len(frames), np.nan)
    for i in range(span, len(frames) - span):
        a = matrix[frames[i - span]:frames[i]].sum(0)
        b = matrix[frames[i]:frames[i + span]].sum(0)
        out[i] = 1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9)
    return out


def cues(found, activations, model1, feats):
    """Each cue's value at every decoded beat, as `bar_phase.rs` computes it (model 1's share,
    from BeatNet's own model 1's activations `model1`, is not in Mirador)."""
    n = len(feats)
    frames = np.clip(np.round(found[:, 0] * 50).astype(int), 0, n - 1)
    spectrum, differences = feats[:, :136], feats[:, 136:]
    classes = lambda bands: np.stack([spectrum[:, bands & (PITCH_CLASS == pc)].sum(1)  # noqa: E731
                                      for pc in range(12)], 1)
    pitch_classes = classes(CENTRES > LOW_HZ)
    bass_classes = classes((CENTRES >= 40) & (CENTRES < 260))

    def share(activations):
        """Log-odds of downbeat over beat of the peaks within 40 ms."""
        peaks = np.array([activations[max(0, f - 2):f + 3, :2].max(0) for f in frames])
        p = np.clip(peaks[:, 1] / peaks.sum(1).clip(1e-9), 1e-4, 1 - 1e-4)
        return np.log(p / (1 - p))

    onset = lambda d: np.array([d[max(0, f - 1):f + 2].sum(1).max() for f in frames])  # noqa: E731
    meter = int(found[:, 1].max())
    return {
        "share": share(activations),
        "model 1 share": share(model1),
        "low onset": onset(differences[:, CENTRES < LOW_HZ]),
        "onset": onset(differences),
        "pitch-class change 1": change(pitch_classes, frames, 1),
        "pitch-class change 2": change(pitch_classes, frames, 2),
        "pitch-class change bar": change(pitch_classes, frames, meter),
        "bass change 1": change(bass_classes, frames, 1),
        "bass change 2": change(bass_classes, frames, 2),
        "bass change bar": change(bass_classes, frames, meter),
        "spectrum change 2": change(spectrum, frames, 2),
        "spectrum change bar": change(spectrum, frames, meter),
    }


def downbeat_f(reference, estimate):
    return mir_eval.beat.f_measure(mir_eval.beat.trim_beats(reference),
                                   mir_eval.beat.trim_beats(estimate))


def clip_table(found, values, reference_downbeats):
    """Per bar position (the decoder's beat numbers): each cue's mean over its beats in units
    of the cue's spread, and the downbeat F-measure if it were the downbeat."""
    positions = found[:, 1].astype(int)
    meter = positions.max()
    table = {}
    for name, v in values.items():
        ok = np.isfinite(v)
        spread = v[ok].std() + 1e-9 if ok.any() else 1.0
        table[name] = np.array([v[ok & (positions == p)].mean() / spread
                                if (ok & (positions == p)).any() else 0.0
                                for p in range(1, meter + 1)])
    scores = np.array([downbeat_f(reference_downbeats, found[positions == p, 0])
                       for p in range(1, meter + 1)])
    return table, scores


def fit(items, names, penalty):
    """Weights of a conditional logit over the bar positions, aiming at the best ones."""
    def loss(w):
        total = penalty * w @ w
        for table, scores in items:
            s = np.stack([table[n] for n in names], 1) @ w
            log_p = s - s.max() - np.log(np.exp(s - s.max()).sum())
            target = (scores == scores.max()) / (scores == scores.max()).sum()
            total -= target @ log_p
        return total
    return minimize(loss, np.ones(len(names)), method="L-BFGS-B").x


def chosen_score(item, names, w):
    table, scores = item
    s = np.stack([table[n] for n in names], 1) @ w
    return scores[int(np.argmax(s))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--folds", help="where the fine-tuned networks are kept and reused")
    args = parser.parse_args()
    data = Path(args.data)
    dbn = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=50)
    model1 = load_network()
    items = []  # (fifth, (table, scores), own score)
    for k, weights in held_out_networks(data, args.folds):
        tuned = load_network(weights)
        for number, _, path, beats in clips(data):
            if number % 2 == 0 or fold(number) != k:
                continue
            reference = beats[beats[:, 1] == 1, 0]
            if len(reference) == 0:
                continue
            feats = features(librosa.load(path, sr=22050)[0])
            activations = sequence_activations(tuned, feats)
            found = dbn(np.clip(activations[:, :2], 1e-6, 1))
            if len(found) < 8:
                continue
            values = cues(found, activations, sequence_activations(model1, feats), feats)
            table, scores = clip_table(found, values, reference)
            own = downbeat_f(reference, found[found[:, 1] == 1, 0])
            items.append((k, (table, scores), own))
        print(f"fifth {k} done", file=sys.stderr, flush=True)

    def cross_validated(names, penalty):
        out = []
        for k in range(FOLDS):
            w = fit([it for f, it, _ in items if f != k], names, penalty)
            out += [chosen_score(it, names, w) for f, it, _ in items if f == k]
        return np.mean(out)

    print(f"{len(items)} odd clips; downbeat F, 5-fold cross-validated\n")
    print("| bar phase from | L2 | downbeat F |\n|---|---:|---:|")
    print(f"| the decoder's own numbering | — | {np.mean([own for _, _, own in items]):.3f} |")
    print(f"| the best position (an oracle) | — | {np.mean([it[1].max() for _, it, _ in items]):.3f} |")
    for label, names in CANDIDATES.items():
        for penalty in PENALTIES if label == CHOSEN else [1.0]:
            print(f"| {label} | {penalty:g} | {cross_validated(names, penalty):.3f} |")
    names = CANDIDATES[CHOSEN]
    best = max(PENALTIES, key=lambda p: cross_validated(names, p))
    w = fit([it for _, it, _ in items], names, best)
    print(f"\n{CHOSEN}, L2 {best:g}, all odd clips: WEIGHTS = [{', '.join(f'{x:.2f}' for x in w)}]")


if __name__ == "__main__":
    main()
