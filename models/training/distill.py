"""Distils musicnn (MSD) into Mirador's own small CNN, which costs a fraction as much to run live.

The student reads the same input as musicnn (a 3 s patch of 187 frames x 96 compressed log-mel
bands, musicnn_logmel.py) and learns to give musicnn's outputs: its 200-d embedding (mean squared
error on standardized dimensions) and its 50 MSD tag likelihoods (binary cross-entropy against
musicnn's). No labels are used; the genre and mood heads are trained on the student's embedding
afterwards by heads.py, exactly as for musicnn.

Training audio: everything in ../shared/data that no evaluation uses. Held out: the GTZAN clips
of the fault-filtered test split, the 4Q clips of models/musicnn/mood_test.txt (written by
heads.py for musicnn, so run that first) and all of Emotify. Patches start every 1.5 s; a
tenth of the clips (by clip) is kept for validation, and the weights of the epoch with the lowest
validation loss are kept.

Architecture (Student): time averaged in pairs, five 3x3 convolution blocks (batch norm, ReLU)
over the mel x time plane, 16 to 128 channels, shrinking it by max pooling or stride, then the
plane's mean and max of the last block, a dense embedding layer and a dense tag layer. Batch
norms are folded into the convolutions on export.

Writes OUT/cnn.onnx (opset 17, fixed input "mel" [1, 187, 96], outputs "embedding" [1, 200] and
"tags" [1, 50], like msd_musicnn.onnx), OUT/golden.json (musicnn's two golden patches with the
student's onnxruntime outputs, for the Rust parity test) and OUT/distillation.json (how close
the student gets to musicnn on the validation clips and on held-out audio).

Seeded, deterministic torch on two threads: a rerun on the same machine gives the same weights.

Usage: python distill.py --data ../shared/data --teacher models/musicnn --out models/cnn \
           [--cache target/distill-cache.npz] [--seed N]
"""

import argparse
import json
import os
import random
import time

import numpy as np
import onnx
import onnxruntime
import torch
from torch import nn

from musicnn_logmel import logmel

SEED = 20261201
PATCH = 187
N_MELS = 96
HOP = 94  # patch starts 1.5 s apart
OPSET = 17
EPOCHS = 20
BATCH = 64
TAG_WEIGHT = 4.0


def split_ids(data, name):
    with open(os.path.join(data, "gtzan", "splits", f"fault_filtered_{name}.txt")) as f:
        return {line.strip() for line in f if line.strip()}


def training_audio(data, teacher):
    """The audio files no evaluation uses, sorted."""
    held_out = split_ids(data, "test")
    files = []
    for folder in ("excerpts", "full", "classical_first15s"):
        root = os.path.join(data, "gtzan", folder)
        files += [os.path.join(root, n) for n in sorted(os.listdir(root))
                  if n.rsplit(".", 1)[0] not in held_out]
    with open(os.path.join(teacher, "mood_test.txt")) as f:
        mood_test = {line.strip() for line in f if line.strip()}
    for q in ("Q1", "Q2", "Q3", "Q4"):
        root = os.path.join(data, "4q", q)
        files += [os.path.join(root, n) for n in sorted(os.listdir(root))
                  if f"{q}/{n}" not in mood_test]
    root = os.path.join(data, "librosa_examples")
    files += [os.path.join(root, n) for n in sorted(os.listdir(root)) if n.endswith(".hq.ogg")]
    return files


def patch_starts(frames):
    if frames <= PATCH:
        return [0]
    return list(range(0, frames - PATCH + 1, HOP))


