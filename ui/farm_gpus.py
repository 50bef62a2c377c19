"""The farm's GPUs, per node, and what each is doing: the table in Render ▸ Send to Farm.

The rows come from :meth:`engine.farm.RayExecutor.gpus`, which answers from what the executor's
own poll loop last heard (no Ray round trip), so a GUI-thread timer may read it. Anything that
would reach Ray (connecting, asking the nodes) stays off the GUI thread, in the bridge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

COLUMNS = ("Node", "GPU", "Name", "VRAM", "Doing", "Models")
REFRESH_MS = 1000


def gpu_row(slot: Any) -> tuple[str, ...]:
    """One GpuSlot as the table shows it."""
    vram = f"{slot.vram_gb:.0f} GB" if slot.vram_gb else "?"
    models = ", ".join(slot.models) if slot.models else "—"
    return (str(slot.node), str(slot.index), str(slot.name), vram, slot.doing or "idle", models)


def gpu_summary(slots: Sequence[Any]) -> str:
    """'4 GPUs on 2 nodes: 1 busy, 3 idle' (or why there are none)."""
    if not slots:
        return "no GPUs on this cluster: ML jobs wait for one (CPU-only motion still runs on its CPUs)"
    nodes = len({s.node for s in slots})
    busy = sum(1 for s in slots if s.doing and s.doing != "idle")
    gpus = f"{len(slots)} GPU{'s' if len(slots) != 1 else ''} on {nodes} node{'s' if nodes != 1 else ''}"
    return f"{gpus}: {busy} busy, {len(slots) - busy} idle"


class FarmGpuTable(QWidget):
    """Node, GPU index, name, VRAM, what it is doing and the models resident on it; refreshed
    every second while a source is set (:meth:`set_source`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("farm-gpus")
        self._source: Callable[[], Sequence[Any]] | None = None
        self.summary = QLabel("not connected")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Doing"), QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        rows = self.table.verticalHeader()
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 8)  # compact: 8 GPUs fit without scrolling
        self.table.setMinimumSize(640, 120)
        self.table.setMaximumHeight(rows.defaultSectionSize() * 8 + header.sizeHint().height() + 4)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self.table.setVisible(False)

    def set_source(self, source: Callable[[], Sequence[Any]] | None) -> None:
        """``source()``: the current GpuSlots (cheap, no Ray call); None: not connected."""
        self._source = source
        if source is None:
            self.timer.stop()
        else:
            self.timer.start()
        self.refresh()

    @property
    def rows(self) -> list[tuple[str, ...]]:
        return [
            tuple(self._cell_text(r, c) for c in range(self.table.columnCount())) for r in range(self.table.rowCount())
        ]

    def _cell_text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""  # refresh fills every cell; a gap reads as empty

    def refresh(self) -> None:
        if self._source is None:
            self.summary.setText("not connected: the GPUs show here once connected")
            self.table.setRowCount(0)
            self.table.setVisible(False)
            return
        try:
            slots = sorted(self._source(), key=lambda s: (str(s.node), s.index))
        except Exception as exc:  # a connection closed under the timer; the bridge says why elsewhere
            log.debug("reading the farm's GPUs failed", exc_info=True)
            self.summary.setText(f"could not read the farm's GPUs: {exc}")
            return
        self.summary.setText(gpu_summary(slots))
        rows = [gpu_row(s) for s in slots]
        if rows == self.rows:
            return  # nothing changed: no repaint, no jumping columns
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if COLUMNS[c] in ("GPU", "VRAM"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if COLUMNS[c] == "Models" and text != "—":
                    item.setToolTip(text.replace(", ", "\n"))
                self.table.setItem(r, c, item)
        self.table.setVisible(bool(rows))
