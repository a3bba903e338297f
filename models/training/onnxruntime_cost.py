"""Milliseconds per run of an ONNX graph in a one-thread onnxruntime session, on the inputs a
golden file holds: the peer `cargo xtask eval` times tract against (the median of RUNS for a
patch, as tract's is taken; otherwise the mean).

    onnxruntime_cost.py patch GRAPH GOLDEN RUNS     # the first golden 3 s mel patch
    onnxruntime_cost.py beatnet GRAPH GOLDEN        # every golden frame, LSTM state carried
    onnxruntime_cost.py notes GRAPH AUDIO RUNS      # basic-pitch's first 2 s window of AUDIO
                                                    # (float32 samples at 22.05 kHz, raw)
"""

import json
import sys
import time

import numpy as np
import onnxruntime as ort


def session(graph):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(graph, options)


def patch(graph, golden, runs):
    s = session(graph)
    x = np.array(json.load(open(golden))["cases"][0]["mel"], dtype=np.float32)[None]
    s.run(None, {"mel": x})
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        s.run(None, {"mel": x})
        times.append((time.perf_counter() - started) * 1e3)
    return float(np.median(times))


def beatnet(graph, golden):
    s = session(graph)
    frames = np.array(json.load(open(golden))["features"], dtype=np.float32)
    h = np.zeros((2, 1, 150), np.float32)
    c = h.copy()
    s.run(None, {"features": frames[:1], "h": h, "c": c})
    started = time.perf_counter()
    for x in frames:
        _, h, c = s.run(None, {"features": x[None], "h": h, "c": c})
    return (time.perf_counter() - started) * 1e3 / len(frames)


def notes(graph, audio, runs):
    s = session(graph)
    x = np.fromfile(audio, dtype="<f4")[:43844].reshape(1, -1, 1)
    s.run(None, {"serving_default_input_2:0": x})
    started = time.perf_counter()
    for _ in range(runs):
        s.run(None, {"serving_default_input_2:0": x})
    return (time.perf_counter() - started) * 1e3 / runs


if __name__ == "__main__":
    kind, graph, golden = sys.argv[1:4]
    if kind == "patch":
        print(patch(graph, golden, int(sys.argv[4])))
    elif kind == "beatnet":
        print(beatnet(graph, golden))
    elif kind == "notes":
        print(notes(graph, golden, int(sys.argv[4])))
    else:
        sys.exit(f"unknown graph kind {kind}")
