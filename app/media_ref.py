"""References to content-addressed media inside a bundle.

A :class:`MediaRef` is only a SHA-256 and an extension from a fixed list, so the path it
resolves to is always ``media/<2 hex>/<64 hex>.<ext>`` inside the bundle: a project file
from someone else can't make Pinframe read or write anywhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.errors import MediaError

IMAGE_EXTS = frozenset({"png", "jpg", "webp"})
VIDEO_EXTS = frozenset({"mov", "mp4", "mkv", "webm", "mxf"})
AUDIO_EXTS = frozenset({"wav", "flac", "mp3", "m4a", "aac", "ogg"})
# Model weights a project carries (LoRAs): safetensors only, never a pickle.
MODEL_EXTS = frozenset({"safetensors"})
MEDIA_EXTS = IMAGE_EXTS | VIDEO_EXTS | AUDIO_EXTS | MODEL_EXTS

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, order=True)
class MediaRef:
    sha256: str
    ext: str

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, str) or not _HASH_RE.match(self.sha256):
            raise MediaError(f"'{self.sha256}' is not a media hash (64 lowercase hex digits)")
        if self.ext not in MEDIA_EXTS:
            raise MediaError(f"'.{self.ext}' media are not supported; use one of {', '.join(sorted(MEDIA_EXTS))}")

    @property
    def relpath(self) -> str:
        """Path inside the bundle, always with forward slashes."""
        return f"media/{self.sha256[:2]}/{self.sha256}.{self.ext}"

    def __str__(self) -> str:
        return f"{self.sha256}.{self.ext}"

    @classmethod
    def parse(cls, text: str) -> MediaRef:
        """Read the ``<hash>.<ext>`` form stored in project.db."""
        stem, dot, ext = str(text).partition(".")
        if not dot:
            raise MediaError(f"'{text}' is not a media reference (expected <sha256>.<ext>)")
        return cls(stem, ext)


def normalize_ext(ext: str) -> str:
    """Lowercase extension without the dot, folding spellings (``.JPEG`` → ``jpg``)."""
    e = ext.lower().lstrip(".")
    return {"jpeg": "jpg"}.get(e, e)
