#!/usr/bin/env python3
"""Development material for song structure: songs whose sections are known by construction,
assembled from real recordings.

Usage: structure_songs.py OUT_DIR COUNT FIRST_SEED

Writes COUNT songs from seeds FIRST_SEED, FIRST_SEED + 1, ... into OUT_DIR, each
`song_NN.wav` (22 050 Hz mono, 16-bit) with its truth `song_NN.lab` (start, end, label:
seconds with 3 decimals, tab-separated, labels A, B, C... in order of first appearance,
covering the whole song), and one `manifest.json` saying, per song, the seed, the form, the
pool, and per section its source file, excerpt offset and length, gain and crossfade.

Each song is drawn from its seed alone:
- a form, from a list of pop-like ones (ABABCB, AABABCB, ABCABCDB, ABACAB, ABABCBB, ...),
  sometimes with an intro and/or an outro letter of its own, 5 to 9 sections in all;
- a pool: one genre folder of the shared data, so that the sections of a song differ as
  verses and choruses of one style do, not as genres do. The pools are GTZAN's classical and
  pop 30 s originals (`gtzan/full`; the other genres have one recording each, too few), the
  4Q quadrants (`4q/Q1`..`4q/Q4`) and the Emotify genres (`emotify/<genre>`);
- one recording of the pool for each distinct letter, different letters, different
  recordings;
- per letter, an excerpt offset and length (10 to 24 s: real pop sections mostly run 10 to
  30 s, and the recordings are 30 s long). Each occurrence of a letter is an
  excerpt of that letter's recording: often the same offset (and often the same length) as
  the letter's first occurrence, otherwise another offset in the same recording, so repeats
  are the same material but not always the same audio, as a chorus sung twice is;
- per section a gain of -6 to +3 dB, after every recording has been brought to one overall
  RMS (-20 dBFS), so level changes are controlled and not a cue in themselves;
- per join an equal-power crossfade of 0.2 to 1.5 s (cos/sin), centred on the section
  boundary: each excerpt is read half a crossfade beyond its nominal ends, so the truth
  boundary is the crossfade's midpoint and every section keeps its drawn length;
- a final fade-out (1.5 to 4 s) and a 10 ms fade-in.

Why it is honest: nothing here is tuned to any segmenter. The truth is how the song was cut
and pasted; boundaries are where one recording hands over to another, labels say which
recording (which letter) each section came from. Repeats share material but not always the
exact audio, neighbouring sections share a genre, and levels move by themselves, so neither
a plain novelty detector nor a level detector gets them for free. To keep tuning honest the
sources are split by recording id (the five digits of a GTZAN name, the number of a 4Q or
Emotify file name): songs with FIRST_SEED < 5000 (evaluation songs) use only odd ids, songs
with FIRST_SEED >= 5000 (development songs, the ones choices are tried on) only even ids.
A run uses one split, chosen by FIRST_SEED. The data is read from ../shared/data beside the
repository (or $MIRADOR_DATA) and never copied into the repository; only the songs made from it land in
OUT_DIR. Audio is decoded with soundfile (libsndfile reads FLAC and Ogg Vorbis) and
resampled to 22 050 Hz when a file is at another rate.
"""

import json
import math
import os
import random
import re
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

