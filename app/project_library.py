"""Bringing reference pictures and LoRA files into a project's bundle.

Both are copied into the bundle's content-addressed media, so a project never makes Pinframe read
outside its bundle. A picture is checked from its header (app.image_limits) before it is copied. A
LoRA must be a safetensors file and its header must read as one: a pickled checkpoint (.ckpt, .pt,
.bin) can run code when it is loaded, so nothing else is ever accepted, whatever its name.

Disk work: the window calls these on a worker thread.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from app.bundle import Bundle
from app.errors import MediaError
from app.image_limits import check_image
from app.media_ref import MediaRef

# A safetensors header is JSON describing the tensors; real LoRA headers are kilobytes to a few MB.
_MAX_HEADER_BYTES = 100 * 1024 * 1024
_REFERENCE_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def import_reference(bundle: Bundle, path: str | os.PathLike[str]) -> MediaRef:
    """Check a reference picture's header and copy it into the bundle; MediaError says why not."""
    header = check_image(path, "reference picture")
    # The stored extension follows the content, not the name (a PNG called .jpg stays a PNG).
    ext = _REFERENCE_FORMATS.get(header.format.upper())
    if ext is None:
        raise MediaError(
            f"{Path(path).name} is a {header.format} picture; save it as PNG or JPEG to use it as a reference"
        )
    return bundle.media.put_file(path, ext)


def check_lora_file(path: str | os.PathLike[str]) -> None:
    """Refuse anything that isn't a readable safetensors file (by name and by header), without loading it."""
    p = Path(path)
    if p.suffix.lower() != ".safetensors":
        raise MediaError(
            f"{p.name} is not a .safetensors file; LoRAs are loaded from safetensors only "
            "(a .ckpt, .pt or .bin file can run code when opened)"
        )
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ValueError("it is too short")
            (length,) = struct.unpack("<Q", head)
            if not 2 <= length <= min(_MAX_HEADER_BYTES, size - 8):
                raise ValueError("its header length is impossible")
            meta = json.loads(f.read(length))
        if not isinstance(meta, dict) or not any(k != "__metadata__" for k in meta):
            raise ValueError("its header names no tensors")
    except OSError as exc:
        raise MediaError(f"can't read {p}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError is a ValueError
        raise MediaError(f"{p.name} is not a valid safetensors file ({exc}); export the LoRA again") from None


def import_lora(bundle: Bundle, path: str | os.PathLike[str]) -> MediaRef:
    """Check a LoRA file and copy it into the bundle; MediaError says why not."""
    check_lora_file(path)
    return bundle.media.put_file(path, "safetensors")
