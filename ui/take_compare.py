"""Keyframe takes full size in the viewer: one take, two side by side, or two flipped A/B.

The pictures are decoded on a worker thread (the newest request wins) and painted by the
viewer in place of the cut until the director scrubs, plays or presses Esc. Nothing here
edits the document: comparing is looking.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from app.document import KeyframeTake, Project
from app.errors import PinframeError
from app.media_store import MediaStore
from ui.takes import event_loop, read_thumbnail, take_caption

if TYPE_CHECKING:
    from ui.keyframe_panel import KeyframePanel
    from ui.viewer import ViewerWidget

# Big enough for any keyframe a model makes or a storyboard artist imports, small enough that a
# stray 20k-pixel scan can't take the memory of a viewer that shows two pictures at once.
MAX_SIDE = 4096
SINGLE, SIDE_BY_SIDE, FLIP = "single", "side", "flip"
HELP = {
    SINGLE: "Esc: back to the cut",
    SIDE_BY_SIDE: "X: flip A/B · Esc: back",
    FLIP: "X: flip A/B · S: side by side · Esc: back",
}


@dataclass(frozen=True)
class TakeRef:
    """A keyframe take to look at, with the words that say whose it is."""

    shot_id: str
    take_id: str
    shot_number: str
    caption: str  # "seed 45", or the file it was imported from
    prompt: str
    path: Path

    @property
    def label(self) -> str:
        return f"Shot {self.shot_number} · {self.caption}"


def take_ref(project: Project, media: MediaStore, shot_id: str, take_id: str) -> TakeRef | None:
    """The take ``take_id`` of shot ``shot_id`` as something to show; None if either is gone."""
    try:
        shot = project.shot(shot_id)
        take: KeyframeTake = shot.keyframe(take_id)
    except PinframeError:
        return None
    prompt = take.generation.prompt if take.generation else ""
    return TakeRef(shot_id, take_id, shot.number, take_caption(take), prompt, media.path(take.image))


def load_picture(path: Path) -> np.ndarray | None:
    """The RGB picture at ``path`` (at most MAX_SIDE on a side); reads the disk."""
    return read_thumbnail(path, MAX_SIDE, MAX_SIDE)


@dataclass(frozen=True)
class Picture:
    ref: TakeRef
    pixels: np.ndarray  # RGB, kept alive for the QImage that shares its buffer
    image: QImage


def _picture(ref: TakeRef, rgb: np.ndarray) -> Picture:
    pixels = np.ascontiguousarray(rgb)
    h, w = pixels.shape[:2]
    return Picture(ref, pixels, QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888))


class TakeCompare(QObject):
    """What the viewer shows instead of the cut while takes are being looked at."""

    changed = Signal()
    failed = Signal(str)  # a take's file couldn't be read, in words

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.refs: tuple[TakeRef, ...] = ()
        self.pictures: tuple[Picture, ...] = ()
        self.mode = SINGLE
        self.showing_b = False
        self._request = 0
        self._tasks: set[asyncio.Task] = set()

    @property
    def active(self) -> bool:
        return bool(self.refs)

    def open(self, refs: list[TakeRef], mode: str = SINGLE) -> asyncio.Task:
        """Show one take, or two (side by side, or flipped A/B); the pictures load off the GUI thread."""
        shown = tuple(refs[:2])
        self.refs = shown
        self.mode = SINGLE if len(shown) < 2 else (mode if mode in (SIDE_BY_SIDE, FLIP) else SIDE_BY_SIDE)
        self.showing_b = False
        self._request += 1
        task = asyncio.ensure_future(self._load(self._request, shown))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.changed.emit()
        return task

    async def _load(self, request: int, refs: tuple[TakeRef, ...]) -> None:
        loop = event_loop()
        rgbs = await asyncio.gather(*(loop.run_in_executor(None, load_picture, r.path) for r in refs))
        if not shiboken6.isValid(self) or request != self._request:
            return  # closed, or another take was opened meanwhile
        loaded = list(zip(refs, rgbs, strict=True))
        missing = [r for r, rgb in loaded if rgb is None]
        if missing:
            self.failed.emit(f"{missing[0].label}: its image file {missing[0].path} can't be read")
            self.close()
            return
        self.pictures = tuple(_picture(r, rgb) for r, rgb in loaded if rgb is not None)  # none is missing
        self.changed.emit()

    def close(self) -> None:
        if self.refs or self.pictures:
            self.refs, self.pictures = (), ()
            self._request += 1  # a load still running is dropped
            self.changed.emit()

    def prune(self, project: Project) -> None:
        """Close if a take shown was deleted (or undone away)."""
        for ref in self.refs:
            try:
                project.shot(ref.shot_id).keyframe(ref.take_id)
            except PinframeError:
                self.close()
                return

    def flip(self) -> None:
        """Show the other take of the two (from side by side: take A alone, then flip)."""
        if len(self.refs) == 2:
            self.showing_b = not self.showing_b if self.mode == FLIP else False
            self.mode = FLIP
            self.changed.emit()

    def toggle_side_by_side(self) -> None:
        if len(self.refs) == 2:
            self.mode = FLIP if self.mode == SIDE_BY_SIDE else SIDE_BY_SIDE
            self.changed.emit()

    def shown(self) -> list[tuple[str, Picture]]:
        """(tag, picture) for what is on screen: 'A' and 'B', or just one."""
        if not self.pictures:
            return []
        if self.mode == SIDE_BY_SIDE and len(self.pictures) == 2:
            return [("A", self.pictures[0]), ("B", self.pictures[1])]
        if self.mode == FLIP and len(self.pictures) == 2:
            return [("B", self.pictures[1])] if self.showing_b else [("A", self.pictures[0])]
        return [("", self.pictures[0])]

    def caption(self) -> str:
        if not self.refs:
            return ""
        if not self.pictures:
            return "Loading " + " and ".join(r.label for r in self.refs) + "…"
        if self.mode == SIDE_BY_SIDE:
            words = "A | B side by side"  # each picture carries its own label
        else:
            words = " ".join(f"{tag + ': ' if tag else ''}{p.ref.label}" for tag, p in self.shown())
        return f"{words}    {HELP[self.mode]}"

    # --- painting (called by the viewer) -------------------------------------------------------
    def paint(self, painter: QPainter, area: QRect) -> None:
        shown = self.shown()
        if not shown:
            return
        gap = 6 if len(shown) == 2 else 0  # so two pictures never read as one
        width = (area.width() - gap) // len(shown)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        for i, (tag, picture) in enumerate(shown):
            cell = QRect(area.left() + i * (width + gap), area.top(), width, area.height())
            iw, ih = picture.image.width(), picture.image.height()
            scale = min(cell.width() / iw, cell.height() / ih)  # fit: a small take is shown large
            w, h = max(1, int(iw * scale)), max(1, int(ih * scale))
            target = QRect(cell.left() + (cell.width() - w) // 2, cell.top() + (cell.height() - h) // 2, w, h)
            painter.drawImage(target, picture.image)
            self._paint_tag(painter, cell, tag, picture.ref)

    @staticmethod
    def _paint_tag(painter: QPainter, cell: QRect, tag: str, ref: TakeRef) -> None:
        # Whose take and what prompt made it, over the picture's corner: a compare must never leave
        # the director guessing which side is which.
        text = f"{tag + ' · ' if tag else ''}{ref.label}"
        if ref.prompt:
            text += f"\n{ref.prompt[:90]}{'…' if len(ref.prompt) > 90 else ''}"
        painter.setFont(QFont("sans", 10, QFont.Weight.Bold))
        box = painter.fontMetrics().boundingRect(QRect(0, 0, cell.width() - 24, 200), Qt.TextFlag.TextWordWrap, text)
        box = box.adjusted(-6, -3, 6, 3)
        box.moveTopLeft(cell.topLeft() + QRect(0, 0, 10, 10).bottomRight())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 20, 24, 200))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor("#f2f2f4"))
        painter.drawText(box.adjusted(6, 3, -6, -3), Qt.TextFlag.TextWordWrap, text)


def connect_take_compare(panel: KeyframePanel, viewer: ViewerWidget) -> None:
    """Takes the Keyframes panel opens (double-click, Open Full Size, Compare) show in the viewer."""

    def show(refs: list[TakeRef], mode: str) -> None:
        viewer.show_takes(refs, mode)
        viewer.setFocus()  # so Esc, X and S reach it straight away

    panel.takes_opened.connect(show)
