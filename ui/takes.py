"""Keyframe takes on screen: thumbnails decoded off the GUI thread, the draggable take list (a grid
of candidates or a strip of the take history), words for a take, where its file is."""

from __future__ import annotations

import asyncio
import html
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QMimeData, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

from app.document import KeyframeTake
from app.errors import MediaError
from app.image_limits import check_image
from app.media_ref import MediaRef
from app.media_store import MediaStore
from ui.jobs_panel import rgb_pixmap
from ui.mime import take_mime

THUMB = QSize(160, 90)
HISTORY_ICON = QSize(96, 54)
STRIP_CELL = QSize(HISTORY_ICON.width() + 44, HISTORY_ICON.height() + 64)  # icon, then 3 short lines
DELETE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
TAKE_ROLE = Qt.ItemDataRole.UserRole
SHOT_ROLE = Qt.ItemDataRole.UserRole + 1
REF_ROLE = Qt.ItemDataRole.UserRole + 2
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


# --- work for a worker thread (no Qt objects in here) ----------------------------------------------
def read_thumbnail(path: Path, width: int, height: int) -> np.ndarray | None:
    """The image at ``path`` as RGB scaled to fit width x height; None if it can't be read."""
    try:
        image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
    except (OSError, ValueError, cv2.error):
        return None
    if image is None:
        return None
    scale = min(width / image.shape[1], height / image.shape[0], 1.0)
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)


