"""Running engine jobs for the CLI: making the engine (here or on a Ray farm), choosing models,
and following jobs to the end with progress on stderr and a clean Ctrl-C."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from app import engine_service as S
from app.cli.common import status
from app.errors import PinframeError
from app.interrupt import Interrupted, held
from app.paths import user_cache_dir
from engine.backend_registry import get_backend
from engine.errors import EngineError
from engine.events import Cancelled, Event, Failed, Finished, Notice, Progress, Started
from engine.jobs import Job, ModelSpec, Result

if TYPE_CHECKING:  # torch comes with these: imported when an engine is made, so --help and --version stay quick
    from engine.runtime import Engine


def run_jobs(
    engine: Engine, jobs: Sequence[Job], on_finished: Callable[[int, tuple[Result, ...]], None] | None = None
) -> list[tuple[Result, ...] | None]:
    """Run jobs to the end, printing progress, calling ``on_finished(index, outputs)`` as each ends.

    Importing each result as soon as it exists means a later failure or a Ctrl-C never costs
    finished work: a Ctrl-C pressed while ``on_finished`` saves is held until it is done. Ctrl-C
    cancels what is left (a job that finishes meanwhile is still saved), then raises
    :class:`~app.interrupt.Interrupted` saying which jobs were cancelled. Returns each job's
    outputs in submission order (None for a job that failed or was cancelled).
    """
    stream = engine.events()
    ids = [engine.submit(job) for job in jobs]
    index_of = {job_id: i for i, job_id in enumerate(ids)}
    outputs: list[tuple[Result, ...] | None] = [None] * len(jobs)
    failures: list[str] = []
    pending = set(ids)
    saved: set[int] = set()
    last_print = 0.0
    event = None

    def handle(event: Event) -> None:
        nonlocal last_print
        if event.job_id not in index_of:
            return
        if event.terminal:
            pending.discard(event.job_id)  # first: a Ctrl-C in on_finished must not leave it waited for
        i = index_of[event.job_id]
        label = jobs[i].label
        if isinstance(event, Started):
            status(f"{label}: started")
        elif isinstance(event, Progress) and time.monotonic() - last_print > 0.5:
            last_print = time.monotonic()
            eta = f", about {event.eta_seconds:.0f} s left" if event.eta_seconds is not None else ""
            status(f"{label}: step {event.step}/{event.total}{eta}")
        elif isinstance(event, Finished):
            with held():
                outputs[i] = event.outputs
                status(f"{label}: done{' (from cache)' if event.cached else ''}")
                if on_finished is not None:
                    on_finished(i, event.outputs)
                saved.add(i)
        elif isinstance(event, Failed):
            failures.append(f"{label}: {event.message}")
            status(f"{label}: failed: {event.message}")
        elif isinstance(event, Cancelled):
            status(f"{label}: cancelled")
        elif isinstance(event, Notice):
            status(event.text)

    try:
        while pending:
            event = None
            event = stream.get()
            handle(event)
    except KeyboardInterrupt:
        if isinstance(event, Finished) and index_of.get(event.job_id) not in saved:
            try:  # Ctrl-C came between taking the event and saving its outputs: save them now
                handle(event)
            except KeyboardInterrupt:
                pass  # pressed again while saving (which held it until the save was done)
        status("cancelling…")
        stopping = set(pending)
        engine.cancel_all()
        _drain_after_cancel(stream, pending, handle)
        stream.close()
        cancelled = [jobs[index_of[j]].label for j in ids if j in stopping and outputs[index_of[j]] is None]
        still = [jobs[index_of[j]].label for j in ids if j in pending]
        text = f"cancelled {', '.join(cancelled)}" if cancelled else "stopped; every job had already finished"
        if still:
            text += f" ({', '.join(still)} still stopping; nothing of it will be kept)"
        raise Interrupted(text) from None
    stream.close()
    if failures and not any(outputs):
        raise PinframeError(failures[0])
    return outputs


# How long, after Ctrl-C, to wait for the running job to say it stopped (it checks every step).
CANCEL_WAIT_SECONDS = 10.0


def _drain_after_cancel(stream, pending: set[str], handle: Callable) -> None:
    """Take the cancelled jobs' last events (a job that finished anyway is saved); a second Ctrl-C stops waiting."""
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    try:
        while pending and (left := deadline - time.monotonic()) > 0:
            try:
                handle(stream.get(timeout=left))
            except queue.Empty:
                break
    except KeyboardInterrupt:
        pass


def make_engine(device: str, ray: str | None = None, ray_cpus: int | None = None, **farm) -> Engine:
    """An engine in this process, or one whose jobs run on the Ray cluster at ``ray``.

    A device that isn't there, or a cluster that can't be reached, is a user error said in one
    line. Farm results land in the same cache as local ones, so they are local cache hits later.
    """
    from engine.devices import DeviceSettings
    from engine.runtime import Engine

    try:
        settings = DeviceSettings(device=device)
        if ray:
            from engine.farm import RayExecutor

            status(f"connecting to Ray at {ray}…")
            executor = RayExecutor(ray, **{"num_cpus": ray_cpus, **farm})
            status(f"farm: {executor.describe()}")
            return Engine(user_cache_dir() / "engine", settings, executor=executor)
        settings.resolve_device()
        return Engine(user_cache_dir() / "engine", settings)
    except EngineError as exc:
        raise PinframeError(str(exc)) from None


def resolve_model(text: str, *, kind: str, upscale: str | None = None, farm: bool = False) -> ModelSpec:
    """As :func:`app.engine_service.resolve_model`; for the farm, also a known model id that is
    downloaded on the workers but not here (the workers find it by id and revision)."""
    try:
        return S.resolve_model(text, kind=kind, upscale=upscale)
    except PinframeError:
        spec = farm_only_model(text, kind) if farm else None
        if spec is None:
            raise
        status(f"{text} is not downloaded here; the farm workers must have it")
        return spec


def farm_only_model(text: str, kind: str) -> ModelSpec | None:
    from app.cli.models import registry
    from engine.models.registry import KnownModel, is_companion

    try:
        model = registry().get(text)
    except (EngineError, KeyError):
        return None
    if not isinstance(model, KnownModel):
        return None
    kind = "motion" if kind == "clip" else kind
    if get_backend(model.backend).kind != kind or is_companion(model):
        raise PinframeError(f"{text} can't make {'keyframes' if kind == 'keyframe' else 'clips'}")
    return ModelSpec(model.backend, "", model.id, revision=model.revision)
