"""BeatNet's beat/downbeat activation network (PyPI BeatNet 1.1.3, CC BY 4.0) as a one-step
ONNX graph with explicit LSTM state, plus golden fixtures for the Rust tests.

Starts from `model_1_weights.pt`, the model BeatNet's authors trained with GTZAN held out;
`--weights` loads a state dict over it (Mirador ships the one `beatnet_finetune.py` fits on
the odd GTZAN ids). Runs in the BeatNet venv (`models/training/beatnet_venv.sh`), which has
the original package, madmom and torch.

    target/beatnet-venv/bin/python models/training/beatnet_export.py [--data ../shared/data] \
        [--weights target/beatnet-finetuned.pt]
"""

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F

warnings.filterwarnings("ignore")
from BeatNet.log_spect import LOG_SPECT  # noqa: E402
from BeatNet.model import BDA  # noqa: E402
import BeatNet  # noqa: E402
import librosa  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "models" / "beatnet"
GOLDEN_CLIP = "gtzan/full/disco.00000.flac"
GOLDEN_FEATURE_FRAMES = 150
GOLDEN_ACTIVATION_FRAMES = 1000
HIDDEN = 150


def load_network(finetuned=None):
    """BeatNet's model 1, with `finetuned` weights (a state dict path) over it when given."""
    net = BDA(272, HIDDEN, 2, "cpu")
    weights = Path(BeatNet.__file__).parent / "models" / "model_1_weights.pt"
    state = torch.load(weights, map_location="cpu")
    # BeatNet loads with strict=False; make sure nothing is actually missing.
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    if finetuned:
        net.load_state_dict(torch.load(finetuned, map_location="cpu"))
    net.eval()
    return net


def features(audio):
    """BeatNet's own feature extraction (madmom), as in its 'online' mode."""
    proc = LOG_SPECT(sample_rate=22050, win_length=1411, hop_size=441, n_bands=[24], mode="online")
    return proc.process_audio(audio).T.astype(np.float32)


def sequence_activations(net, feats):
    """BeatNet's `activation_extractor_online`: [frames, 3] = beat, downbeat, no beat."""
    with torch.no_grad():
        net.hidden = torch.zeros(2, 1, HIDDEN)
        net.cell = torch.zeros(2, 1, HIDDEN)
        out = net(torch.from_numpy(feats).unsqueeze(0))[0]
        return net.final_pred(out).numpy().T


class Step(torch.nn.Module):
    """One frame of BDA with the LSTM state in and out."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, h, c):
        y = F.max_pool1d(F.relu(self.net.conv1(x.unsqueeze(1))), 2)
        y = self.net.linear0(y.reshape(1, -1)).unsqueeze(1)
        y, (h2, c2) = self.net.lstm(y, (h, c))
        return torch.softmax(self.net.linear(y[:, 0]), dim=-1), h2, c2


def export(net, path):
    step = Step(net).eval()
    args = (torch.zeros(1, 272), torch.zeros(2, 1, HIDDEN), torch.zeros(2, 1, HIDDEN))
    torch.onnx.export(
        step,
        args,
        str(path),
        input_names=["features", "h", "c"],
        output_names=["probabilities", "h_out", "c_out"],
        opset_version=17,
        dynamo=False,
    )


def run_steps(session, feats):
    h = np.zeros((2, 1, HIDDEN), np.float32)
    c = np.zeros((2, 1, HIDDEN), np.float32)
    out = []
    for f in feats:
        p, h, c = session.run(None, {"features": f[None], "h": h, "c": c})
        out.append(p[0])
    return np.array(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.environ.get("MIRADOR_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--weights", help="fine-tuned state dict to load over model 1")
    args = parser.parse_args()
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    net = load_network(args.weights)
    onnx_path = OUT / "beatnet.onnx"
    export(net, onnx_path)

    audio, _ = librosa.load(Path(args.data) / GOLDEN_CLIP, sr=22050)
    feats = features(audio)
    reference = sequence_activations(net, feats)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), opts)
    stepped = run_steps(session, feats[:GOLDEN_ACTIVATION_FRAMES])
    err = float(np.abs(stepped - reference[:GOLDEN_ACTIVATION_FRAMES]).max())
    print(f"one-step ONNX (onnxruntime) vs BeatNet's sequence model: max |diff| {err:.2e}")
    assert err < 1e-4, err

    golden = {
        "source": GOLDEN_CLIP,
        "note": "features: madmom via BeatNet's LOG_SPECT; activations: the shipped (fine-tuned) "
        "BeatNet torch model over the whole sequence (beat, downbeat, no beat); onnxruntime: the "
        "one-step graph on features",
        "features": np.round(feats[:GOLDEN_FEATURE_FRAMES], 6).tolist(),
        "onnxruntime": np.round(stepped[:GOLDEN_FEATURE_FRAMES], 7).tolist(),
        "activations": np.round(reference[:GOLDEN_ACTIVATION_FRAMES], 6).tolist(),
    }
    (OUT / "golden.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes) and golden.json")


if __name__ == "__main__":
    main()
