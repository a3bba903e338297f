"""Converts the two pretrained musicnn taggers (PyPI musicnn 0.1.0, ISC licence) from their
TensorFlow 1 checkpoints to ONNX, without TensorFlow: MSD_musicnn (Million Song Dataset tags)
and MTT_musicnn (MagnaTagATune tags). Mirador's musicnn genre and mood heads read both.

Architecture (both): musicnn's `models.build_musicnn` (Pons and Serra 2019) with 96 mel bands,
num_filt_midend=64, num_units_backend=200 and 50 tags. The checkpoint
is read with `tf_checkpoint.py`; each conv2d_N / batch_normalization_N / dense_N is matched to
its place in the graph by creation order and checked by shape. The model is run in inference
mode: batch norms use their moving statistics (epsilon 0.001, the tf.compat.v1.layers default)
and dropout is off.

Outputs, for one (187 frames x 96 bands) log-mel patch (3 s):
  embedding  [1, 200]  the penultimate layer (batch-normalized ReLU dense), musicnn's 'penultimate'
  tags       [1, 50]   sigmoid of the logits, in configuration.MSD_LABELS (MTT_LABELS) order
  mean_pool  [1, 753]  temporal mean of the front+mid-end features
  max_pool   [1, 753]  temporal max of the same

A float64 numpy re-implementation that follows the TF graph op for op is the reference; the ONNX
graph (folded batch norms, channels-first convolutions) is checked against it with onnxruntime on
real audio, the top tags of a few GTZAN clips are printed as a sanity check, and the ONNX
outputs on two real patches are written to golden.json for the Rust parity test (MSD's
embedding and tags, and MTT's as mtt_embedding and mtt_tags).

Usage: python musicnn_export.py [--wheel-dir DIR] --out models/musicnn
       [--data ../shared/data] [--librosa-python target/pyenv/bin/python]
Without --wheel-dir the pinned wheel is fetched with pip into a temporary directory.
The log-mels are computed by musicnn_logmel.py under a Python with librosa
(--librosa-python, else $MIRADOR_PYTHON, else target/pyenv/bin/python).
"""

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime
from numpy.lib.stride_tricks import sliding_window_view
from onnx import TensorProto, helper, numpy_helper

import pinned_wheel
from tf_checkpoint import read_checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

WHEEL = "musicnn==0.1.0"
WHEEL_FILE = "musicnn-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
# (checkpoint folder in the wheel, its labels in configuration.py, the ONNX file written)
MODELS = [("MSD_musicnn", "MSD_LABELS", "msd_musicnn.onnx"),
          ("MTT_musicnn", "MTT_LABELS", "mtt_musicnn.onnx")]

N_FRAMES = 187  # librosa.time_to_frames(3 s, sr 16000, n_fft 512, hop 256) + 1
N_MELS = 96
EPS = 1e-3      # tf.compat.v1.layers.batch_normalization default
OPSET = 17

# Clips for the checks (paths under --data), and the (clip, patch index) pairs for golden.json
CLIPS = ["gtzan/full/metal.00000.flac", "gtzan/full/classical.00000.flac",
         "gtzan/full/hiphop.00000.flac", "gtzan/full/jazz.00000.flac",
         "gtzan/full/pop.00000.flac", "gtzan/full/reggae.00000.flac"]
GOLDEN = [("gtzan/full/metal.00000.flac", 1), ("gtzan/full/classical.00000.flac", 1)]

