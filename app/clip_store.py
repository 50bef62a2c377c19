"""Rendered frames on disk into a clip in the bundle, fast: read ahead on threads, encode as they come.

The engine leaves a clip as numbered PNGs (:class:`engine.jobs.ClipResult`). Decoding a PNG and
encoding a frame both release the GIL, so a small pool reads a few frames ahead while the
encoder's own threads compress the ones already read; memory stays at ``ahead`` frames.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from app.bundle import Bundle
from app.errors import MediaError
from app.media_ref import MediaRef
from app.media_store import TMP_PREFIX
from app.video import encode_clip
from engine.jobs import ClipResult

CLIP_EXT = "mp4"
# Encoding waits for a folder under media/, named with the media store's temporary prefix, so a
# store cut short by a crash is swept away the next time the project opens.
INCOMING = ".incoming"


def store_clip_media(
    bundle: Bundle, result: ClipResult, progress: Callable[[int, int], None] | None = None
) -> tuple[MediaRef, int]:
    """Encode ``result``'s frames into the bundle; returns the clip's media and frame count.

    ``progress(done, total)`` is called (on this thread) as frames reach the encoder.

    Nothing reaches the bundle's media unless every frame was read and encoded: a missing or
    unreadable frame raises :class:`MediaError` naming it, and the half-written file is removed.
    """
    if result.frame_count < 1:
        raise MediaError(f"the rendered clip in {result.frames_dir} has no frames; render the shot again")
    folder = bundle.media.root / INCOMING
    tmp = folder / f"{TMP_PREFIX}{uuid.uuid4().hex}.{CLIP_EXT}"
    frames = read_rendered_frames(result)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        counted = frames if progress is None else _counted(frames, result.frame_count, progress)
        count = encode_clip(counted, tmp, Fraction(result.fps_num, result.fps_den))
        return bundle.media.put_file(tmp, CLIP_EXT), count
    except OSError as exc:
        raise MediaError(f"can't write the clip into {bundle.path}: {exc.strerror or exc}") from None
    finally:
        frames.close()  # stops the read-ahead now, not when the traceback is collected
        tmp.unlink(missing_ok=True)


def _counted(frames: Iterator[np.ndarray], total: int, progress: Callable[[int, int], None]) -> Iterator[np.ndarray]:
    """``frames``, calling ``progress(done, total)`` as each one is handed on (a slow store shows how far it got)."""
    for done, frame in enumerate(frames, 1):
        yield frame
        progress(done, total)


def read_rendered_frames(result: ClipResult, *, workers: int = 2, ahead: int = 6) -> Generator[np.ndarray]:
    """``result``'s frames as RGB arrays, in order, read ``ahead`` frames early on ``workers`` threads."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clip-frames")
    pending: deque[Future[np.ndarray]] = deque()
    try:
        submitted = 0
        for _ in range(result.frame_count):
            while submitted < result.frame_count and len(pending) < ahead:
                pending.append(pool.submit(read_rendered_frame, result, submitted))
                submitted += 1
            yield pending.popleft().result()
    finally:
        # An encoder that stopped early (a bad frame, a full disk) leaves nothing reading behind it.
        pool.shutdown(wait=True, cancel_futures=True)


def read_rendered_frame(result: ClipResult, index: int) -> np.ndarray:
    path = Path(result.frame_path(index))
    what = f"frame {index} of the rendered clip ({path})"
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise MediaError(f"{what} is missing, so the clip was not stored; render the shot again") from None
    except OSError as exc:
        raise MediaError(f"can't read {what}: {exc.strerror or exc}; render the shot again") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise MediaError(f"{what} is not a readable PNG, so the clip was not stored; render the shot again")
    if image.shape[:2] != (result.height, result.width):
        raise MediaError(
            f"{what} is {image.shape[1]}x{image.shape[0]}, not the clip's {result.width}x{result.height}; "
            "render the shot again"
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
