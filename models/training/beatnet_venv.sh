#!/usr/bin/env bash
# The BeatNet reference environment: the original BeatNet 1.1.3 package, madmom 0.16.1 (its
# feature extraction and state spaces), torch, librosa's beat tracker and mir_eval, pinned in
# beatnet-requirements.txt. madmom 0.16.1 predates Python 3.11 and numpy 1.24: its shipped C
# files are regenerated with Cython and two removed aliases are patched, nothing else.
set -euo pipefail
venv="${1:?usage: beatnet_venv.sh VENV_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import madmom, BeatNet, numpy as np
from madmom.features import DBNDownBeatTrackingProcessor as D
D(beats_per_bar=[3, 4], fps=50)(np.full((200, 2), 0.1))" 2>/dev/null && exit 0
python3 -m venv "$venv"
pip="$venv/bin/pip"
# A complete freeze, installed as is: torch declares setuptools >= 77, which no longer has
# the pkg_resources madmom 0.16.1 imports.
"$pip" install -q --no-deps -r "$here/beatnet-requirements.txt"
work="$(mktemp -d)"
"$pip" download -q --no-deps --no-binary :all: --no-build-isolation madmom==0.16.1 -d "$work"
tar xzf "$work/madmom-0.16.1.tar.gz" -C "$work"
src="$work/madmom-0.16.1"
find "$src" -name '*.c' -delete
sed -i 's/from collections import MutableSequence/from collections.abc import MutableSequence/' \
    "$src/madmom/processors.py"
find "$src/madmom" \( -name '*.py' -o -name '*.pyx' \) -print0 | xargs -0 sed -i -E 's/np\.(float|int|bool|complex)\b/\1/g'
sed -i 's/np\.argmax(np\.asarray(results)\[:, 1\])/np.argmax([r[1] for r in results])/' \
    "$src/madmom/features/downbeats.py"
"$pip" install -q --no-build-isolation --no-deps --force-reinstall "$src"
"$pip" install -q --no-deps BeatNet==1.1.3
rm -rf "$work"
