"""Quantizes a patch network to int8 five ways and checks each against fp32 on real audio the
network was not calibrated on:
- qdq: static QDQ, per-channel int8 weights, int8 activations, on Conv, MatMul and Gemm (what
  onnxruntime recommends on x86; tract keeps the QuantizeLinear/DequantizeLinear pairs and runs
  the convolutions as float matmuls between them);
- qlinear: static QOperator graph, QLinearConv with uint8 activations and per-tensor int8
  weights, on Conv only (tract folds QLinearConv into its integer matmul; it cannot read
  onnxruntime's QGemm, so the dense layers stay fp32);
- qlinear-eq: the same, after equalizing the channels of each convolution followed by a ReLU
  and a per-channel scale (musicnn's front end; the CNN has none): each output channel's
  weights and bias are multiplied by a factor and the scale after the ReLU divided by it, so
  the fp32 graph computes the same (to 1e-5). The factor brings the channel's weights up to
  the convolution's largest, so a per-tensor int8 scale suits every channel, as far as the
  channel's output stays within the largest channel's output on the calibration patches (per-
  channel weights would do this directly, but tract 0.23 runs a per-channel QLinearConv more
  than twice as slowly as fp32);
- dynamic: int8 weights, activations quantized per run (ConvInteger/MatMulInteger);
- convinteger: each convolution as ConvInteger on a uint8 input with a fixed scale (the
  input's range on the calibration patches) and int8 weights with one scale per output
  channel, its int32 output turned back to float by that channel's scale, then the bias
  (written here, not by onnxruntime's quantizer). tract folds ConvInteger into its integer
  matmul, per-channel weights cost nothing there as the scales come after it, and the output
  is never rounded to int8.

Only these ops are quantized: tract's quantized Softmax gives wrong output and a quantized LSTM
loses accuracy (DEVELOPERS.md); the patch networks have neither, but the rule keeps sigmoid,
pooling and the rest in fp32 too. One-dimensional convolutions (musicnn's mid-end, 4 % of its
multiply-adds) stay fp32 as well: onnxruntime 1.31's quantizer fails on their biases.
Calibration: 200 patches of GTZAN train-split excerpts.
Check: the GTZAN test-split excerpts and the 4Q held-out artists' clips, through each graph in
onnxruntime: embedding cosine, tag error (where the heads read tags), how often the genre and mood heads (trained on the
fp32 graphs' output, as shipped, temperature included) pick the same class, and each head's
accuracy (genre on the excerpts, quadrant on 4Q) with fp32 and int8. The numbers go to
MODEL/quantization.json, with whether the heads agree on at least 98 % of clips (the accuracy
bar for shipping int8); the graphs are written to --out (NAME.int8-VARIANT.onnx) for
`cargo xtask eval` to time in tract and onnxruntime. int8 ships only if also faster in tract
and no metric of the eval falls by more than a point with it in place; `--ship VARIANT` (the
variant that passed) copies its graphs into the model's folder as NAME.int8.onnx and writes
golden.int8.json: golden.json's patches through them in onnxruntime, for the parity test.

Usage: python quantize.py --data ../shared/data --model models/cnn --onnx cnn.onnx
       --out target/quantized
       python quantize.py --data ../shared/data --model models/musicnn
       --onnx msd_musicnn.onnx mtt_musicnn.onnx --tags --out target/quantized
       --ship convinteger
"""

import argparse
import json
import os
import shutil
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime
from onnx import TensorProto, helper
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_dynamic, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

import heads
from musicnn_logmel import logmel

AGREEMENT_TO_SHIP = 0.98
VARIANTS = ("qdq", "qlinear", "qlinear-eq", "dynamic", "convinteger")


class Patches(CalibrationDataReader):
    def __init__(self, mels):
        self.items = iter([{"mel": m[None].astype(np.float32)} for m in mels])

    def get_next(self):
        return next(self.items, None)


def one_dimensional_convs(path):
    """The Conv nodes of the graph at `path` whose weights have one spatial axis."""
    graph = onnx.load(path).graph
    rank = {i.name: len(i.dims) for i in graph.initializer}
    return [n.name for n in graph.node if n.op_type == "Conv" and rank.get(n.input[1]) == 3]


