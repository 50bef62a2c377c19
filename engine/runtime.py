"""The engine: one worker thread that owns the device, a job queue, and an event stream.

Clients call :meth:`Engine.submit` and get a job id back at once; everything else arrives as
events (see :mod:`engine.events`). ``Queued`` (and ``Cancelled`` for a job cancelled while
queued) are delivered on the calling thread, the rest on the engine's threads; listeners run
under the engine's lock, so they must only hand the event on. A UI hops to its own thread
(qasync's ``call_soon_threadsafe`` or a queued Qt signal) and never polls the worker.

Scheduling: lower ``priority`` first (interactive keyframes before clip renders); among equal
priorities, a job whose model is already loaded goes first, so alternating keyframe and clip
jobs don't reload models; then first come, first served.

Where jobs run is the executor's choice (:mod:`engine.executor`, :mod:`engine.farm`): on the worker thread, one at a
time (the default), or on a Ray cluster, as many at once as the executor has room for (a farm's
model jobs one per GPU): the rest wait here, Queued. The queue, priorities, cache and events
are the same either way.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol, TypeGuard, cast

import numpy as np

from engine.backends.fit import fit_image, read_rgb, thumbnail
from engine.cache import ResultCache, job_key
from engine.clip_frames import write_clip_frame
from engine.devices import DeviceSettings
from engine.errors import EngineError, JobCancelled, OutOfMemory
from engine.events import Cancelled, Event, Failed, Finished, Notice, Progress, Queued, Started
from engine.events import Preview as PreviewEvent
from engine.executor import Executor, FarmOutput, FarmRequest, LocalExecutor, ModelJob, RemoteExecutor, is_remote
from engine.jobs import (
    CONTROL_JOBS,
    ClipJob,
    ClipResult,
    Job,
    KeyframeJob,
    KeyframeResult,
    Reconfigure,
    Result,
    UnloadModels,
    frame_name,
)
from engine.progress import StepReporter
from engine.residency import Backend, ModelPool, free_memory

Listener = Callable[[Event], None]

OOM_ADVICE = (
    "The {device} ran out of memory rendering {label}. Lower the resolution or frame count, turn on "
    "model CPU offload and VAE tiling in Models ▸ Settings, or close other programs using the GPU."
)

log = logging.getLogger("pinframe.engine")


class KeyframeBackend(Backend, Protocol):
    """What a keyframe model's backend adds to a loaded one (the registry pairs keyframe jobs with them)."""

    def generate(self, job: KeyframeJob, out_dir: Path, reporter: StepReporter) -> tuple[KeyframeResult, ...]: ...


@dataclass
class _Entry:
    job_id: str
    job: Job
    seq: int
    cancel: threading.Event = field(default_factory=threading.Event)
    key: str | None = None  # cache key, once the lookup lane has computed it


class EventStream:
    """A blocking iterator over engine events (for the CLI and tests; a UI subscribes instead)."""

    def __init__(self, engine: Engine) -> None:
        self._queue: queue.Queue[Event] = queue.Queue()
        self._unsubscribe = engine.subscribe(self._queue.put)

    def get(self, timeout: float | None = None) -> Event:
        return self._queue.get(timeout=timeout)

    def until_done(self, job_ids: set[str], timeout: float | None = None) -> Iterator[Event]:
        """Yield events until every job in ``job_ids`` has ended."""
        pending = set(job_ids)
        while pending:
            event = self._queue.get(timeout=timeout)
            yield event
            if event.terminal:
                pending.discard(event.job_id)

    def close(self) -> None:
        self._unsubscribe()


