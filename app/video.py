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


# Stored clips are masters: the viewer, thumbnails and every export decode them with PyAV
# (nothing hands the file to a player; exports transcode), so they are kept near-lossless
# rather than small. Chosen by measuring 1080p on these 2-core machines (CPU per frame):
# - H.264 coded in RGB (libx264rgb, High 4:4:4 Predictive), constant qp 10, preset ultrafast:
#   ~20 ms a frame, 55 dB on a smooth render (~6.6 MB per second of clip), 50 dB with film
#   grain (~50 MB/s), 51 dB on pure noise; the worst error is ~5 levels. RGB skips the
#   RGB-to-YUV matrix, which alone caps 8-bit 4:4:4 at ~52 dB; a constant qp, unlike crf,
#   keeps that floor whatever the content (crf 6 in 4:4:4 gave 43 dB on grain).
# - FFV1 (lossless): ~55 ms to encode and ~54 ms to decode a frame; ProRes 4444: < 3 frames/s.
# - the old H.264 4:2:0 crf 14, preset medium: ~100 ms a frame and 38 dB.
# benchmarks/clip_store.py measures the whole store against the old path and a bare encode.
CLIP_ENCODER = "libx264rgb"
CLIP_PIX_FMT = "rgb24"
CLIP_OPTIONS = {"qp": "10", "preset": "ultrafast"}


def encode_frames(frames: Iterable[np.ndarray], path: str | Path, rate: Fraction, *, crf: int = 14) -> int:
    """Encode RGB uint8 frames to an H.264 .mp4 (visually lossless, plays everywhere); returns the count."""
    return _encode(frames, path, rate, "libx264", "yuv420p", {"crf": str(crf), "preset": "medium"})


def encode_clip(frames: Iterable[np.ndarray], path: str | Path, rate: Fraction) -> int:
    """Encode RGB uint8 frames near-lossless (the bundle's stored clips); returns the count.

    Reads back through :func:`read_frames` like any other clip. Frames are encoded as they
    arrive, so a generator that reads them from disk overlaps with the encoder's threads.
    """
    return _encode(
        frames, path, rate, CLIP_ENCODER, CLIP_PIX_FMT, CLIP_OPTIONS, keyframe_every=clip_keyframe_interval(rate)
    )


def clip_keyframe_interval(rate: Fraction) -> int:
    """A keyframe a second in stored clips: a seek decodes at most a second (costs ~5% in size)."""
    return max(1, round(rate))


def _encode(
    frames: Iterable[np.ndarray],
    path: str | Path,
    rate: Fraction,
    encoder: str,
    pix_fmt: str,
    options: dict[str, str],
    *,
    keyframe_every: int = 0,
) -> int:
    if rate <= 0:
        raise MediaError(f"can't write video {path} at {rate} fps; the frame rate must be positive")
    count = 0
    size: tuple[int, ...] = ()
    try:
        with av.open(str(path), mode="w") as container:
            stream = None
            for frame in frames:
                if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                    raise MediaError(f"frame {count} for {path} is {frame.dtype} {frame.shape}, not RGB uint8")
                if stream is None:
                    size = frame.shape
                    h, w = frame.shape[:2]
                    stream = container.add_stream(encoder, rate=rate)
                    stream.width, stream.height = w, h
                    stream.pix_fmt = pix_fmt
                    stream.time_base = Fraction(1) / rate
                    stream.options = dict(options)
                    if keyframe_every:
                        stream.codec_context.gop_size = keyframe_every
                elif frame.shape != size:
                    raise MediaError(
                        f"frame {count} for {path} is {_shape_text(frame.shape)}, not {_shape_text(size)} like "
                        "the frames before it; every frame of a clip must be the same size"
                    )
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


def _shape_text(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"


def probe(path: str | Path) -> VideoInfo:
    """Count frames by decoding (containers' own counts can be estimates)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
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
            stream = container.streams.video[0]
            # Frame threads on every core: stored clips are near-lossless, so decoding them is real work.
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
    except (OSError, av.FFmpegError, IndexError) as exc:
        raise MediaError(f"{path} is not a readable video ({exc}); re-render or relink it") from None
