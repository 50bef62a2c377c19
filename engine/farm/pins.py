"""Pin images on their way to the farm: one copy per distinct image, however many jobs use it."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from engine.farm import transport


class PinStore:
    """Pin images held for the jobs on the farm, by sha256: a keyframe pinned in ten shots travels once.

    Without a shared folder each image is a few :data:`~engine.farm.transport.CHUNK_BYTES` Ray
    objects, kept while a job uses it; with one, a file under ``shared_root/pins``.
    """

    def __init__(self, ray, shared_root: Path | None) -> None:
        self._ray = ray
        self._shared_root = shared_root
        self._lock = threading.Lock()
        self.held: dict[str, list] = {}  # sha256 -> [meta for the worker, object refs, users]

    def put(self, path: str) -> tuple[str, dict, list]:
        """(sha256, what the worker is told, the refs to pass it) for the image at ``path``."""
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(2, "missing", path) from None
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            held = self.held.get(sha)
            if held is None:
                if self._shared_root is not None:
                    suffix = Path(path).suffix or ".png"
                    meta: dict[str, str | int] = {
                        "sha": sha,
                        "shared": transport.put_pin_shared(data, sha, suffix, str(self._shared_root)),
                    }
                    refs: list = []
                else:
                    refs = [self._ray.put(c) for c in transport.split(data)]
                    meta = {"sha": sha, "chunks": len(refs)}
                held = self.held[sha] = [meta, refs, 0]
            held[2] += 1
            return sha, held[0], held[1]

    def release(self, shas) -> None:
        with self._lock:
            for sha in shas:
                held = self.held.get(sha)
                if held is not None:
                    held[2] -= 1
                    if held[2] <= 0:
                        del self.held[sha]
