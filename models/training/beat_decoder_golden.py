"""Golden fixtures for Mirador's offline beat decoder (`models/src/beats/decoder.rs`): BeatNet's
activations over whole real clips and the beats madmom's `DBNDownBeatTrackingProcessor`
decodes from them with the same settings (3 and 4 beats per bar, madmom's defaults
otherwise). The activations are rounded before madmom sees them, so both decoders read the
same numbers.

    target/beatnet-venv/bin/python models/training/beat_decoder_golden.py [--data ../shared/data]
"""

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
import librosa  # noqa: E402
from madmom.features import DBNDownBeatTrackingProcessor  # noqa: E402

from beatnet_export import features, load_network, sequence_activations  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "models" / "beatnet" / "decoder_golden.json"
# 4/4 disco, a jazz clip in 3/4 and a classical clip with no steady pulse.
CLIPS = ["gtzan/full/disco.00000.flac", "gtzan/first_15_20s/jazz.00004.ogg", "gtzan/full/classical.00000.flac"]
FPS = 50


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.environ.get("MIRADOR_DATA", ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    net = load_network()
    dbn = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=FPS)
    clips = []
    for clip in CLIPS:
        audio, _ = librosa.load(Path(args.data) / clip, sr=22050)
        activations = np.round(sequence_activations(net, features(audio))[:, :2], 5).astype(np.float64)
        beats = dbn(activations)
        clips.append(
            {
                "clip": clip,
                "activations": activations.tolist(),
                "beats": [[int(round(t * FPS)), int(n)] for t, n in beats],
            }
        )
        print(f"{clip}: {len(activations)} frames, {len(beats)} beats")
    golden = {
        "note": "activations: BeatNet's torch model (beat, downbeat) over the whole clip, rounded to "
        "1e-5; beats: madmom 0.16.1 DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=50) on "
        "them, as [frame, beat in bar]",
        "clips": clips,
    }
    OUT.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
