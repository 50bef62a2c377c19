"""Undo and redo for one editing session.

The history owns the current project. Every change goes through :meth:`History.do`, which
keeps the command's inverse, so undo and redo are unlimited within the session. The current
``(revision, project)`` pair is replaced in one assignment, so another thread (the autosaver)
can read a consistent snapshot without a lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.document import Project
from app.edits import Command

Listener = Callable[[Project, int, str], None]


@dataclass(frozen=True)
class _Step:
    forward: Command
    inverse: Command


class History:
    def __init__(self, project: Project) -> None:
        self._state: tuple[int, Project] = (0, project)
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []
        self._listeners: list[Listener] = []

    # --- state -----------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._state[1]

    @property
    def revision(self) -> int:
        """Counts every change, undo and redo included; autosave compares it."""
        return self._state[0]

    def snapshot(self) -> tuple[int, Project]:
        return self._state

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    # --- editing -----------------------------------------------------------------------
    def do(self, command: Command) -> Project:
        """Apply a command; an :class:`~app.errors.EditError` leaves everything unchanged."""
        project, inverse = command.apply(self.project)
        last = self._undo[-1] if self._undo else None
        if command.merge_key is not None and last is not None and last.forward.merge_key == command.merge_key:
            # Undo the newest part first, then the older part: exact whatever the ops touch.
            merged_inverse = Command(command.label, inverse.ops + last.inverse.ops)
            merged_forward = Command(command.label, last.forward.ops + command.ops, command.merge_key)
            self._undo[-1] = _Step(merged_forward, merged_inverse)
        else:
            self._undo.append(_Step(command, inverse))
        self._redo.clear()
        self._set(project, command.label)
        return project

    def undo(self) -> bool:
        if not self._undo:
            return False
        step = self._undo.pop()
        project, _ = step.inverse.apply(self.project)
        self._redo.append(step)
        self._set(project, f"Undo {step.forward.label}")
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        step = self._redo.pop()
        project, inverse = Command(step.forward.label, step.forward.ops).apply(self.project)
        self._undo.append(_Step(step.forward, inverse))
        self._set(project, f"Redo {step.forward.label}")
        return True

    def close_merge(self) -> None:
        """End the current merge run (mouse released, field left) so the next edit is its own step."""
        if self._undo:
            step = self._undo[-1]
            self._undo[-1] = _Step(Command(step.forward.label, step.forward.ops), step.inverse)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str:
        return self._undo[-1].forward.label if self._undo else ""

    @property
    def redo_label(self) -> str:
        return self._redo[-1].forward.label if self._redo else ""

    def _set(self, project: Project, label: str) -> None:
        self._state = (self._state[0] + 1, project)
        for listener in list(self._listeners):
            listener(project, self._state[0], label)
