"""File ▸ Import Script: preview the scenes and shots a screenplay or shot list makes, then import.

The file is read and parsed on an executor thread; the preview (:func:`app.script.importer.
preview_import`) is pure arithmetic on the parsed script and is rebuilt on the GUI thread when
the timing settings change. Nothing in the project changes until Import is pressed, and then
it is one command: Edit ▸ Undo Import Script takes all of it back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Signal
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

from app.errors import PinframeError
from app.script.importer import ImportPreview, import_command, preview_import
from app.script.load import load_script
from app.script.model import ScriptDocument
from app.script.timing import TimingSettings
from app.timecode import format_duration
from ui.state import EditorState

STATUS_COLOURS = {"new": "#7fc97f", "changed": "#d9a441", "kept": "#8ab4f8", "unchanged": "#8a8a93"}


class ScriptImportDialog(QDialog):
    imported = Signal(object)  # ImportPreview, after the command ran

    def __init__(self, state: EditorState, path: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.path = Path(path)
        self.doc: ScriptDocument | None = None
        self.preview: ImportPreview | None = None
        self.error = ""
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
        self.minimum = self._spin(defaults.minimum_seconds, 0.1, 60.0, " s")
        form.addRow("Action read at", self.action_wps)
        form.addRow("Dialogue spoken at", self.dialogue_wps)
        form.addRow("Shortest shot", self.minimum)
        timing.addLayout(form)
        timing.addStretch(1)
        layout.addLayout(timing)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Scene / shot", "Status", "Duration", "Action", "Prompt"])
        self.tree.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 290), (1, 80), (2, 95), (4, 240)):
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
        spin.valueChanged.connect(self.refresh)
        return spin

    # --- reading ---------------------------------------------------------------------------------
    async def load(self) -> bool:
        """Read and parse the file off the GUI thread, then show the preview."""
        project = self.state.project
        if project is None:
            return False
        try:
            self.doc = await asyncio.get_event_loop().run_in_executor(None, load_script, self.path, project.rate)
        except PinframeError as exc:
            self._fail(str(exc))
            return False
        self.refresh()
        return self.preview is not None

    def timing(self) -> TimingSettings:
        return TimingSettings(action_wps=self.action_wps.value(), dialogue_wps=self.dialogue_wps.value(),
                              minimum_seconds=self.minimum.value())  # fmt: skip

    def refresh(self) -> None:
        project = self.state.project
        if self.doc is None or project is None:
            return
        try:
            self.preview = preview_import(project, self.doc, self.timing())
        except PinframeError as exc:
            self._fail(str(exc))
            return
        self.error = ""
        self._show(self.preview)

    def _fail(self, message: str) -> None:
        self.error = message
        self.preview = None
        self.summary.setText(f"Can't import {self.path.name}: {message}")
        self.tree.clear()
        self.import_button.setEnabled(False)

    def _show(self, preview: ImportPreview) -> None:
        project = self.state.project
        old_shots = {s.id for s in project.shots()}
        old_scenes = {s.id: s for s in project.scenes}
        title = f"“{self.doc.title}”: " if self.doc and self.doc.title else ""
        self.summary.setText(f"{title}{preview.summary()}. Nothing changes until you press Import.")
        self.tree.clear()
        rate, drop = project.rate, project.drop_frame
        for scene in preview.scenes:
            before = old_scenes.get(scene.id)
            if before is None:
                status = "new"
            elif before is scene:
                status = "unchanged" if scene.script_key else "kept"
            else:
                status = "changed"
            item = QTreeWidgetItem([scene.heading or "(no heading)", status, "", scene.synopsis, ""])
            self._colour(item, status)
            for shot in scene.shots:
                shot_status = "new" if shot.id not in old_shots else ("kept" if status != "new" else "new")
                child = QTreeWidgetItem([
                    f"Shot {shot.number}", shot_status, format_duration(shot.duration, rate, drop_frame=drop),
                    " ".join(shot.action.split())[:160], shot.prompt[:120],
                ])  # fmt: skip
                child.setToolTip(3, shot.action + ("\n\n" + shot.dialogue if shot.dialogue else ""))
                child.setToolTip(4, shot.prompt)
                self._colour(child, shot_status)
                item.addChild(child)
            self.tree.addTopLevelItem(item)
            item.setExpanded(status != "unchanged")
        lines = preview.report()
        self.report.setPlainText(
            "\n".join(lines) if lines else "Every scene in the project already matches the script."
        )
        self.import_button.setEnabled(preview.changed)

    @staticmethod
    def _colour(item: QTreeWidgetItem, status: str) -> None:
        item.setForeground(1, QBrush(QColor(STATUS_COLOURS.get(status, "#cccccc"))))

    # --- importing -------------------------------------------------------------------------------
    def accept_import(self) -> None:
        if self.preview is None or not self.preview.changed:
            return
        # The project may have changed while the dialog was open: preview again against it now.
        self.refresh()
        if self.preview is None:
            return
        if self.state.do(import_command(self.preview)):
            self.imported.emit(self.preview)
            self.accept()