RATE = 22_050
DATA = Path(
    os.environ.get("MIRADOR_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
EVAL_SEEDS_BELOW = 5000

# Pop-like forms; intro (I) and outro (O) letters are added by the draw.
FORMS = [
    "ABABCB",
    "AABABCB",
    "ABCABCDB",
    "ABACAB",
    "ABABCBB",
    "ABABCAB",
    "ABCABCB",
    "AABABB",
    "ABABCDB",
    "ABCBCDB",
    "ABACABA",
    "AABBCB",
    "ABCBDB",
    "ABABB",
    "AABACB",
]
MIN_SECTIONS, MAX_SECTIONS = 5, 9
MIN_SECTION_S, MAX_SECTION_S = 10.0, 24.0
MIN_XFADE_S, MAX_XFADE_S = 0.2, 1.5
MIN_GAIN_DB, MAX_GAIN_DB = -6.0, 3.0
TARGET_RMS_DB = -20.0
MARGIN_S = MAX_XFADE_S / 2 + 0.05  # room in the source for half a crossfade each side
MIN_SOURCE_S = MAX_SECTION_S + 2 * MARGIN_S + 1.0


def pools():
    """Every pool: name and folder. Each song draws all its sections from one."""
    out = [("gtzan/classical", DATA / "gtzan/full", "classical."), ("gtzan/pop", DATA / "gtzan/full", "pop.")]
    for q in ["Q1", "Q2", "Q3", "Q4"]:
        out.append((f"4q/{q}", DATA / "4q" / q, ""))
    for genre in ["classical", "electronic", "pop", "rock"]:
        out.append((f"emotify/{genre}", DATA / "emotify" / genre, ""))
    return out


def recording_id(path):
    """The numeric id of a recording: GTZAN `genre.000NN.ext` -> NN, 4Q `MT0000249842.ogg`
    -> 249842, Emotify `17.ogg` -> 17."""
    stem = path.name.split(".")
    digits = stem[1] if len(stem) > 2 else stem[0]
    match = re.search(r"(\d+)$", digits)
    return int(match.group(1)) if match else None


def pool_files(folder, prefix, parity):
    files = []
    for path in sorted(folder.iterdir()):
        if not path.name.startswith(prefix) or path.suffix.lower() not in (".flac", ".ogg", ".wav"):
            continue
        rid = recording_id(path)
        if rid is not None and rid % 2 == parity:
            files.append(path)
    return files


_cache = {}


def load(path):
    """Mono float64 at RATE, brought to TARGET_RMS_DB overall."""
    if path not in _cache:
        audio, sr = sf.read(str(path), dtype="float64", always_2d=True)
        audio = audio.mean(axis=1)
        if sr != RATE:
            g = math.gcd(sr, RATE)
            audio = resample_poly(audio, RATE // g, sr // g)
        rms = math.sqrt(float(np.mean(audio**2))) + 1e-12
        audio = audio * (10 ** (TARGET_RMS_DB / 20) / rms)
        _cache[path] = audio
    return _cache[path]


def draw_form(rng):
    """A form with its intro/outro, 5 to 9 sections, as a list of letters."""
    while True:
        form = list(rng.choice(FORMS))
        if rng.random() < 0.4:
            form = ["I"] + form
        if rng.random() < 0.35:
            # An outro of its own, or the intro's material coming back.
            form = form + (["I"] if form[0] == "I" and rng.random() < 0.3 else ["O"])
        if MIN_SECTIONS <= len(form) <= MAX_SECTIONS:
            return form


def relabel(form):
    """Letters renamed A, B, C... in order of first appearance."""
    names = {}
    for letter in form:
        names.setdefault(letter, chr(ord("A") + len(names)))
    return [names[letter] for letter in form]


def draw_offset(rng, audio, length):
    """An excerpt offset with room for half a crossfade each side, avoiding near silence."""
    dur = len(audio) / RATE
    lo, hi = MARGIN_S, dur - length - MARGIN_S
    overall = math.sqrt(float(np.mean(audio**2)))
    best = None
    for _ in range(12):
        offset = rng.uniform(lo, hi)
        piece = audio[int(offset * RATE) : int((offset + length) * RATE)]
        rms = math.sqrt(float(np.mean(piece**2)))
        if best is None or rms > best[1]:
            best = (offset, rms)
        if rms > 0.25 * overall:
            return offset
    return best[0]


def song(index, seed, out_dir, parity):
    rng = random.Random(seed)
    form = draw_form(rng)
    pool_name, folder, prefix = rng.choice(pools())
    candidates = [p for p in pool_files(folder, prefix, parity) if sf.info(str(p)).duration >= MIN_SOURCE_S]
    letters = list(dict.fromkeys(form))
    sources = dict(zip(letters, rng.sample(candidates, len(letters))))

    # Per letter: the first occurrence's length and offset.
    first = {}
    for letter in letters:
        audio = load(sources[letter])
        length = rng.uniform(MIN_SECTION_S, MAX_SECTION_S)
        first[letter] = (length, draw_offset(rng, audio, length))

    sections = []
    seen = set()
    for letter in form:
        audio = load(sources[letter])
        length, offset = first[letter]
        if letter in seen:
            same_length = rng.random() < 0.6
            same_offset = rng.random() < 0.5
            if not same_length:
                length = rng.uniform(MIN_SECTION_S, MAX_SECTION_S)
            if same_offset:
                offset = min(offset, len(audio) / RATE - length - MARGIN_S)
            else:
                offset = draw_offset(rng, audio, length)
        seen.add(letter)
        sections.append(
            {
                "letter": letter,
                "source": str(sources[letter].relative_to(DATA)),
                "offset": offset,
                "length": length,
                "gain_db": rng.uniform(MIN_GAIN_DB, MAX_GAIN_DB),
            }
        )
    xfades = [rng.uniform(MIN_XFADE_S, MAX_XFADE_S) for _ in range(len(sections) - 1)]
    fade_out = rng.uniform(1.5, 4.0)

    # Boundaries on the output timeline, in samples: section k spans [b[k], b[k+1]).
    bounds = [0]
    for s in sections:
        bounds.append(bounds[-1] + int(round(s["length"] * RATE)))
    total = bounds[-1]
    out = np.zeros(total)
    for k, s in enumerate(sections):
        audio = load(DATA / s["source"])
        left = int(round(xfades[k - 1] * RATE / 2)) if k > 0 else 0
        right = int(round(xfades[k] * RATE / 2)) if k < len(sections) - 1 else 0
        start_out = bounds[k] - left
        n = bounds[k + 1] + right - start_out
        src0 = int(round(s["offset"] * RATE)) - left
        piece = audio[src0 : src0 + n].copy()
        if len(piece) < n:  # cannot happen with the margins, but never read short
            piece = np.pad(piece, (0, n - len(piece)))
        piece *= 10 ** (s["gain_db"] / 20)
        if left:
            t = (np.arange(2 * left) + 0.5) / (2 * left)
            piece[: 2 * left] *= np.sin(t * np.pi / 2)
        if right:
            t = (np.arange(2 * right) + 0.5) / (2 * right)
            piece[n - 2 * right :] *= np.cos(t * np.pi / 2)
        out[start_out : start_out + n] += piece
        s["xfade_in_s"] = round(2 * left / RATE, 4)
        s["xfade_out_s"] = round(2 * right / RATE, 4)
    fade_in_n = int(0.01 * RATE)
    out[:fade_in_n] *= np.linspace(0, 1, fade_in_n)
    fade_n = int(fade_out * RATE)
    out[-fade_n:] *= np.cos(np.linspace(0, np.pi / 2, fade_n)) ** 2
    peak = float(np.max(np.abs(out)))
    scale = 0.97 / peak if peak > 0.97 else 1.0
    out *= scale

    stem = out_dir / f"song_{index:02d}"
    sf.write(f"{stem}.wav", out.astype(np.float32), RATE, subtype="PCM_16")
    labels = relabel(form)
    with open(f"{stem}.lab", "w") as lab:
        for k, label in enumerate(labels):
            lab.write(f"{bounds[k] / RATE:.3f}\t{bounds[k + 1] / RATE:.3f}\t{label}\n")
    for s, label in zip(sections, labels):
        s["label"] = label
        s["offset"] = round(s["offset"], 3)
        s["length"] = round(s["length"], 3)
        s["gain_db"] = round(s["gain_db"], 2)
    return {
        "song": stem.name,
        "seed": seed,
        "form": "".join(form),
        "pattern": "".join(labels),
        "pool": pool_name,
        "split": "odd ids (evaluation)" if parity else "even ids (development)",
        "duration_s": round(total / RATE, 3),
        "boundaries_s": [round(b / RATE, 3) for b in bounds],
        "fade_out_s": round(fade_out, 3),
        "overall_scale_db": round(20 * math.log10(scale), 2),
        "sections": sections,
    }


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    out_dir = Path(sys.argv[1])
    count = int(sys.argv[2])
    first_seed = int(sys.argv[3])
    parity = 1 if first_seed < EVAL_SEEDS_BELOW else 0
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"first_seed": first_seed, "count": count, "rate": RATE, "songs": []}
    for i in range(count):
        manifest["songs"].append(song(i, first_seed + i, out_dir, parity))
        _cache.clear()
    with open(out_dir / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"structure_songs: {count} songs in {out_dir}")


if __name__ == "__main__":
    main()