def clip_patches(mel):
    if len(mel) < PATCH:  # repeated to fill a patch, as Mirador and heads.py do
        mel = np.concatenate([mel] * (PATCH // max(len(mel), 1) + 1))[:PATCH]
    return [mel[s:s + PATCH] for s in patch_starts(len(mel))]


class Teacher:
    def __init__(self, onnx_path):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        self.session = onnxruntime.InferenceSession(onnx_path, options)

    def __call__(self, patch):
        emb, tags = self.session.run(["embedding", "tags"], {"mel": patch[None]})
        return emb[0], tags[0]


def block(cin, cout, stride=1, pool=None):
    layers = [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
              nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*layers, *([nn.MaxPool2d(pool)] if pool else []))


class Student(nn.Module):
    """Mel x time convolutions; the last block's mean and max over the plane summarize it.

    Time is averaged in pairs first (32 ms frames are plenty for genre, mood and tags), and the
    plane shrinks fourfold at each of the next three blocks, so most of the work happens on
    small planes: about 30 MFLOPs a patch, against musicnn's 2 GFLOPs.
    """

    def __init__(self):
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        self.convs = nn.Sequential(block(1, 16, pool=2), block(16, 32, stride=2),
                                   block(32, 64, stride=2), block(64, 128, stride=2),
                                   block(128, 128))
        self.embedding = nn.Sequential(nn.Linear(256, 200), nn.ReLU(), nn.BatchNorm1d(200),
                                       nn.Linear(200, 200))
        self.tags = nn.Linear(200, 50)

    def forward(self, mel):  # mel: [batch, 187 frames, 96 bands]
        x = mel.transpose(1, 2).unsqueeze(1)
        x = self.input_norm(nn.functional.avg_pool2d(x, (1, 2)))
        x = self.convs(x)
        x = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
        emb = self.embedding(x)
        return emb, torch.sigmoid(self.tags(emb))


def fold_batch_norms(model):
    """Inference copy with every conv's batch norm folded into its weights and bias."""
    model = model.eval()
    for seq in model.convs:
        conv, bn = seq[0], seq[1]
        seq[0] = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn)
        seq[1] = nn.Identity()
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--teacher", required=True, help="models/musicnn")
    ap.add_argument("--out", required=True, help="models/cnn")
    ap.add_argument("--cache", help="an .npz to keep the patches and musicnn's outputs in")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)

    files = training_audio(args.data, args.teacher)
    if args.cache and os.path.exists(args.cache):
        cached = np.load(args.cache)
        x, emb_t, tags_t, clip_of = (cached[k] for k in ("x", "emb", "tags", "clip"))
    else:
        teacher = Teacher(os.path.join(args.teacher, "msd_musicnn.onnx"))
        xs, embs, tags, clips = [], [], [], []
        started = time.time()
        for i, path in enumerate(files):
            for p in clip_patches(logmel(path)):
                e, t = teacher(p)
                xs.append(p), embs.append(e), tags.append(t), clips.append(i)
            if i % 100 == 0:
                print(f"  teacher: {i}/{len(files)} clips, {len(xs)} patches, "
                      f"{time.time() - started:.0f} s", flush=True)
        x, emb_t, tags_t = np.stack(xs), np.stack(embs), np.stack(tags)
        clip_of = np.array(clips)
        if args.cache:
            np.savez(args.cache, x=x, emb=emb_t, tags=tags_t, clip=clip_of)
    print(f"distill: {len(files)} clips, {len(x)} patches", flush=True)

    rng = np.random.default_rng(args.seed)
    valid_clips = set(rng.choice(len(files), len(files) // 10, replace=False).tolist())
    valid = np.array([c in valid_clips for c in clip_of])
    mean, std = emb_t[~valid].mean(0), emb_t[~valid].std(0) + 1e-3
    target = (emb_t - mean) / std
    tx, temb, ttags = (torch.from_numpy(a.astype(np.float32)) for a in (x, target, tags_t))
    train_idx, valid_idx = np.flatnonzero(~valid), np.flatnonzero(valid)

    student = Student()
    optimizer = torch.optim.AdamW(student.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = EPOCHS * (len(train_idx) // BATCH)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    bce = nn.BCELoss()

    def loss_of(idx):
        emb, tags = student(tx[idx])
        # The student predicts the standardized embedding; export undoes the scaling.
        return ((emb - temb[idx]) ** 2).mean() + TAG_WEIGHT * bce(tags, ttags[idx])

    best = (float("inf"), None, -1)
    for epoch in range(EPOCHS):
        student.train()
        order = rng.permutation(train_idx)
        started, total = time.time(), 0.0
        for b in range(len(order) // BATCH):
            idx = order[b * BATCH:(b + 1) * BATCH]
            loss = loss_of(idx)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        student.eval()
        with torch.no_grad():
            v = sum(loss_of(valid_idx[i:i + 256]).item() * len(valid_idx[i:i + 256])
                    for i in range(0, len(valid_idx), 256)) / len(valid_idx)
        print(f"  epoch {epoch + 1}: train {total / (len(order) // BATCH):.4f}, "
              f"valid {v:.4f}, {time.time() - started:.0f} s", flush=True)
        if v < best[0]:
            best = (v, {k: t.clone() for k, t in student.state_dict().items()}, epoch + 1)
    student.load_state_dict(best[1])
    model = fold_batch_norms(student)

    # Undo the embedding's standardization in the last dense layer, so the exported embedding
    # is on musicnn's scale.
    last = model.embedding[3]
    s, m = torch.from_numpy(std.astype(np.float32)), torch.from_numpy(mean.astype(np.float32))
    with torch.no_grad():
        tag_layer_in = model.tags.weight.clone(), model.tags.bias.clone()
        last.weight.mul_(s[:, None])
        last.bias.mul_(s).add_(m)
        # tags read the standardized embedding: w (e - m) / s + b
        model.tags.weight.copy_(tag_layer_in[0] / s[None, :])
        model.tags.bias.copy_(tag_layer_in[1] - (tag_layer_in[0] / s[None, :]) @ m)

    path = os.path.join(args.out, "cnn.onnx")
    torch.onnx.export(model, torch.zeros(1, PATCH, N_MELS), path, opset_version=OPSET,
                      input_names=["mel"], output_names=["embedding", "tags"],
                      do_constant_folding=True, dynamo=False)
    graph = onnx.load(path)
    onnx.checker.check_model(graph)

    session = onnxruntime.InferenceSession(path)

    def student_out(p):
        e, t = session.run(["embedding", "tags"], {"mel": p[None].astype(np.float32)})
        return e[0], t[0]

    # The exported graph against the torch model it came from, and against musicnn.
    with torch.no_grad():
        e_torch, t_torch = model(tx[valid_idx[:64]])
    e_onnx = np.stack([student_out(p)[0] for p in x[valid_idx[:64]]])
    export_diff = float(np.abs(e_onnx - e_torch.numpy()).max())

    def agreement(e_s, t_s, e_t, t_t):
        cos = (e_s * e_t).sum(1) / (np.linalg.norm(e_s, axis=1) * np.linalg.norm(e_t, axis=1))
        top = np.mean([len(set(np.argsort(-a)[:5]) & set(np.argsort(-b)[:5])) / 5
                       for a, b in zip(t_s, t_t)])
        return {"patches": len(e_s), "embedding_cosine_mean": float(cos.mean()),
                "tag_mae": float(np.abs(t_s - t_t).mean()), "top5_tag_overlap": float(top)}

    outs = [student_out(p) for p in x[valid_idx]]
    report = {
        "training_clips": len(files) - len(valid_clips), "validation_clips": len(valid_clips),
        "training_patches": int(len(train_idx)), "best_epoch": best[2],
        "epochs": EPOCHS, "onnx_vs_torch_max_diff": export_diff,
        "validation": agreement(np.stack([o[0] for o in outs]), np.stack([o[1] for o in outs]),
                                emb_t[valid_idx], tags_t[valid_idx]),
        "parameters": int(sum(p.numel() for p in student.parameters())),
    }

    # Golden fixture: musicnn's two golden patches through the student in onnxruntime.
    with open(os.path.join(args.teacher, "golden.json")) as f:
        teacher_golden = json.load(f)
    cases = []
    for case in teacher_golden["cases"]:
        e, t = student_out(np.array(case["mel"], dtype=np.float32))
        cases.append({"source": case["source"], "mel": case["mel"],
                      "embedding": e.tolist(), "tags": t.tolist()})
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump({"model": "cnn.onnx", "cases": cases}, f, separators=(",", ":"))
    with open(os.path.join(args.out, "distillation.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