def store_image(media: MediaStore, path: Path) -> tuple[MediaRef, int, int]:
    """Check ``path`` is a readable image, copy it into the bundle; (ref, width, height)."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise MediaError("only PNG, JPEG and WebP images can be keyframes")
    check_image(path)  # from its header: a non-image or a 20000-px scan is refused before it is decoded
    try:
        image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except (OSError, ValueError, cv2.error) as exc:
        raise MediaError(f"the file can't be read ({exc})") from None
    if image is None or image.ndim < 2:
        raise MediaError("the file is not an image Pinframe can read; save it as PNG or JPEG and try again")
    return media.put_file(path), int(image.shape[1]), int(image.shape[0])


# --- words for a take ---------------------------------------------------------------------------
def take_caption(take: KeyframeTake) -> str:
    return f"seed {take.generation.seed}" if take.generation else (take.imported_from or "imported")


def take_summary(take: KeyframeTake, pinned: list[int]) -> str:
    """'seed 7 · if-i-m · 30 steps · guidance 7 · 64×64 · pinned at 0'."""
    g = take.generation
    if g is None:
        parts = [f"imported {take.imported_from}".strip(), f"{take.width}×{take.height}"]
    else:
        parts = [f"seed {g.seed}", g.model_id or g.backend]
        parts += [f"{g.steps} steps"] if g.steps else []
        parts += [f"guidance {g.guidance:g}"] if g.guidance else []
        parts.append(f"{g.width or take.width}×{g.height or take.height}")
    if pinned:
        parts.append(f"pinned at {', '.join(map(str, pinned))}")
    return " · ".join(parts)


def take_strip_text(take: KeyframeTake, pinned: list[int]) -> str:
    """A history strip cell: 'seed 45', 'pinned 0' (or the size), the start of the prompt."""
    second = f"pinned {', '.join(map(str, pinned))}" if pinned else f"{take.width}×{take.height}"
    prompt = take.generation.prompt if take.generation else "imported"
    return "\n".join((_short(take_caption(take), 20), _short(second, 20), _short(prompt, 20)))


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def take_tooltip(take: KeyframeTake) -> str:
    g = take.generation
    if g is None:
        rows = [("Imported from", take.imported_from or "an image file")]
    else:
        revision = f" @ {g.model_revision[:12]}" if g.model_revision else ""
        rows = [
            ("Backend", g.backend),
            ("Model", f"{g.model_id}{revision}" if g.model_id else ""),
            ("Prompt", g.prompt),
            ("Negative", g.negative_prompt),
            ("Seed", str(g.seed)),
            ("Steps", str(g.steps) if g.steps else "default"),
            ("Guidance", f"{g.guidance:g}" if g.guidance else "default"),
            ("Generated at", f"{g.width}×{g.height}" if g.width else ""),
            ("Fit", g.fit),
            ("Started from", g.started_from),
        ]
    rows += [("Stored at", f"{take.width}×{take.height}"), ("Created", take.created)]
    cells = "".join(f"<tr><td><b>{k}</b>&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows if v)
    return f"<table>{cells}</table>"


def _blank(box: QSize, text: str) -> QPixmap:
    pixmap = QPixmap(box)
    pixmap.fill(QColor("#2a2b30"))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#7c7d84"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


def event_loop() -> asyncio.AbstractEventLoop:
    # qasync steps tasks from Qt's event dispatch; when Qt events are processed outside the loop's
    # run (a test's processEvents), asyncio reports no running loop, yet the thread's loop is the same.
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


# --- thumbnails -----------------------------------------------------------------------------------
class ThumbnailLoader(QObject):
    """Thumbnails of stored images, decoded on a worker thread; ``loaded`` says one is ready."""

    loaded = Signal(object)  # MediaRef

    def __init__(self, box: QSize = THUMB, capacity: int = 512) -> None:
        super().__init__()
        self.box = box
        self.capacity = capacity
        self._cache: OrderedDict[MediaRef, QPixmap] = OrderedDict()
        self._pending: set[MediaRef] = set()
        self._tasks: set[asyncio.Task] = set()
        self.loading = _blank(box, "…")

    def has(self, ref: MediaRef) -> bool:
        return ref in self._cache

    def cached(self, ref: MediaRef) -> QPixmap | None:
        return self._cache.get(ref)

    def get(self, ref: MediaRef, path: Path) -> QPixmap:
        """The thumbnail if it is ready; otherwise a placeholder, and ``loaded`` fires later."""
        pixmap = self._cache.get(ref)
        if pixmap is not None:
            self._cache.move_to_end(ref)
            return pixmap
        if ref not in self._pending:
            self._pending.add(ref)
            task = asyncio.ensure_future(self._load(ref, path))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return self.loading

    async def _load(self, ref: MediaRef, path: Path) -> None:
        try:
            rgb = await event_loop().run_in_executor(None, read_thumbnail, path, self.box.width(), self.box.height())
        finally:
            self._pending.discard(ref)
        if not shiboken6.isValid(self):
            return
        # Media are content-addressed and never change, so a missing file stays missing for this ref.
        self._cache[ref] = rgb_pixmap(rgb) if rgb is not None else _blank(self.box, "missing")
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.loaded.emit(ref)


class TakeList(QListWidget):
    """Keyframe takes that can be dragged onto the timeline (as ``ui.mime.take_mime``).

    ``grid``: the candidates, wrapped in rows. Otherwise a strip: one row of takes, scrolled
    sideways, so the history keeps its height in a short dock. Ctrl/Shift-click picks two to
    compare; Delete or Backspace asks for the selected takes to go (``delete_pressed``).
    """

    delete_pressed = Signal()

    def __init__(self, grid: bool) -> None:
        super().__init__()
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setWordWrap(True)
        if grid:
            self.setViewMode(QListView.ViewMode.IconMode)
            self.setMovement(QListView.Movement.Static)  # a drag leaves the grid, never reorders it
            self.setResizeMode(QListView.ResizeMode.Adjust)
            self.setIconSize(THUMB)
            self.setGridSize(QSize(THUMB.width() + 8, THUMB.height() + 28))
            self.setUniformItemSizes(True)
        else:
            self.setViewMode(QListView.ViewMode.IconMode)
            self.setFlow(QListView.Flow.LeftToRight)
            self.setWrapping(False)
            self.setMovement(QListView.Movement.Static)
            self.setIconSize(HISTORY_ICON)
            self.setGridSize(STRIP_CELL)
            self.setUniformItemSizes(True)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            # One row high: spare room in the dock goes to the candidates, not to empty strip.
            bar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
            self.setMaximumHeight(STRIP_CELL.height() + bar + 2 * self.frameWidth() + 4)
        self.setMinimumHeight(STRIP_CELL.height() // 2)  # a short dock scrolls the list, never overflows

    def event(self, event: QEvent) -> bool:
        overriding = event.type() == QEvent.Type.ShortcutOverride
        if overriding and isinstance(event, QKeyEvent) and event.key() in DELETE_KEYS and self.selectedItems():
            event.accept()  # here Delete means these takes, not whatever the window deletes
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in DELETE_KEYS and self.selectedItems():
            self.delete_pressed.emit()
            return
        super().keyPressEvent(event)

    def drag_mime(self, item: QListWidgetItem) -> QMimeData | None:
        shot_id, take_id = item.data(SHOT_ROLE), item.data(TAKE_ROLE)
        return take_mime(shot_id, take_id) if shot_id and take_id else None

    def startDrag(self, supported_actions: Qt.DropAction) -> None:
        item = self.currentItem()
        mime = self.drag_mime(item) if item is not None else None
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        if not item.icon().isNull():
            drag.setPixmap(item.icon().pixmap(HISTORY_ICON))
        drag.exec(Qt.DropAction.CopyAction)
