"""Live motion drafts: a quick optical-flow look at a shot's motion, seconds after an edit.

When a shot's pins (their frames or images), duration or handles change, its motion is drafted
again with the flow backend at the viewer's size, in the background, and the viewer shows it
marked DRAFT until a current clip of the shot exists (a current clip always wins).

Drafts stay out of the document: nothing here makes a command, so the undo history holds only
what the director did. The decoded frames live in memory here, keyed by the shot's inputs hash
(:func:`app.render_inputs.shot_inputs_hash`); the engine's PNGs sit in its own cache folder,
outside the bundle. An edit that leaves the motion inputs alone (a prompt, a note) keeps the
draft: flow frames depend only on the pins, the frame counts and the frame's shape.

Drafts run on a second, light engine (:func:`light_engine`), not the window's. That engine's
one worker owns the device and may be minutes into a model render; job priorities only order
its queue and never stop a running job, so a draft queued there would wait for the render to
end. Flow needs no model and no device memory, only a CPU core for a second or two, so a
worker of its own costs one thread and keeps the answer in seconds. Given the window's own
engine instead, the viewer says that the draft waits for the running render.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app import engine_service as S
from app.bundle import Bundle
from app.clip_state import clip_state
from app.cut import Cut
from app.document import Project, Shot
from app.errors import PinframeError
from app.render_inputs import shot_inputs_hash
from engine.backend_registry import get_backend
from engine.backends.fit import read_rgb
from engine.devices import DeviceSettings
from engine.events import Cancelled, Event, Failed, Finished, Progress, Queued, Started
from engine.jobs import PRIORITY_INTERACTIVE, ClipJob, ClipResult, ModelSpec
from engine.runtime import Engine
from ui.state import EditorState

log = logging.getLogger(__name__)

SETTING_KEY = "view/live_drafts"  # QSettings: View ▸ Live Motion Drafts, on unless turned off
# Quiet time after the last edit before drafting: a pin drag edits at mouse rate.
DEBOUNCE_MS = 150
# A draft is never bigger than this on its long side, however big the viewer...
DRAFT_MAX_SIDE = 640
# ...and smaller still where it would take the draft engine longer than this, from its start to
# its last frame written. Flow's cost grows with pixels x in-between frames, and the engine times
# every draft (LiveDrafts.seconds_per_unit), so on a long shot, a busy or slow machine, or beside
# a model render on the CPU, drafts get smaller rather than later; the viewer scales them up.
DRAFT_SECONDS = 1.0
# ...but not below this long side: smaller stops showing what moves where.
DRAFT_MIN_SIDE = 256
# Seconds per unit of draft_work until a draft has been timed: a busy two-core machine's
# (benchmarks/live_draft.py), so the first draft is quick, if small, anywhere.
FIRST_SECONDS_PER_UNIT = 0.25e-6
# Writing a frame and reading it back costs about this share of one flow in-between of the same
# size (frames outside the pins are copies); it is most of a long shot's cost when its pins are close.
FRAME_IO_SHARE = 0.2
# Drafts smaller than this many units aren't timed: reading the pins and the flow between them,
# paid once a draft, would pass for a slow machine.
MIN_TIMED_WORK = 2e6
# Decoded drafts kept in memory, least recently shown out (a 5 s draft at 384x216 is ~30 MiB).
DRAFT_MEMORY_BYTES = 512 << 20
# The light engine's own result cache: small, since undo finds its drafts in memory, and since the
# engine's eviction looks at every file in the cache after each draft.
DRAFT_CACHE_BYTES = 512 << 20

DraftStatus = Literal["", "queued", "drafting", "ready"]


def draft_work(pixels: float, frame_count: int, inbetween_frames: int) -> float:
    """Units of work in a flow draft of ``pixels`` a frame: its in-betweens plus its frames' I/O."""
    return pixels * (inbetween_frames + FRAME_IO_SHARE * frame_count)