class Engine:
    def __init__(
        self,
        cache_dir: str | Path,
        settings: DeviceSettings | None = None,
        *,
        loader: Callable | None = None,
        budget_bytes: int | None = None,
        preview_every: int = 4,
        executor: Executor | None = None,
    ) -> None:
        from engine.loader import estimate_bytes, load_backend

        self.settings = settings or DeviceSettings()
        # LocalExecutor: jobs run on this engine's worker thread; RayExecutor: on a Ray cluster.
        self.executor: Executor = executor if executor is not None else LocalExecutor()
        # The same executor where its jobs run elsewhere, typed for the calls only a remote one has.
        self._farm: RemoteExecutor | None = self.executor if is_remote(self.executor) else None
        if budget_bytes is None and self.executor.remote:
            budget_bytes = 0  # nothing is loaded here; the farm's devices need not exist on this machine
        leave_a_core_for_the_ui()
        if hasattr(self.executor, "set_wakeup"):
            self.executor.set_wakeup(self._wake)
        self.cache = ResultCache(cache_dir)
        self.cache.clear_stale_staging()
        self._loader = loader or (lambda spec: load_backend(spec, self.settings))
        self.pool = ModelPool(
            self._loader,
            budget_bytes if budget_bytes is not None else self.settings.budget_bytes(),
            estimate=estimate_bytes,
        )
        self.preview_every = preview_every
        self._cond = threading.Condition(threading.RLock())
        self._pending: list[_Entry] = []
        self._running: _Entry | None = None
        self._farmed: dict[str, _Entry] = {}  # jobs an executor runs elsewhere, by id
        self._listeners: list[Listener] = []
        self._seq = itertools.count()
        self._stopping = False
        self._lookups: queue.Queue[_Entry | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="pinframe-engine", daemon=True)
        self._thread.start()
        # Cache lookups hash input images; a second light thread does them so a repeated job
        # returns at once even while the worker is busy with a long render.
        self._lookup_thread = threading.Thread(target=self._look_up, name="pinframe-cache", daemon=True)
        self._lookup_thread.start()

    # --- client API ----------------------------------------------------------------------------
    def submit(self, job: Job) -> str:
        job_id = uuid.uuid4().hex[:12]
        with self._cond:
            if self._stopping:
                raise EngineError("the engine is shutting down; try again after it restarts")
            entry = _Entry(job_id, job, next(self._seq))
            self._pending.append(entry)
            # Emitted under the lock so Queued always precedes Started for this job.
            self._emit(Queued(job_id, job.kind, job.label, len(self._pending)))
            self._cond.notify_all()
        if not isinstance(job, CONTROL_JOBS):
            self._lookups.put(entry)
        return job_id

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job (it never starts) or the running one (stops within one step)."""
        with self._cond:
            for entry in self._pending:
                if entry.job_id == job_id:
                    self._pending.remove(entry)
                    self._emit(Cancelled(job_id))
                    return True
            if self._running is not None and self._running.job_id == job_id:
                self._running.cancel.set()
                return True
            if job_id in self._farmed:
                self._farmed[job_id].cancel.set()  # the executor passes it on within a poll
                return True
        return False

    def cancel_all(self) -> None:
        with self._cond:
            for entry in list(self._pending):
                self.cancel(entry.job_id)
            if self._running is not None:
                self._running.cancel.set()
            for entry in self._farmed.values():
                entry.cancel.set()

    def unload_all(self) -> str:
        """Drop every resident model, after the running job (queued ahead of other work)."""
        return self.submit(UnloadModels())

    def configure(self, settings: DeviceSettings) -> str:
        """Switch device, precision, offload and tiling: resident models are unloaded first.

        Queued like :meth:`unload_all`, so the running job finishes on the old settings and
        later loads use the new ones. A device this machine lacks raises EngineError here,
        before anything is queued; the job fails (changing nothing) if the budget can't be read.
        """
        if not self.executor.remote:
            settings.resolve_device()  # a farm's devices need not exist on this machine
        return self.submit(Reconfigure(settings))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def events(self) -> EventStream:
        return EventStream(self)

    @property
    def running_job(self) -> str | None:
        with self._cond:
            if self._running:
                return self._running.job_id
            return next(iter(self._farmed), None)

    def running_jobs(self) -> list[str]:
        """Every running job: at most one locally, up to the executor's capacity on a farm."""
        with self._cond:
            return ([self._running.job_id] if self._running else []) + list(self._farmed)

    def queued_jobs(self) -> list[str]:
        with self._cond:
            return [e.job_id for e in sorted(self._pending, key=self._order)]

    def shutdown(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._stopping = True
            for entry in list(self._pending):
                self.cancel(entry.job_id)
            if self._running is not None:
                self._running.cancel.set()
            for entry in self._farmed.values():
                entry.cancel.set()
            self._cond.notify_all()
        self._lookups.put(None)
        self._thread.join(timeout)
        self.executor.close(timeout)
        if not self._thread.is_alive():
            # Only once the worker is gone: it may still be using a model otherwise.
            self.pool.unload_all()

    # --- worker ----------------------------------------------------------------------------------
    def _order(self, entry: _Entry) -> tuple[int, int, int]:
        job = entry.job
        warm = 0 if isinstance(job, CONTROL_JOBS) or self.pool.is_resident(job.model) else 1
        return (job.priority, warm, entry.seq)

    def _runtime_key(self, job: Job | None = None) -> str:
        if self._farm is not None and self._farms(job):
            # The farm's device and precision, not this machine's: they make the pixels.
            return self._farm.runtime_key(self.settings) if job.model.needs_model else ""
        try:
            return f"{self.settings.resolve_device()}|{self.settings.torch_dtype()}"
        except EngineError:
            return "unavailable"

    def _look_up(self) -> None:
        while True:
            entry = self._lookups.get()
            if entry is None:
                return
            try:
                entry.key = job_key(entry.job, self._runtime_key(entry.job))
                cached = self.cache.get(entry.key)
            except (OSError, EngineError):
                continue  # the worker reports the problem when it gets to the job
            if cached is None:
                continue
            with self._cond:
                if entry not in self._pending:
                    continue
                self._pending.remove(entry)
                self._emit(Started(entry.job_id, entry.job.kind, entry.job.label))
                self._emit(Finished(entry.job_id, cached, cached=True))

    def _farms(self, job: Job | None) -> TypeGuard[ModelJob]:
        return job is not None and self.executor.remote and not isinstance(job, CONTROL_JOBS)

    def _next(self) -> _Entry | None:
        # A farm job without room on the farm (no idle GPU for a model job, no CPU slot for a
        # CPU one) waits here, where priorities still apply; one of another kind may go first.
        for entry in sorted(self._pending, key=self._order):
            if not self._farms(entry.job) or self._farm_has_room(entry.job):
                return entry
        return None

    def _farm_has_room(self, job: Job) -> bool:
        has_room = getattr(self.executor, "has_room", None)
        if has_room is not None:
            return has_room(job)
        assert self._farm is not None  # only farmed jobs ask
        return len(self._farmed) < self._farm.capacity()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while (entry := self._next()) is None and not self._stopping:
                    self._cond.wait()
                if self._stopping or entry is None:  # entry is None only when stopping
                    return
                self._pending.remove(entry)
                job = entry.job
                farmed = job if self._farms(job) else None
                if farmed is not None:
                    self._farmed[entry.job_id] = entry
                else:
                    self._running = entry
                self._emit(Started(entry.job_id, job.kind, job.label))
            if farmed is not None:
                self._dispatch(entry, farmed)
                continue
            try:
                self._run(entry)
            finally:
                with self._cond:
                    self._running = None

    def _run(self, entry: _Entry) -> None:
        # The terminal event goes out only after cleanup, so a listener that reacts to it
        # (the next submit, a test looking at the disk) sees a settled engine.
        self._emit(self._execute(entry))

    def _execute(self, entry: _Entry) -> Event:
        job = entry.job
        if isinstance(job, UnloadModels):
            self.pool.unload_all()
            return Finished(entry.job_id, ())
        if isinstance(job, Reconfigure):
            return self._reconfigure(entry, job.settings)
        staging: Path | None = None
        try:
            key = entry.key or job_key(job, self._runtime_key(job))
            cached = self.cache.get(key)
            if cached is not None:
                return Finished(entry.job_id, cached, cached=True)
            reporter = StepReporter(self._progress_sink(entry), entry.cancel, preview_every=self.preview_every)
            reporter.check()
            backend = self.pool.get(job.model)
            reporter.check()
            staging = self.cache.staging()
            if isinstance(job, KeyframeJob):
                # A keyframe job's model spec names a keyframe backend: the loader makes one of those.
                results: tuple[Result, ...] = cast(KeyframeBackend, backend).generate(job, staging, reporter)
            else:
                results = (self._render_clip(backend, job, staging, reporter),)
            outputs = self.cache.commit(key, staging, results)
            staging = None
            return Finished(entry.job_id, outputs)
        except JobCancelled:
            return Cancelled(entry.job_id)
        except FileNotFoundError as exc:
            what = exc.filename or "an input file"
            return Failed(entry.job_id, f"{what} is missing; relink it or pick another take", _tb())
        except OutOfMemory as exc:
            self._recover_from_oom()
            return Failed(entry.job_id, str(exc), _tb())
        except EngineError as exc:
            return Failed(entry.job_id, str(exc), _tb())
        except Exception as exc:  # noqa: BLE001 - any backend failure fails its job, never the engine
            if is_out_of_memory(exc):
                self._recover_from_oom()
                label = job.label or f"this {job.kind}"
                return Failed(entry.job_id, OOM_ADVICE.format(device=self._device_word(), label=label), _tb())
            where = f"the {job.model.backend} backend"
            return Failed(entry.job_id, f"{where} failed: {exc}. The job was stopped; others go on.", _tb())
        finally:
            if staging is not None:
                self.cache.discard(staging)
            free_memory()

    def _reconfigure(self, entry: _Entry, settings: DeviceSettings) -> Event:
        try:
            # Before anything changes: a failure leaves the engine as it was. With a farm nothing
            # is loaded here, and its devices need not exist on this machine.
            budget = 0 if self.executor.remote else settings.budget_bytes()
        except EngineError as exc:
            return Failed(entry.job_id, str(exc), _tb())
        self.pool.unload_all()
        with self._cond:
            self.settings = settings
            self.pool.budget_bytes = budget
            # Cache keys name the device and precision; ones computed under the old settings are stale.
            for pending in self._pending:
                pending.key = None
        return Finished(entry.job_id, ())

    def _render_clip(self, backend, job: ClipJob, staging: Path, reporter: StepReporter) -> ClipResult:
        return render_clip(backend, job, staging, reporter)

    # --- jobs an executor runs elsewhere (a Ray cluster) ----------------------------------------
    def _dispatch(self, entry: _Entry, job: ModelJob) -> None:
        """Hand a farmed job (``entry``'s) to the executor, unless the cache has it; returns at once."""
        farm = self._farm
        assert farm is not None  # only farmed jobs come here
        try:
            key = entry.key or job_key(job, self._runtime_key(job))
            cached = self.cache.get(key)
            if cached is not None:
                self._farm_done(entry, job, key, Finished(entry.job_id, cached, cached=True))
                return
            if entry.cancel.is_set():
                self._farm_done(entry, job, key, Cancelled(entry.job_id))
                return
            request = FarmRequest(entry.job_id, job, self.settings, self.preview_every, entry.cancel)
            farm.start(request, self._emit, lambda outcome: self._farm_done(entry, job, key, outcome))
        except FileNotFoundError as exc:
            what = exc.filename or "an input file"
            self._farm_done(
                entry, job, "", Failed(entry.job_id, f"{what} is missing; relink it or pick another take", _tb())
            )
        except Exception as exc:  # noqa: BLE001 - a job that can't be sent fails alone
            message = (
                str(exc)
                if isinstance(exc, EngineError)
                else f"could not send {job.label or job.kind} to the farm: {exc}"
            )
            self._farm_done(entry, job, "", Failed(entry.job_id, message, _tb()))

    def _farm_done(self, entry: _Entry, job: ModelJob, key: str, outcome: Event | FarmOutput) -> None:
        event: Event
        if not isinstance(outcome, FarmOutput):
            event = outcome
        else:
            try:
                if job.model.needs_model and outcome.runtime:
                    # Stored under the device and precision the worker really used.
                    key = job_key(job, outcome.runtime)
                event = Finished(entry.job_id, outcome.commit(self.cache, key))
            except (OSError, EngineError) as exc:
                event = Failed(
                    entry.job_id,
                    f"the farm rendered {job.label or job.kind} but it could not be stored in {self.cache.root}: {exc}",
                    _tb(),
                )
        with self._cond:
            self._farmed.pop(entry.job_id, None)
            self._cond.notify_all()
        self._emit(event)

    def _progress_sink(self, entry: _Entry):
        def sink(step: int, total: int, eta: float | None, preview: np.ndarray | None) -> None:
            self._emit(Progress(entry.job_id, step, total, eta))
            if preview is not None:
                self._emit(PreviewEvent(entry.job_id, thumbnail(preview), step))

        return sink

    def _recover_from_oom(self) -> None:
        # Whatever was resident may be fragmented or half-moved; start the next job clean.
        self.pool.unload_all()
        free_memory(full=True)

    def _device_word(self) -> str:
        try:
            device = self.settings.resolve_device()
        except EngineError:
            device = "device"
        return {"cuda": "GPU", "mps": "GPU", "cpu": "computer"}.get(device, device)

    def _emit(self, event: Event) -> None:
        _log_event(event)
        with self._cond:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("an engine listener failed on %s", type(event).__name__)
                traceback.print_exc()


def _log_event(event: Event) -> None:
    """Every job's life in the log (app.log_file): queued, started, how it ended; a failure with its traceback."""
    if isinstance(event, Failed):
        log.error("job %s failed: %s\n%s", event.job_id, event.message, event.detail)
    elif isinstance(event, Finished):
        log.info("job %s finished%s", event.job_id, " (from the cache)" if event.cached else "")
    elif isinstance(event, Notice):
        log.info("job %s: %s", event.job_id, event.text)  # said to the person by the CLI and the Jobs panel
    elif isinstance(event, Cancelled | Started | Queued):
        log.info("job %s %s", event.job_id, type(event).__name__.lower())


def leave_a_core_for_the_ui() -> None:
    """Cap OpenCV's and torch's CPU thread pools at one core less than the machine has.

    On a small machine their pools otherwise take every core, and the OS then starves the UI
    thread during a CPU render, however carefully the engine stays off the GIL.
    """
    import os

    import cv2
    import torch

    cores = os.cpu_count() or 1
    if cores <= 8:
        workers = max(1, cores - 1)
        cv2.setNumThreads(workers)
        if torch.get_num_threads() > workers:
            torch.set_num_threads(workers)


def render_clip(backend, job: ClipJob, staging: Path, reporter: StepReporter) -> ClipResult:
    """Render a clip's frames into ``staging/frames`` (here, or on a farm worker: the same code)."""
    pins = sorted((p.frame, fit_image(read_rgb(p.path), job.width, job.height)[0]) for p in job.pins)
    frames = backend.render(job, pins, reporter)
    frames = enforce_clip_contract(frames, job, pins)
    folder = staging / "frames"
    folder.mkdir()
    for index, frame in enumerate(frames):
        write_clip_frame(folder / frame_name(index), frame)
        if index % 8 == 0:
            reporter.check()
    audio_path = ""
    sound = getattr(backend, "last_audio", None)  # (samples, sample rate) from a model that makes sound
    if sound is not None:
        from engine.sound import fit_to_clip, write_wav

        samples, rate = sound
        audio_path = str(staging / "audio.wav")
        write_wav(
            Path(audio_path), fit_to_clip(samples, rate, job.frame_count, Fraction(job.fps_num, job.fps_den)), rate
        )
    return ClipResult(
        str(folder),
        job.frame_count,
        job.width,
        job.height,
        job.fps_num,
        job.fps_den,
        job.model.backend,
        job.model.model_id,
        getattr(backend, "last_notes", ""),
        audio_path=audio_path,
        model_revision=job.model.revision,
        params=_settings_record(backend, job),
    )


def _settings_record(backend, job: ClipJob) -> tuple[tuple[str, object], ...]:
    """The settings a clip was made with: the job's, corrected by what the backend says it used
    (``last_settings``, e.g. a distilled checkpoint's own step count), in the registry's order."""
    used = dict(job.settings_used())
    used.update(dict(getattr(backend, "last_settings", None) or ()))
    return tuple(used.items())


def enforce_clip_contract(frames: np.ndarray, job: ClipJob, pins: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """Exactly the shot's frame count and size, and each pinned frame showing its keyframe exactly,
    with the frames around it faded into it (:mod:`engine.pin_blend`) so the pin doesn't pop."""
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise EngineError(f"the {job.model.backend} backend returned frames of shape {frames.shape}")
    if frames.shape[0] != job.frame_count or frames.shape[1:3] != (job.height, job.width):
        raise EngineError(
            f"the {job.model.backend} backend returned {frames.shape[0]} frames of "
            f"{frames.shape[2]}x{frames.shape[1]}, not {job.frame_count} of {job.width}x{job.height}"
        )
    if frames.dtype != np.uint8:
        raise EngineError(f"the {job.model.backend} backend returned {frames.dtype} frames, not uint8")
    if not frames.flags.writeable:
        frames = frames.copy()
    from engine.pin_blend import blend_pins  # imported here: this function is its only caller

    # For every backend, on top of the models' own latent conditioning; a no-op where the
    # backend already rendered each keyframe (flow, crossfade, hold).
    return blend_pins(frames, pins)


def is_out_of_memory(exc: BaseException) -> bool:
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):
        pass
    text = str(exc).lower()
    return isinstance(exc, (RuntimeError, MemoryError)) and ("out of memory" in text or isinstance(exc, MemoryError))


def _tb() -> str:
    return traceback.format_exc()
