"""Fetches a pinned wheel with pip and checks its sha256: where the export scripts take
third-party weights from."""

import hashlib
import os
import subprocess
import sys
import zipfile


def fetch(requirement, file_name, sha256, tmp):
    """Downloads `requirement` (such as "musicnn==0.1.0") into `tmp` without its
    dependencies, checks `file_name` against `sha256`, unpacks it into `tmp/x` and returns
    that folder; exits on a wrong digest."""
    subprocess.run([sys.executable, "-m", "pip", "download", requirement, "--no-deps",
                    "--only-binary=:all:", "--quiet", "-d", tmp], check=True)
    path = os.path.join(tmp, file_name)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != sha256:
        sys.exit(f"{file_name}: sha256 {digest}, expected {sha256}")
    with zipfile.ZipFile(path) as z:
        z.extractall(os.path.join(tmp, "x"))
    return os.path.join(tmp, "x")
