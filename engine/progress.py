"""How a running backend reports steps and previews, and learns it was cancelled.

Backends call :meth:`StepReporter.step` once per denoising step (or per frame for the CPU
interpolators). The call raises :class:`~engine.errors.JobCancelled` when the job was
cancelled, which is how a diffusion loop stops within one step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from engine.errors import JobCancelled

# (step, total, eta_seconds or None, preview RGB uint8 HxWx3 or None)
ProgressSink = Callable[[int, int, float | None, np.ndarray | None], None]


class StepReporter:
    def __init__(
        self,
        sink: ProgressSink | None = None,
        cancel_event: threading.Event | None = None,
        *,
        preview_every: int = 0,
    ) -> None:
        self._sink = sink
        self.preview_every = preview_every
        self._cancel = cancel_event or threading.Event()
        self._first_step_at: float | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise JobCancelled if the job was cancelled (call between expensive pieces of work)."""
        if self._cancel.is_set():
            raise JobCancelled("cancelled")

    def wants_preview(self, step: int, total: int) -> bool:
        """Whether a preview for this step would be shown; lets backends skip the decode work."""
        if self.preview_every <= 0:
            return False
        return step % self.preview_every == 0 or step == total

    def step(self, step: int, total: int, preview: np.ndarray | None = None) -> None:
        """Report that ``step`` of ``total`` is done (1-based); raises JobCancelled when cancelled."""
        self.check()
        now = time.monotonic()
        eta = None
        if self._first_step_at is None:
            self._first_step_at = now
            self._first_step = step
        elif step > self._first_step:
            # ETA from steady-state steps only: the first step pays for warm-up and compilation.
            per_step = (now - self._first_step_at) / (step - self._first_step)
            eta = per_step * max(0, total - step)
        if self._sink is not None:
            self._sink(step, total, eta, preview)
        self.check()
