"""The model-free motion backends: optical-flow in-betweens, crossfades and held keyframes."""

from __future__ import annotations

import numpy as np

from engine.jobs import ClipJob
from engine.progress import StepReporter


class _CpuMotion:
    mode = ""
    notes = ""

    def __init__(self) -> None:
        self.last_notes = ""

    def memory_bytes(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def render(self, job: ClipJob, pins: list[tuple[int, np.ndarray]], reporter: StepReporter) -> np.ndarray:
        from engine.backends.flow import inbetween

        self.last_notes = self.notes
        return inbetween(pins, job.frame_count, mode=self.mode, reporter=reporter)


class FlowMotion(_CpuMotion):
    mode = "flow"
    notes = "optical-flow in-betweens"


class CrossfadeMotion(_CpuMotion):
    mode = "crossfade"
    notes = "crossfades"


class HoldMotion(_CpuMotion):
    mode = "hold"
    notes = "held keyframes"