# The layers of build_musicnn in the order TF creates them (so conv2d, conv2d_1, ... and
# batch_normalization, batch_normalization_1, ... follow this order), with kernel shapes.
# Frontend filters: int(1.6 * 128) = 204 timbral, int(1.6 * 32) = 51 temporal.
CONVS = [  # name, TF kernel shape (height=time, width=freq, in, out), padding
    ("timbral_7x38", (7, 38, 1, 204), "valid after 3+3 time pad"),   # int(0.4 * 96) = 38
    ("timbral_7x67", (7, 67, 1, 204), "valid after 3+3 time pad"),   # int(0.7 * 96) = 67
    ("temporal_128", (128, 1, 1, 51), "same"),
    ("temporal_64", (64, 1, 1, 51), "same"),
    ("temporal_32", (32, 1, 1, 51), "same"),
    ("midend_1", (7, 561, 1, 64), "valid after 3+3 time pad"),
    ("midend_2", (7, 64, 1, 64), "valid after 3+3 time pad"),
    ("midend_3", (7, 64, 1, 64), "valid after 3+3 time pad"),
]
BATCH_NORMS = [  # name, size: the input's, one after each conv, then the two in the backend
    ("input", 1), ("timbral_7x38", 204), ("timbral_7x67", 204), ("temporal_128", 51),
    ("temporal_64", 51), ("temporal_32", 51), ("midend_1", 64), ("midend_2", 64),
    ("midend_3", 64), ("pool", 1506), ("penultimate", 200),
]
DENSES = [("penultimate", (1506, 200)), ("logits", (200, 50))]


def tf_name(base, i):
    return base if i == 0 else f"{base}_{i}"


def tf_same(k):
    """TF 'same' padding (before, after) along time: an even kernel's extra row goes after."""
    return (k - 1) // 2, k - 1 - (k - 1) // 2


# ---- inputs: the wheel, its weights and labels --------------------------------------------

def fetch_wheel(tmp):
    return os.path.join(pinned_wheel.fetch(WHEEL, WHEEL_FILE, WHEEL_SHA256, tmp), "musicnn")


