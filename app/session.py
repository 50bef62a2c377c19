"""An open project being edited: its bundle, its undo history and its autosave.

This is what the UI (and the crash test) holds. Edits go through :meth:`ProjectSession.do`;
everything after that (autosave, listeners) happens without the caller waiting on the disk.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from app.autosave import MAX_DELAY_SECONDS, QUIET_SECONDS, Autosaver, SaveStatus
from app.bundle import Bundle, OpenReport
from app.document import Project
from app.edits import Command
from app.history import History


class ProjectSession:
    def __init__(
        self,
        bundle: Bundle,
        project: Project,
        report: OpenReport | None = None,
        *,
        quiet: float = QUIET_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
        on_save_status: Callable[[SaveStatus], None] | None = None,
    ) -> None:
        self.bundle = bundle
        self.report = report or OpenReport()
        self.history = History(project)
        self.autosaver = Autosaver(
            bundle.save, self.history.snapshot, quiet=quiet, max_delay=max_delay, on_status=on_save_status
        )
        self.history.add_listener(lambda *_: self.autosaver.notify_changed())

    @classmethod
    def open(cls, path: str | os.PathLike[str], **kwargs) -> ProjectSession:
        bundle, project, report = Bundle.open(path)
        return cls(bundle, project, report, **kwargs)

    @classmethod
    def create(cls, path: str | os.PathLike[str], project: Project, **kwargs) -> ProjectSession:
        return cls(Bundle.create(path, project), project, **kwargs)

    @property
    def project(self) -> Project:
        return self.history.project

    @property
    def path(self) -> Path:
        return self.bundle.path

    @property
    def media(self):
        return self.bundle.media

    def do(self, command: Command) -> Project:
        return self.history.do(command)

    def undo(self) -> bool:
        return self.history.undo()

    def redo(self) -> bool:
        return self.history.redo()

    def close(self, timeout: float = 10.0) -> bool:
        """Write what is left and release the bundle; False if the last save failed."""
        saved = self.autosaver.stop(timeout)
        self.bundle.close()
        return saved
