"""Every engine job at a glance: what it is, how far it got, and a way to stop it.

The panel redraws from the bridge's signals only (``job_added``, ``job_updated``,
``job_ended``); it never polls the engine. A failed job says why in words and keeps the full
traceback one click away, in a window that doesn't block the rest of the app.

Nothing has a fixed width: previews scale with the dock, and the panel scrolls to each new job
as it arrives. An ended job's state is a word and a colour (the row's edge and its status).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.engine_service import draft_reason
from engine.jobs import ClipJob, ClipResult, KeyframeJob, KeyframeResult
from ui.engine_bridge import EngineBridge, JobInfo
from ui.motion_models import model_name

PREVIEW_SIZE = QSize(96, 54)  # the smallest a preview gets; it grows with the dock
PREVIEW_LARGEST = QSize(240, 135)
FINISHED = ("done", "failed", "cancelled")
STATUS_WORDS = {
    "queued": "Queued",
    "running": "Running",
    "storing": "Saving results…",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
# A state is told by its word and its colour, never by colour alone.
STATUS_COLOURS = {
    "queued": "#8b8d96",
    "running": "#4f86c6",
    "storing": "#4f86c6",
    "done": "#4caf6a",
    "failed": "#e06c5a",
    "cancelled": "#c9a03c",
}


# --- small helpers shared with other panels ---------------------------------------------------
def rgb_pixmap(rgb: np.ndarray, box: QSize | None = None) -> QPixmap:
    """An RGB uint8 HxWx3 array as a pixmap, scaled to fit ``box``.

    QImage only borrows the array's memory, so the image is copied while the array is
    certainly alive: the pixmap never points at a buffer numpy may free.
    """
    rgb = np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888).copy()
    pixmap = QPixmap.fromImage(image)
    if box is not None:
        pixmap = pixmap.scaled(box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return pixmap


def eta_text(eta: float | None) -> str:
    """'about 12 s left' once the engine knows; empty before that."""
    if eta is None:
        return ""
    seconds = max(1, round(eta))
    if seconds < 90:
        return f"about {seconds} s left"
    return f"about {round(seconds / 60)} min left"


def describe_job(info: JobInfo) -> str:
    """'Shot 12A · 4 keyframes · sketch', 'Shot 3 · render · LTX-2 (ltx-2)',
    'Shot 4 · render · Optical flow (CPU) · on the farm'."""
    job = info.job
    if isinstance(job, KeyframeJob):
        count = len(job.seeds)
        what = f"{count} keyframe{'s' if count != 1 else ''}"
        model = job.model.model_id or job.model.backend
    elif isinstance(job, ClipJob):
        what = "render"
        model = model_name(job.model)  # which model renders the motion matters: they differ a lot
    else:
        return info.label
    where = " · on the farm" if info.farm else ""
    return f"{info.label} · {what} · {model}{where}"


def draft_note(info: JobInfo) -> str:
    """Why a finished render is a draft ("1 of 30 steps"), by the rule its take was marked with; "" if it isn't one."""
    if info.status != "done" or not isinstance(info.job, ClipJob) or info.shot_id is None:
        return ""
    project = getattr(info.session, "project", None)
    if project is None or not any(s.id == info.shot_id for s in project.shots()):
        return ""  # the shot was deleted since: nothing left to call a draft
    return draft_reason(info.job, project.shot(info.shot_id))


def job_notes(info: JobInfo) -> str:
    """What the backend said about a finished job ("LTX-2 rendered 25 frames at 768x448", "references not
    used: …"); a note several keyframes share is said once."""
    if info.status != "done":
        return ""
    notes = [r.notes for r in info.outputs if isinstance(r, ClipResult | KeyframeResult) and r.notes]
    return "; ".join(dict.fromkeys(notes))


# --- one job --------------------------------------------------------------------------------------
class PreviewLabel(QLabel):
    """A job's latest preview, scaled to whatever room the dock gives it (keeps the aspect)."""

    def __init__(self) -> None:
        super().__init__()
        self.source: QPixmap | None = None
        self.fit_width(PREVIEW_SIZE.width())
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # set by the panel's width
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #111214; color: #7c7d84;")

    def fit_width(self, width: int) -> None:
        """Every row's preview is the same size, a share of the panel's width (JobsPanel.preview_width)."""
        width = max(PREVIEW_SIZE.width(), min(PREVIEW_LARGEST.width(), width))
        self.setFixedSize(width, round(width * 9 / 16))

    def set_source(self, pixmap: QPixmap) -> None:
        self.source = pixmap
        self._rescale()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.source is not None and not self.source.isNull():
            self.setPixmap(self.source.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation))  # fmt: skip


