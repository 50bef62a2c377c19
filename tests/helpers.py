"""Helpers shared by tests and by the subprocesses the crash test runs."""

from __future__ import annotations

import struct
import zlib


def png_bytes(seed: int, width: int = 4, height: int = 2) -> bytes:
    """A real PNG whose pixels depend on ``seed`` (so two seeds never share a hash)."""
    raw = b"".join(b"\x00" + bytes((seed * 7 + x * 13 + y * 29) % 256 for x in range(width * 3)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    seed_chunk = chunk(b"tEXt", b"seed\x00" + str(seed).encode())
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + seed_chunk
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
