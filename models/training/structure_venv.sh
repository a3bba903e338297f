#!/usr/bin/env bash
# The song-structure peer environment: MSAF 0.1.80 (sf, foote, scluster, fmc2d), mir_eval,
# jams, librosa and soundfile, pinned in structure-requirements.txt, for structure_songs.py
# and structure_score.py. A complete freeze installed as is (--no-deps): MSAF declares
# enum34, which would shadow Python 3's enum module. MSAF runs unpatched with these pins
# (scipy < 1.12 still has scipy.inf and scipy.signal.gaussian, which it uses).
set -euo pipefail
venv="${1:?usage: structure_venv.sh VENV_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import msaf, mir_eval" 2>/dev/null && exit 0
python3 -m venv "$venv"
"$venv/bin/pip" install -q --no-deps -r "$here/structure-requirements.txt"
MPLBACKEND=Agg "$venv/bin/python" -c "import msaf, mir_eval, jams, librosa, soundfile"
