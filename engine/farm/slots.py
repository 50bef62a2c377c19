"""The executor's records of the farm: each GPU (as the dialog sees it and as the executor
tracks it) and each job on the farm."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.executor import FarmOutput, FarmRequest
from engine.jobs import Job

if TYPE_CHECKING:
    from engine.events import Event


def label(job: Job) -> str:
    return job.label or f"this {job.kind} job"


@dataclass(frozen=True)
class GpuSlot:
    """One GPU of the farm, as the farm dialog shows it."""

    node: str
    index: int  # the GPU's index on its node
    name: str  # "NVIDIA H200", or "fake GPU" for a custom resource
    vram_gb: float
    doing: str  # "idle", "restarting", or the job, e.g. "Shot 12A: step 14/30"
    models: tuple[str, ...]  # the models resident on it (model id, else backend)


class Slot:
    """The engine side of one GPU actor."""

    def __init__(self, actor, info: dict, node: str) -> None:
        self.actor = actor
        self.node_id: str = info["node_id"]
        self.node = node
        self.index: int = info["index"]
        self.name: str = info["name"]
        self.vram_gb: float = info["vram_gb"]
        self.pid: int = info["pid"]
        self.cuda_visible_devices: str = info["cuda_visible_devices"]
        self.task: Task | None = None
        self.up = True
        self.revive_asks = 0  # times asked whether Ray restarted it, since its process died
        self.jobs = 0
        self.resident: tuple[str, ...] = ()  # the worker's model keys (its own folder paths)
        self.known: dict[str, tuple[str, str]] = {}  # worker key -> (engine-side key, name to show)

    def engine_keys(self) -> set[str]:
        return {self.known[k][0] for k in self.resident if k in self.known}

    def snapshot(self) -> GpuSlot:
        models = tuple(self.known[k][1] if k in self.known else k.split("|", 1)[0] for k in self.resident)
        if not self.up:
            doing = "restarting after its worker died"
        elif self.task is None:
            doing = "idle"
        else:
            doing = f"{label(self.task.request.job)}: {self.task.state}"
        return GpuSlot(self.node, self.index, self.name, self.vram_gb, doing, models)


@dataclass
class Task:
    request: FarmRequest
    on_event: Callable[[Event], None]
    on_done: Callable[[Event | FarmOutput], None]
    payload: dict
    pin_refs: list
    pins: tuple[str, ...]  # sha256 of each pin image it holds
    slot: Slot | None = None
    ref: Any = None
    tries: int = 0  # times handed to a worker
    attempts: int = 0  # times a worker began it
    waiting: bool = False  # a retry waiting for a free GPU
    died_on: str = ""  # the node whose worker died under the previous try
    pid: int | None = None
    node: str = ""
    state: str = "starting"
    cancel_sent_at: float | None = None
    ending: bool = False
    started_at: float = field(default_factory=time.monotonic)
