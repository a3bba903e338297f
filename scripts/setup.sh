#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test Mirador: the Debian build
# packages (audio, X11 and GL headers for the live front ends). Safe to run repeatedly.
set -euo pipefail

packages=(
  libasound2-dev libjack-jackd2-dev libx11-dev libxcursor-dev libxcb1-dev
  libxcb-icccm4-dev libxcb-dri2-0-dev libx11-xcb-dev libgl1-mesa-dev libxkbcommon-dev
  pkg-config
  # The GUI test: a virtual X server, software OpenGL, and a screenshot tool.
  xvfb xauth libgl1-mesa-dri imagemagick
  # The VST3 host test's Python.
  python3-pip
  # Converting real recordings to other formats in tests.
  ffmpeg
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The VST3 host test (plugin/tests/vst3_host.rs) drives the plugin from Python through
# Spotify's pedalboard (JUCE's VST3 hosting), which brings numpy. MIRADOR_PYTHON picks the
# interpreter, as in the test.
python="${MIRADOR_PYTHON:-python3}"
if ! "$python" -c 'import pedalboard, numpy' >/dev/null 2>&1; then
  echo "setup: installing pedalboard for the VST3 host test" >&2
  pedalboard=(pedalboard==0.9.26 'numpy>=1.21')
  # A Debian system Python refuses plain installs (PEP 668): fall back to the user site.
  "$python" -m pip install --quiet "${pedalboard[@]}" 2>/dev/null ||
    "$python" -m pip install --quiet --user --break-system-packages "${pedalboard[@]}"
  "$python" -c 'import pedalboard' ||
    { echo "setup: pedalboard still not importable by $python" >&2; exit 1; }
fi

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup)" >&2; exit 1; }