def tag_labels(wheel_dir, name):
    # configuration.py is plain assignments: read it without executing the package
    with open(os.path.join(wheel_dir, "configuration.py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return ast.literal_eval(node.value)
    raise ValueError(f"{name} not in configuration.py")


def load_layers(wheel_dir, model):
    """Checkpoint variables -> {"conv": {name: (kernel, bias)}, "bn": {...}, "dense": {...}}."""
    ckpt = read_checkpoint(os.path.join(wheel_dir, model) + "/")
    used = set()

    def take(name, shape):
        array = ckpt[name]
        if array.shape != tuple(shape):
            raise ValueError(f"{name}: shape {array.shape}, expected {tuple(shape)}")
        used.add(name)
        return array.astype(np.float64)

    print(f"{model}: checkpoint variable -> musicnn layer")
    layers = {"conv": {}, "bn": {}, "dense": {}}
    for i, (name, shape, padding) in enumerate(CONVS):
        v = tf_name("conv2d", i)
        layers["conv"][name] = (take(f"{v}/kernel", shape), take(f"{v}/bias", shape[-1:]))
        print(f"  {v:22s} {name:14s} kernel {shape}, {padding}, ReLU")
    for i, (name, size) in enumerate(BATCH_NORMS):
        v = tf_name("batch_normalization", i)
        layers["bn"][name] = {p: take(f"{v}/{p}", (size,))
                              for p in ("gamma", "beta", "moving_mean", "moving_variance")}
        print(f"  {v:22s} {name:14s} batch norm over {size}")
    for i, (name, shape) in enumerate(DENSES):
        v = tf_name("dense", i)
        layers["dense"][name] = (take(f"{v}/kernel", shape), take(f"{v}/bias", shape[-1:]))
        print(f"  {v:22s} {name:14s} dense {shape}")
    # what is left must be training state only (Adam slots, step counters)
    left = [n for n in ckpt if n not in used and "Adam" not in n
            and n not in ("beta1_power", "beta2_power", "global_step")]
    if left:
        raise ValueError(f"unmapped checkpoint variables: {left}")
    return layers


def bn_affine(bn):
    """Inference batch norm as x * scale + shift."""
    scale = bn["gamma"] / np.sqrt(bn["moving_variance"] + EPS)
    return scale, bn["beta"] - bn["moving_mean"] * scale


# ---- the reference: build_musicnn in numpy, float64, TF layout (time, freq, channels) ------

def ref_forward(layers, x):
    """x: (187, 96) log-mel patch -> dict of the four outputs (1-D float64 arrays)."""
    conv, dense = layers["conv"], layers["dense"]

    def bn(v, name):
        scale, shift = bn_affine(layers["bn"][name])
        return v * scale + shift

    def relu(v):
        return np.maximum(v, 0.0)

    def pad_time(v, before, after):
        return np.pad(v, [(before, after)] + [(0, 0)] * (v.ndim - 1))

    def conv_full_width(v, name):
        """Conv whose kernel spans every column of v (T+6, W), valid: -> (T, out)."""
        kernel, bias = conv[name]
        win = sliding_window_view(v, kernel.shape[0], axis=0)       # (T, W, kh)
        return np.tensordot(win, kernel[:, :, 0, :], axes=([2, 1], [0, 1])) + bias

    x = bn(x.astype(np.float64), "input")

    front = []
    padded = pad_time(x, 3, 3)
    for name in ("timbral_7x38", "timbral_7x67"):
        kernel, bias = conv[name]
        win = sliding_window_view(padded, kernel.shape[:2])          # (T, F', kh, kw)
        out = np.tensordot(win, kernel[:, :, 0, :], axes=([2, 3], [0, 1])) + bias
        front.append(bn(relu(out), name).max(axis=1))                # pool over all of freq
    for name in ("temporal_128", "temporal_64", "temporal_32"):
        kernel, bias = conv[name]
        k = kernel.shape[0]
        win = sliding_window_view(pad_time(x, *tf_same(k)), k, axis=0)
        out = np.tensordot(win, kernel[:, 0, 0, :], axes=([2], [0])) + bias  # (T, F, out)
        front.append(bn(relu(out), name).max(axis=1))
    front = np.concatenate(front, axis=1)                            # (T, 561)

    c1 = bn(relu(conv_full_width(pad_time(front, 3, 3), "midend_1")), "midend_1")
    r2 = bn(relu(conv_full_width(pad_time(c1, 3, 3), "midend_2")), "midend_2") + c1
    r3 = bn(relu(conv_full_width(pad_time(r2, 3, 3), "midend_3")), "midend_3") + r2
    mid = np.concatenate([front, c1, r2, r3], axis=1)                # (T, 753)

    max_pool, mean_pool = mid.max(axis=0), mid.mean(axis=0)
    # flatten(concat([max, mean], axis=2)) of (753, 2): max and mean interleave
    flat = bn(np.stack([max_pool, mean_pool], axis=1).reshape(-1), "pool")
    kernel, bias = dense["penultimate"]
    embedding = bn(relu(flat @ kernel + bias), "penultimate")
    kernel, bias = dense["logits"]
    tags = 1.0 / (1.0 + np.exp(-(embedding @ kernel + bias)))
    return {"embedding": embedding, "tags": tags, "mean_pool": mean_pool, "max_pool": max_pool}


# ---- the ONNX graph: channels-first, batch norms folded where no ReLU/max is in between ----

def build_onnx(layers, labels, model_name):
    conv, dense = layers["conv"], layers["dense"]
    inits, nodes = [], []

    def const(name, array, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=dtype), name))
        return name

    def node(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def affine(v, name, rank, output=None):
        """Batch norm after a ReLU: Mul + Add with per-channel vectors on axis 1."""
        scale, shift = bn_affine(layers["bn"][name])
        shape = (1, -1) + (1,) * (rank - 2)
        v = node("Mul", [v, const(f"{name}.bn_scale", scale.reshape(shape))], f"{name}.bn_mul")
        return node("Add", [v, const(f"{name}.bn_shift", shift.reshape(shape))],
                    output or f"{name}.bn")

    # input batch norm: one channel, applied before the zero padding (so not foldable into convs)
    scale, shift = bn_affine(layers["bn"]["input"])
    v = node("Mul", ["mel", const("input.bn_scale", scale)], "input.bn_mul")
    v = node("Add", [v, const("input.bn_shift", shift)], "input.bn")
    x = node("Reshape", [v, const("nchw", [1, 1, N_FRAMES, N_MELS], np.int64)], "input.nchw")

    front = []
    for name, _, _ in CONVS[:5]:
        kernel, bias = conv[name]
        k = kernel.shape[0]
        # pads are [time_begin, freq_begin, time_end, freq_end]; timbral: explicit 3+3 then
        # valid, temporal: TF 'same'
        before, after = (3, 3) if name.startswith("timbral") else tf_same(k)
        pads = [before, 0, after, 0]
        w = const(f"{name}.weight", kernel.transpose(3, 2, 0, 1))    # (out, 1, time, freq)
        v = node("Conv", [x, w, const(f"{name}.bias", bias)], f"{name}.conv", pads=pads)
        v = node("Relu", [v], f"{name}.relu")
        v = affine(v, name, 4)
        front.append(node("ReduceMax", [v], f"{name}.pool", axes=[3], keepdims=0))  # (1, C, T)
    v = node("Concat", front, "frontend", axis=1)                    # (1, 561, T)

    # mid-end: a (7 x width) kernel over a one-channel map == a 1-D conv with width channels
    mid = [v]
    for name, _, _ in CONVS[5:]:
        kernel, bias = conv[name]
        w = const(f"{name}.weight", kernel[:, :, 0, :].transpose(2, 1, 0))  # (out, in, time)
        out = node("Conv", [v, w, const(f"{name}.bias", bias)], f"{name}.conv", pads=[3, 3])
        out = affine(node("Relu", [out], f"{name}.relu"), name, 3)
        v = out if name == "midend_1" else node("Add", [out, v], f"{name}.residual")
        mid.append(v)
    v = node("Concat", mid, "midend", axis=1)                        # (1, 753, T)

    max_pool = node("ReduceMax", [v], "max_pool", axes=[2], keepdims=0)
    mean_pool = node("ReduceMean", [v], "mean_pool", axes=[2], keepdims=0)
    pooled = node("Concat", [max_pool, mean_pool], "pooled", axis=1)  # (1, 1506), max first

    # pool batch norm folded into the dense layer; rows reordered from TF's interleaved
    # (max0, mean0, max1, ...) flattening to the [max | mean] concat above
    scale, shift = bn_affine(layers["bn"]["pool"])
    kernel, bias = dense["penultimate"]
    folded = kernel * scale[:, None]
    folded = np.concatenate([folded[0::2], folded[1::2]])
    v = node("MatMul", [pooled, const("penultimate.weight", folded)], "penultimate.matmul")
    v = node("Add", [v, const("penultimate.bias", shift @ kernel + bias)], "penultimate.add")
    v = node("Relu", [v], "penultimate.relu")
    embedding = affine(v, "penultimate", 2, output="embedding")

    kernel, bias = dense["logits"]
    v = node("MatMul", [embedding, const("logits.weight", kernel)], "logits.matmul")
    v = node("Add", [v, const("logits.bias", bias)], "logits")
    node("Sigmoid", [v], "tags")

    def f32(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    graph = helper.make_graph(
        nodes, model_name.lower(), [f32("mel", [1, N_FRAMES, N_MELS])],
        [f32("embedding", [1, 200]), f32("tags", [1, 50]),
         f32("mean_pool", [1, 753]), f32("max_pool", [1, 753])], inits)
    model = helper.make_model(graph, producer_name="mirador musicnn_export.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # the IR of opset 17
    model.doc_string = (f"musicnn {model_name} (PyPI musicnn 0.1.0, ISC, (c) Music Technology "
                        "Group, Universitat Pompeu Fabra 2019), converted from its TF checkpoint. "
                        "Input: log10(10000 mel + 1), 187 frames x 96 Slaney mel bands, 16 kHz, "
                        "n_fft 512, hop 256.")
    helper.set_model_props(model, {"labels": json.dumps(labels)})
    onnx.checker.check_model(model, full_check=True)
    return model


# ---- checks ----------------------------------------------------------------------------------

def logmels(data, librosa_python):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logmel.npz")
        subprocess.run([librosa_python, os.path.join(HERE, "musicnn_logmel.py"), out]
                       + [os.path.join(data, c) for c in CLIPS], check=True)
        with np.load(out) as z:
            return {c: z[os.path.join(data, c)] for c in CLIPS}


def patches(mel):
    # musicnn's default batching: non-overlapping 187-frame patches, the tail dropped
    return [mel[t:t + N_FRAMES] for t in range(0, mel.shape[0] - N_FRAMES + 1, N_FRAMES)]


def f32_list(array):
    # shortest repr that round-trips to the same float32 (also through f64 -> f32)
    values = [float(str(v)) for v in np.asarray(array, dtype=np.float32).ravel()]
    assert np.array_equal(np.float32(values), np.asarray(array, dtype=np.float32).ravel())
    return np.reshape(values, np.shape(array)).tolist()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel-dir", help="unpacked musicnn package (fetched with pip if absent)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--librosa-python", default=os.environ.get(
        "MIRADOR_PYTHON", os.path.join(REPO, "target", "pyenv", "bin", "python")))
    args = parser.parse_args()

    tmp = None
    wheel_dir = args.wheel_dir
    if wheel_dir is None:
        tmp = tempfile.mkdtemp(prefix="musicnn-")
        wheel_dir = fetch_wheel(tmp)
    try:
        models = {file: (load_layers(wheel_dir, name), tag_labels(wheel_dir, labels), name)
                  for name, labels, file in MODELS}
        os.makedirs(args.out, exist_ok=True)
        shutil.copyfile(os.path.join(os.path.dirname(wheel_dir), "musicnn-0.1.0.dist-info",
                                     "LICENSE.md"), os.path.join(args.out, "LICENSE-musicnn.md"))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp)

    mels = logmels(args.data, args.librosa_python)
    names = ["embedding", "tags", "mean_pool", "max_pool"]
    runs = {}
    for file, (layers, labels, name) in models.items():
        assert len(labels) == 50
        path = os.path.join(args.out, file)
        onnx.save(build_onnx(layers, labels, name), path)
        with open(os.path.join(args.out, file.replace("_musicnn.onnx", "_labels.json")), "w") as f:
            json.dump(labels, f, indent=0)
            f.write("\n")
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(path, options,
                                               providers=["CPUExecutionProvider"])

        def run(patch, session=session):
            out = session.run(names, {"mel": patch[None].astype(np.float32)})
            return {n: o[0] for n, o in zip(names, out)}

        runs[file] = run
        worst = dict.fromkeys(names, 0.0)
        print(f"\ntop 5 {name} tags (mean over non-overlapping 3 s patches):")
        for clip in CLIPS:
            tags = []
            for patch in patches(mels[clip]):
                ref, got = ref_forward(layers, patch), run(patch)
                for n in names:
                    worst[n] = max(worst[n], float(np.abs(ref[n] - got[n]).max()))
                tags.append(got["tags"])
            mean = np.mean(tags, axis=0)
            top = ", ".join(f"{labels[i]} {mean[i]:.2f}" for i in np.argsort(-mean)[:5])
            print(f"  {os.path.basename(clip):22s} ({len(tags)} patches) {top}")
        print("\nmax |onnxruntime - numpy float64 reference| over all those patches:")
        for n in names:
            print(f"  {n:10s} {worst[n]:.2e}")
            if worst[n] > 1e-3:
                sys.exit(f"{name} {n}: ONNX and the reference disagree")

    golden = {"model": "msd_musicnn.onnx and mtt_musicnn.onnx",
              "labels": models["msd_musicnn.onnx"][1], "cases": []}
    for clip, index in GOLDEN:
        patch = patches(mels[clip])[index]
        msd, mtt = runs["msd_musicnn.onnx"](patch), runs["mtt_musicnn.onnx"](patch)
        golden["cases"].append({
            "source": f"{clip}, frames {index * N_FRAMES}..{(index + 1) * N_FRAMES}",
            "mel": f32_list(patch), "embedding": f32_list(msd["embedding"]),
            "tags": f32_list(msd["tags"]), "mtt_embedding": f32_list(mtt["embedding"]),
            "mtt_tags": f32_list(mtt["tags"])})
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.join(args.out, 'golden.json')}")


if __name__ == "__main__":
    main()
