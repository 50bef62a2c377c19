"""Where an engine's jobs run: the executor interface, and the default local one.

An :class:`~engine.runtime.Engine` runs keyframe and clip jobs through its executor. The
default, :class:`LocalExecutor`, runs them one at a time on the engine's own worker thread
(which owns the device). A remote executor (:class:`engine.farm.RayExecutor`) takes jobs as
:class:`FarmRequest` records, runs them elsewhere, and hands back a :class:`FarmOutput` (the
result files, fetched when the engine stores them in its own cache), or a terminal event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeGuard

from engine.jobs import ClipJob, KeyframeJob, Result, result_under

if TYPE_CHECKING:
    from engine.cache import ResultCache
    from engine.devices import DeviceSettings
    from engine.events import Event

# The jobs an executor runs; the control jobs (unload, reconfigure) stay in the engine.
ModelJob = KeyframeJob | ClipJob


class Executor(Protocol):
    """What the engine needs of an executor. Remote ones (``remote = True``) are also a
    :class:`RemoteExecutor`, and may provide ``has_room(job) -> bool`` (whether that job would
    start now; else it waits in the engine's queue) and ``set_wakeup(fn)`` (``fn`` is called when
    room appears without a job ending); see :class:`engine.farm.RayExecutor`."""

    remote: bool

    def close(self, timeout: float = 30.0) -> None: ...


class RemoteExecutor(Executor, Protocol):
    """An executor whose jobs run elsewhere (``remote = True``): as many at once as its capacity,
    cached under the device and precision its workers use, started without waiting for them."""

    def capacity(self) -> int: ...

    def runtime_key(self, settings: DeviceSettings) -> str: ...

    def start(
        self,
        request: FarmRequest,
        on_event: Callable[[Event], None],
        on_done: Callable[[Event | FarmOutput], None],
    ) -> None: ...


def is_remote(executor: Executor) -> TypeGuard[RemoteExecutor]:
    """Whether ``executor`` runs its jobs elsewhere (so it has a :class:`RemoteExecutor`'s methods)."""
    return executor.remote


class LocalExecutor:
    """The default: jobs run one at a time on the engine's worker thread, which owns the device."""

    remote = False

    def close(self, timeout: float = 30.0) -> None:
        pass


@dataclass(frozen=True)
class FarmRequest:
    job_id: str
    job: ModelJob
    settings: DeviceSettings
    preview_every: int
    cancel: threading.Event  # the engine's cancel flag for this job


@dataclass(frozen=True)
class FarmOutput:
    """A finished remote job: its results (paths relative to its output folder) and how to get its files.

    ``write(folder)`` puts the job's files under ``folder`` (fetching them from the farm, or copying
    them from shared storage), checking each; it raises EngineError when one is damaged or outside.
    """

    results: tuple[Result, ...]
    write: Callable[[Path], None]
    runtime: str  # device|dtype the worker actually rendered at

    def commit(self, cache: ResultCache, key: str) -> tuple[Result, ...]:
        staging = cache.staging()
        try:
            self.write(staging)
            placed = tuple(result_under(r, staging) for r in self.results)
            return cache.commit(key, staging, placed)
        except BaseException:
            cache.discard(staging)
            raise
