"""Sizes and fitting: generate at a size the model supports, then fit the project frame.

Fitting is "cover": scale until both sides reach the target, then crop the middle, so the
picture fills the frame without bars or stretching. What was done is recorded in words,
because a keyframe take keeps it ("generated 1024x576, scaled to 1920x1080").
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from engine.errors import EngineError


def choose_size(width: int, height: int, *, area: int, multiple: int) -> tuple[int, int]:
    """A size of about ``area`` pixels with the target's aspect, both sides multiples of ``multiple``."""
    aspect = width / height
    h = math.sqrt(area / aspect)
    w = h * aspect
    rw = max(multiple, round(w / multiple) * multiple)
    rh = max(multiple, round(h / multiple) * multiple)
    return rw, rh


def fit_image(image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, str]:
    """Scale to cover ``width``x``height`` and crop the centre; returns the image and a note."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image, ""
    scale = max(width / w, height / h)
    sw, sh = max(width, round(w * scale)), max(height, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(image, (sw, sh), interpolation=interp)
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    fitted = np.ascontiguousarray(scaled[y0 : y0 + height, x0 : x0 + width])
    note = f"scaled {w}x{h} to {sw}x{sh}"
    if (sw, sh) != (width, height):
        note += f", cropped to {width}x{height}"
    return fitted, note


def read_rgb(path: str | Path) -> np.ndarray:
    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    if data is None:
        raise EngineError(f"keyframe image {path} is missing; relink it or pick another take")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise EngineError(f"{path} is not a readable image (PNG, JPEG or WebP); re-import it")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_png(path: str | Path, rgb: np.ndarray, *, compression: int = 3) -> None:
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise EngineError(f"could not encode {path} as PNG")
    # Not ndarray.tofile: numpy 2.4.6's tofile over-releases None on every write chunk, and on
    # Python 3.11 (where None is not immortal) a long render then kills the process.
    with open(path, "wb") as f:
        f.write(memoryview(data))


def thumbnail(rgb: np.ndarray, long_side: int = 160) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1:
        return rgb
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    small.setflags(write=False)
    return small
