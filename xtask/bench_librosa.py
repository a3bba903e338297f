#!/usr/bin/env python3
"""librosa side of the Mirador benchmark.

    /tmp/pyenv/bin/python xtask/bench_librosa.py AUDIO_FILE [REPEATS=3]

Loads AUDIO_FILE with librosa at 22050 Hz mono (not timed), runs one untimed
warm-up on the first 3 s (numba JIT compilation, FFT plan caches), then times
REPEATS computations of the full GTZAN feature-table row -- exactly the
`table_row` of dsp/golden/generate.py (chroma_stft, rms, spectral centroid /
bandwidth / rolloff, zero-crossing rate, hpss, tempo, 20 MFCCs; each computed
by its own librosa call from y, as the GTZAN CSV was made) -- and prints one
JSON line:

    {"seconds_per_run": <median>, "audio_seconds": <duration>,
     "librosa_version": "0.11.0", "repeats": N, "runs": [...]}
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dsp" / "golden"))
from generate import SR, table_row  # noqa: E402  (one definition of the table)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) > 3:
        print(__doc__, file=sys.stderr)
        return 2
    import librosa

    path = argv[1]
    repeats = int(argv[2]) if len(argv) == 3 else 3
    if repeats < 1:
        print("REPEATS must be >= 1", file=sys.stderr)
        return 2

    y, sr = librosa.load(path, sr=SR, mono=True)
    table_row(y[: 3 * SR], sr)  # warm-up, not timed

    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        table_row(y, sr)
        runs.append(time.perf_counter() - t0)

    print(json.dumps({
        "seconds_per_run": statistics.median(runs),
        "audio_seconds": len(y) / sr,
        "librosa_version": librosa.__version__,
        "repeats": repeats,
        "runs": runs,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
