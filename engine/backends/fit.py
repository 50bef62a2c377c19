"""Sizes and fitting: generate at a size the model supports, then fit the project frame.

Fitting is "cover": scale until both sides reach the target, then crop the middle, so the
picture fills the frame without bars or stretching. What was done is recorded in words,
because a keyframe take keeps it ("generated 1024x576, scaled to 1920x1080").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
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


def nearest_bucket(
    width: int, height: int, buckets: Iterable[tuple[int, int]], *, scale: float = 1.0, multiple: int = 1
) -> tuple[int, int]:
    """The (width, height) bucket whose aspect is nearest the target's, scaled and snapped to ``multiple``.

    Models trained on aspect-ratio buckets (PRXPixel) render best at one of them; the nearest is
    judged on log aspect, so 2:1 and 1:2 are equally far from square. The crop to the exact aspect
    comes after, in :func:`fit_image`.
    """
    target = math.log(width / height)
    bw, bh = min(buckets, key=lambda b: abs(math.log(b[0] / b[1]) - target))
    snap = max(1, multiple)
    return max(snap, round(bw * scale / snap) * snap), max(snap, round(bh * scale / snap) * snap)


def cover_size(w: int, h: int, width: int, height: int) -> tuple[int, int]:
    """The size ``w``x``h`` is scaled to, with one factor for both sides, so it covers ``width``x``height``."""
    scale = max(width / w, height / h)
    return max(width, round(w * scale)), max(height, round(h * scale))


def fit_image(image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, str]:
    """Scale to cover ``width``x``height`` and crop the centre; returns the image and a note.

    Never stretches: both sides take the same factor (to within rounding a pixel), the excess is cropped.
    """
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image, ""
    scale = max(width / w, height / h)
    sw, sh = cover_size(w, h, width, height)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(image, (sw, sh), interpolation=interp)
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    fitted = np.ascontiguousarray(scaled[y0 : y0 + height, x0 : x0 + width])
    note = f"scaled {w}x{h} to {sw}x{sh}"
    if (sw, sh) != (width, height):
        note += f", cropped to {width}x{height}"
    return fitted, note


# Images bigger than this are refused before they are decoded: 8192² RGBA is already 256 MB in memory,
# and no keyframe, sketch or reference a director means to give is larger.
MAX_IMAGE_SIDE = 8192
MAX_IMAGE_BYTES = 100 * 1024**2


class ImageRefused(EngineError):
    """An image file that is not an image, or too big to decode; the message names it and the limit."""


@dataclass(frozen=True)
class ImageHeader:
    width: int
    height: int
    format: str  # PIL's name: "PNG", "JPEG", "WEBP"...
    bytes: int


def _megabytes(count: int) -> str:
    return f"{count / 1024**2:.1f} MB" if count < 1024**3 else f"{count / 1024**3:.1f} GB"


def check_image_file(path: str | Path, what: str = "image") -> ImageHeader:
    """Size and format of an image file from its header alone, or :class:`ImageRefused` saying why not.

    Refuses a missing or empty file, one over :data:`MAX_IMAGE_BYTES` on disk, one that isn't an
    image, and one over :data:`MAX_IMAGE_SIDE` pixels a side, all before any pixel is decoded
    (PIL's ``Image.open`` reads the header only).
    """
    from PIL import Image, UnidentifiedImageError

    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError:
        raise ImageRefused(f"the {what} {file} is missing; relink it or pick another file") from None
    if not file.is_file():
        raise ImageRefused(f"the {what} {file} is a folder, not an image; pick an image file")
    if size == 0:
        raise ImageRefused(f"the {what} {file.name} is empty (0 bytes); save the image again or pick another file")
    if size > MAX_IMAGE_BYTES:
        raise ImageRefused(
            f"the {what} {file.name} is {_megabytes(size)}, over the {_megabytes(MAX_IMAGE_BYTES)} limit; "
            f"save it as PNG or JPEG at most {MAX_IMAGE_SIDE} px a side"
        )
    try:
        with Image.open(file) as image:
            width, height, kind = image.width, image.height, image.format or file.suffix.lstrip(".").upper()
    except Image.DecompressionBombError:
        width, height, kind = _bomb_size(file)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRefused(f"the {what} {file.name} is not a readable image; save it as PNG, JPEG or WebP") from None
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        raise ImageRefused(
            f"the {what} {file.name} is {width}x{height} pixels, over the limit of {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}; "
            f"scale it down to at most {MAX_IMAGE_SIDE} px a side"
        )
    return ImageHeader(width, height, kind, size)


def _bomb_size(file: Path) -> tuple[int, int, str]:
    """The header of a file PIL refuses as a decompression bomb, read by its format plugin directly.

    ``Image.open`` raises before it says how big the image is; the plugins themselves only parse the
    header, so the message can still name the size (and no pixel is decoded either way).
    """
    from PIL import Image

    Image.init()
    with open(file, "rb") as fp:
        prefix = fp.read(16)
        for name in Image.ID:
            factory, accept = Image.OPEN[name]
            if accept is not None and not accept(prefix):
                continue
            fp.seek(0)
            try:
                image = factory(fp, str(file))
            except (SyntaxError, OSError, ValueError, IndexError, TypeError):
                continue
            return image.width, image.height, image.format or name
    raise ImageRefused(f"{file.name} is far too large an image to open; scale it down to {MAX_IMAGE_SIDE} px a side")


def read_rgb(path: str | Path) -> np.ndarray:
    if not Path(path).is_file():
        raise EngineError(f"keyframe image {path} is missing; relink it or pick another take")
    check_image_file(path, "keyframe image")  # before decoding: a huge file would take the memory first
    data = np.fromfile(str(path), dtype=np.uint8)
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
        f.write(data.tobytes())  # a few MB at most, once per file


def thumbnail(rgb: np.ndarray, long_side: int = 160) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1:
        return rgb
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    small.setflags(write=False)
    return small