def draft_size(project_size: tuple[int, int], area: tuple[int, int], max_pixels: float = math.inf) -> tuple[int, int]:
    """The draft's frame size: the project's shape fitted into the viewer's picture ``area``
    (pixels), at most :data:`DRAFT_MAX_SIDE` long and ``max_pixels`` big (the time budget), at
    least :data:`DRAFT_MIN_SIDE` long, never bigger than the project, even on both sides."""
    width, height = project_size
    if width < 16 or height < 16:
        raise ValueError(f"project size {width}x{height} is too small to draft (16 pixels a side at least)")
    long_side = max(width, height)
    scale = min(max(area[0], 16) / width, max(area[1], 16) / height, DRAFT_MAX_SIDE / long_side)
    scale = min(scale, math.sqrt(max(max_pixels, 0.0) / (width * height)))
    scale = min(max(scale, DRAFT_MIN_SIDE / long_side), 1.0)
    return max(16, round(width * scale / 2) * 2), max(16, round(height * scale / 2) * 2)


def draft_job(project: Project, bundle: Bundle, shot: Shot, size: tuple[int, int]) -> ClipJob:
    """The shot's render job (:func:`app.engine_service.clip_job`) as a flow draft of ``size``,
    ahead of long renders in a queue."""
    job = S.clip_job(project, bundle, shot, ModelSpec("flow"))
    return replace(job, width=size[0], height=size[1], model=ModelSpec("flow"), priority=PRIORITY_INTERACTIVE,
                   label=f"Live draft of shot {shot.number}")  # fmt: skip


def motion_inputs(project: Project, bundle: Bundle, shot: Shot) -> tuple:
    """What a flow draft's frames depend on: the fields of its job that flow reads (the registry's
    ``ignores`` say which it doesn't: prompts, seed...) but its size, which is the viewer's, and the
    project's shape. An edit that changes none of it (a prompt, a note) keeps the draft; one that
    changes any (a pin, the duration, handles, the camera move) drafts again. () without pins."""
    try:
        job = S.clip_job(project, bundle, shot, ModelSpec("flow"))
    except (PinframeError, ValueError):
        return ()  # nothing a draft could be made of (no pins)
    skip = {*get_backend("flow").ignores, "label", "priority", "width", "height"}
    return (project.width, project.height, *((f.name, getattr(job, f.name)) for f in fields(job) if f.name not in skip))


@dataclass(frozen=True, eq=False)
class DraftClip:
    """A finished live draft: every frame of the shot's clip (handles included), decoded."""

    inputs_hash: str  # the shot's inputs hash when it was drafted
    inputs: tuple  # its motion_inputs
    frames: np.ndarray  # (frames, H, W, 3) RGB uint8, read-only

    @property
    def nbytes(self) -> int:
        return int(self.frames.nbytes)


@dataclass
class _DraftJob:
    job_id: str
    shot_id: str
    inputs_hash: str
    inputs: tuple
    session: object
    work: float  # draft_work of the job
    status: DraftStatus = "queued"
    done: float = 0.0  # fraction of frames rendered
    started: float = 0.0  # wall clock (the engine's Started.at)


def light_engine(beside: Engine) -> Engine:
    """A second engine for drafts, its cache beside ``beside``'s: CPU only, no previews."""
    engine = Engine(beside.cache.root.parent / "live-drafts", DeviceSettings(device="cpu"), preview_every=0)
    engine.cache.max_bytes = DRAFT_CACHE_BYTES
    return engine


def read_draft_frames(result: ClipResult) -> np.ndarray:
    """The rendered PNGs of a draft as one read-only array (disk work: off the GUI thread)."""
    frames = np.stack([read_rgb(result.frame_path(i)) for i in range(result.frame_count)])
    frames.setflags(write=False)
    return frames


