"""Quantizes a patch network to int8 three ways and checks each against fp32 on real audio the
network was not calibrated on:
- qdq: static QDQ, per-channel int8 weights, int8 activations, on Conv, MatMul and Gemm (what
  onnxruntime recommends on x86; tract keeps the QuantizeLinear/DequantizeLinear pairs and runs
  the convolutions as float matmuls between them);
- qlinear: static QOperator graph, QLinearConv with uint8 activations and per-tensor int8
  weights, on Conv only (tract folds QLinearConv into its integer matmul; it cannot read
  onnxruntime's QGemm, so the dense layers stay fp32);
- dynamic: int8 weights, activations quantized per run (ConvInteger/MatMulInteger).

Only these ops are quantized: tract's quantized Softmax gives wrong output and a quantized LSTM
loses accuracy (DEVELOPERS.md); the patch networks have neither, but the rule keeps sigmoid,
pooling and the rest in fp32 too. Calibration: 200 patches of GTZAN train-split excerpts.
Check: the GTZAN test-split excerpts and the 4Q held-out artists' clips, through each graph in
onnxruntime: embedding cosine, tag error, and how often the genre and mood heads (trained on
the fp32 embedding) pick the same class. The numbers go to MODEL/quantization.json, with
whether the heads agree on at least 98 % of clips (the accuracy bar for shipping int8); the
graphs are written to --out (NAME.int8-VARIANT.onnx), outside the shipped models, for
`cargo xtask eval` to time in tract and onnxruntime (int8 ships only if also faster in tract).

Usage: python quantize.py --data ../shared/data --model models/cnn --onnx cnn.onnx
       --out target/quantized
"""

import argparse
import json
import os
import tempfile

import numpy as np
import onnxruntime
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_dynamic, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

from heads import patches, split_ids
from musicnn_logmel import logmel

AGREEMENT_TO_SHIP = 0.98


class Patches(CalibrationDataReader):
    def __init__(self, mels):
        self.items = iter([{"mel": m[None].astype(np.float32)} for m in mels])

    def get_next(self):
        return next(self.items, None)


def head_probabilities(head, embeddings):
    x = (np.array(embeddings) - np.array(head["mean"])) / np.array(head["scale"])
    for i, layer in enumerate(head["network"]["layers"]):
        x = x @ np.array(layer["weights"]).T + np.array(layer["bias"])
        if i < len(head["network"]["layers"]) - 1:
            x = np.maximum(x, 0)
    p = np.exp(x - x.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--out", required=True, help="the folder for the int8 graphs")
    args = ap.parse_args()
    fp32_path = os.path.join(args.model, args.onnx)
    os.makedirs(args.out, exist_ok=True)
    stem = args.onnx.rsplit(".", 1)[0]
    int8_paths = {v: os.path.join(args.out, f"{stem}.int8-{v}.onnx")
                  for v in ("qdq", "qlinear", "dynamic")}

    gtzan = os.path.join(args.data, "gtzan", "excerpts")
    test_ids = split_ids(args.data, "test")
    names = sorted(os.listdir(gtzan))
    train = [n for n in names if n.rsplit(".", 1)[0] not in test_ids]
    calibration = [p for n in train[::max(len(train) // 200, 1)][:200]
                   for p in patches(logmel(os.path.join(gtzan, n)))]
    with tempfile.TemporaryDirectory() as tmp:
        prepared = os.path.join(tmp, "prepared.onnx")
        quant_pre_process(fp32_path, prepared, skip_symbolic_shape=True)
        quantize_static(prepared, int8_paths["qdq"], Patches(calibration),
                        quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=["Conv", "MatMul", "Gemm"], per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        quantize_static(prepared, int8_paths["qlinear"], Patches(calibration),
                        quant_format=QuantFormat.QOperator, op_types_to_quantize=["Conv"],
                        per_channel=False, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)
        quantize_dynamic(prepared, int8_paths["dynamic"],
                         op_types_to_quantize=["Conv", "MatMul", "Gemm"],
                         weight_type=QuantType.QUInt8)

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    fp32 = onnxruntime.InferenceSession(fp32_path, options)
    report = {variant: check(args, fp32_path, fp32, path, options)
              for variant, path in int8_paths.items()}
    with open(os.path.join(args.model, "quantization.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


def check(args, fp32_path, fp32, int8_path, options):
    """How close the int8 graph at `int8_path` comes to fp32 on held-out clips."""
    sessions = [fp32, onnxruntime.InferenceSession(int8_path, options)]
    gtzan = os.path.join(args.data, "gtzan", "excerpts")
    test_ids = split_ids(args.data, "test")
    test = [n for n in sorted(os.listdir(gtzan)) if n.rsplit(".", 1)[0] in test_ids]
    with open(os.path.join(args.model, "mood_test.txt")) as f:
        mood_clips = [os.path.join(args.data, "4q", line.strip()) for line in f if line.strip()]
    clips = [os.path.join(gtzan, n) for n in test] + mood_clips
    heads = {}
    for name in ("genre", "mood"):
        with open(os.path.join(args.model, f"{name}_head.json")) as f:
            heads[name] = json.load(f)
    cosines, tag_errors, agree = [], [], {"genre": 0, "mood": 0}
    for path in clips:
        outs = []
        for s in sessions:
            runs = [s.run(["embedding", "tags"], {"mel": p[None]}) for p in patches(logmel(path))]
            outs.append((np.array([r[0][0] for r in runs]), np.array([r[1][0] for r in runs])))
        (e32, t32), (e8, t8) = outs
        cosines += list((e32 * e8).sum(1) / (np.linalg.norm(e32, axis=1) * np.linalg.norm(e8, axis=1)))
        tag_errors.append(float(np.abs(t32 - t8).max()))
        for name, head in heads.items():
            a = head_probabilities(head, e32).mean(0).argmax()
            b = head_probabilities(head, e8).mean(0).argmax()
            agree[name] += int(a == b)
    report = {
        "clips": len(clips), "patches": len(cosines),
        "embedding_cosine_mean": float(np.mean(cosines)),
        "embedding_cosine_min": float(np.min(cosines)),
        "tag_max_abs_error": float(np.max(tag_errors)),
        "genre_head_agreement": agree["genre"] / len(clips),
        "mood_head_agreement": agree["mood"] / len(clips),
        "fp32_bytes": os.path.getsize(fp32_path), "int8_bytes": os.path.getsize(int8_path),
    }
    report["accurate_enough_to_ship"] = min(report["genre_head_agreement"],
                                            report["mood_head_agreement"]) >= AGREEMENT_TO_SHIP
    return report


if __name__ == "__main__":
    main()
