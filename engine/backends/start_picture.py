"""Sketch -> keyframe and inpainting: the picture a keyframe job starts from, and its mask.

Both are read once per job, fitted to the generation size the way text-to-image output is fitted
to the frame (cover and crop the middle, never stretch), and fitted again to the project frame
so an inpainted result can be put back over the original: outside the mask the saved keyframe is
the start picture itself, pixel for pixel, whatever the model did there.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.backends.fit import check_image_file, fit_image, read_rgb
from engine.errors import EngineError
from engine.jobs import DEFAULT_STRENGTH


@dataclass(frozen=True)
class StartPicture:
    """A job's start picture and mask as read from disk; fitted to any size on request."""

    rgb: np.ndarray  # RGB uint8, the file's own size
    grey_mask: np.ndarray | None  # uint8, the same size, 255 = paint anew; None: change it all
    strength: float

    def image_at(self, width: int, height: int) -> np.ndarray:
        return fit_image(self.rgb, width, height)[0]

    def mask_at(self, width: int, height: int) -> np.ndarray | None:
        """Float32 in [0, 1], fitted exactly like the picture (same crop), so it stays over what was painted."""
        if self.grey_mask is None:
            return None
        fitted, _ = fit_image(self.grey_mask, width, height)
        return np.clip(fitted.astype(np.float32) / 255.0, 0.0, 1.0)


def picture_size(path: str | os.PathLike[str], what: str = "picture") -> tuple[int, int]:
    """Width and height of an image file from its header, refusing what can't or shouldn't be decoded
    (the one set of image limits: :func:`engine.backends.fit.check_image_file`)."""
    header = check_image_file(Path(path), what)
    return header.width, header.height


def check_start_files(init_image: str, mask_image: str = "") -> tuple[int, int]:
    """The start picture's size, after checking it (and the mask's size against it) from headers only."""
    size = picture_size(init_image, "start picture")
    if mask_image:
        mask_size = picture_size(mask_image, "mask")
        if mask_size != size:
            raise EngineError(
                f"the mask {Path(mask_image).name} is {mask_size[0]}x{mask_size[1]} but the picture it masks is "
                f"{size[0]}x{size[1]}; paint the mask on that picture (same size)"
            )
    return size


def load_start_picture(init_image: str, mask_image: str = "", strength: float = 0.0) -> StartPicture:
    """Read the start picture (and mask), after checking both from their headers."""
    check_start_files(init_image, mask_image)
    grey = None
    if mask_image:
        grey = cv2.imdecode(np.fromfile(mask_image, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise EngineError(f"the mask {Path(mask_image).name} is not a readable image; use a PNG")
        if not grey.any():
            raise EngineError(
                f"the mask {Path(mask_image).name} is all black, so nothing would change; paint the region to "
                "regenerate in white"
            )
    return StartPicture(read_rgb(init_image), grey, strength or DEFAULT_STRENGTH)


def composite(generated: np.ndarray, start: StartPicture) -> np.ndarray:
    """``generated`` (RGB at the project frame) inside the mask, the start picture outside it.

    Where the mask is exactly 0 the start picture's pixels are copied, never recomputed, so the
    unmasked region is identical to the source; soft mask edges blend the two.
    """
    height, width = generated.shape[:2]
    alpha = start.mask_at(width, height)
    if alpha is None:
        return generated
    frame = start.image_at(width, height)
    blended = frame.astype(np.float32) * (1.0 - alpha[..., None]) + generated.astype(np.float32) * alpha[..., None]
    out = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    keep = alpha == 0.0
    out[keep] = frame[keep]
    return out


def denoising_steps(steps: int, strength: float) -> int:
    """Scheduler steps so that ``strength`` of them (the ones a start picture runs) is at least one.

    Diffusers runs ``int(steps * strength)`` steps from a start picture; zero of them fails deep
    inside the pipeline, so a low strength with few steps gets just enough steps for one.
    """
    return max(steps, math.ceil(1.0 / strength - 1e-9))


def steps_run(steps: int, strength: float) -> int:
    """How many denoising steps diffusers runs from a start picture (for progress totals)."""
    return min(int(steps * strength), steps)
