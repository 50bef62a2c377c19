"""Images entering a project are checked from their header before anything decodes them.

A keyframe, sketch, reference or mask a director picks might be a 20000 px scan, a 300 MB TIFF
or a text file someone renamed to .png. Decoding any of those in full would take the memory (or
the time) first and fail after; here they are refused from the file's size on disk and its
header alone, with a message that names the file, its size, the limit and what to do.

The limits themselves live with the engine's image reader (engine.backends.fit), which checks
every picture a job reads the same way: one table for both layers.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.errors import MediaError
from engine.backends.fit import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, ImageHeader, ImageRefused, check_image_file

__all__ = ["MAX_IMAGE_BYTES", "MAX_IMAGE_SIDE", "ImageHeader", "check_image", "limits_text"]


def check_image(path: str | os.PathLike[str], what: str = "image") -> ImageHeader:
    """Width, height, format and bytes of the image at ``path``, or a :class:`MediaError` saying why not.

    Cheap enough for the GUI thread's worker (a stat and a header read); nothing is decoded.
    """
    try:
        return check_image_file(Path(path), what)
    except ImageRefused as exc:
        raise MediaError(str(exc)) from None


def limits_text() -> str:
    """The limits in words, for file dialogs and help ("up to 8192 px a side and 100 MB")."""
    return f"up to {MAX_IMAGE_SIDE} px a side and {MAX_IMAGE_BYTES // 1024**2} MB"