def probed(fp32_path, names, calibration):
    """Yields the values of the graph's tensors `names` on each calibration patch (onnxruntime
    on the fp32 graph with them added as outputs)."""
    probe = onnx.load(fp32_path)
    probe.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                              for n in names)
    session = onnxruntime.InferenceSession(probe.SerializeToString())
    for patch in calibration:
        yield session.run(names, {"mel": patch[None].astype(np.float32)})


def equalize(fp32_path, out_path, calibration):
    """Writes `fp32_path`'s graph with the channels of each Conv -> Relu -> Mul (per-channel
    scale) equalized (module docstring); returns how many convolutions changed."""
    model = onnx.load(fp32_path)
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    users = {}
    for n in graph.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    chains = []  # (conv, scale initializer)
    for conv in graph.node:
        # Two-dimensional convolutions with a bias (the one-dimensional ones stay fp32).
        if (conv.op_type != "Conv" or len(conv.input) < 3 or conv.input[1] not in weights
                or len(weights[conv.input[1]].dims) != 4):
            continue
        relu = users.get(conv.output[0], [])
        if len(relu) != 1 or relu[0].op_type != "Relu":
            continue
        mul = users.get(relu[0].output[0], [])
        if len(mul) != 1 or mul[0].op_type != "Mul":
            continue
        scale = next((i for i in mul[0].input if i in weights), None)
        channels = weights[conv.input[1]].dims[0]
        if scale and int(np.prod(weights[scale].dims)) == channels:
            chains.append((conv, scale))
    if not chains:
        return 0
    # Each convolution's largest output per channel on the calibration patches.
    peaks = [0.0] * len(chains)
    for outs in probed(fp32_path, [conv.output[0] for conv, _ in chains], calibration):
        peaks = [np.maximum(p, np.abs(o).max(axis=(0, 2, 3))) for p, o in zip(peaks, outs)]
    array = lambda name: onnx.numpy_helper.to_array(weights[name])  # noqa: E731
    for (conv, scale), peak in zip(chains, peaks):
        w, b, s = array(conv.input[1]), array(conv.input[2]), array(scale)
        reach = np.abs(w).reshape(len(w), -1).max(1)
        factor = np.minimum(reach.max() / np.maximum(reach, 1e-12),
                            peak.max() / np.maximum(peak, 1e-12))
        for name, value in [(conv.input[1], w * factor.reshape([-1] + [1] * (w.ndim - 1))),
                            (conv.input[2], b * factor),
                            (scale, (s.reshape(-1) / factor).reshape(s.shape))]:
            weights[name].CopyFrom(onnx.numpy_helper.from_array(value.astype(np.float32), name))
    onnx.save(model, out_path)
    return len(chains)


def conv_integer(fp32_path, out_path, calibration):
    """Writes `fp32_path`'s graph with each two-dimensional convolution as ConvInteger plus a
    float per-channel scale and bias (module docstring)."""
    model = onnx.load(fp32_path)
    graph = model.graph
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv" and n.input[1] in weights
             and weights[n.input[1]].ndim == 4]
    inputs = sorted({c.input[0] for c in convs})
    # Each convolution input's range on the calibration patches, zero included.
    low, high = {i: 0.0 for i in inputs}, {i: 0.0 for i in inputs}
    for outs in probed(fp32_path, inputs, calibration):
        for i, out in zip(inputs, outs):
            low[i], high[i] = min(low[i], float(out.min())), max(high[i], float(out.max()))
    scale = {i: (high[i] - low[i]) / 255 or 1.0 for i in inputs}
    constants = {}
    for i in inputs:
        constants[f"{i}.int8_scale"] = np.array(scale[i], np.float32)
        constants[f"{i}.int8_zero"] = np.array(round(-low[i] / scale[i]), np.uint8)
    nodes = []
    for node in graph.node:
        if node not in convs:
            nodes.append(node)
            continue
        x, name = node.input[0], node.name
        if f"{x}.int8" not in (o for n in nodes for o in n.output):
            nodes.append(helper.make_node("QuantizeLinear", [x, f"{x}.int8_scale", f"{x}.int8_zero"],
                                          [f"{x}.int8"], name=f"{x}.quantize"))
        w = weights[node.input[1]]
        bias = weights[node.input[2]] if len(node.input) > 2 else np.zeros(len(w), np.float32)
        w_scale = np.maximum(np.abs(w).reshape(len(w), -1).max(1), 1e-12) / 127
        constants[f"{name}.int8_weight"] = np.round(w / w_scale.reshape(-1, 1, 1, 1)).astype(np.int8)
        constants[f"{name}.int8_weight_zero"] = np.array(0, np.int8)
        constants[f"{name}.int8_out_scale"] = (scale[x] * w_scale).astype(np.float32).reshape(1, -1, 1, 1)
        constants[f"{name}.int8_bias"] = bias.astype(np.float32).reshape(1, -1, 1, 1)
        nodes += [
            helper.make_node("ConvInteger", [f"{x}.int8", f"{name}.int8_weight", f"{x}.int8_zero",
                                             f"{name}.int8_weight_zero"], [f"{name}.int32"],
                             name=f"{name}.int8", **{a.name: helper.get_attribute_value(a)
                                                     for a in node.attribute}),
            helper.make_node("Cast", [f"{name}.int32"], [f"{name}.int32_float"],
                             to=TensorProto.FLOAT, name=f"{name}.cast"),
            helper.make_node("Mul", [f"{name}.int32_float", f"{name}.int8_out_scale"],
                             [f"{name}.scaled"], name=f"{name}.scale"),
            helper.make_node("Add", [f"{name}.scaled", f"{name}.int8_bias"], [node.output[0]],
                             name=f"{name}.bias"),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept + [onnx.numpy_helper.from_array(v, k) for k, v in constants.items()])
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, out_path)


