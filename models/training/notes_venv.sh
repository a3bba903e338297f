#!/usr/bin/env bash
# The basic-pitch reference environment: Spotify's basic-pitch 0.4.0 package, which runs its
# own nmp.onnx with onnxruntime, and its note creation, librosa and mir_eval, pinned in
# notes-requirements.txt. The package declares tensorflow on Linux (for its other model
# formats); it is installed without its dependencies so that ~500 MB stays out.
set -euo pipefail
venv="${1:?usage: notes_venv.sh VENV_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import basic_pitch.inference, onnxruntime, mir_eval" 2>/dev/null && exit 0
python3 -m venv "$venv"
"$venv/bin/pip" install -q --no-deps -r "$here/notes-requirements.txt"
"$venv/bin/pip" install -q --no-deps basic-pitch==0.4.0
