"""The editor's shared state: the open project, the current shot, the selection, the playhead.

Every panel reads from here and edits through :meth:`EditorState.do`, which runs a document
command (so undo/redo covers everything) and turns a refused edit into a message instead of
an exception. Panels redraw on the signals; none of them keeps its own copy of the project.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.cut import Cut
from app.document import Project
from app.edits import Command
from app.errors import PinframeError
from app.session import ProjectSession
from ui.motion_models import MotionEntry, built_in_entries


class EditorState(QObject):
    session_changed = Signal(object)  # ProjectSession | None
    project_changed = Signal(object)  # Project, after every edit, undo and redo
    current_shot_changed = Signal(object)  # shot id | None
    selection_changed = Signal(list)  # shot ids, in cut order
    playhead_changed = Signal(int)  # cut frame
    message = Signal(str)  # a refused edit, in words
    motion_models_changed = Signal()  # the motion models on offer (installed, added, removed)

    def __init__(self) -> None:
        super().__init__()
        self.session: ProjectSession | None = None
        self.current_shot: str | None = None
        self.selection: list[str] = []
        self.playhead = 0
        self._cut: tuple[Project, Cut] | None = None
        # What the motion menus offer (ui.motion_models), shared so every view shows the same
        # list: the built-in backends until the window has read the model list off the GUI thread.
        self.motion_models: tuple[MotionEntry, ...] = tuple(built_in_entries())

    # --- project ---------------------------------------------------------------------------------
    def attach(self, session: ProjectSession | None) -> None:
        if self.session is not None:
            self.session.history.remove_listener(self._on_history)
        self.session = session
        self._cut = None
        if session is not None:
            session.history.add_listener(self._on_history)
        self.session_changed.emit(session)
        first = next(session.project.shots(), None) if session else None
        self.set_current_shot(first.id if first else None)
        self.playhead = -1
        self.set_playhead(0)
        if session is not None:
            self.project_changed.emit(session.project)

    @property
    def project(self) -> Project | None:
        return self.session.project if self.session else None

    @property
    def cut(self) -> Cut:
        project = self.project
        if project is None:
            return Cut((), 0)
        if self._cut is None or self._cut[0] is not project:
            self._cut = (project, Cut.of(project))
        return self._cut[1]

    def do(self, command: Command | None) -> bool:
        """Apply an edit; a refused one is reported on ``message`` and changes nothing."""
        if self.session is None or command is None:
            return False
        try:
            self.session.do(command)
        except PinframeError as exc:
            self.message.emit(str(exc))
            return False
        return True

    def edit(self, build, *args, **kwargs) -> bool:
        """Build a command from the current project (``build(project, ...)``) and apply it."""
        if self.project is None:
            return False
        try:
            command = build(self.project, *args, **kwargs)
        except PinframeError as exc:
            self.message.emit(str(exc))
            return False
        return self.do(command)

    def undo(self) -> None:
        if self.session:
            self.session.undo()

    def redo(self) -> None:
        if self.session:
            self.session.redo()

    def _on_history(self, project: Project, revision: int, label: str) -> None:
        ids = {s.id for s in project.shots()}
        if self.current_shot not in ids:
            self.set_current_shot(next(project.shots()).id if ids else None)
        kept = [i for i in self.selection if i in ids]
        if kept != self.selection:
            self.set_selection(kept)
        self.project_changed.emit(project)
        if self.playhead >= max(1, self.cut.length):
            self.set_playhead(self.cut.length - 1)

    def set_motion_models(self, entries: list[MotionEntry] | tuple[MotionEntry, ...]) -> None:
        entries = tuple(entries)
        if entries != self.motion_models:
            self.motion_models = entries
            self.motion_models_changed.emit()

    # --- selection and playhead ----------------------------------------------------------------
    def set_current_shot(self, shot_id: str | None) -> None:
        if shot_id != self.current_shot:
            self.current_shot = shot_id
            self.current_shot_changed.emit(shot_id)
        if shot_id is not None and self.selection != [shot_id] and shot_id not in self.selection:
            self.set_selection([shot_id])

    def set_selection(self, shot_ids: list[str]) -> None:
        order = [e.shot.id for e in self.cut.entries]
        ids = sorted(set(shot_ids) & set(order), key=order.index)
        if ids != self.selection:
            self.selection = ids
            self.selection_changed.emit(ids)

    def set_playhead(self, frame: int) -> None:
        frame = max(0, min(int(frame), max(0, self.cut.length - 1)))
        if frame != self.playhead:
            self.playhead = frame
            self.playhead_changed.emit(frame)

    def shot_at_playhead(self) -> tuple[str, int] | None:
        found = self.cut.locate(self.playhead)
        return (found[0].shot.id, found[1]) if found else None
