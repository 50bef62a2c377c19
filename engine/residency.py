"""Which models stay loaded: a least-recently-used pool within a memory budget.

Loading a video model takes tens of seconds, so models stay resident between jobs; when a new
one would not fit the budget, the least recently used ones are unloaded first.
"""

from __future__ import annotations

import gc
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Protocol

from engine.jobs import ModelSpec


class Backend(Protocol):
    def memory_bytes(self) -> int: ...

    def close(self) -> None: ...


Loader = Callable[[ModelSpec], Backend]
Estimator = Callable[[ModelSpec], int]


class ModelPool:
    def __init__(self, loader: Loader, budget_bytes: int, estimate: Estimator | None = None) -> None:
        self._loader = loader
        self._estimate = estimate or (lambda spec: 0)
        self.budget_bytes = budget_bytes
        self._resident: OrderedDict[str, Backend] = OrderedDict()
        self.load_counts: Counter[str] = Counter()

    @property
    def loads(self) -> int:
        return sum(self.load_counts.values())

    def is_resident(self, spec: ModelSpec) -> bool:
        return spec.key in self._resident

    def resident_keys(self) -> list[str]:
        return list(self._resident)

    def get(self, spec: ModelSpec) -> Backend:
        backend = self._resident.get(spec.key)
        if backend is not None:
            self._resident.move_to_end(spec.key)
            return backend
        # Make room before loading, so the load itself doesn't run out of memory.
        self._evict_until(self._estimate(spec))
        backend = self._loader(spec)
        self.load_counts[spec.key] += 1
        self._resident[spec.key] = backend
        self._evict_until(0, keep=spec.key)
        return backend

    def unload(self, key: str) -> None:
        backend = self._resident.pop(key, None)
        if backend is not None:
            backend.close()
            free_memory(full=True)

    def unload_all(self) -> None:
        for key in list(self._resident):
            self.unload(key)

    def _used(self) -> int:
        return sum(b.memory_bytes() for b in self._resident.values())

    def _evict_until(self, incoming: int, keep: str | None = None) -> None:
        for key in list(self._resident):
            if self._used() + incoming <= self.budget_bytes:
                return
            if key != keep:
                self.unload(key)


def free_memory(*, full: bool = False) -> None:
    """Return freed tensors to the device: Python first, then the CUDA caching allocator.

    A full collection holds the GIL for ~100 ms once torch and diffusers are imported, which
    would stall the UI's event loop; after a job, the cycles worth breaking (a failed or
    cancelled run's traceback frames) are young, so the young generations are enough. Only
    unloading a model asks for a full one.
    """
    gc.collect() if full else gc.collect(1)
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            torch.mps.empty_cache()
    except Exception:  # noqa: BLE001 - freeing memory must never fail a job
        pass
