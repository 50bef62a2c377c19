"""Engine events: immutable records that describe a job's life.

Every job produces ``Queued``, then (unless cancelled while queued) ``Started``, any number of
``Progress`` and ``Preview``, and exactly one of ``Finished``, ``Failed`` or ``Cancelled``.
Previews carry a small RGB array; everything else is plain numbers and text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from engine.jobs import Result


@dataclass(frozen=True)
class Event:
    job_id: str
    at: float = field(default_factory=time.time, kw_only=True)

    @property
    def terminal(self) -> bool:
        return False


@dataclass(frozen=True)
class Queued(Event):
    kind: str
    label: str
    position: int


@dataclass(frozen=True)
class Started(Event):
    kind: str
    label: str


@dataclass(frozen=True)
class Progress(Event):
    step: int
    total: int
    eta_seconds: float | None = None  # known once two steps are done


@dataclass(frozen=True, eq=False)
class Preview(Event):
    image: np.ndarray  # small RGB uint8 HxWx3, read-only
    step: int


@dataclass(frozen=True)
class Finished(Event):
    outputs: tuple[Result, ...]
    cached: bool = False

    @property
    def terminal(self) -> bool:
        return True


@dataclass(frozen=True)
class Failed(Event):
    message: str  # one or two sentences a person can act on
    detail: str = ""  # the full text (traceback) one click away

    @property
    def terminal(self) -> bool:
        return True


@dataclass(frozen=True)
class Cancelled(Event):
    @property
    def terminal(self) -> bool:
        return True