def quantize(fp32_path, paths, calibration):
    """Writes `fp32_path`'s graph in int8 to paths[variant] for each variant (qlinear-eq only
    where there is something to equalize)."""
    excluded = one_dimensional_convs(fp32_path)

    def qlinear(prepared, out):
        quantize_static(prepared, out, Patches(calibration),
                        quant_format=QuantFormat.QOperator, op_types_to_quantize=["Conv"],
                        per_channel=False, nodes_to_exclude=excluded,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)

    with tempfile.TemporaryDirectory() as tmp:
        prepared = os.path.join(tmp, "prepared.onnx")
        quant_pre_process(fp32_path, prepared, skip_symbolic_shape=True)
        equalized = os.path.join(tmp, "equalized.onnx")
        if os.path.exists(paths["qlinear-eq"]):
            os.remove(paths["qlinear-eq"])
        if equalize(fp32_path, equalized, calibration):
            prepared_eq = os.path.join(tmp, "prepared-equalized.onnx")
            quant_pre_process(equalized, prepared_eq, skip_symbolic_shape=True)
            qlinear(prepared_eq, paths["qlinear-eq"])
        quantize_static(prepared, paths["qdq"], Patches(calibration),
                        quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=["Conv", "MatMul", "Gemm"], per_channel=True,
                        nodes_to_exclude=excluded,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        qlinear(prepared, paths["qlinear"])
        quantize_dynamic(prepared, paths["dynamic"],
                         op_types_to_quantize=["Conv", "MatMul", "Gemm"],
                         nodes_to_exclude=excluded, weight_type=QuantType.QUInt8)
    conv_integer(fp32_path, paths["convinteger"], calibration)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--onnx", required=True, nargs="+", help="the graphs in --model")
    ap.add_argument("--tags", action="store_true", help="the heads read the tags too")
    ap.add_argument("--out", required=True, help="the folder for the int8 graphs")
    ap.add_argument("--ship", choices=VARIANTS, help="the variant that ships (module docstring)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    fp32_paths = [os.path.join(args.model, n) for n in args.onnx]
    int8_paths = {v: [os.path.join(args.out, n.rsplit(".", 1)[0] + f".int8-{v}.onnx")
                      for n in args.onnx] for v in VARIANTS}

    gtzan = os.path.join(args.data, "gtzan", "excerpts")
    test_ids = heads.split_ids(args.data, "test")
    names = sorted(os.listdir(gtzan))
    train = [n for n in names if n.rsplit(".", 1)[0] not in test_ids]
    calibration = [p for n in train[::max(len(train) // 200, 1)][:200]
                   for p in heads.patches(logmel(os.path.join(gtzan, n)))]
    for i, fp32_path in enumerate(fp32_paths):
        quantize(fp32_path, {v: paths[i] for v, paths in int8_paths.items()}, calibration)

    fp32 = heads.Embedder(fp32_paths, args.tags)
    report = {v: check(args, fp32, heads.Embedder(paths, args.tags), fp32_paths, paths)
              for v, paths in int8_paths.items() if all(map(os.path.exists, paths))}
    with open(os.path.join(args.model, "quantization.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))
    if args.ship:
        ship(args, fp32_paths, int8_paths[args.ship], report[args.ship])


def ship(args, fp32_paths, paths, report):
    """Copies the shipped variant's graphs beside the fp32 ones as NAME.int8.onnx, and
    writes golden.int8.json: golden.json's patches through them in onnxruntime."""
    if not report["accurate_enough_to_ship"]:
        raise SystemExit(f"quantize.py: {args.ship} agrees with fp32 on under 98 % of clips")
    shipped = [p.rsplit(".", 1)[0] + ".int8.onnx" for p in fp32_paths]
    for source, target in zip(paths, shipped):
        shutil.copyfile(source, target)
    with open(os.path.join(args.model, "golden.json")) as f:
        golden = json.load(f)
    sessions = [onnxruntime.InferenceSession(p) for p in shipped]
    prefixes = ["", "mtt_"]  # golden.json's keys for the first and second graph
    for case in golden["cases"]:
        mel = np.array(case["mel"], np.float32)[None]
        for prefix, session in zip(prefixes, sessions):
            embedding, tags = session.run(["embedding", "tags"], {"mel": mel})
            case[prefix + "embedding"] = [float(f"{v:.7g}") for v in embedding[0]]
            case[prefix + "tags"] = [float(f"{v:.7g}") for v in tags[0]]
    golden["graphs"] = [os.path.basename(p) for p in shipped]
    with open(os.path.join(args.model, "golden.int8.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


def check(args, fp32, int8, fp32_paths, int8_paths):
    """How close the int8 graphs (`int8`) come to fp32 on held-out clips."""
    gtzan = [(p, heads.GENRES.index(g)) for p, g in heads.test_excerpts(args.data)]
    with open(os.path.join(args.model, "mood_test.txt")) as f:
        four_q = [(os.path.join(args.data, "4q", line.strip()),
                   heads.QUADRANTS.index(line.strip().split("/")[0])) for line in f if line.strip()]
    genre, mood = (json.load(open(os.path.join(args.model, f"{n}_head.json")))
                   for n in ("genre", "mood"))
    dims = 200 * len(fp32_paths)  # each graph's 200-d embedding comes first
    cosines, tag_errors = [], []
    agree = {"genre": 0, "mood": 0}
    right = {"genre_fp32": 0, "genre_int8": 0, "mood_fp32": 0, "mood_int8": 0}
    clips = [(p, label, "genre") for p, label in gtzan] + [(p, q, "mood") for p, q in four_q]
    for path, label, task in clips:
        f32, f8 = fp32(path), int8(path)
        e32, e8 = f32[:, :dims], f8[:, :dims]
        cosines += list((e32 * e8).sum(1) / (np.linalg.norm(e32, axis=1) * np.linalg.norm(e8, axis=1)))
        if f32.shape[1] > dims:
            tag_errors.append(float(np.abs(f32[:, dims:] - f8[:, dims:]).max()))
        for name, head in (("genre", genre), ("mood", mood)):
            a = heads.clip_probability(head, f32).argmax()
            b = heads.clip_probability(head, f8).argmax()
            agree[name] += int(a == b)
            if name == task:
                right[f"{name}_fp32"] += int(a == label)
                right[f"{name}_int8"] += int(b == label)
    fp32.save()
    int8.save()
    size = lambda paths: sum(os.path.getsize(p) for p in paths)  # noqa: E731
    report = {
        "clips": len(clips), "patches": len(cosines),
        "embedding_cosine_mean": float(np.mean(cosines)),
        "embedding_cosine_min": float(np.min(cosines)),
        "tag_max_abs_error": float(np.max(tag_errors)) if tag_errors else None,
        "genre_head_agreement": agree["genre"] / len(clips),
        "mood_head_agreement": agree["mood"] / len(clips),
        "genre_accuracy_fp32": right["genre_fp32"] / len(gtzan),
        "genre_accuracy_int8": right["genre_int8"] / len(gtzan),
        "mood_accuracy_fp32": right["mood_fp32"] / len(four_q),
        "mood_accuracy_int8": right["mood_int8"] / len(four_q),
        "fp32_bytes": size(fp32_paths), "int8_bytes": size(int8_paths),
    }
    report["accurate_enough_to_ship"] = min(report["genre_head_agreement"],
                                            report["mood_head_agreement"]) >= AGREEMENT_TO_SHIP
    return report


if __name__ == "__main__":
    main()