class JobRow(QFrame):
    """One job: preview, label, status, progress, ETA, Cancel; a failure's message and Details…"""

    def __init__(self, info: JobInfo, panel: JobsPanel) -> None:
        super().__init__()
        self.job_id = info.job_id
        self._panel = panel
        self._shown_preview: np.ndarray | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("jobRow")

        self.preview = PreviewLabel()
        self.preview.setText("no preview")  # replaced by the first preview picture
        self.title = QLabel(describe_job(info))
        self.title.setStyleSheet("font-weight: bold;")
        self.title.setWordWrap(True)  # a long label wraps instead of widening the dock
        model = info.job.model if isinstance(info.job, KeyframeJob | ClipJob) else None  # control jobs have none
        tips = [model.path] if model is not None and model.path else []
        tips += [f"Rendering on the Ray cluster at {info.farm}"] if info.farm else []
        self.title.setToolTip("\n".join(tips))
        self.status = QLabel()
        self.status.setStyleSheet("font-weight: bold;")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.eta = QLabel()
        self.eta.setStyleSheet("color: palette(placeholder-text);")
        self.notes = QLabel()  # what the backend said about a finished render
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: palette(placeholder-text);")
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setStyleSheet("color: #e06c5a;")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job; other jobs go on")
        self.cancel_button.clicked.connect(lambda: panel.bridge.cancel(self.job_id))
        self.details_button = QPushButton("Details…")
        self.details_button.setToolTip("The full error report, to copy into a bug report")
        self.details_button.clicked.connect(lambda: panel.show_details(self.job_id))

        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.addWidget(self.preview, 0, 0, 3, 1)
        grid.addWidget(self.title, 0, 1)
        grid.addWidget(self.status, 0, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.cancel_button, 0, 3)
        grid.addWidget(self.progress, 1, 1, 1, 2)
        grid.addWidget(self.details_button, 1, 3)
        grid.addWidget(self.eta, 2, 1, 1, 2)
        grid.addWidget(self.notes, 3, 1, 1, 3)
        grid.addWidget(self.message, 4, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        self.update_from(info)

    def update_from(self, info: JobInfo) -> None:
        word = STATUS_WORDS.get(info.status, info.status)
        word = f"{word} (from cache)" if info.cached and info.status == "done" else word
        draft = draft_note(info)
        if info.status == "storing" and info.save_total:
            word = f"Saving results… {info.saved} / {info.save_total} frames"
        self.status.setText(f"{word} · draft" if draft else word)
        self._show_colour(info.status)
        self.status.setToolTip(f"A draft ({draft}): Render Stale renders it in full" if draft else "")
        self._show_progress(info)
        self.eta.setText(eta_text(info.eta) if info.status == "running" else "")
        self.eta.setVisible(bool(self.eta.text()))
        self._show_preview(info)
        # While it runs, the engine's latest word (a retry on another node, a transfer); once it ends, the
        # backend's notes. Every word the engine said stays in the tooltip.
        latest = info.notices[-1] if info.notices and info.status in ("queued", "running", "storing") else ""
        self.notes.setText(latest or job_notes(info))
        self.notes.setVisible(bool(self.notes.text()))
        self.notes.setToolTip("\n".join(info.notices))
        failed = info.status == "failed"
        self.message.setText(info.message if failed else "")
        self.message.setVisible(failed and bool(info.message))
        self.details_button.setVisible(failed and bool(info.detail))
        # "storing" can't be stopped: the results exist and are being written into the bundle.
        self.cancel_button.setVisible(info.active)

    def _show_colour(self, status: str) -> None:
        colour = STATUS_COLOURS.get(status, STATUS_COLOURS["queued"])
        self.status.setStyleSheet(f"font-weight: bold; color: {colour};")
        # The row's left edge carries the state too, so a long list reads at a glance.
        self.setStyleSheet(
            f"QFrame#jobRow {{ border: 1px solid palette(mid); border-left: 4px solid {colour}; border-radius: 3px; }}"
        )

    def _show_progress(self, info: JobInfo) -> None:
        self.progress.setVisible(info.status != "failed")  # the message says more than a bar
        if info.status == "storing" and info.save_total:
            self.progress.setRange(0, info.save_total)  # the saving stage has its own count: frames encoded
            self.progress.setValue(min(info.saved, info.save_total))
            self.progress.setFormat(f"saved {info.saved} / {info.save_total}")
        elif info.status == "done":
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress.setFormat("100%")
        elif info.total > 0:
            self.progress.setRange(0, info.total)
            self.progress.setValue(min(info.step, info.total))
            self.progress.setFormat(f"{info.step} / {info.total}")
        elif info.status in ("running", "storing"):
            self.progress.setRange(0, 0)  # busy: started, but no step reported yet
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("waiting" if info.status == "queued" else "")

    def _show_preview(self, info: JobInfo) -> None:
        # A preview array is replaced, never modified, so identity says whether it is new.
        if info.preview is None or info.preview is self._shown_preview:
            return
        self._shown_preview = info.preview
        self.preview.set_source(rgb_pixmap(info.preview))


# --- the failure report -------------------------------------------------------------------------
class DetailsDialog(QDialog):
    """The full traceback of a failed job, selectable and copyable; doesn't block the app."""

    def __init__(self, title: str, message: str, detail: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{title} — details")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(720, 420)
        summary = QLabel(message)
        summary.setWordWrap(True)
        summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit(detail)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setStyleSheet("font-family: monospace;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(f"{message}\n\n{detail}"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.text)
        layout.addWidget(buttons)


# --- the panel ----------------------------------------------------------------------------------
class JobsPanel(QWidget):
    """Every job the bridge knows, oldest at the top (the order the queue runs them)."""

    def __init__(self, bridge: EngineBridge) -> None:
        super().__init__()
        self.bridge = bridge
        self.rows: dict[str, JobRow] = {}
        self._dialogs: dict[str, DetailsDialog] = {}

        self.cancel_queued_button = QPushButton("Cancel queued")
        self.cancel_queued_button.setToolTip("Drop every job still waiting; the running one goes on")
        self.cancel_queued_button.clicked.connect(bridge.cancel_queued)
        self.cancel_all_button = QPushButton("Cancel all")
        self.cancel_all_button.setToolTip("Stop the running job and drop every waiting one")
        self.cancel_all_button.clicked.connect(bridge.cancel_all)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.setToolTip("Hide jobs that are done, failed or cancelled")
        self.clear_button.clicked.connect(self.clear_finished)
        self.empty_label = QLabel("No jobs yet. Generate keyframes or render a shot to see them here.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet("color: palette(placeholder-text); padding: 16px;")

        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_queued_button)
        buttons.addWidget(self.cancel_all_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        self._list = QVBoxLayout()
        self._list.setSpacing(4)
        container = QWidget()
        column = QVBoxLayout(container)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.empty_label)
        column.addLayout(self._list)
        column.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(container)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # rows wrap instead
        self._follow: JobRow | None = None  # the newest row, scrolled to once the layout has placed it
        self.scroll_area.verticalScrollBar().rangeChanged.connect(self._scroll_to_followed)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.scroll_area)

        bridge.job_added.connect(self._on_added)
        bridge.job_updated.connect(self._on_updated)
        bridge.job_ended.connect(self._on_updated)
        for job_id in bridge.jobs:  # jobs submitted before the panel was made
            self._on_added(job_id)
        self._refresh_buttons()

    # --- bridge signals --------------------------------------------------------------------------
    def _on_added(self, job_id: str) -> None:
        info = self.bridge.jobs.get(job_id)
        if info is None or job_id in self.rows:
            return
        row = JobRow(info, self)
        row.preview.fit_width(self.preview_width())
        self.rows[job_id] = row
        self._list.addWidget(row)
        # The row has no place until the layout runs; the scroll range changing says it has one now.
        self._follow = row
        self.scroll_area.ensureWidgetVisible(row)
        self._refresh_buttons()

    def preview_width(self) -> int:
        """A quarter of the panel's width, within PREVIEW_SIZE..PREVIEW_LARGEST: a wider dock, bigger previews."""
        return self.scroll_area.viewport().width() // 4

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = self.preview_width()
        for row in self.rows.values():
            row.preview.fit_width(width)

    def _scroll_to_followed(self, _low: int, _high: int) -> None:
        row = self._follow
        if row is None or row.job_id not in self.rows:
            return
        self.scroll_area.ensureWidgetVisible(row, 0, 8)
        if row.y() > 0 or self._list.indexOf(row) == 0:
            self._follow = None  # placed by the layout, and now in view: the user may scroll away

    def _on_updated(self, job_id: str) -> None:
        info = self.bridge.jobs.get(job_id)
        row = self.rows.get(job_id)
        if info is not None and row is not None:
            row.update_from(info)
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        infos = [self.bridge.jobs[j] for j in self.rows if j in self.bridge.jobs]
        self.cancel_queued_button.setEnabled(any(i.status == "queued" for i in infos))
        self.cancel_all_button.setEnabled(any(i.active for i in infos))
        self.clear_button.setEnabled(any(i.status in FINISHED for i in infos))
        self.empty_label.setVisible(not self.rows)

    # --- actions ---------------------------------------------------------------------------------
    def clear_finished(self) -> None:
        """Hide finished rows; the bridge keeps its records (other panels read them)."""
        for job_id in [j for j, _ in self.rows.items() if self._finished(j)]:
            row = self.rows.pop(job_id)
            self._list.removeWidget(row)
            row.deleteLater()
        self._refresh_buttons()

    def _finished(self, job_id: str) -> bool:
        info = self.bridge.jobs.get(job_id)
        return info is None or info.status in FINISHED

    def show_details(self, job_id: str) -> DetailsDialog | None:
        """Open (or raise) the non-modal report of a failed job."""
        info = self.bridge.jobs.get(job_id)
        if info is None:
            return None
        dialog = self._dialogs.get(job_id)
        if dialog is None:
            dialog = DetailsDialog(describe_job(info), info.message, info.detail, self)
            dialog.finished.connect(lambda _=0, j=job_id: self._dialogs.pop(j, None))
            self._dialogs[job_id] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog
