"""Where an engine's jobs run: the executor interface, and the default local one.

An :class:`~engine.runtime.Engine` runs keyframe and clip jobs through its executor. The
default, :class:`LocalExecutor`, runs them one at a time on the engine's own worker thread
(which owns the device). A remote executor (:class:`engine.farm.RayExecutor`) takes jobs as
:class:`FarmRequest` records, runs them elsewhere, and hands back a :class:`FarmOutput` (the
result files as bytes) that the engine stores in its own cache, or a terminal event.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine.errors import EngineError
from engine.jobs import Job, Result, result_under

if TYPE_CHECKING:
    from engine.cache import ResultCache
    from engine.devices import DeviceSettings


class Executor(Protocol):
    """What the engine needs of an executor. Remote ones (``remote = True``) also provide
    ``capacity() -> int``, ``runtime_key(settings) -> str`` and
    ``start(request, on_event, on_done)``; see :class:`engine.farm.RayExecutor`."""

    remote: bool

    def close(self, timeout: float = 30.0) -> None: ...


class LocalExecutor:
    """The default: jobs run one at a time on the engine's worker thread, which owns the device."""

    remote = False

    def close(self, timeout: float = 30.0) -> None:
        pass


@dataclass(frozen=True)
class FarmRequest:
    job_id: str
    job: Job
    settings: DeviceSettings
    preview_every: int
    cancel: threading.Event  # the engine's cancel flag for this job


@dataclass(frozen=True)
class FarmOutput:
    """A finished remote job: its results (paths relative to its output folder) and those files."""

    results: tuple[Result, ...]
    files: dict[str, bytes]
    runtime: str  # device|dtype the worker actually rendered at

    def commit(self, cache: ResultCache, key: str) -> tuple[Result, ...]:
        staging = cache.staging()
        try:
            for relative, data in self.files.items():
                target = staging / relative
                if not target.resolve().is_relative_to(staging.resolve()):
                    raise EngineError(f"a farm worker returned a file outside its output folder: {relative}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            placed = tuple(result_under(r, staging) for r in self.results)
            return cache.commit(key, staging, placed)
        except BaseException:
            cache.discard(staging)
            raise
