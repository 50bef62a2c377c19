"""The engine as the window sees it: jobs with live status, results turned into takes.

Engine events arrive on engine threads; a queued Qt signal carries them to the GUI thread, so
nothing here polls or waits. Finished results are written into the bundle on a worker thread
(copying PNGs, encoding a clip) and only then applied as a command against the project *as
it is at that moment*, so edits made while a job ran are never lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from app import engine_service as S
from app.errors import PinframeError
from app.paths import user_cache_dir
from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.events import Cancelled, Event, Failed, Finished, Preview, Progress, Queued, Started
from engine.jobs import ClipJob, Job, KeyframeJob, ModelSpec
from engine.runtime import Engine
from ui.state import EditorState


@dataclass
class JobInfo:
    job_id: str
    job: Job
    shot_id: str | None
    status: str = "queued"  # queued, running, done, failed, cancelled
    step: int = 0
    total: int = 0
    eta: float | None = None
    preview: np.ndarray | None = None
    message: str = ""
    detail: str = ""
    cached: bool = False
    outputs: tuple = ()
    inputs_hash: str = ""
    pin_frame: int | None = None
    take_ids: list[str] = field(default_factory=list)  # keyframe takes this job added

    @property
    def label(self) -> str:
        return self.job.label or self.job.kind

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class EngineBridge(QObject):
    job_added = Signal(str)
    job_updated = Signal(str)
    job_ended = Signal(str)  # done, failed or cancelled; results already in the project
    _event = Signal(object)

    def __init__(self, state: EditorState, engine: Engine | None = None, cache_dir: Path | None = None) -> None:
        super().__init__()
        self.state = state
        self.engine = engine or Engine(cache_dir or user_cache_dir() / "engine", DeviceSettings())
        self.jobs: dict[str, JobInfo] = {}
        self._tasks: set[asyncio.Task] = set()
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = self.engine.subscribe(self._event.emit)

    # --- submitting ------------------------------------------------------------------------------
    def generate(self, shot_id: str, model: ModelSpec, seeds: tuple[int, ...], *, prompt: str | None = None,
                 negative_prompt: str | None = None, steps: int = 0, pin_frame: int | None = None) -> str:  # fmt: skip
        project = self._project()
        job = S.keyframe_job(project, project.shot(shot_id), model, seeds, prompt=prompt,
                             negative_prompt=negative_prompt, steps=steps)  # fmt: skip
        return self._submit(JobInfo("", job, shot_id, pin_frame=pin_frame))

    def render(self, shot_ids: list[str], model: ModelSpec, *, seed: int = 0, steps: int = 0,
               work_pixels: int = 0) -> list[str]:  # fmt: skip
        """Queue clip renders; shots without pins are skipped (and said so)."""
        project = self._project()
        session = self.state.session
        ids = []
        skipped = []
        for shot_id in shot_ids:
            shot = project.shot(shot_id)
            if not shot.pins:
                skipped.append(shot.number)
                continue
            job, inputs_hash = S.render_plan(project, session.bundle, shot_id, model, seed)
            job = replace(job, steps=steps, work_pixels=work_pixels)
            ids.append(self._submit(JobInfo("", job, shot_id, inputs_hash=inputs_hash)))
        if skipped:
            self.state.message.emit(f"shot(s) {', '.join(skipped)} have no pinned keyframe, so they were not rendered")
        return ids

    def cancel(self, job_id: str) -> None:
        self.engine.cancel(job_id)

    def cancel_all(self) -> None:
        self.engine.cancel_all()

    def cancel_queued(self) -> None:
        for info in list(self.jobs.values()):
            if info.status == "queued":
                self.engine.cancel(info.job_id)

    def _submit(self, info: JobInfo) -> str:
        job_id = self.engine.submit(info.job)
        info.job_id = job_id
        self.jobs[job_id] = info
        self.job_added.emit(job_id)
        return job_id

    def _project(self):
        if self.state.project is None:
            raise PinframeError("open a project first")
        return self.state.project

    # --- events ----------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        info = self.jobs.get(event.job_id)
        if info is None or isinstance(event, Queued):
            return
        if isinstance(event, Started):
            info.status = "running"
        elif isinstance(event, Progress):
            info.step, info.total, info.eta = event.step, event.total, event.eta_seconds
        elif isinstance(event, Preview):
            info.preview = event.image
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
        self.job_updated.emit(info.job_id)
        if event.terminal:
            self.job_ended.emit(info.job_id)

    async def _store(self, info: JobInfo) -> None:
        """Write results into the bundle off the GUI thread, then apply them as one edit."""
        session = self.state.session
        loop = asyncio.get_running_loop()
        try:
            if session is None:
                raise PinframeError("the project was closed before the results arrived")
            if isinstance(info.job, KeyframeJob):
                refs = await loop.run_in_executor(None, S.store_keyframes, session.bundle, info.outputs)
                command = S.keyframe_takes_command(session.bundle, session.project, info.shot_id, info.job,
                                                   info.outputs, pin_frame=info.pin_frame, refs=refs)  # fmt: skip
                info.take_ids = [t.id for t in command.ops[0].shot.keyframe_takes[-len(refs) :]]
            else:
                assert isinstance(info.job, ClipJob)
                stored = await loop.run_in_executor(None, S.store_clip, session.bundle, info.outputs[0])
                command = S.render_result_command(session.project, info.shot_id, _model(info.job), info.job.seed,
                                                  stored, info.inputs_hash)  # fmt: skip
            if self.state.session is not session:
                raise PinframeError("the project was closed before the results were stored")
            session.do(command)
            info.status = "done"
        except (PinframeError, EngineError, OSError) as exc:
            info.status, info.message = "failed", f"The results could not be stored: {exc}"
        self.job_updated.emit(info.job_id)
        self.job_ended.emit(info.job_id)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def shutdown(self) -> None:
        self._unsubscribe()
        self.engine.shutdown()


def _model(job: ClipJob) -> ModelSpec:
    return job.model
