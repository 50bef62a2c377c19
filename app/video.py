"""Writing and reading video with PyAV, with exact rational frame rates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from app.errors import MediaError


@dataclass(frozen=True)
class VideoInfo:
    frame_count: int
    rate: Fraction
    width: int
    height: int
    codec: str
    pix_fmt: str


def encode_frames(frames: Iterable[np.ndarray], path: str | Path, rate: Fraction, *, crf: int = 14) -> int:
    """Encode RGB uint8 frames to an H.264 .mp4 (visually lossless, plays everywhere); returns the count."""
    count = 0
    try:
        with av.open(str(path), mode="w") as container:
            stream = None
            for frame in frames:
                if stream is None:
                    h, w = frame.shape[:2]
                    stream = container.add_stream("libx264", rate=rate)
                    stream.width, stream.height = w, h
                    stream.pix_fmt = "yuv420p"
                    stream.time_base = Fraction(1) / rate
                    stream.options = {"crf": str(crf), "preset": "medium"}
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                video_frame.pts = count
                container.mux(stream.encode(video_frame))
                count += 1
            if stream is not None:
                container.mux(stream.encode(None))
    except (OSError, av.FFmpegError) as exc:
        raise MediaError(f"can't write video {path}: {exc}") from None
    if count == 0:
        raise MediaError(f"no frames to write to {path}")
    return count


def probe(path: str | Path) -> VideoInfo:
    """Count frames by decoding (containers' own counts can be estimates)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            count = sum(1 for _ in container.decode(stream))
            return VideoInfo(
                count,
                Fraction(stream.average_rate),
                stream.width,
                stream.height,
                stream.codec_context.name,
                stream.codec_context.pix_fmt or "",
            )
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"{path} is not a readable video ({exc}); re-render or relink it") from None


def read_frames(path: str | Path) -> Iterator[np.ndarray]:
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
    except (OSError, av.FFmpegError) as exc:
        raise MediaError(f"{path} is not a readable video ({exc}); re-render or relink it") from None