class LiveDrafts(QObject):
    """Watches edits, drafts changed shots on an engine, and holds the drafts for the viewer."""

    changed = Signal(str)  # a shot's draft or its status changed ("": every shot's)
    _event = Signal(object)

    def __init__(
        self,
        state: EditorState,
        engine: Engine | Callable[[], Engine],
        *,
        picture_area: Callable[[], tuple[int, int]] = lambda: (960, 540),
        enabled: bool = True,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__()
        self.state = state
        self.picture_area = picture_area
        # An engine given is shared (the caller shuts it down); a factory's is made on first use and owned.
        self._engine: Engine | None = engine if isinstance(engine, Engine) else None
        self._make_engine = None if isinstance(engine, Engine) else engine
        self._unsubscribe: Callable[[], None] | None = None
        self._enabled = enabled
        self._project: Project | None = state.project
        self._pending: list[str] = []  # shots waiting out the debounce, in edit order
        self._jobs: dict[str, _DraftJob] = {}  # every draft job not ended yet, by job id
        self._shot_jobs: dict[str, str] = {}  # shot id -> its live job (superseded ones are gone)
        self._ready: OrderedDict[str, DraftClip] = OrderedDict()  # inputs hash -> draft, recent last
        self._latest: dict[str, DraftClip] = {}  # shot id -> its newest draft (kept over non-motion edits)
        self._facts: tuple[Project | None, dict[str, tuple[str, bool]]] = (None, {})
        self._tasks: set[asyncio.Future] = set()
        self._closed = False
        # What a unit of draft_work takes the draft engine on this machine, learnt from each draft.
        self.seconds_per_unit = FIRST_SECONDS_PER_UNIT
        self._timed = 0
        self.last_failure = ""  # the last draft that failed, in words (also said on state.message)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._flush)
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        state.session_changed.connect(self._on_session)
        state.project_changed.connect(self._on_project)

    # --- public ----------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, on: bool) -> None:
        """Off: cancel every draft and let go of the drafts held. On: draft the current shot."""
        if on == self._enabled:
            return
        self._enabled = on
        if not on:
            self._drop_everything()
            self.changed.emit("")
            return
        project, shot_id = self.state.project, self.state.current_shot
        if project is not None and shot_id is not None:
            self._review(project, project.shot(shot_id), motion_changed=True)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            assert self._make_engine is not None
            self._engine = self._make_engine()
        if self._unsubscribe is None:
            self._unsubscribe = self._engine.subscribe(self._event.emit)
        return self._engine

    def lookup(self, project: Project, shot: Shot) -> DraftClip | None:
        """The live draft the viewer shows for ``shot``: None while it has a current clip (that
        wins), has no pins, or has no draft of its present motion inputs yet."""
        if not self._enabled or not shot.pins or not self._ready:
            return None
        inputs_hash, clip_current = self._fact(project, shot)
        if clip_current:
            return None
        draft = self._ready.get(inputs_hash)
        if draft is None:
            latest, session = self._latest.get(shot.id), self.state.session
            if latest is None or session is None or latest.inputs != motion_inputs(project, session.bundle, shot):
                return None
            draft = self._ready[inputs_hash] = latest  # same motion, other inputs (a prompt): same frames
        self._ready.move_to_end(inputs_hash)
        return draft

    def picture(self, project: Project, cut: Cut, frame: int) -> tuple[tuple, np.ndarray] | None:
        """(viewer key, picture) of the live draft at cut frame ``frame``, or None."""
        found = cut.locate(frame)
        if found is None:
            return None
        entry, offset = found
        draft = self.lookup(project, entry.shot)
        if draft is None:
            return None
        index = offset + entry.shot.handles
        if not 0 <= index < len(draft.frames):
            return None
        return ("live", draft.inputs_hash, index), draft.frames[index]

    def status(self, shot_id: str) -> DraftStatus:
        """The shot's draft: "ready" (shown), "drafting", "queued" (waiting its turn) or "" (none)."""
        project = self.state.project
        if project is None or not self._enabled:
            return ""
        job = self._jobs.get(self._shot_jobs.get(shot_id, ""))
        if job is not None:
            return job.status
        if shot_id in self._pending:
            return "queued"
        try:
            shot = project.shot(shot_id)
        except PinframeError:
            return ""
        return "ready" if self.lookup(project, shot) is not None else ""

    def status_text(self, shot_id: str) -> str:
        """What the viewer says about a draft being made for the shot ("" when none is)."""
        job = self._jobs.get(self._shot_jobs.get(shot_id, ""))
        if job is not None and job.status == "drafting":
            return f"DRAFTING MOTION {round(job.done * 100)}%"
        if job is not None and self._engine is not None:
            running = self._engine.running_job
            if running is not None and running not in self._jobs:
                return "DRAFT WAITS FOR THE RUNNING RENDER"
        return "DRAFT QUEUED" if self.status(shot_id) == "queued" else ""

    def job_of(self, shot_id: str) -> str | None:
        """The id of the shot's draft job still queued or running, if any."""
        return self._shot_jobs.get(shot_id)

    def draft_now(self) -> None:
        """Submit the drafts waiting out the debounce at once (tests, benchmarks)."""
        self._timer.stop()
        self._flush()

    def shutdown(self) -> None:
        self._closed = True
        self._timer.stop()
        self._drop_everything()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._make_engine is not None and self._engine is not None:
            self._engine.shutdown()
            self._engine = None

    # --- edits -----------------------------------------------------------------------------------
    def _on_session(self, session) -> None:
        self._drop_everything()
        self._project = session.project if session is not None else None
        self.changed.emit("")

    def _on_project(self, project: Project) -> None:
        old, self._project = self._project, project
        session = self.state.session
        if project is old or not self._enabled or self._closed or session is None:
            return
        bundle = session.bundle
        before = {s.id: s for s in old.shots()} if old is not None else {}
        present = set()
        for shot in project.shots():
            present.add(shot.id)
            previous = before.get(shot.id)
            if previous is shot:
                continue  # shots are immutable: the same object is the same shot
            moved = (
                previous is None  # new (and with no old project, every shot is new)
                or old is None
                or motion_inputs(old, bundle, previous) != motion_inputs(project, bundle, shot)
            )
            self._review(project, shot, motion_changed=moved)
        for shot_id in [s for s in self._shot_jobs if s not in present]:
            self._cancel_shot(shot_id)
        self._pending = [s for s in self._pending if s in present]

    def _review(self, project: Project, shot: Shot, *, motion_changed: bool) -> None:
        """After ``shot`` changed: cancel a draft that no longer fits it, queue one that does."""
        job = self._jobs.get(self._shot_jobs.get(shot.id, ""))
        session = self.state.session
        if not shot.pins or self._fact(project, shot)[1] or session is None:
            # Nothing to draft, or a current clip (a render just arrived): it wins.
            self._cancel_shot(shot.id)
            return
        inputs = motion_inputs(project, session.bundle, shot)
        if job is not None and job.inputs != inputs:
            self._cancel_shot(shot.id)  # the motion it drafts is gone: free the worker now
            job = None
        if not motion_changed or job is not None or self.lookup(project, shot) is not None:
            return
        if shot.id not in self._pending:
            self._pending.append(shot.id)
        self._timer.start()  # (re)starts the quiet period
        self.changed.emit(shot.id)

    def _flush(self) -> None:
        project, session = self.state.project, self.state.session
        pending, self._pending = self._pending, []
        if project is None or session is None or not self._enabled:
            return
        current = self.state.current_shot
        pending.sort(key=lambda s: s != current)  # the shot being looked at first
        ids = {s.id for s in project.shots()}
        for shot_id in pending:
            if shot_id in ids:
                self._submit(project, session, project.shot(shot_id))

    def _submit(self, project: Project, session, shot: Shot) -> None:
        if not shot.pins or self.lookup(project, shot) is not None or self._fact(project, shot)[1]:
            return
        frame_count, inbetween = shot.duration + 2 * shot.handles, shot.pins[-1].frame - shot.pins[0].frame
        max_pixels = DRAFT_SECONDS / (self.seconds_per_unit * draft_work(1, frame_count, inbetween))
        try:
            size = draft_size((project.width, project.height), self.picture_area(), max_pixels)
            job_id = self.engine.submit(draft_job(project, session.bundle, shot, size))
        except (PinframeError, ValueError) as exc:
            log.warning("no live draft of shot %s: %s", shot.number, exc)
            return
        except Exception as exc:  # noqa: BLE001 - an engine that can't take work must not break editing
            log.warning("no live draft of shot %s: the draft engine refused it (%s)", shot.number, exc)
            return
        inputs_hash = self._fact(project, shot)[0]
        inputs = motion_inputs(project, session.bundle, shot)
        work = draft_work(size[0] * size[1], frame_count, inbetween)
        self._jobs[job_id] = _DraftJob(job_id, shot.id, inputs_hash, inputs, session, work)
        self._shot_jobs[shot.id] = job_id
        self.changed.emit(shot.id)

    def _cancel_shot(self, shot_id: str) -> None:
        was_pending = shot_id in self._pending
        if was_pending:
            self._pending.remove(shot_id)
        job_id = self._shot_jobs.pop(shot_id, None)
        if job_id is not None and self._engine is not None:
            self._engine.cancel(job_id)  # its Cancelled event removes it from _jobs
        if was_pending or job_id is not None:
            self.changed.emit(shot_id)

    def _drop_everything(self) -> None:
        self._timer.stop()
        self._pending = []
        for shot_id in list(self._shot_jobs):
            self._cancel_shot(shot_id)
        self._ready.clear()
        self._latest.clear()
        self._facts = (None, {})

    def _fact(self, project: Project, shot: Shot) -> tuple[str, bool]:
        """(inputs hash, has a current clip) of the shot, worked out once per project version."""
        if self._facts[0] is not project:
            self._facts = (project, {})
        facts = self._facts[1]
        fact = facts.get(shot.id)
        if fact is None:
            # A model's quick draft clip of these very inputs wins too: someone asked for it.
            current = clip_state(project, shot) in ("current", "draft")
            fact = facts[shot.id] = (shot_inputs_hash(shot, project), current)
        return fact

    # --- engine events ---------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        job = self._jobs.get(event.job_id)
        if job is None or isinstance(event, Queued):
            return
        live = self._shot_jobs.get(job.shot_id) == job.job_id
        if isinstance(event, Started):
            job.status, job.started = "drafting", event.at
        elif isinstance(event, Progress):
            done = event.step / max(1, event.total)
            if int(done * 10) == int(job.done * 10):
                job.done = done
                return  # the viewer's percentage moves in tenths: no repaint per frame
            job.done = done
        elif isinstance(event, Finished):
            if not event.cached and job.started:
                self._learn(event.at - job.started, job.work)
            clip = event.outputs[0] if event.outputs else None
            if live and isinstance(clip, ClipResult) and job.session is self.state.session:
                self._load(job, clip)  # a draft job's output is a clip
                return
            del self._jobs[job.job_id]  # superseded while it finished: its motion is gone
        elif isinstance(event, Failed | Cancelled):
            if isinstance(event, Failed) and live:
                self.last_failure = f"The live draft of shot {self._number(job.shot_id)} failed: {event.message}"
                log.warning("%s\n%s", self.last_failure, event.detail)
                self.state.message.emit(self.last_failure)  # the status bar; the shot keeps its crossfade
            del self._jobs[job.job_id]
            if live:
                del self._shot_jobs[job.shot_id]
        if live:
            self.changed.emit(job.shot_id)

    def _number(self, shot_id: str) -> str:
        project = self.state.project
        try:
            return project.shot(shot_id).number if project is not None else shot_id
        except PinframeError:
            return shot_id  # removed since

    def _learn(self, seconds: float, work: float) -> None:
        """Fold a draft's time into the machine's speed; the first one replaces the guess."""
        if work < MIN_TIMED_WORK or seconds <= 0:
            return
        sample = min(max(seconds / work, 1e-10), 1e-4)
        self.seconds_per_unit = sample if self._timed == 0 else 0.5 * (self.seconds_per_unit + sample)
        self._timed += 1

    def _load(self, job: _DraftJob, result: ClipResult) -> None:
        loop = asyncio.get_event_loop()
        task = asyncio.ensure_future(loop.run_in_executor(None, read_draft_frames, result))
        self._tasks.add(task)

        def done(t: asyncio.Future) -> None:
            self._tasks.discard(t)
            self._jobs.pop(job.job_id, None)
            live = self._shot_jobs.get(job.shot_id) == job.job_id
            if live:
                del self._shot_jobs[job.shot_id]
            if t.cancelled() or self._closed or not self._enabled or job.session is not self.state.session:
                return
            if t.exception() is not None:
                log.warning("a live draft could not be read back from %s: %s", Path(result.frames_dir), t.exception())
            elif live:
                self._keep(job.shot_id, DraftClip(job.inputs_hash, job.inputs, t.result()))
            self.changed.emit(job.shot_id)

        task.add_done_callback(done)

    def _keep(self, shot_id: str, draft: DraftClip) -> None:
        self._ready[draft.inputs_hash] = draft
        self._ready.move_to_end(draft.inputs_hash)
        self._latest[shot_id] = draft
        while True:
            held = {id(d): d for d in self._ready.values()}
            if sum(d.nbytes for d in held.values()) <= DRAFT_MEMORY_BYTES or len(held) <= 1:
                return
            oldest = next(iter(self._ready.values()))
            for key in [k for k, d in self._ready.items() if d is oldest]:
                del self._ready[key]
            for key in [k for k, d in self._latest.items() if d is oldest]:
                del self._latest[key]
