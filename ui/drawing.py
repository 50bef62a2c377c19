"""Drawing on a shot, and painting an inpainting mask, on the viewer.

The layer covers the viewer while it is open: a small toolbar (:mod:`ui.drawing_toolbar`) and a
canvas that shows the picture at its aspect (the project's frame for a drawing, the take's own
shape for a mask) with the strokes (:mod:`ui.drawing_strokes`) over it.

Draw mode: over the pinned keyframe under the playhead (or a chosen take) or blank paper;
"Save as Take" composites the strokes over that picture at the project's frame size, stores the
PNG in the bundle on a worker thread and adds it as a keyframe take (pinned at the playhead if
asked) in one undoable command, so it lands in the take history and, pinned, on the PDF boards.

Mask mode: a translucent red brush marks what to repaint; "Inpaint" writes the mask (white =
repaint) the size of the take to a temporary folder and hands it to the Keyframes panel, which
queues the job and removes the folder when the job ends.

Esc or Cancel leaves without changes. While the layer has the keys, Ctrl+Z undoes strokes, not
document edits, and the transport keys (Space, J/K/L, arrows) do nothing under the drawing.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app import commands
from app.cut import fit
from app.document import KeyframeTake, new_id
from app.errors import PinframeError
from app.media_ref import MediaRef
from app.media_store import MediaStore
from ui.drawing_strokes import (
    Stroke,
    StrokeHistory,
    compose_drawing,
    paint_strokes,
    png_bytes,
    read_picture,
    stroke_layer,
    write_mask,
)
from ui.drawing_toolbar import DRAW, MASK, DrawingToolbar
from ui.state import EditorState
from ui.takes import event_loop, take_caption
from ui.viewer_overlays import fit_rect

if TYPE_CHECKING:
    from ui.keyframe_take_menu import TakeKey
    from ui.viewer import ViewerWidget

MASK_COLOUR = QColor(230, 30, 30)
MASK_OPACITY = 0.5  # the take stays readable under the region
CANVAS_BACKDROP = QColor("#1b1c20")
SIZE_STEP = 1.25  # [ and ] change the brush size by a quarter
# Inpaint: (take key, strength, mask path, prompt, scratch folder) -> job id, or None if refused.
InpaintFn = Callable[["TakeKey", float, str, str, Path], "str | None"]


@dataclass(frozen=True)
class Target:
    """What the open layer works on."""

    mode: str  # DRAW or MASK
    shot_id: str
    take_id: str | None  # the picture underneath; None: blank paper
    pin_frame: int | None  # the playhead's frame in the shot, where a saved drawing can be pinned


# --- worker-thread work ---------------------------------------------------------------------------
def load_background(path: Path, frame: tuple[int, int] | None) -> np.ndarray | None:
    """The take's picture: letterboxed into ``frame`` (width, height) for a drawing, as the viewer
    shows a pin; at its own size for a mask."""
    rgb = read_picture(path)
    if rgb is None or frame is None:
        return rgb
    return fit(rgb, *frame)


def store_drawing(media: MediaStore, background: np.ndarray | None, strokes: tuple[Stroke, ...],
                  width: int, height: int) -> MediaRef:  # fmt: skip
    return media.put_bytes(png_bytes(compose_drawing(background, strokes, width, height)), "png")


# --- the canvas -----------------------------------------------------------------------------------
class DrawingCanvas(QWidget):
    """The picture at its aspect with the strokes over it; the mouse draws."""

    changed = Signal()  # the strokes changed (a stroke, undo, redo, clear)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = StrokeHistory()
        self.aspect = 16 / 9
        self.mode = DRAW
        self.background: QImage | None = None
        self._background_pixels: np.ndarray | None = None  # keeps the QImage's buffer alive
        self.paper = False  # show white paper instead of the background
        self.colour = "#000000"
        self.eraser = False
        self.brush = 6  # screen pixels
        self._live: list[tuple[float, float]] | None = None
        self._layer: QImage | None = None
        self._layer_key: tuple | None = None
        self._hover: QPointF | None = None
        self.setMouseTracking(True)  # the brush outline follows the pointer
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_background(self, rgb: np.ndarray | None) -> None:
        if rgb is None:
            self.background, self._background_pixels = None, None
        else:
            self._background_pixels = np.ascontiguousarray(rgb)
            h, w = self._background_pixels.shape[:2]
            self.background = QImage(self._background_pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self.update()

    def picture_rect(self) -> QRectF:
        return QRectF(fit_rect(self.width(), self.height(), self.aspect))

    def strokes(self) -> tuple[Stroke, ...]:
        return self.history.strokes

    # --- mouse -----------------------------------------------------------------------------------
    def _fraction(self, pos: QPointF) -> tuple[float, float]:
        rect = self.picture_rect()
        return ((pos.x() - rect.x()) / max(1.0, rect.width()), (pos.y() - rect.y()) / max(1.0, rect.height()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.picture_rect().isEmpty():
            return super().mousePressEvent(event)
        self.setFocus()
        self._live = [self._fraction(event.position())]
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._hover = event.position()
        if self._live is not None:
            point = self._fraction(event.position())
            if point != self._live[-1]:
                self._live.append(point)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._live is None:
            return super().mouseReleaseEvent(event)
        stroke = self._stroke(self._live)
        self._live = None
        self.history.add(stroke)
        self.changed.emit()
        self.update()

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def _stroke(self, points: list[tuple[float, float]]) -> Stroke:
        height = max(1.0, self.picture_rect().height())
        return Stroke(tuple(points), self.brush / height, self.colour, self.eraser)

    # --- painting --------------------------------------------------------------------------------
    def _committed_layer(self, w: int, h: int) -> QImage:
        key = (self.history.strokes, w, h, self.mode)
        if self._layer is None or self._layer_key != key:
            colour = MASK_COLOUR if self.mode == MASK else None
            self._layer = stroke_layer(self.history.strokes, w, h, colour=colour, antialias=self.mode == DRAW)
            self._layer_key = key
        return self._layer

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), CANVAS_BACKDROP)
        rect = self.picture_rect()
        if rect.isEmpty():
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self.background is not None and not self.paper:
            painter.drawImage(rect, self.background)
        else:
            painter.fillRect(rect, QColor(255, 255, 255))
        w, h = round(rect.width()), round(rect.height())
        layer = self._committed_layer(w, h)
        if self._live is not None:  # the stroke being drawn, erasing what is under it too
            layer = layer.copy()
            live = QPainter(layer)
            live.setRenderHint(QPainter.RenderHint.Antialiasing, self.mode == DRAW)
            paint_strokes(live, (self._stroke(self._live),), w, h, colour=MASK_COLOUR if self.mode == MASK else None)
            live.end()
        painter.setOpacity(MASK_OPACITY if self.mode == MASK else 1.0)
        painter.drawImage(rect.topLeft(), layer)
        painter.setOpacity(1.0)
        if self._hover is not None:
            pen = QPen(QColor(255, 255, 255, 200) if self.eraser else QColor(40, 40, 40, 200), 1)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.drawEllipse(self._hover, self.brush / 2, self.brush / 2)
        painter.end()


# --- the layer over the viewer ------------------------------------------------------------------
class DrawingOverlay(QWidget):
    """Covers the viewer while a drawing or a mask is open; hidden otherwise."""

    closed = Signal()

    def __init__(self, viewer: ViewerWidget, state: EditorState, inpaint: InpaintFn | None = None) -> None:
        super().__init__(viewer)
        self.viewer = viewer
        self.state = state
        self.inpaint_fn = inpaint
        self.target: Target | None = None
        self._background: np.ndarray | None = None  # full size: what is saved under the strokes
        self._busy = False
        self.saved_take: str | None = None  # the take the last save added
        self._tasks: set[asyncio.Task] = set()
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"DrawingOverlay {{ background: {CANVAS_BACKDROP.name()}; }}")
        self.toolbar = DrawingToolbar(self)
        self.canvas = DrawingCanvas(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.canvas, 1)
        self._connect()
        viewer.installEventFilter(self)
        self.hide()

    def _connect(self) -> None:
        t = self.toolbar
        t.pen_button.toggled.connect(lambda on: self._set_eraser(not on))
        t.brush_size.valueChanged.connect(self._set_brush)
        t.colours.buttonClicked.connect(lambda _b: setattr(self.canvas, "colour", t.colour()))
        t.undo_button.clicked.connect(self.undo)
        t.redo_button.clicked.connect(self.redo)
        t.clear_button.clicked.connect(self.clear)
        t.paper_check.toggled.connect(self._set_paper)
        t.save_button.clicked.connect(self.save)
        t.inpaint_button.clicked.connect(self.inpaint)
        t.cancel_button.clicked.connect(self.cancel)
        self.canvas.changed.connect(self._refresh_buttons)

    @property
    def active(self) -> bool:
        return self.target is not None

    # --- opening ---------------------------------------------------------------------------------
    def open_drawing(self, shot_id: str, take_id: str | None, pin_frame: int | None) -> asyncio.Task | None:
        """Draw on shot ``shot_id`` over take ``take_id`` (None: blank paper)."""
        project = self.state.project
        if project is None:
            return None
        return self._open(Target(DRAW, shot_id, take_id, pin_frame), project.width / project.height,
                          (project.width, project.height))  # fmt: skip

    def open_mask(self, key: TakeKey) -> asyncio.Task | None:
        """Paint an inpainting mask over take ``key`` (shot id, take id), at the take's shape."""
        take = self._take(*key)
        if take is None:
            self.state.message.emit("That keyframe was deleted meanwhile; there is nothing to inpaint.")
            return None
        return self._open(Target(MASK, key[0], key[1], None), take.width / take.height, None)

    def _open(self, target: Target, aspect: float, frame: tuple[int, int] | None) -> asyncio.Task | None:
        session = self.state.session
        take = self._take(target.shot_id, target.take_id) if target.take_id else None
        if session is None or (target.take_id and take is None):
            self.state.message.emit("That keyframe was deleted meanwhile; there is nothing to draw over.")
            return None
        self.viewer.stop()
        self.target = target
        self._background = None
        self._busy = False
        canvas = self.canvas
        canvas.history.reset()
        canvas.mode = target.mode
        canvas.aspect = aspect
        canvas.set_background(None)
        self.toolbar.set_mode(target.mode)
        self.toolbar.paper_check.setChecked(take is None)
        self.toolbar.paper_check.setEnabled(take is not None)
        self.toolbar.pin_check.setVisible(target.mode == DRAW and target.pin_frame is not None)
        self.toolbar.pin_check.setChecked(target.pin_frame is not None)
        if target.pin_frame is not None:
            self.toolbar.pin_check.setText(f"Pin at frame {target.pin_frame}")
        shot = session.project.shot(target.shot_id)
        self.toolbar.prompt.setText(shot.prompt)
        self.toolbar.prompt.setCursorPosition(0)  # the prompt's start says what it is
        over = f"over take {take_caption(take)}" if take is not None else "on blank paper"
        then = "Inpaint repaints the red region" if target.mode == MASK else "Save as Take keeps it"
        what = "Painting a mask" if target.mode == MASK else "Drawing"
        self.state.message.emit(f"{what} on shot {shot.number} {over}: Esc leaves without changes, {then}")
        self._place()
        self.show()
        self.raise_()
        canvas.setFocus()
        self._refresh_buttons()
        if take is None:
            return None
        return self._spawn(self._load(target, session.media.path(take.image), frame))

    async def _load(self, target: Target, path: Path, frame: tuple[int, int] | None) -> None:
        rgb = await event_loop().run_in_executor(None, load_background, path, frame)
        if not shiboken6.isValid(self) or self.target is not target:
            return  # closed, or opened on something else meanwhile
        if rgb is None:
            self.state.message.emit(f"The keyframe's image can't be read ({path}); drawing on blank paper instead.")
            self.toolbar.paper_check.setChecked(True)
            self.toolbar.paper_check.setEnabled(False)
            if target.mode == MASK:
                self.close_layer()
            return
        self._background = rgb
        self.canvas.set_background(rgb)
        self._refresh_buttons()

    def ready(self) -> bool:
        """The picture underneath is loaded (or there is none): saving uses what is shown."""
        return self.target is not None and (self.target.take_id is None or self._background is not None)

    # --- editing the strokes -----------------------------------------------------------------------
    def undo(self) -> None:
        if self.canvas.history.undo():
            self.canvas.update()
            self._refresh_buttons()

    def redo(self) -> None:
        if self.canvas.history.redo():
            self.canvas.update()
            self._refresh_buttons()

    def clear(self) -> None:
        if self.canvas.history.clear():
            self.canvas.update()
            self._refresh_buttons()

    def _set_eraser(self, on: bool) -> None:
        self.canvas.eraser = on

    def _set_brush(self, size: int) -> None:
        self.canvas.brush = size
        self.canvas.update()

    def _set_paper(self, on: bool) -> None:
        self.canvas.paper = on
        self.canvas.update()

    def _refresh_buttons(self) -> None:
        history = self.canvas.history
        t = self.toolbar
        t.undo_button.setEnabled(history.can_undo)
        t.redo_button.setEnabled(history.can_redo)
        t.clear_button.setEnabled(bool(history.strokes))
        t.save_button.setEnabled(not self._busy and self.ready())
        t.inpaint_button.setEnabled(not self._busy and self.ready())

    # --- leaving ---------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Leave without changes."""
        if self.active:
            words = "Drawing discarded" if self.canvas.mode == DRAW else "Inpainting cancelled"
            self.close_layer()
            self.state.message.emit(words)

    def close_layer(self) -> None:
        self.target = None
        self._background = None
        self.canvas.history.reset()
        self.canvas.set_background(None)
        self.hide()
        self.viewer.setFocus()
        self.closed.emit()

    def save(self) -> asyncio.Task | None:
        """Store the drawing over its picture as a new take of the shot (pinned if asked)."""
        target = self.target
        session = self.state.session
        if target is None or target.mode != DRAW or session is None or self._busy or not self.ready():
            return None
        if not self.canvas.strokes():
            self.state.message.emit("Nothing is drawn yet: draw on the picture, or Cancel to leave.")
            return None
        self._busy = True
        self._refresh_buttons()
        background = None if self.toolbar.paper_check.isChecked() else self._background
        pin = target.pin_frame if self.toolbar.pin_check.isChecked() else None
        return self._spawn(self._save(target, session, background, self.canvas.strokes(), pin))

    async def _save(self, target: Target, session, background, strokes, pin: int | None) -> None:
        project = session.project
        width, height = project.width, project.height
        try:
            ref = await event_loop().run_in_executor(
                None, store_drawing, session.media, background, strokes, width, height
            )
        except (PinframeError, OSError, ValueError) as exc:
            self.state.message.emit(f"The drawing could not be saved: {exc}")
            self._busy = False
            self._refresh_buttons()
            return
        if self.state.session is not session:
            return  # the project was closed meanwhile; the stored file is harmless
        under = self._take(target.shot_id, target.take_id) if background is not None and target.take_id else None
        label = f"drawing over {take_caption(under)}" if under is not None else "drawing"
        take = KeyframeTake(new_id(), ref, width, height, _now(), None, imported_from=label)
        if self.state.edit(commands.add_keyframe_take, target.shot_id, take, pin_frame=pin):
            shot = self.state.require_project().shot(target.shot_id)
            where = f", pinned at frame {pin}" if pin is not None else ""
            self.state.message.emit(
                f"Saved the drawing as a take of shot {shot.number}{where} (Edit ▸ Undo removes it)"
            )
            self.saved_take = take.id
        if shiboken6.isValid(self) and self.target is target:
            self.close_layer()

    def inpaint(self) -> str | None:
        """Write the mask and queue the inpainting job; returns its id."""
        target = self.target
        if target is None or target.mode != MASK or self._busy or not self.ready() or target.take_id is None:
            return None
        if not self.canvas.strokes():
            self.state.message.emit("Paint over the region to repaint first (the red brush), then Inpaint.")
            return None
        if self.inpaint_fn is None or self._background is None:  # ready() says it is loaded
            return None
        height, width = self._background.shape[:2]
        scratch = Path(tempfile.mkdtemp(prefix="pinframe-mask-"))
        # A mask is a few kilobytes of PNG: written here so the job is queued at the click.
        mask = write_mask(scratch / "mask.png", self.canvas.strokes(), width, height)
        key = (target.shot_id, target.take_id)
        job_id = self.inpaint_fn(
            key, self.toolbar.strength.value(), str(mask), self.toolbar.prompt.text().strip(), scratch
        )
        if job_id is None:
            shutil.rmtree(scratch, ignore_errors=True)
            return None  # the panel said why; the mask stays open to try again
        self.close_layer()
        return job_id

    # --- keys, placement -------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and self.active:
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if _is_undo_redo(event) or not mods & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
            ):
                event.accept()  # the drawing's keys, and no transport moving the cut under it
                return True
        if event.type() == QEvent.Type.ZOrderChange and self.active:
            QTimer.singleShot(0, self._keep_on_top)  # the guides re-raise themselves on resize
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif event.matches(QKeySequence.StandardKey.Redo):
            self.redo()
        elif key == Qt.Key.Key_Escape:
            self.cancel()
        elif key == Qt.Key.Key_B:
            self.toolbar.pen_button.setChecked(True)
        elif key == Qt.Key.Key_E:
            self.toolbar.eraser_button.setChecked(True)
        elif key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            size = self.toolbar.brush_size.value()
            grown = (
                max(size + 1, round(size * SIZE_STEP)) if key == Qt.Key.Key_BracketRight else round(size / SIZE_STEP)
            )
            self.toolbar.brush_size.setValue(grown)
        # other keys are swallowed: the cut must not play or move under an open drawing

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.viewer and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        self.setGeometry(self.viewer.rect())
        if self.active:
            self.raise_()

    def _keep_on_top(self) -> None:
        parent = self.parentWidget() if shiboken6.isValid(self) else None
        if parent is not None and self.active and parent.children()[-1] is not self:
            self.raise_()

    # --- helpers ---------------------------------------------------------------------------------
    def _take(self, shot_id: str, take_id: str | None) -> KeyframeTake | None:
        project = self.state.project
        if project is None or take_id is None:
            return None
        try:
            return project.shot(shot_id).keyframe(take_id)
        except PinframeError:
            return None

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _is_undo_redo(event: QKeyEvent) -> bool:
    return event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
