"""Engine events: immutable records that describe a job's life.

Every job produces ``Queued``, then (unless cancelled while queued) ``Started``, any number of
``Progress``, ``Preview`` and ``Notice``, and exactly one of ``Finished``, ``Failed`` or ``Cancelled``.
Previews carry a small RGB array; everything else is plain numbers and text.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field, fields

import cv2
import numpy as np

from engine.jobs import Result, result_from_dict, result_to_dict


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
class Notice(Event):
    """Something a person should see about a running job that doesn't change its state, e.g.
    "Shot 12A: worker on node-3 died, retrying on node-5 (2 of 3)"."""

    text: str


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


# --- serialization (for running jobs in another process or on another machine) ------------------
_EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls for cls in (Queued, Started, Progress, Preview, Notice, Finished, Failed, Cancelled)
}


def event_to_dict(event: Event) -> dict:
    data: dict = {"type": type(event).__name__}
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, np.ndarray):
            # Previews travel as PNG: small, lossless, and any client can show them.
            _, png = cv2.imencode(".png", cv2.cvtColor(value, cv2.COLOR_RGB2BGR))
            value = base64.b64encode(png.tobytes()).decode("ascii")
        elif f.name == "outputs":
            value = [result_to_dict(r) for r in value]
        data[f.name] = value
    return data


def event_from_dict(data: dict) -> Event:
    values = dict(data)
    cls = _EVENT_TYPES[values.pop("type")]
    if cls is Preview:
        png = np.frombuffer(base64.b64decode(values["image"]), dtype=np.uint8)
        image = cv2.cvtColor(cv2.imdecode(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        image.setflags(write=False)
        values["image"] = image
    if cls is Finished:
        values["outputs"] = tuple(result_from_dict(r) for r in values["outputs"])
    return cls(**values)
