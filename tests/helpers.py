"""Helpers shared by tests and by the subprocesses the crash test runs."""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable
from typing import Any


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


class Reports:
    """What a callback reports, from any thread, and a wait on it that each report wakes (no timer, no polling).

    Pass it where a callback goes (``engine.subscribe(reports)``, ``on_save_status=reports``, a reader
    thread's ``reports(chunk)``); ``reports.wait(condition)`` returns once ``condition()`` holds and fails
    after ``timeout`` seconds. The condition runs under this object's lock: let it read ``items`` or plain
    attributes, never call something that takes a lock the reporting thread may hold while it reports.
    """

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait(self, condition: Callable[[], object], timeout: float = 30.0, what: str = "the condition") -> None:
        with self._cond:
            if not self._cond.wait_for(condition, timeout):
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
