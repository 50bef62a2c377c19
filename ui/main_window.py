"""The main window: open, create and close projects; undo/redo; the autosave indicator.

Opening, creating and closing run on a worker thread (``run_in_executor``) and come back to
the GUI thread through qasync, so the window keeps painting while the disk works.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from app.autosave import SaveStatus
from app.bundle import BUNDLE_SUFFIX, Bundle
from app.demo import DEMO_BUNDLE_NAME, write_demo
from app.document import Project, Scene, new_id
from app.errors import PinframeError
from app.paths import user_data_dir
from app.session import ProjectSession
from app.timecode import FrameRate, format_duration, frames_to_timecode
from ui.shot_list import ShotList

MAX_RECENT = 8


class _SaveBridge(QObject):
    """Carries autosave reports from the saver thread to the GUI thread (queued signal)."""

    status = Signal(object)


class MainWindow(QMainWindow):
    project_opened = Signal(object)
    open_failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.session: ProjectSession | None = None
        self._closing = False
        self._tasks: set[asyncio.Task] = set()
        self._bridge = _SaveBridge()
        self._bridge.status.connect(self._show_save_status, Qt.ConnectionType.QueuedConnection)

        self.setWindowTitle("Pinframe")
        self.resize(1200, 720)
        self.header = QLabel("No project open: File ▸ Open, or File ▸ Open Demo")
        self.header.setObjectName("projectHeader")
        self.header.setStyleSheet("#projectHeader { font-size: 15px; padding: 8px 4px; }")
        self.shot_list = ShotList()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.header)
        layout.addWidget(self.shot_list)
        self.setCentralWidget(central)
        self.save_label = QLabel("")
        self.statusBar().addPermanentWidget(self.save_label)
        self._build_menus()
        self._restore_layout()
        self._refresh_actions()

    # --- menus ----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.act_new = self._action(file_menu, "&New Project…", QKeySequence.StandardKey.New, self._choose_new)
        self.act_open = self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open, self._choose_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._action(file_menu, "Open &Demo", None, lambda: self.spawn(self.open_demo()))
        file_menu.addSeparator()
        self.act_close = self._action(
            file_menu, "&Close Project", QKeySequence.StandardKey.Close, lambda: self.spawn(self.close_project())
        )
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.act_undo = self._action(edit_menu, "&Undo", QKeySequence.StandardKey.Undo, self.undo)
        self.act_redo = self._action(edit_menu, "&Redo", QKeySequence.StandardKey.Redo, self.redo)
        self._fill_recent()

    def _action(self, menu, text, shortcut, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = [p for p in QSettings().value("recent", [], list) if p]
        for path in paths:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.spawn(self.open_project(p)))
        self.recent_menu.setEnabled(bool(paths))

    def _add_recent(self, path: Path) -> None:
        settings = QSettings()
        paths = [p for p in settings.value("recent", [], list) if p and p != str(path)]
        settings.setValue("recent", [str(path), *paths][:MAX_RECENT])
        self._fill_recent()

    def _refresh_actions(self) -> None:
        history = self.session.history if self.session else None
        self.act_undo.setEnabled(bool(history and history.can_undo))
        self.act_redo.setEnabled(bool(history and history.can_redo))
        self.act_undo.setText(f"&Undo {history.undo_label}" if history and history.can_undo else "&Undo")
        self.act_redo.setText(f"&Redo {history.redo_label}" if history and history.can_redo else "&Redo")
        self.act_close.setEnabled(self.session is not None)

    # --- async plumbing -----------------------------------------------------------------------
    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _off_thread(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    # --- projects -------------------------------------------------------------------------
    async def open_project(self, path: str | Path) -> bool:
        await self.close_project()
        self.statusBar().showMessage(f"Opening {path}…")
        try:
            session = await self._off_thread(lambda: ProjectSession.open(path, on_save_status=self._bridge.status.emit))
        except PinframeError as exc:
            self.statusBar().clearMessage()
            self._error("Can't open project", str(exc))
            self.open_failed.emit(str(exc))
            return False
        self._attach(session)
        return True

    async def open_demo(self) -> bool:
        target = user_data_dir() / DEMO_BUNDLE_NAME
        if not target.exists():
            try:
                await self._off_thread(write_demo, target)
            except PinframeError as exc:
                self._error("Can't write the demo project", str(exc))
                return False
        return await self.open_project(target)

    async def create_project(self, path: str | Path, rate: FrameRate | None = None) -> bool:
        path = Path(path)
        if path.suffix != BUNDLE_SUFFIX:
            path = path.with_name(path.name + BUNDLE_SUFFIX)
        project = Project(name=path.stem, rate=rate or FrameRate(24), scenes=(Scene(new_id(), "Scene 1"),))
        await self.close_project()
        try:
            bundle = await self._off_thread(Bundle.create, path, project)
        except PinframeError as exc:
            self._error("Can't create project", str(exc))
            return False
        self._attach(ProjectSession(bundle, project, on_save_status=self._bridge.status.emit))
        return True

    async def close_project(self) -> bool:
        session, self.session = self.session, None
        if session is None:
            return True
        session.history.remove_listener(self._on_edit)
        self.shot_list.show_project(None)
        self.header.setText("No project open")
        saved = await self._off_thread(session.close)
        if not saved:
            self._error("Last changes not saved", session.autosaver.error or "the final save did not finish")
        self._refresh_actions()
        return saved

    def _attach(self, session: ProjectSession) -> None:
        self.session = session
        session.history.add_listener(self._on_edit)
        self._add_recent(session.path)
        self._show_project(session.project)
        self.save_label.setText("All changes saved")
        missing = session.report.missing_media
        if missing:
            lines = "\n".join(f"{m.ref.relpath} (used by {', '.join(m.used_by)})" for m in missing)
            self._error(
                f"{len(missing)} media file(s) missing", f"These files are missing and can be relinked:\n{lines}"
            )
        self.statusBar().showMessage(f"Opened {session.path}", 4000)
        self.project_opened.emit(session)

    def _show_project(self, project: Project) -> None:
        rate = project.rate
        tc = frames_to_timecode(project.start_frame, rate, drop_frame=project.drop_frame)
        running = format_duration(project.running_time, rate, drop_frame=project.drop_frame)
        self.setWindowTitle(f"{project.name} — Pinframe")
        self.header.setText(
            f"<b>{project.name}</b> &nbsp; {project.width}×{project.height} · {rate.label} · starts {tc} · "
            f"{project.shot_count()} shots · running time {running}"
        )
        self.shot_list.show_project(project)
        self._refresh_actions()

    # --- editing --------------------------------------------------------------------------
    def undo(self) -> None:
        if self.session:
            self.session.undo()

    def redo(self) -> None:
        if self.session:
            self.session.redo()

    def _on_edit(self, project: Project, revision: int, label: str) -> None:
        self._show_project(project)
        self.save_label.setText("Saving…")

    def _show_save_status(self, status: SaveStatus) -> None:
        if status.error:
            self.save_label.setText("⚠ Not saved")
            self.save_label.setToolTip(status.error)
        elif not status.pending and self.session and status.saved_revision == self.session.history.revision:
            self.save_label.setText("All changes saved")
            self.save_label.setToolTip("")

    # --- dialogs ----------------------------------------------------------------------------
    def _choose_open(self) -> None:
        dialog = QFileDialog(self, "Open Pinframe project")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(lambda p: self.spawn(self.open_project(p)))
        dialog.open()

    def _choose_new(self) -> None:
        dialog = QFileDialog(self, "New Pinframe project")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(f"Pinframe project (*{BUNDLE_SUFFIX})")
        dialog.fileSelected.connect(lambda p: self.spawn(self.create_project(p)))
        dialog.open()

    def _error(self, title: str, text: str) -> None:
        # open() is window-modal without a nested event loop, which qasync needs.
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(text.splitlines()[0], 8000)

    # --- window state -------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = QSettings().value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def closeEvent(self, event: QCloseEvent) -> None:
        QSettings().setValue("window/geometry", self.saveGeometry())
        if self.session is not None and not self._closing:
            # Finish the last save off the GUI thread, then close for real.
            self._closing = True
            event.ignore()
            task = self.spawn(self.close_project())
            task.add_done_callback(lambda _t: self.close())
            return
        event.accept()
