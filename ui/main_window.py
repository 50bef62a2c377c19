"""The main window: viewer in the middle, shots, timeline, keyframes and jobs around it.

Opening, creating and closing projects run on a worker thread (``run_in_executor``) and come
back through qasync, so the window keeps painting while the disk works. Every panel edits
through the shared :class:`~ui.state.EditorState`, so Edit ▸ Undo covers all of them.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from app import commands
from app import engine_service as S
from app.autosave import SaveStatus
from app.bundle import BUNDLE_SUFFIX, Bundle
from app.demo import DEMO_BUNDLE_NAME, write_demo
from app.document import Project, Scene, new_id
from app.errors import PinframeError
from app.log_file import log_path
from app.paths import user_cache_dir, user_data_dir
from app.session import ProjectSession
from app.timecode import FrameRate, format_duration, frames_to_timecode
from engine.runtime import Engine
from ui.engine_bridge import EngineBridge
from ui.export_dialog import ExportDialog
from ui.farm_dialog import FarmDialog
from ui.jobs_panel import JobsPanel
from ui.keyframe_panel import KeyframePanel
from ui.live_draft import SETTING_KEY as LIVE_DRAFTS_KEY
from ui.live_draft import LiveDrafts, light_engine
from ui.models_dialog import ModelsDialog, load_device_settings
from ui.motion_models import MODELS_HINT, resolve_shot_models
from ui.prompt_template_dialog import PromptTemplateDialog
from ui.recent import recent_projects, remember_project
from ui.script_import_dialog import ScriptImportDialog
from ui.shortcuts import ShortcutsDialog
from ui.shots_panel import ShotsPanel
from ui.state import EditorState
from ui.storyboard_dock import install_storyboard
from ui.take_compare import connect_take_compare
from ui.timeline import TimelineWidget
from ui.viewer import ViewerWidget
from ui.viewer_overlays import install_overlays
from ui.window_dialogs import WindowDialogs
from ui.window_layout import WindowLayout
from ui.window_menus import build_menus, menu_action

if TYPE_CHECKING:
    from ui.drawing import DrawingOverlay
    from ui.motion_menu import MotionMenu
    from ui.references_dialog import ReferencesDialog

log = logging.getLogger(__name__)


class _SaveBridge(QObject):
    """Carries autosave reports from the saver thread to the GUI thread (queued signal)."""

    status = Signal(object)


class MainWindow(WindowDialogs, QMainWindow):
    project_opened = Signal(object)
    open_failed = Signal(str)

    # Set by ui.window_menus.build_menus (declared here so every reader knows they exist).
    file_menu: QMenu
    recent_menu: QMenu
    edit_menu: QMenu
    shot_menu: QMenu
    project_menu: QMenu
    render_menu: QMenu
    motion_menu: QMenu
    view_menu: QMenu
    playback_menu: QMenu
    models_menu: QMenu
    help_menu: QMenu
    act_new: QAction
    act_open: QAction
    act_import_audio: QAction
    act_import_script: QAction
    act_save: QAction
    act_export: QAction
    act_close: QAction
    act_undo: QAction
    act_redo: QAction
    act_draw: QAction
    act_from_take: QAction
    act_inpaint: QAction
    act_prompt_template: QAction
    act_references: QAction
    act_render_selected: QAction
    act_render_stale: QAction
    act_render_all: QAction
    act_keep_drafts: QAction
    act_place_sound: QAction
    act_send_to_farm: QAction
    act_disconnect_farm: QAction
    act_mute: QAction
    act_live_drafts: QAction
    act_shortcuts: QAction
    act_show_log: QAction
    shortcut_actions: dict[str, QAction]
    drawing: DrawingOverlay
    motion: MotionMenu
    dock_storyboard: QDockWidget  # set by ui.storyboard_dock.install_storyboard
    references_dialog: ReferencesDialog | None = None  # made by ui.references_dialog.show_references

    def __init__(self, engine: Engine | None = None) -> None:
        super().__init__()
        self.setObjectName("PinframeMain")
        self._closing = False
        self._tasks: set[asyncio.Task] = set()
        self._save_bridge = _SaveBridge()
        self._save_bridge.status.connect(self._show_save_status, Qt.ConnectionType.QueuedConnection)
        self.models_dialog: ModelsDialog | None = None
        self.export_dialog: ExportDialog | None = None
        self.script_dialog: ScriptImportDialog | None = None
        self.farm_dialog: FarmDialog | None = None
        self.prompt_dialog: PromptTemplateDialog | None = None
        self.shortcuts_dialog: ShortcutsDialog | None = None

        self.state = EditorState()
        engine = engine or Engine(user_cache_dir() / "engine", load_device_settings())
        self.bridge = EngineBridge(self.state, engine)
        self.viewer = ViewerWidget(self.state)
        self.shots = ShotsPanel(self.state)
        self.timeline = TimelineWidget(self.state)
        self.keyframes = KeyframePanel(self.state, self.bridge)
        self.jobs = JobsPanel(self.bridge)
        # Flow drafts of edited shots, on a light engine of their own (ui.live_draft says why).
        self.live_drafts = LiveDrafts(self.state, lambda: light_engine(self.bridge.engine),
                                      picture_area=self.viewer.picture_area,
                                      enabled=bool(QSettings().value(LIVE_DRAFTS_KEY, True, bool)))  # fmt: skip
        self.viewer.set_live_drafts(self.live_drafts)
        self.timeline.live_drafts = self.live_drafts
        self.live_drafts.changed.connect(lambda _shot_id: self.timeline.update())

        self.setWindowTitle("Pinframe")
        self.setCentralWidget(self.viewer)
        # Docks, the View ▸ Panels menu and the saved layout (ui.window_layout says how it fits a laptop).
        self.layout_ = WindowLayout(self)
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.dock_shots = self.add_dock("Shots", self.shots, left, size=360)
        self.dock_timeline = self.add_dock("Timeline", self.timeline, Qt.DockWidgetArea.BottomDockWidgetArea, size=230)
        # Keyframes is taller than a laptop's screen allows beside a timeline: it scrolls, and Jobs is its tab.
        self.dock_keyframes = self.add_dock("Keyframes", self.keyframes, right, size=380, scroll=True)
        self.dock_jobs = self.add_dock("Jobs", self.jobs, right, tab_with=self.dock_keyframes)
        self.storyboard = install_storyboard(self)  # the grid of panels, a tab beside the timeline
        connect_take_compare(self.keyframes, self.viewer)  # takes full size and compared in the viewer
        # Render from a shot's context menu (list, grid, timeline): exactly the shots it names.
        self.state.render_requested.connect(lambda ids: self.spawn(self.render_shots("selected", list(ids))))

        self.save_label = QLabel("")
        self.statusBar().addPermanentWidget(self.save_label)
        self.state.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.state.project_changed.connect(self._on_project_changed)
        self.state.current_shot_changed.connect(lambda _s: self._refresh_place_sound())
        self.shots.shot_form.models_wanted.connect(self.show_models_for)
        self._build_menus()
        self.overlays = install_overlays(self.viewer, self.view_menu)  # View ▸ Guides, Onion Skin
        self.view_menu.addAction(self.timeline.act_zoom_fit)
        self.layout_.restore()
        self._refresh_actions()
        self.viewer.sound.status_changed.connect(self._show_sound_status)

    def _show_sound_status(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text, 8000)

    @property
    def session(self) -> ProjectSession | None:
        return self.state.session

    def add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, **placing) -> QDockWidget:
        """A panel in a dock, listed in View ▸ Panels and put back by Reset Layout.

        ``placing``: ``size`` (default width or height), ``scroll`` (scrolls when the dock is
        small), ``tab_with`` (another dock whose place it shares as a tab); see WindowLayout.add_dock.
        """
        return self.layout_.add_dock(title, widget, area, **placing)

    # --- menus ------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        build_menus(self)  # ui.window_menus

    def _set_live_drafts(self, on: bool) -> None:
        QSettings().setValue(LIVE_DRAFTS_KEY, on)
        self.live_drafts.set_enabled(on)

    def _action(self, menu, text, shortcut, slot) -> QAction:
        return menu_action(self, menu, text, shortcut, slot)

    def show_models_for(self, model_id: str) -> ModelsDialog:
        """Open the Models dialog at a model that isn't installed yet."""
        dialog = self.show_models()
        if model_id:
            try:
                dialog.select_known(model_id)
            except KeyError:
                pass  # a local folder, or no model yet: the dialog's local section says what to do
            self.statusBar().showMessage(
                f"{model_id} is not installed yet: download or add it here, then choose it in Render ▸ Motion Model",
                8000,
            )
        return dialog

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = recent_projects()
        for path in paths:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.spawn(self.open_project(p)))
        self.recent_menu.setEnabled(bool(paths))

    def _add_recent(self, path: Path) -> None:
        remember_project(path)
        self._fill_recent()

    def _refresh_actions(self) -> None:
        history = self.state.session.history if self.state.session else None
        self.act_undo.setEnabled(bool(history and history.can_undo))
        self.act_redo.setEnabled(bool(history and history.can_redo))
        self.act_undo.setText(f"&Undo {history.undo_label}" if history and history.can_undo else "&Undo")
        self.act_redo.setText(f"&Redo {history.redo_label}" if history and history.can_redo else "&Redo")
        has_project = self.state.session is not None
        self._refresh_place_sound()
        for action in (
            self.act_close,
            self.act_save,
            self.act_render_selected,
            self.act_render_stale,
            self.act_render_all,
            self.act_send_to_farm,
            self.act_import_audio,
            self.act_import_script,
            self.act_export,
            self.act_prompt_template,
        ):
            action.setEnabled(has_project)
        self.act_disconnect_farm.setEnabled(self.bridge.farm is not None)
        self.act_disconnect_farm.setText(
            f"&Disconnect from Farm ({self.bridge.farm_address})" if self.bridge.farm else "&Disconnect from Farm"
        )

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
            session = await self._off_thread(
                lambda: ProjectSession.open(path, on_save_status=self._save_bridge.status.emit)
            )
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
        self._attach(ProjectSession(bundle, project, on_save_status=self._save_bridge.status.emit))
        return True

    async def save(self) -> bool:
        """Autosave already runs; this writes now and waits for it (off the GUI thread)."""
        session = self.state.session
        if session is None:
            return False
        saved = await self._off_thread(session.autosaver.flush)
        self.statusBar().showMessage("Saved" if saved else f"Not saved: {session.autosaver.error}", 4000)
        return saved

    async def close_project(self) -> bool:
        session = self.state.session
        if session is None:
            return True
        self.viewer.stop()
        # Its jobs' results would have nowhere to go; finished renders stay in the cache.
        self.bridge.cancel_jobs_of(session)
        self.state.attach(None)
        self.setWindowTitle("Pinframe")
        saved = await self._off_thread(session.close)
        if not saved:
            self._error("Last changes not saved", session.autosaver.error or "the final save did not finish")
        self._refresh_actions()
        return saved

    def _attach(self, session: ProjectSession) -> None:
        self.state.attach(session)
        self.motion.refresh()  # models may have been installed or added since the last project
        self._add_recent(session.path)
        self.save_label.setText("All changes saved")
        missing = session.report.missing_media
        if missing:
            lines = "\n".join(f"{m.ref.relpath} (used by {', '.join(m.used_by)})" for m in missing)
            self._error(
                f"{len(missing)} media file(s) missing", f"These files are missing and can be relinked:\n{lines}"
            )
        # What opening did on its own (leftovers of interrupted work removed) is said, and logged.
        notes = "; ".join(session.report.notes)
        if notes:
            log.info("opened %s: %s", session.path, notes)
        self.statusBar().showMessage(
            f"Opened {session.path}" + (f"; {notes}" if notes else ""), 8000 if notes else 4000
        )
        self._refresh_actions()
        self.project_opened.emit(session)

    def _on_project_changed(self, project: Project) -> None:
        rate = project.rate
        running = format_duration(project.running_time, rate, drop_frame=project.drop_frame)
        self.setWindowTitle(
            f"{project.name} — {project.width}×{project.height} · {rate.label} · "
            f"{project.shot_count()} shots · {running} — Pinframe"
        )
        if self.state.session and self.state.session.history.revision > 0:
            self.save_label.setText("Saving…")
        self._refresh_actions()

    def _show_save_status(self, status: SaveStatus) -> None:
        session = self.state.session
        if status.error:
            self.save_label.setText("⚠ Not saved")
            self.save_label.setToolTip(status.error)
        elif not status.pending and session and status.saved_revision == session.history.revision:
            self.save_label.setText("All changes saved")
            self.save_label.setToolTip("")

    # --- rendering and models ---------------------------------------------------------------------
    def selected_shots(self) -> list[str]:
        """The shots a 'selected' action works on: the selection, else the current shot."""
        return list(self.state.selection) or ([self.state.current_shot] if self.state.current_shot else [])

    async def render_shots(self, which: str, shot_ids: list[str] | None = None) -> list[str]:
        """Render ``which`` shots, each with its own motion model (else the project's).

        ``shot_ids``: the shots "selected" means (a context menu's Render); None: the selection.
        The models are resolved on a worker thread (that reads the model list and the Hub cache);
        a shot whose model can't be used is said so, and the others render.
        """
        session, project = self.state.session, self.state.project
        if session is None or project is None:
            return []
        chosen = self.selected_shots() if shot_ids is None else shot_ids
        # Off the GUI thread: Render Stale also looks for clips whose file was deleted (a stat a shot).
        keep = self.act_keep_drafts.isChecked()
        ids = await self._off_thread(
            lambda: S.shots_to_render(project, which, chosen, keep_drafts=keep, media=session.media)
        )
        if self.state.session is not session:
            return []  # another project opened meanwhile
        if not ids:
            kept = " or a kept draft" if which == "stale" and self.act_keep_drafts.isChecked() else ""
            self.statusBar().showMessage(f"Nothing to render: every shot's clip is current{kept}", 5000)
            return []
        pinned = [i for i in ids if project.shot(i).pins]
        models = await self._off_thread(resolve_shot_models, project, pinned)
        if self.state.session is not session:
            return []  # another project opened meanwhile
        now = session.project  # the same session, so the project as it is now
        present = {s.id for s in now.shots()}
        # Shots without pins go along: the bridge says they were skipped. A shot pinned while the
        # models were read waits for the next render rather than read the disk here.
        ids = [i for i in ids if i in present and (i in models.specs or not now.shot(i).pins)]
        try:
            job_ids = self.bridge.render(ids, models.specs, loras=models.loras) if ids else []
        except PinframeError as exc:
            self._error("Can't render", str(exc))
            return []
        if models.problems:
            count = len(models.failed)
            title = f"{count} shot{'s' if count != 1 else ''} can't render"
            self._error(title, "\n\n".join([*models.problems, MODELS_HINT]))
        return job_ids

    def _refresh_place_sound(self) -> None:
        project, shot_id = self.state.project, self.state.current_shot
        clip = project.shot(shot_id).current_clip_take if project is not None and shot_id else None
        self.act_place_sound.setEnabled(clip is not None and clip.audio is not None)

    async def place_clip_sound(self) -> bool:
        """Render ▸ Place Clip Sound: the current clip's generated sound onto the audio lane, at the
        shot (one undo step). Cutting the sound to the shot writes a file: off the GUI thread."""
        session, shot_id = self.state.session, self.state.current_shot
        if session is None or shot_id is None:
            return False
        try:
            command = await self._off_thread(S.place_clip_sound, session.bundle, session.project, shot_id)
        except PinframeError as exc:
            self._error("Can't place the clip's sound", str(exc))
            return False
        if self.state.session is not session or not self.state.do(command):
            return False
        project = session.project  # after the edit
        shot = project.shot(shot_id)
        start = frames_to_timecode(
            project.start_frame + project.shot_start(shot_id), project.rate, drop_frame=project.drop_frame
        )
        self.statusBar().showMessage(f"The sound of shot {shot.number}'s clip is on the audio lane at {start}", 8000)
        return True

    async def import_audio(self, path: str | Path) -> bool:
        """Add a soundtrack or dialogue file to the audio lane, starting at the playhead."""
        session = self.state.session
        if session is None:
            return False
        try:
            ref = await self._off_thread(session.media.put_file, path)
        except PinframeError as exc:
            self._error("Can't import audio", str(exc))
            return False
        if self.state.session is not session:
            return False
        return self.state.edit(commands.add_audio, ref, self.state.playhead, Path(path).name)

    def _error(self, title: str, text: str) -> None:
        log.warning("%s: %s", title, text)
        # open() is window-modal without a nested event loop, which qasync needs.
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setInformativeText(f"Details are in the log: {log_path()} (Help ▸ Show Log)")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(text.splitlines()[0], 8000)

    # --- window state -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.layout_.save()
        if self.export_dialog is not None and self.export_dialog.running:
            # Cancel takes effect within a frame and removes the partial file; close after it.
            self.export_dialog.cancel()
            event.ignore()
            QTimer.singleShot(100, self.close)
            return
        if self.state.session is not None and not self._closing:
            # Finish the last save off the GUI thread, then close for real.
            self._closing = True
            event.ignore()
            task = self.spawn(self.close_project())
            task.add_done_callback(lambda _t: self.close())
            return
        if self.bridge.farm is not None or self.bridge.farm_busy:
            # Letting a cluster go takes seconds (a local one stops its processes): off the GUI
            # thread. A connection still being made is waited for, then let go.
            event.ignore()
            task = self.spawn(self._let_farm_go())
            task.add_done_callback(lambda _t: self.close())
            return
        self.live_drafts.shutdown()
        self.bridge.shutdown()
        event.accept()
