"""The cut's soundtrack: audio clips decoded with PyAV and mixed at their place on the cut.

One mix serves the viewer's playback and the reference movie, so what a director hears while
watching is what the editor gets. Samples are float32 stereo at 48 kHz (film and TV's rate);
a clip's start frame maps to an exact sample through the project's rational frame rate.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import av
import numpy as np

from app.document import AudioClip
from app.media_ref import MediaRef
from app.media_store import MediaStore
from app.timecode import FrameRate

SAMPLE_RATE = 48000
CHANNELS = 2


class Soundtrack(Protocol):
    """What a mix needs to know: a project, or an export plan made from one."""

    @property
    def rate(self) -> FrameRate: ...

    @property
    def audio(self) -> tuple[AudioClip, ...]: ...


@dataclass(frozen=True)
class PlacedAudio:
    clip: AudioClip
    start: int  # first sample on the cut
    samples: np.ndarray  # (n, 2) float32, gain applied


class AudioMix:
    """Decodes each audio file once (thread-safe) and answers any span of the cut's mix."""

    def __init__(self, media: MediaStore, sample_rate: int = SAMPLE_RATE) -> None:
        self.media = media
        self.sample_rate = sample_rate
        self._decoded: dict[MediaRef, np.ndarray | None] = {}
        self._lock = threading.Lock()
        self.problems: dict[MediaRef, str] = {}

    def frame_to_sample(self, project: Soundtrack, frame: int) -> int:
        """First sample of a cut frame: frame / fps * sample rate, exact, rounded down."""
        return int(Fraction(frame) * self.sample_rate / project.rate.fps)

    def decoded(self, ref: MediaRef) -> np.ndarray | None:
        """A file's samples as (n, 2) float32, or None if it is missing or unreadable (see ``problems``)."""
        with self._lock:
            if ref in self._decoded:
                return self._decoded[ref]
        samples = self._decode(ref)
        with self._lock:
            self._decoded[ref] = samples
        return samples

    def placed(self, project: Soundtrack) -> list[PlacedAudio]:
        out = []
        for clip in project.audio:
            data = self.decoded(clip.media)
            if data is None or not len(data):
                continue
            gain = np.float32(10 ** (clip.gain_db / 20))
            out.append(PlacedAudio(clip, self.frame_to_sample(project, clip.start), data * gain if gain != 1 else data))
        return out

    def mix(self, project: Soundtrack, start: int, count: int, placed: list[PlacedAudio] | None = None) -> np.ndarray:
        """Samples ``start`` to ``start + count`` of the cut's mix, (count, 2) float32, clipped to [-1, 1]."""
        out = np.zeros((max(0, count), CHANNELS), np.float32)
        end = start + count
        for p in self.placed(project) if placed is None else placed:
            lo, hi = max(start, p.start), min(end, p.start + len(p.samples))
            if lo < hi:
                out[lo - start : hi - start] += p.samples[lo - p.start : hi - p.start]
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def _decode(self, ref: MediaRef) -> np.ndarray | None:
        if not self.media.exists(ref):
            self.problems[ref] = "the file is missing from the project; relink it"
            return None
        chunks = []
        try:
            with av.open(str(self.media.path(ref))) as container:
                if not container.streams.audio:
                    self.problems[ref] = "the file has no sound"
                    return None
                resampler = av.AudioResampler(format="fltp", layout="stereo", rate=self.sample_rate)
                for frame in container.decode(audio=0):
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray())
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
        except (OSError, av.FFmpegError) as exc:
            self.problems[ref] = f"the file can't be decoded ({exc}); relink it"
            return None
        if not chunks:
            return np.zeros((0, CHANNELS), np.float32)
        return np.ascontiguousarray(np.concatenate(chunks, axis=1).T, dtype=np.float32)


def to_pcm16(samples: np.ndarray) -> bytes:
    """Interleaved signed 16-bit little-endian bytes, the format every sound card takes."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
