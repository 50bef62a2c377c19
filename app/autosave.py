"""Autosave: every edit reaches the disk within 2 seconds, without the editing thread waiting.

The saver thread wakes when told the document changed, waits for a short quiet spell (so a
drag writes once, not sixty times) but never longer than ``max_delay`` after the first
unsaved edit, then writes the newest snapshot. The document is immutable, so the snapshot
can't change under the writer. A failed save (disk full) keeps the edit in memory, reports
it, and tries again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.document import Project
from app.errors import PinframeError

# quiet + write time must stay under the promised 2 s; max_delay bounds a continuous drag.
QUIET_SECONDS = 0.3
MAX_DELAY_SECONDS = 1.0
RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class SaveStatus:
    saved_revision: int
    pending: bool
    error: str = ""
    saved_at: float = 0.0


class Autosaver:
    def __init__(
        self,
        save: Callable[[Project], None],
        snapshot: Callable[[], tuple[int, Project]],
        *,
        saved_revision: int = 0,
        quiet: float = QUIET_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
        on_status: Callable[[SaveStatus], None] | None = None,
    ) -> None:
        self._save = save
        self._snapshot = snapshot
        self._quiet = quiet
        self._max_delay = max_delay
        self._on_status = on_status
        self._cond = threading.Condition()
        self._saved_revision = saved_revision
        self._first_unsaved: float | None = None
        self._last_change = 0.0
        self._stopping = False
        self._error = ""
        self._thread = threading.Thread(target=self._run, name="pinframe-autosave", daemon=True)
        self._thread.start()

    @property
    def saved_revision(self) -> int:
        return self._saved_revision

    @property
    def error(self) -> str:
        return self._error

    def notify_changed(self) -> None:
        """Call after every edit; returns at once."""
        now = time.monotonic()
        with self._cond:
            self._last_change = now
            if self._first_unsaved is None:
                self._first_unsaved = now
            self._cond.notify()

    def flush(self, timeout: float = 10.0) -> bool:
        """Save now and wait for it (closing a project). True when everything is on disk."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._first_unsaved is None and self._snapshot()[0] == self._saved_revision:
                return True
            self._first_unsaved = self._first_unsaved or time.monotonic()
            self._last_change = 0.0  # no quiet spell to wait for
            self._cond.notify()
            while self._snapshot()[0] != self._saved_revision:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return not self._error

    def stop(self, timeout: float = 10.0) -> bool:
        saved = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout)
        return saved

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._first_unsaved is None:
                    self._cond.wait()
                if self._stopping:
                    return
                now, first = time.monotonic(), self._first_unsaved
                if first is None:  # not while waiting above; said for the type checker
                    continue
                due = min(self._last_change + self._quiet, first + self._max_delay)
                if now < due:
                    self._cond.wait(due - now)
                    continue
                self._first_unsaved = None
            revision, project = self._snapshot()
            if revision == self._saved_revision:
                continue
            try:
                self._save(project)
            except PinframeError as exc:
                self._report(SaveStatus(self._saved_revision, True, str(exc)))
                self._schedule_retry(str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - a saver crash must never lose the session
                self._report(SaveStatus(self._saved_revision, True, f"autosave failed unexpectedly: {exc!r}"))
                self._schedule_retry(repr(exc))
                continue
            with self._cond:
                self._saved_revision = revision
                self._error = ""
                pending = self._first_unsaved is not None
                self._cond.notify_all()
            self._report(SaveStatus(revision, pending, "", time.time()))

    def _schedule_retry(self, error: str) -> None:
        # The edit stays in memory; try again in RETRY_SECONDS (or sooner on a flush).
        with self._cond:
            self._error = error
            retry_at = time.monotonic() + RETRY_SECONDS
            if self._first_unsaved is None:
                self._first_unsaved = retry_at - self._max_delay
            self._last_change = max(self._last_change, retry_at - self._quiet)
            self._cond.notify_all()

    def _report(self, status: SaveStatus) -> None:
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop saving
                pass
