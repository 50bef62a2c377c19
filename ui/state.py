"""The editor's shared state: the open project, the current shot, the selection, the playhead.

One selection: the current shot and the playhead always agree. Choosing a shot anywhere (list,
storyboard, timeline) puts the playhead in it (at its start, unless it is there already), and
moving the playhead (scrubbing, playback, keys) into another shot makes that shot current, so
"pin at playhead" always acts on the shot the person sees selected. The state enforces this in
one place; the views only listen, so no view has to talk to another.

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
    render_requested = Signal(list)  # shot ids a context menu asked to render (the window renders them)

    def __init__(self) -> None:
        super().__init__()
        self.session: ProjectSession | None = None
        self.current_shot: str | None = None
        self.selection: list[str] = []
        self.playhead = 0
        # Where the playhead sits inside the current shot, so an edit that moves the shot (a reorder,
        # a retime before it, an undo) takes the playhead along instead of leaving it in another shot.
        self._offset = 0
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

    def require_project(self) -> Project:
        """The open project, for code only reachable with one open (a shot's menu, a render's end).

        Raises instead of returning None, so a path that wrongly runs without a project fails here,
        by name, not on an attribute of None somewhere later.
        """
        project = self.project
        if project is None:
            raise RuntimeError("no project is open: this action needs one (open or create a project first)")
        return project

    def require_session(self) -> ProjectSession:
        """The open session (its media, its history), for code only reachable with a project open."""
        session = self.session
        if session is None:
            raise RuntimeError("no project is open: this action needs one (open or create a project first)")
        return session

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
            # The current shot was deleted: the shot now under the playhead takes its place.
            found = self.cut.locate(min(self.playhead, self.cut.length - 1))
            self.set_current_shot(found[0].shot.id if found else (next(project.shots()).id if ids else None))
        kept = [i for i in self.selection if i in ids]
        if kept != self.selection:
            self.set_selection(kept)
        self.project_changed.emit(project)
        self._follow_current_shot()

    def set_motion_models(self, entries: list[MotionEntry] | tuple[MotionEntry, ...]) -> None:
        entries = tuple(entries)
        if entries != self.motion_models:
            self.motion_models = entries
            self.motion_models_changed.emit()

    # --- selection and playhead ----------------------------------------------------------------
    def set_current_shot(self, shot_id: str | None) -> None:
        if shot_id != self.current_shot:
            self.current_shot = shot_id
            # Before the signal, so its listeners already see the playhead inside the new shot.
            # set_playhead's own follow-up then finds this shot current and does nothing more.
            entry = self.cut.entry(shot_id) if shot_id is not None else None
            if entry is not None and entry.start <= self.playhead < entry.end:
                self._offset = self.playhead - entry.start
            elif entry is not None:
                self._offset = 0
                self.set_playhead(entry.start)
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
            found = self.cut.locate(frame)
            if found is not None:
                self._offset = found[1]
                # Scrubbing or playing into another shot selects it; inside a multi-selection the
                # selection stays and only the current shot moves (set_current_shot keeps it).
                if found[0].shot.id != self.current_shot:
                    self.set_current_shot(found[0].shot.id)
            self.playhead_changed.emit(frame)

    def _follow_current_shot(self) -> None:
        """After an edit: keep the playhead at the same frame of the current shot, wherever it went."""
        entry = self.cut.entry(self.current_shot) if self.current_shot is not None else None
        if entry is None:
            if self.playhead >= max(1, self.cut.length):
                self.set_playhead(self.cut.length - 1)
            return
        self.set_playhead(entry.start + min(self._offset, entry.shot.duration - 1))

    def shot_at_playhead(self) -> tuple[str, int] | None:
        found = self.cut.locate(self.playhead)
        return (found[0].shot.id, found[1]) if found else None
