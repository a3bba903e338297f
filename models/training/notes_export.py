"""Ships Spotify's basic-pitch note model and writes the goldens Mirador's port is held to.

Usage: python notes_export.py --data ../shared/data --out models/basic_pitch

1. Fetches the pinned basic-pitch wheel (Apache-2.0) with pip, checks its sha256 and copies
   `nmp.onnx`, `LICENSE` and `NOTICE` out of it.
2. Runs the basic-pitch package itself (its `predict`, onnxruntime on the same nmp.onnx, its
   defaults) on real recordings from the shared data and writes `golden.json`: per recording,
   the model outputs at fixed random positions and the package's own note events.

Run it in the environment notes_venv.sh makes (basic-pitch without tensorflow).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np

import pinned_wheel

WHEEL = "basic-pitch==0.4.0"
WHEEL_FILE = "basic_pitch-0.4.0-py2.py3-none-any.whl"
WHEEL_SHA256 = "738adb503aae7fdfc7d1e1511aa0ce35052315f260a19531ef4c356708425db0"
MODEL = "basic_pitch/saved_models/icassp_2022/nmp.onnx"

# Several genres (GTZAN, 22.05 kHz as the model hears), piano, a dense mix, a trumpet and a
# solo voice (vocadito, 44.1 kHz: resampled by librosa here and by Mirador there, so only its
# notes are compared).
RECORDINGS = [
    "gtzan/full/blues.00000.flac",
    "gtzan/full/classical.00000.flac",
    "gtzan/full/country.00000.flac",
    "gtzan/full/jazz.00000.flac",
    "gtzan/full/metal.00000.flac",
    "librosa_examples/442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.ogg",
    "librosa_examples/Kevin_MacLeod_-_Vibe_Ace.ogg",
    "librosa_examples/sorohanro_-_solo-trumpet-06.ogg",
    "melody/vocadito_1.flac",
]
SAMPLED_POSITIONS = 400


def fetch_model(out):
    with tempfile.TemporaryDirectory() as tmp:
        wheel = pinned_wheel.fetch(WHEEL, WHEEL_FILE, WHEEL_SHA256, tmp)
        for member, name in [(MODEL, "nmp.onnx"),
                             ("basic_pitch-0.4.0.dist-info/LICENSE", "LICENSE"),
                             ("basic_pitch-0.4.0.dist-info/NOTICE", "NOTICE")]:
            shutil.copy(os.path.join(wheel, member), os.path.join(out, name))


def sampled(output, rng):
    frames, bins = output.shape
    t = rng.integers(0, frames, SAMPLED_POSITIONS)
    f = rng.integers(0, bins, SAMPLED_POSITIONS)
    # 7 significant digits: float32's precision, far inside the 1e-4 the test asks.
    return [[int(a), int(b), float(f"{output[a, b]:.7g}")] for a, b in zip(t, f)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    fetch_model(args.out)
    model_path = os.path.join(args.out, "nmp.onnx")

    from basic_pitch import ICASSP_2022_MODEL_PATH
    from basic_pitch.inference import Model, predict

    packaged = os.path.join(os.path.dirname(ICASSP_2022_MODEL_PATH), "nmp.onnx")
    with open(packaged, "rb") as a, open(model_path, "rb") as b:
        if a.read() != b.read():
            sys.exit(f"{packaged} is not the wheel's nmp.onnx")
    model = Model(model_path)

    cases = []
    for source in RECORDINGS:
        output, _, notes = predict(os.path.join(args.data, source), model)
        rng = np.random.default_rng(len(cases))
        cases.append({
            "source": source,
            "frames": int(output["note"].shape[0]),
            "note": sampled(output["note"], rng),
            "onset": sampled(output["onset"], rng),
            "contour": sampled(output["contour"], rng),
            "notes": [[round(float(start), 6), round(float(end), 6), int(pitch),
                       float(f"{amplitude:.7g}"),
                       [int(b) for b in bends]]
                      for start, end, pitch, amplitude, bends in sorted(notes)],
        })
        print(f"{source}: {cases[-1]['frames']} frames, {len(notes)} notes")
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump({"package": WHEEL, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
