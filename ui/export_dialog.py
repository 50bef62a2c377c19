"""File ▸ Export: choose formats, codec, handles and a folder; watch progress; cancel; open the result.

The export itself is :func:`app.export.run.export_project`, the same code the ``export``
command runs. It works on an immutable snapshot of the project, taken when Export is pressed
(edits made while the dialog was open are in it), on a thread of its own (an
export of a feature can take many minutes; the qasync executor is joined when the app quits),
and reports progress through a queued Qt signal, so the window keeps responding. Cancel sets
an event the exporter checks every frame; nothing half-written is left under a final name.

The dialog shows which file is being written (file n of m, frames done of the file's) and
the whole export's progress with a time estimate. The exporter ticks once a frame, hundreds
of times a second for a small project; only about 15 of those a second reach the GUI thread
(:class:`app.export.files.Throttle`). Every tick used to: a queued signal, a relayout and a
repaint each, which cost the window process ~9% more CPU than ``pinframe export`` on the same
export (benchmarks/export_window.py compares the two).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document import Project
from app.errors import ExportCancelled, PinframeError
from app.export.files import ExportStatus, Throttle
from app.export.formats import export_formats, options_read
from app.export.plan import (
    MOVIE_CODECS,
    PANELS_PER_ROW,
    PAPER_SIZES,
    ExportOptions,
    safe_name,
)
from app.export.run import ExportReport, export_project
from ui.state import EditorState

log = logging.getLogger(__name__)

SETTINGS_GROUP = "export"


class _Relay(QObject):
    """Carries the export thread's news to the GUI thread (queued signals)."""

    status = Signal(object)  # ExportStatus
    finished = Signal(object)  # ExportReport
    failed = Signal(str, bool)  # message, cancelled


