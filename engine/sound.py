"""Sound a motion model made with its picture (LTX-2): fitted to the clip and written as WAV."""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

import numpy as np


def fit_to_clip(samples: np.ndarray, rate: int, frame_count: int, fps: Fraction) -> np.ndarray:
    """Exactly the clip's length of sound, as (samples, channels) floats in [-1, 1].

    A model renders a whole number of its own frames and may stop a little short of or past the
    clip's last frame; trimming or padding with silence keeps picture and sound the same length,
    so an editor lines them up with no drift.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    elif x.ndim == 2 and x.shape[0] in (1, 2) and x.shape[1] > 2:
        x = x.T  # (channels, samples), as vocoders return it
    if x.ndim != 2 or x.shape[1] not in (1, 2):
        raise ValueError(f"sound of shape {samples.shape} is not mono or stereo")
    want = round(Fraction(frame_count) / fps * rate)
    if x.shape[0] < want:
        x = np.concatenate([x, np.zeros((want - x.shape[0], x.shape[1]), np.float32)])
    x = x[:want]
    return np.clip(np.nan_to_num(x), -1.0, 1.0)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """16-bit PCM WAV: every editor and PyAV read it."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    pcm = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(int(rate))
        out.writeframes(pcm.tobytes())
