"""musicnn's log-mel front end, run with librosa (the `target/pyenv` environment, not the
models one): writes each clip's whole log-mel spectrogram, (frames, 96) float32, to an .npz.

musicnn 0.1.0 (`extractor.batch_data`): librosa.load at 16 kHz, a 96-band Slaney mel power
spectrogram (n_fft 512, hop 256, centred), rounded to float16, then log10(10000 x + 1).
musicnn pinned numpy < 1.17, whose value-based casting makes `10000 * float16_array` float32;
under numpy >= 2 (NEP 50) it stays float16 and overflows to inf for mel powers above 6.55,
which loud music reaches. So the log is taken here explicitly in float32, as musicnn did.

Usage: python musicnn_logmel.py OUT.npz AUDIO...   (keys are the audio paths)
"""

import sys

import librosa
import numpy as np

SR = 16000
FFT_HOP = 256
FFT_SIZE = 512
N_MELS = 96


def mel_power(audio):
    """The mel power spectrogram of `audio` at SR, (frames, 96)."""
    return librosa.feature.melspectrogram(y=np.asarray(audio, dtype=np.float32), sr=SR,
                                          hop_length=FFT_HOP, n_fft=FFT_SIZE, n_mels=N_MELS).T


def compress(mel):
    """musicnn's float16 rounding and log compression of a mel power spectrogram."""
    mel = mel.astype(np.float16).astype(np.float32)
    return np.log10(np.float32(10000) * mel + np.float32(1)).astype(np.float32)


def logmel(path):
    return compress(mel_power(librosa.load(path, sr=SR)[0]))


if __name__ == "__main__":
    out, paths = sys.argv[1], sys.argv[2:]
    np.savez(out, **{p: logmel(p) for p in paths})
