"""The model-free motion backends: optical-flow in-betweens, crossfades and held keyframes.

Each plays the job's camera move (engine.camera_move) over its frames afterwards, measured from
the pins, so a one-pin "slow push in" moves the way a storyboard tool animates one drawing.
With one pin and no move there is nothing to move towards: the clip is that picture held, as a
storyboard panel without a camera move is, and the clip's notes say how to make it move.
"""

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
        from engine.camera_move import apply_camera_move

        self.last_notes = self.notes
        frames = inbetween(pins, job.frame_count, mode=self.mode, reporter=reporter)
        if job.camera_move:
            apply_camera_move(frames, job.camera_move, [frame for frame, _ in pins], reporter.check)
            self.last_notes = f"{self.notes}, camera {job.camera_move}"
        elif len(pins) == 1 and job.frame_count > 1:
            self.last_notes = (
                f"{self.notes}: one pin and no camera move, so a held picture; "
                "pin a second keyframe, give the shot a camera move or render with a video model for motion"
            )
        return frames


class FlowMotion(_CpuMotion):
    mode = "flow"
    notes = "optical-flow in-betweens"


class CrossfadeMotion(_CpuMotion):
    mode = "crossfade"
    notes = "crossfades"


class HoldMotion(_CpuMotion):
    mode = "hold"
    notes = "held keyframes"
