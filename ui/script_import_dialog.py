"""File ▸ Import Script: preview the scenes and shots a screenplay or shot list makes, then import.

The file is read and parsed on an executor thread, and so is the preview (:func:`app.script.
importer.preview_import`, about a second for a few thousand shots): it is rebuilt a moment
after the timing settings stop changing, from the project and script as they are then (both
immutable, so the thread can't see them change), and shown only if no newer preview was asked
for meanwhile. Import stays disabled while a preview is pending. Nothing in the project
changes until Import is pressed, and then it is one command, computed against the project as
it is at that moment: Edit ▸ Undo Import Script takes all of it back.

The dialog may be closed (and deleted) while the file is read or a preview is computed; the
work then finishes on its thread and its result is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.document import Project
from app.errors import PinframeError
from app.script.importer import ImportPreview, import_command, preview_import
from app.script.load import load_script
from app.script.model import ScriptDocument
from app.script.timing import TimingSettings
from app.timecode import format_duration
from ui.state import EditorState

# What an import does to each scene (app.script.importer.SceneChange.kind), in the tree's words.
# A scene with no change of its own was made by hand: the import leaves it where it is.
SCENE_STATUS = {
    "add": "new",
    "update": "changed",
    "reordered": "changed",
    "moved": "changed",
    "same": "unchanged",
    "gone-kept": "not in script (kept)",
}
MADE_BY_HAND = "made by hand"
STATUS_COLOURS = {
    "new": "#7fc97f",
    "changed": "#d9a441",
    "kept": "#8ab4f8",
    "not in script (kept)": "#e07b7b",
    MADE_BY_HAND: "#b39ddb",
    "unchanged": "#8a8a93",
}
PREVIEW_DELAY_MS = 250  # after the last change of a timing setting: a held spin arrow previews once


class ScriptImportDialog(QDialog):
    imported = Signal(object)  # ImportPreview, after the command ran

    def __init__(self, state: EditorState, path: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.path = Path(path)
        self.doc: ScriptDocument | None = None
        self.preview: ImportPreview | None = None
        self.preview_project: Project | None = None  # the project self.preview was computed against
        self.error = ""
        self._request = 0  # the latest preview asked for; older results are dropped
        self.pending = False  # a preview is scheduled or computing: Import waits for it
        self._closed = False
        self._importing = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(PREVIEW_DELAY_MS)
        self._debounce.timeout.connect(self._preview_now)
        self.setWindowTitle(f"Import Script: {self.path.name}")
        self.setObjectName("script-import-dialog")
        self.resize(900, 640)
        layout = QVBoxLayout(self)

        self.summary = QLabel(f"Reading {self.path.name}…")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)

        timing = QHBoxLayout()
        defaults = TimingSettings()
        form = QFormLayout()
        self.action_wps = self._spin(defaults.action_wps, 0.2, 20.0, " words/s")
        self.dialogue_wps = self._spin(defaults.dialogue_wps, 0.2, 20.0, " words/s")
        longest = defaults.maximum_seconds
        assert longest is not None
        # TimingSettings refuses a shortest shot longer than its longest one: the shortest's
        # range ends at the longest, and follows it.
        self.maximum = self._spin(longest, 1.0, 3600.0, " s")
        self.minimum = self._spin(defaults.minimum_seconds, 0.1, longest, " s")
        self.maximum.valueChanged.connect(lambda value: self.minimum.setMaximum(min(value, 60.0)))
        self.maximum.setToolTip("Longer estimates are clipped to this, and the clipped shots are listed below")
        form.addRow("Action read at", self.action_wps)
        form.addRow("Dialogue spoken at", self.dialogue_wps)
        form.addRow("Shortest shot", self.minimum)
        form.addRow("Longest shot", self.maximum)
        timing.addLayout(form)
        timing.addStretch(1)
        layout.addLayout(timing)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Scene / shot", "Status", "Duration", "Action", "Prompt"])
        self.tree.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 270), (1, 140), (2, 95), (4, 220)):
            self.tree.setColumnWidth(column, width)
        self.tree.setUniformRowHeights(True)
        layout.addWidget(self.tree, 3)

        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setMaximumHeight(120)
        layout.addWidget(self.report, 1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.accept_import)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)

    def _spin(self, value: float, low: float, high: float, suffix: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setDecimals(1)
        spin.setSingleStep(0.1)
        spin.setValue(value)
        spin.setSuffix(suffix)
        spin.valueChanged.connect(self._schedule_preview)
        return spin

    # --- lifetime --------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        # With WA_DeleteOnClose this deletes the dialog; work still running must not touch it.
        self._closed = True
        self._debounce.stop()
        super().done(result)

    def alive(self) -> bool:
        """Whether the dialog is still open: awaited work checks this before touching a widget."""
        return shiboken6.isValid(self) and not self._closed

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- reading ---------------------------------------------------------------------------------
    async def load(self) -> bool:
        """Read and parse the file off the GUI thread, then show the preview."""
        project = self.state.project
        if project is None:
            return False
        try:
            doc = await asyncio.get_event_loop().run_in_executor(None, load_script, self.path, project.rate)
        except PinframeError as exc:
            if self.alive():
                self._fail(str(exc))
            return False
        if not self.alive():  # cancelled while the file was read
            return False
        self.doc = doc
        return await self.refresh() is not None

    def timing(self) -> TimingSettings:
        return TimingSettings(action_wps=self.action_wps.value(), dialogue_wps=self.dialogue_wps.value(),
                              minimum_seconds=self.minimum.value(),
                              maximum_seconds=self.maximum.value())  # fmt: skip

    def _schedule_preview(self) -> None:
        """A timing setting changed: preview again once the changes stop."""
        self._request += 1  # a preview already computing is for the old settings
        self.pending = True
        self.import_button.setEnabled(False)
        self._debounce.start()

    def _preview_now(self) -> None:
        self._spawn(self.refresh())

    async def refresh(self) -> ImportPreview | None:
        """Preview the import against the project as it is now, on the executor, and show it.

        Returns the preview, or None when it failed (the dialog says why), when the dialog was
        closed meanwhile, or when a newer preview was asked for (that one will be shown).
        """
        project = self.state.project
        if self.doc is None or project is None:
            return None
        self._debounce.stop()
        self._request += 1
        request = self._request
        self.pending = True
        self.import_button.setEnabled(False)
        try:
            timing = self.timing()
            preview = await asyncio.get_event_loop().run_in_executor(None, preview_import, project, self.doc, timing)
        except PinframeError as exc:
            if self.alive() and request == self._request:
                self.pending = False
                self._fail(str(exc))
            return None
        if not self.alive() or request != self._request:
            return None
        self.pending = False
        self.preview, self.preview_project, self.error = preview, project, ""
        self._show(preview, project)
        return preview

    def _fail(self, message: str) -> None:
        self.error = message
        self.preview = None
        self.summary.setText(f"Can't import {self.path.name}: {message}")
        self.tree.clear()
        self.import_button.setEnabled(False)

    @staticmethod
    def scene_statuses(preview: ImportPreview) -> dict[str, str]:
        """Scene id -> what the import does to it, for every scene of the preview."""
        kinds = {c.scene_id: c.kind for c in preview.changes if c.scene_id}  # removed ones have none
        return {
            s.id: SCENE_STATUS.get(kinds[s.id], "changed") if s.id in kinds else MADE_BY_HAND for s in preview.scenes
        }

    def _show(self, preview: ImportPreview, project: Project) -> None:
        old_shots = {s.id for s in project.shots()}
        title = f"“{self.doc.title}”: " if self.doc and self.doc.title else ""
        self.summary.setText(
            f"{title}{preview.summary()}; {preview.running.headline()}. Nothing changes until you press Import."
        )
        self.tree.clear()
        rate, drop = project.rate, project.drop_frame
        statuses = self.scene_statuses(preview)
        for scene in preview.scenes:
            status = statuses[scene.id]
            item = QTreeWidgetItem([scene.heading or "(no heading)", status, "", scene.synopsis, ""])
            self._colour(item, status)
            for shot in scene.shots:
                shot_status = "kept" if shot.id in old_shots else "new"
                child = QTreeWidgetItem([
                    f"Shot {shot.number}", shot_status, format_duration(shot.duration, rate, drop_frame=drop),
                    " ".join(shot.action.split())[:160], shot.prompt[:120],
                ])  # fmt: skip
                child.setToolTip(3, shot.action + ("\n\n" + shot.dialogue if shot.dialogue else ""))
                child.setToolTip(4, shot.prompt)
                self._colour(child, shot_status)
                item.addChild(child)
            self.tree.addTopLevelItem(item)
            item.setExpanded(status not in ("unchanged", MADE_BY_HAND))
        lines = preview.report()
        self.report.setPlainText(
            "\n".join(lines) if lines else "Every scene in the project already matches the script."
        )
        self.import_button.setEnabled(preview.changed and not self._importing)

    @staticmethod
    def _colour(item: QTreeWidgetItem, status: str) -> None:
        item.setForeground(1, QBrush(QColor(STATUS_COLOURS.get(status, "#cccccc"))))

    # --- importing -------------------------------------------------------------------------------
    def accept_import(self) -> None:
        if self._importing or self.pending or self.preview is None or not self.preview.changed:
            return
        self._importing = True
        self.import_button.setEnabled(False)
        self._spawn(self._import())

    async def _import(self) -> bool:
        """Import the preview, computed again first if the project changed since it was shown."""
        try:
            attempts = 0
            while self.preview is None or self.preview_project is not self.state.project:
                if attempts == 5:  # the project changed again each time the preview was recomputed
                    self._fail("the project kept changing while the import was prepared; press Import again")
                    return False
                attempts += 1
                if await self.refresh() is None:
                    return False
            preview = self.preview
            if preview is None or not preview.changed:
                return False
            if self.state.do(import_command(preview)):
                self.imported.emit(preview)
                self.accept()
                return True
            return False
        finally:
            self._importing = False
            if self.alive() and self.preview is not None and not self.pending:
                self.import_button.setEnabled(self.preview.changed)