class ExportDialog(QDialog):
    # After the dialog has shown an export status (at most a few a second; tests wait on it).
    status_shown = Signal(object)  # ExportStatus

    def __init__(self, state: EditorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        session = state.session
        if session is None:
            raise ValueError("the Export dialog needs an open project")
        project, bundle_path = session.project, session.path
        self.setWindowTitle(f"Export “{project.name}”")
        self.setObjectName("export-dialog")
        self.state = state
        self.report: ExportReport | None = None
        self.error = ""
        self.open_when_done = True
        self._cancel: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self.last_status: ExportStatus | None = None
        self._relay = _Relay()
        self._relay.status.connect(self._on_status, Qt.ConnectionType.QueuedConnection)
        self._relay.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._relay.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        self._build(project, bundle_path)
        self._load_settings()

    # --- layout ----------------------------------------------------------------------------------
    def _build(self, project: Project, bundle_path: Path) -> None:
        layout = QVBoxLayout(self)

        formats_box = QGroupBox("Write")
        grid = QGridLayout(formats_box)
        self.format_checks: dict[str, QCheckBox] = {}
        for i, fmt in enumerate(export_formats()):
            check = QCheckBox(fmt.label)
            check.setObjectName(f"format-{fmt.key}")
            check.setChecked(fmt.default)
            check.toggled.connect(self._refresh)
            self.format_checks[fmt.key] = check
            grid.addWidget(check, i // 2, i % 2)
        layout.addWidget(formats_box)
        self._settings_boxes: list[QWidget] = [formats_box]

        options = QGroupBox("Options")
        form = QFormLayout(options)
        self.codec = QComboBox()
        for key, (label, _ext) in MOVIE_CODECS.items():
            self.codec.addItem(label, key)
        form.addRow("Shot movies", self.codec)
        handles_row = QHBoxLayout()
        self.own_handles = QCheckBox("Each shot's own")
        self.own_handles.setChecked(True)
        self.handles = QSpinBox()
        self.handles.setRange(0, 1000)
        self.handles.setSuffix(" frames")
        self.own_handles.toggled.connect(self._refresh)
        handles_row.addWidget(self.own_handles)
        handles_row.addWidget(self.handles)
        form.addRow("Handles", handles_row)
        self.timecode = QComboBox()
        self.timecode.addItem("As the project" + (" (drop-frame)" if project.drop_frame else ""), None)
        if project.rate.supports_drop_frame:
            self.timecode.addItem("Drop-frame", True)
            self.timecode.addItem("Non-drop-frame", False)
        form.addRow("Timecode", self.timecode)
        self.burn_dialogue = QCheckBox("Dialogue subtitles in the reference movie")
        self.burn_dialogue.setChecked(True)
        form.addRow("Burn-ins", self.burn_dialogue)
        board_row = QHBoxLayout()
        self.paper = QComboBox()
        for paper in PAPER_SIZES:
            self.paper.addItem({"letter": "US Letter", "a4": "A4"}[paper], paper)
        self.per_row = QComboBox()
        for n in PANELS_PER_ROW:
            self.per_row.addItem(f"{n} per row", n)
        self.per_row.setCurrentIndex(1)
        board_row.addWidget(self.paper)
        board_row.addWidget(self.per_row)
        form.addRow("Storyboard", board_row)
        # The widgets of each ExportOptions field; a row is enabled while a chosen format reads it.
        self.option_widgets: dict[str, tuple[QWidget, ...]] = {
            "codec": (self.codec,),
            "handles": (self.own_handles, self.handles),
            "drop_frame": (self.timecode,),
            "burn_dialogue": (self.burn_dialogue,),
            "paper": (self.paper,),
            "panels_per_row": (self.per_row,),
        }
        layout.addWidget(options)
        self._settings_boxes.append(options)

        dest_row = QHBoxLayout()
        self.destination = QLineEdit(str(bundle_path.parent / f"{safe_name(project.name, 'Pinframe')} export"))
        self.destination.setObjectName("export-destination")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_folder)
        dest_row.addWidget(QLabel("Folder"))
        dest_row.addWidget(self.destination, 1)
        dest_row.addWidget(browse)
        layout.addLayout(dest_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setObjectName("export-progress")
        self.file_label = QLabel("")
        self.file_label.setObjectName("export-file")
        # Elided, not wrapped: a long file name mustn't make the dialog jump as files change.
        self.file_label.setMinimumWidth(1)
        self.stage = QLabel("")
        self.stage.setWordWrap(True)
        self.stage.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.progress)
        layout.addWidget(self.file_label)
        layout.addWidget(self.stage)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.cancel_button = QPushButton("Cancel Export")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        for b in (self.close_button, self.cancel_button, self.export_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self._refresh()

    def _refresh(self) -> None:
        chosen = self.chosen_formats()
        used = options_read(chosen)
        for name, widgets in self.option_widgets.items():
            for widget in widgets:
                widget.setEnabled(name in used)
        self.handles.setEnabled("handles" in used and not self.own_handles.isChecked())
        running = self.running
        self.export_button.setEnabled(bool(chosen) and not running)
        self.cancel_button.setEnabled(running)
        self.close_button.setEnabled(not running)
        for box in self._settings_boxes:  # the running export took its options when it started
            box.setEnabled(not running)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.destination.text())
        if folder:
            self.destination.setText(folder)

    # --- options ---------------------------------------------------------------------------------
    def chosen_formats(self) -> frozenset[str]:
        return frozenset(k for k, c in self.format_checks.items() if c.isChecked())

    def options(self) -> ExportOptions:
        return ExportOptions(
            formats=self.chosen_formats(),
            codec=self.codec.currentData(),
            handles=None if self.own_handles.isChecked() else self.handles.value(),
            drop_frame=self.timecode.currentData(),
            burn_dialogue=self.burn_dialogue.isChecked(),
            paper=self.paper.currentData(),
            panels_per_row=self.per_row.currentData(),
        )

    def _load_settings(self) -> None:
        qs = QSettings()
        qs.beginGroup(SETTINGS_GROUP)
        saved = qs.value("formats")
        if isinstance(saved, str) and saved:
            keys = set(saved.split(","))
            for key, check in self.format_checks.items():
                check.setChecked(key in keys)
        for combo, name in ((self.codec, "codec"), (self.paper, "paper"), (self.per_row, "per_row")):
            value = qs.value(name)
            index = combo.findData(type(combo.currentData())(value)) if value is not None else -1
            if index >= 0:
                combo.setCurrentIndex(index)
        qs.endGroup()

    def _save_settings(self) -> None:
        qs = QSettings()
        qs.beginGroup(SETTINGS_GROUP)
        qs.setValue("formats", ",".join(sorted(self.chosen_formats())))
        qs.setValue("codec", self.codec.currentData())
        qs.setValue("paper", self.paper.currentData())
        qs.setValue("per_row", str(self.per_row.currentData()))
        qs.endGroup()

    # --- running ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        try:
            options = self.options()
        except PinframeError as exc:
            self._show_error(str(exc))
            return
        session = self.state.session
        if session is None:
            self._show_error("No project is open; open one and export again.")
            return
        folder = Path(self.destination.text()).expanduser()
        self._save_settings()
        self.report, self.error, self.last_status = None, "", None
        self._cancel = threading.Event()
        # The project as it is now: an immutable value, safe to read on the export thread.
        relay, cancel, project, media = self._relay, self._cancel, session.project, session.media

        def work() -> None:
            try:
                report = export_project(project, media, folder, options, cancel=cancel,
                                        on_status=Throttle(relay.status.emit))  # fmt: skip
            except ExportCancelled as exc:
                relay.failed.emit(str(exc), True)
            except PinframeError as exc:
                relay.failed.emit(str(exc), False)
            except Exception as exc:
                log.exception("export failed")
                relay.failed.emit(f"export failed unexpectedly: {exc!r}", False)
            else:
                relay.finished.emit(report)

        self.progress.setRange(0, 0)
        self.file_label.setText("")
        self.stage.setText("Starting…")
        self._started = time.monotonic()
        self._thread = threading.Thread(target=work, name="pinframe-export", daemon=True)
        self._thread.start()
        self._refresh()

    def cancel(self) -> None:
        if self._cancel is not None and self.running:
            self._cancel.set()
            self.stage.setText("Cancelling…")

    def _on_status(self, status: ExportStatus) -> None:
        if self._thread is None:
            return  # queued before the export finished or failed, which the dialog already shows
        self.last_status = status
        if status.total > 0:
            if self.progress.maximum() != status.total:
                self.progress.setRange(0, status.total)
            self.progress.setValue(min(status.done, status.total))
        self._set_file_text(file_text(status))
        self.stage.setText(stage_text(status, time.monotonic() - self._started))
        self.status_shown.emit(status)

    def _set_file_text(self, text: str) -> None:
        self.file_label.setToolTip(text)
        width = max(self.file_label.width(), 200)
        self.file_label.setText(self.file_label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, width))

    def _on_finished(self, report: ExportReport) -> None:
        self._thread = None
        self.report = report
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        extra = f" {len(report.notes)} note(s) in the report." if report.notes else ""
        self._set_file_text(f"Took {clock(report.seconds)}.")
        self.stage.setText(f"Wrote {len(report.written)} file(s) to {report.folder}.{extra}")
        self._refresh()
        if self.open_when_done:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(report.folder)))

    def _on_failed(self, message: str, cancelled: bool) -> None:
        self._thread = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if self.last_status is not None and self.last_status.file:
            status = self.last_status
            self._set_file_text(f"Stopped in file {status.file_number} of {status.file_count}: {status.file}")
        self._show_error(message if not cancelled else "Export cancelled; files finished before it were kept.")
        self._refresh()

    def _show_error(self, message: str) -> None:
        self.error = message
        self.stage.setText(message)

    def reject(self) -> None:
        if self.running:  # Esc or the window's close box: an export is only stopped on purpose
            self.stage.setText("The export is still running; press Cancel Export to stop it.")
            return
        super().reject()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the export thread (tests and shutdown only; never called from a Qt slot)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running


def file_text(status: ExportStatus) -> str:
    """The file line, e.g. ``File 3 of 12: media/003_3.mov — 20 of 36 frames`` (no count for a one-step file)."""
    if not status.file:
        return ""
    text = f"File {status.file_number} of {status.file_count}: {status.file}"
    if status.file_units > 1:
        text += f" — {status.file_done} of {status.file_units} {status.unit}"
    return text


def stage_text(status: ExportStatus, elapsed: float) -> str:
    """The stage line, e.g. ``Writing shot 1A movie · 0:12, about 0:40 left`` (an estimate after 2 s)."""
    text = f"Writing {status.stage} · {clock(elapsed)}"
    if status.total > 0 and status.done > 0 and elapsed >= 2.0:
        left = elapsed * (status.total - status.done) / status.done
        text += f", about {clock(left)} left"
    return text


def clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
