"""The engine as the window sees it: jobs with live status, results turned into takes.

Engine events arrive on engine threads; a queued Qt signal carries them to the GUI thread, so
nothing here polls or waits. Besides the local engine, the bridge can hold a second engine whose
jobs run on a Ray cluster (Render ▸ Send to Farm): it is built off the GUI thread (connecting
takes seconds), shares the local engine's result cache and settings, and its events take the same
path, so farm jobs show, cancel and store exactly like local ones.

Finished results are written into the bundle on a worker thread (copying PNGs, encoding a clip,
which reports frames encoded as it goes: a long clip takes seconds) and only then applied as a
command against the project *as it is at that moment*, so edits made
while a job ran are never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from app import engine_service as S
from app.edits import ReplaceShot
from app.errors import PinframeError
from app.paths import user_cache_dir
from app.session import ProjectSession
from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.events import Cancelled, Event, Failed, Finished, Notice, Preview, Progress, Queued, Started
from engine.jobs import ClipJob, Job, KeyframeJob, ModelSpec
from engine.runtime import Engine
from ui.state import EditorState

log = logging.getLogger("pinframe.window")


@dataclass
class JobInfo:
    job_id: str
    job: Job
    shot_id: str | None
    status: str = "queued"  # queued, running, storing, done, failed, cancelled
    step: int = 0
    total: int = 0
    eta: float | None = None
    preview: np.ndarray | None = None
    saved: int = 0  # frames of a finished clip written into the bundle so far ("storing")
    save_total: int = 0
    message: str = ""
    detail: str = ""
    # What the engine said along the way that changes nothing ("retrying on node-5 (2 of 3)"), oldest first.
    notices: list[str] = field(default_factory=list)
    cached: bool = False
    outputs: tuple = ()
    inputs_hash: str = ""
    pin_frame: int | None = None
    take_ids: list[str] = field(default_factory=list)  # keyframe takes this job added
    farm: str = ""  # the Ray address this job was sent to; "" for this machine
    settings: Mapping[str, Any] | None = None  # backend settings the render was planned with
    session: ProjectSession | None = field(default=None, repr=False, compare=False)  # the project it was for

    @property
    def label(self) -> str:
        return self.job.label or self.job.kind

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


ENDED = ("done", "failed", "cancelled")


class EngineBridge(QObject):
    job_added = Signal(str)
    job_updated = Signal(str)
    job_ended = Signal(str)  # done, failed or cancelled; results already in the project
    _event = Signal(object)

    farm_changed = Signal()  # connected to, or disconnected from, a farm

    def __init__(
        self,
        state: EditorState,
        engine: Engine | None = None,
        cache_dir: Path | None = None,
        *,
        farm_factory: Callable[..., Engine] | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.engine = engine or Engine(cache_dir or user_cache_dir() / "engine", DeviceSettings())
        self.jobs: dict[str, JobInfo] = {}
        self._tasks: set[asyncio.Task] = set()
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = self.engine.subscribe(self._event.emit)
        self.farm: Engine | None = None
        self.farm_address = ""
        self.farm_description = ""
        self.farm_options: dict[str, Any] = {}  # the executor options the connection was made with
        self._farm_factory = farm_factory or _ray_engine
        self._farm_unsubscribe: Callable[[], None] | None = None
        self._farm_lock: asyncio.Lock | None = None  # made on first use, inside the running loop
        self._engine_of_job: dict[str, Engine] = {}
        self._shut_down = False

    # --- submitting ------------------------------------------------------------------------------
    def generate(self, shot_id: str, model: ModelSpec, seeds: tuple[int, ...], *, prompt: str | None = None,
                 negative_prompt: str | None = None, steps: int = 0, pin_frame: int | None = None,
                 init_image: str = "", strength: float = 0.0, mask_image: str = "") -> str:  # fmt: skip
        """Queue keyframes for a shot; ``init_image`` (and ``mask_image``) start from a picture
        (sketch -> keyframe, inpainting): see :class:`engine.jobs.KeyframeJob`."""
        project = self._project()
        job = S.keyframe_job(project, project.shot(shot_id), model, seeds, prompt=prompt,
                             negative_prompt=negative_prompt, steps=steps, init_image=init_image,
                             strength=strength, mask_image=mask_image,
                             bundle=self.state.require_session().bundle)  # its references, project LoRAs  # fmt: skip
        return self._submit(JobInfo("", job, shot_id, pin_frame=pin_frame))

    def render(self, shot_ids: list[str], model: ModelSpec | Mapping[str, ModelSpec] | None = None, *,
               seed: int = 0, steps: int = 0, work_pixels: int = 0, farm: bool = False,
               settings: Mapping[str, Any] | None = None,
               loras: Mapping[str, tuple[tuple[str, float], ...]] | None = None) -> list[str]:  # fmt: skip
        """Queue clip renders, here or (``farm``) on the connected farm; shots without pins are
        skipped (and said so).

        ``model``: one model for every shot, or a model per shot id (resolved off the GUI thread
        with :func:`app.engine_service.motion_model`, as the window does); None resolves each
        shot's own choice here, which reads the disk. ``loras``: each shot's camera LoRAs, found
        with the models (:class:`ui.motion_models.ShotModels`); a shot missing from it has its
        LoRAs looked up here, which reads the Hub cache.
        """
        if farm:
            if self.farm is None:
                raise PinframeError("connect to a render farm first (Render ▸ Send to Farm…)")
            if self.farm.settings != self.engine.settings:
                # Device settings applied since connecting (Models dialog) reach the workers with the
                # next jobs; a worker given new settings lets go of models loaded under the old ones.
                self.farm.configure(self.engine.settings)
        project = self._project()
        session = self.state.require_session()
        ids = []
        skipped = []
        for shot_id in shot_ids:
            shot = project.shot(shot_id)
            if not shot.pins:
                skipped.append(shot.number)
                continue
            if isinstance(model, ModelSpec):
                shot_model = model
            elif model is not None and shot_id in model:
                shot_model = model[shot_id]
            else:
                shot_model = S.motion_model(project, shot)
            shot_loras = loras.get(shot_id) if loras is not None else None
            job, inputs_hash = S.render_plan(project, session.bundle, shot_id, shot_model, seed, settings, shot_loras)
            job = replace(job, steps=steps or job.steps, work_pixels=work_pixels)  # 0 keeps the shot's own
            info = JobInfo("", job, shot_id, inputs_hash=inputs_hash, farm=self.farm_address if farm else "",
                           settings=settings)  # fmt: skip
            ids.append(self._submit(info))
        if skipped:
            self.state.message.emit(f"shot(s) {', '.join(skipped)} have no pinned keyframe, so they were not rendered")
        return ids

    def cancel(self, job_id: str) -> None:
        self._engine_of_job.get(job_id, self.engine).cancel(job_id)

    def cancel_all(self) -> None:
        self.engine.cancel_all()
        if self.farm is not None:
            self.farm.cancel_all()

    def cancel_queued(self) -> None:
        for info in list(self.jobs.values()):
            if info.status == "queued":
                self.cancel(info.job_id)

    def cancel_jobs_of(self, session) -> int:
        """Cancel the unfinished jobs submitted for ``session`` (its project is closing: their
        results would have nowhere to go). Finished renders stay in the cache."""
        ids = [i.job_id for i in self.jobs.values() if i.active and i.session is session]
        for job_id in ids:
            self.cancel(job_id)
        return len(ids)

    def _submit(self, info: JobInfo) -> str:
        engine = self.farm if info.farm else self.engine
        assert engine is not None
        info.session = self.state.session
        job_id = engine.submit(info.job)
        info.job_id = job_id
        self.jobs[job_id] = info
        self._engine_of_job[job_id] = engine
        self.job_added.emit(job_id)
        return job_id

    def _project(self):
        if self.state.project is None:
            raise PinframeError("open a project first")
        return self.state.project

    # --- events ----------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        info = self.jobs.get(event.job_id)
        if info is None or isinstance(event, Queued) or info.status in ENDED:
            return  # an ended job may still hear its engine's late word (a farm closed under it)
        if isinstance(event, Started):
            info.status = "running"
        elif isinstance(event, Progress):
            info.step, info.total, info.eta = event.step, event.total, event.eta_seconds
        elif isinstance(event, Preview):
            info.preview = event.image
        elif isinstance(event, Notice):
            info.notices.append(event.text)
        elif isinstance(event, Failed):
            info.status, info.message, info.detail = "failed", event.message, event.detail
        elif isinstance(event, Cancelled):
            info.status = "cancelled"
        elif isinstance(event, Finished):
            info.outputs, info.cached = event.outputs, event.cached
            info.status = "storing"
            self._spawn(self._store(info))
            self.job_updated.emit(info.job_id)
            return
        if event.terminal:
            self._end(info)
        else:
            self.job_updated.emit(info.job_id)

    async def _store(self, info: JobInfo) -> None:
        """Write results into the bundle off the GUI thread, then apply them as one edit."""
        session = info.session
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a Qt event dispatch stepped this task outside the loop's run: the same loop
            loop = asyncio.get_event_loop_policy().get_event_loop()
        try:
            if session is None or self.state.session is not session:
                # Never into another project; a render is in the cache, so rendering again is quick.
                raise PinframeError("its project was closed before the results arrived; they are in the render "
                                    "cache, so rendering it again in that project takes no time")  # fmt: skip
            if info.shot_id is None:
                raise PinframeError("the job belongs to no shot")  # only keyframe and clip jobs are stored
            shot_id = info.shot_id
            if isinstance(info.job, KeyframeJob):
                refs = await loop.run_in_executor(None, S.store_keyframes, session.bundle, info.outputs)
                # A start picture and mask (sketch -> keyframe, inpainting) go into the bundle off the GUI thread.
                start = await loop.run_in_executor(
                    None, S.store_start_pictures, session.bundle, session.project, info.job
                )
                command = S.keyframe_takes_command(session.bundle, session.project, shot_id, info.job,
                                                   info.outputs, pin_frame=info.pin_frame, refs=refs,
                                                   start=start)  # fmt: skip
                made = command.ops[0]
                assert isinstance(made, ReplaceShot)  # keyframe_takes_command replaces the shot, takes added
                info.take_ids = [t.id for t in made.shot.keyframe_takes[-len(refs) :]]
            else:
                assert isinstance(info.job, ClipJob)
                info.save_total = info.outputs[0].frame_count
                progress = self._save_progress(info, loop)
                stored = await loop.run_in_executor(None, S.store_clip, session.bundle, info.outputs[0], progress)
                command = S.render_result_command(session.project, shot_id, info.job, stored,
                                                  info.inputs_hash, info.settings)  # fmt: skip
            if self.state.session is not session:
                raise PinframeError("the project was closed before the results were stored")
            session.do(command)
            info.status = "done"
        except (PinframeError, EngineError, OSError) as exc:
            info.status, info.message = "failed", f"The results could not be stored: {exc}"
        self._end(info)

    def _save_progress(self, info: JobInfo, loop: asyncio.AbstractEventLoop) -> Callable[[int, int], None]:
        """A callback for the storing thread that hands frames-saved counts to the GUI thread.

        About 50 updates per clip, whatever its length: enough to move the bar smoothly, few enough
        that a 1000-frame clip doesn't flood the event loop.
        """
        every = max(1, info.save_total // 50)

        def on_gui(done: int) -> None:
            if info.status == "storing" and done > info.saved:
                info.saved = done
                self.job_updated.emit(info.job_id)

        def progress(done: int, total: int) -> None:
            if done % every == 0 or done == total:
                loop.call_soon_threadsafe(on_gui, done)

        return progress

    def _end(self, info: JobInfo) -> None:
        if info.status == "failed":
            log.error("%s (job %s): %s", info.label, info.job_id, info.message)
        self._engine_of_job.pop(info.job_id, None)
        self.job_updated.emit(info.job_id)
        self.job_ended.emit(info.job_id)

    # --- the farm ------------------------------------------------------------------------------------
    def farm_jobs_active(self) -> int:
        return sum(1 for info in self.jobs.values() if info.farm and info.active)

    @property
    def farm_busy(self) -> bool:
        """A connection to a farm is being made or let go."""
        return self._farm_lock is not None and self._farm_lock.locked()

    async def connect_farm(self, address: str, options: Mapping[str, Any] | None = None) -> str:
        """Connect to the Ray cluster at ``address`` (off the GUI thread); returns what it offers.

        ``options``: keyword options of :class:`engine.farm.RayExecutor` (``accelerator_type``,
        ``min_vram_gb``, ``shared_root``); None values are left out. Already connected there with
        the same options: nothing to do. Connected elsewhere or otherwise: that connection is let
        go first, unless jobs still run on it. Raises PinframeError with what to do.
        """
        options = {k: v for k, v in (options or {}).items() if v is not None}
        address = address.strip()
        if not address:
            raise PinframeError("type the farm's address: ray://HOST:10001, auto, or local")
        if self._shut_down:
            raise PinframeError("Pinframe is closing")
        if self._farm_lock is None:
            self._farm_lock = asyncio.Lock()
        try:
            async with self._farm_lock:
                if self.farm is not None and self.farm_address == address and self.farm_options == options:
                    return self.farm_description
                if self.farm is not None:
                    await self._disconnect_farm()
                loop = asyncio.get_running_loop()
                root, settings = self.engine.cache.root, self.engine.settings
                try:
                    engine = await loop.run_in_executor(
                        None, lambda: self._farm_factory(address, root, settings, **options)
                    )
                except EngineError as exc:
                    raise PinframeError(str(exc)) from None
                if self._shut_down:  # the window closed while this connection was being made
                    await loop.run_in_executor(None, engine.shutdown, 10.0)
                    raise PinframeError("Pinframe is closing")
                self.farm, self.farm_address, self.farm_options = engine, address, options
                describe = getattr(engine.executor, "describe", None)
                self.farm_description = describe() if describe else f"Ray cluster '{address}'"
                self._farm_unsubscribe = engine.subscribe(self._event.emit)
                return self.farm_description
        finally:
            self.farm_changed.emit()

    async def disconnect_farm(self, *, cancel_jobs: bool = False) -> None:
        """Let the farm connection go (off the GUI thread). Refused while jobs run on it, unless
        ``cancel_jobs`` (quitting): then they are cancelled, and their workers stop within a step."""
        if self._farm_lock is None:
            self._farm_lock = asyncio.Lock()
        try:
            async with self._farm_lock:
                await self._disconnect_farm(cancel_jobs)
        finally:
            self.farm_changed.emit()

    async def _disconnect_farm(self, cancel_jobs: bool = False) -> None:
        if self.farm is None:
            return
        running = self.farm_jobs_active()
        if running and not cancel_jobs:
            raise PinframeError(
                f"{running} job(s) still run on the farm at {self.farm_address}; cancel them or wait for them first"
            )
        farm, unsubscribe = self.farm, self._farm_unsubscribe
        self.farm, self.farm_address, self.farm_description, self._farm_unsubscribe = None, "", "", None
        self.farm_options = {}
        try:
            # Still listening: the shutdown's Cancelled events end the jobs it cancels.
            await asyncio.get_running_loop().run_in_executor(None, farm.shutdown, 10.0)
        finally:
            if unsubscribe is not None:
                unsubscribe()
            self._end_jobs_on(farm, "the farm connection was closed before this job ended")

    def _end_jobs_on(self, engine: Engine, message: str) -> None:
        """Jobs of an engine that is gone end now, whatever of its last events is still on the way."""
        for job_id, owner in list(self._engine_of_job.items()):
            info = self.jobs.get(job_id)
            if owner is engine and info is not None and info.active:
                info.status, info.message = "cancelled", message
                self._end(info)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def shutdown(self) -> None:
        """Stop the engines. The window lets a farm go first (``disconnect_farm``), off the GUI
        thread; one still connected here is shut down in place, which can take seconds."""
        self._shut_down = True
        self._unsubscribe()
        if self.farm is not None:
            if self._farm_unsubscribe is not None:
                self._farm_unsubscribe()
            self.farm.shutdown(10.0)  # jobs on it are cancelled; its workers stop within a step
            self.farm = None
        self.engine.shutdown()


def _ray_engine(address: str, cache_dir: Path, settings: DeviceSettings, **options: Any) -> Engine:
    # Imported here: Ray is only loaded once someone sends work to a farm.
    from engine.farm import ray_engine

    return ray_engine(address, cache_dir, settings, **options)
