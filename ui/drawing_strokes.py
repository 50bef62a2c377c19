"""Strokes of the drawing layer (:mod:`ui.drawing`): the record, its undo history, and rendering.

Points are kept as fractions of the picture (0..1 across and down) and widths as a fraction of
its height, so the same strokes paint the small canvas on screen and the full-size PNG that is
saved (the project's frame for a drawing, the take's own size for an inpainting mask).

The render functions paint on a QImage with QPainter, which Qt allows on any thread, so the
full-size compositing and PNG encoding run on a worker thread (``compose_drawing``,
``mask_array``) while the GUI thread only paints the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

from app.cut import fit

PAPER = (255, 255, 255)  # blank paper is white, as a storyboard artist's is
MASK_WHITE = 255


@dataclass(frozen=True)
class Stroke:
    """One drag of the pen or eraser."""

    points: tuple[tuple[float, float], ...]  # fractions of the picture's width and height
    width: float  # fraction of the picture's height
    colour: str = "#000000"  # "#rrggbb"; unused by the eraser and in a mask
    eraser: bool = False


@dataclass
class StrokeHistory:
    """The strokes with undo and redo. Clearing is a step too, so Undo brings a cleared drawing back."""

    _states: list[tuple[Stroke, ...]] = field(default_factory=lambda: [()])
    _index: int = 0

    @property
    def strokes(self) -> tuple[Stroke, ...]:
        return self._states[self._index]

    def _push(self, strokes: tuple[Stroke, ...]) -> None:
        del self._states[self._index + 1 :]  # a new step drops what could have been redone
        self._states.append(strokes)
        self._index += 1

    def add(self, stroke: Stroke) -> None:
        self._push((*self.strokes, stroke))

    def clear(self) -> bool:
        if not self.strokes:
            return False
        self._push(())
        return True

    def undo(self) -> bool:
        if self._index == 0:
            return False
        self._index -= 1
        return True

    def redo(self) -> bool:
        if self._index + 1 >= len(self._states):
            return False
        self._index += 1
        return True

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index + 1 < len(self._states)

    def reset(self) -> None:
        self._states, self._index = [()], 0


# --- rendering ----------------------------------------------------------------------------------
def paint_strokes(painter: QPainter, strokes: tuple[Stroke, ...], width: int, height: int,
                  *, colour: QColor | None = None) -> None:  # fmt: skip
    """Paint ``strokes`` onto a ``width`` x ``height`` transparent layer; ``colour`` overrides every
    pen's colour (a mask). The eraser clears what earlier strokes painted, never the picture under
    the layer, so it is painted with the Clear composition mode on the layer itself."""
    for stroke in strokes:
        pen_width = max(1.0, stroke.width * height)
        pen = QPen(colour or QColor(stroke.colour), pen_width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setCompositionMode(
            QPainter.CompositionMode.CompositionMode_Clear
            if stroke.eraser
            else QPainter.CompositionMode.CompositionMode_SourceOver
        )
        points = [QPointF(x * width, y * height) for x, y in stroke.points]
        if len(points) == 1:  # a click: a round dot the size of the brush
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pen.color())
            r = pen_width / 2
            painter.drawEllipse(QRectF(points[0].x() - r, points[0].y() - r, 2 * r, 2 * r))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            continue
        path = QPainterPath(points[0])
        for p in points[1:]:
            path.lineTo(p)
        painter.setPen(pen)
        painter.drawPath(path)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)


def stroke_layer(strokes: tuple[Stroke, ...], width: int, height: int, *, colour: QColor | None = None,
                 antialias: bool = True) -> QImage:  # fmt: skip
    """The strokes alone on a transparent ARGB image."""
    layer = QImage(max(1, width), max(1, height), QImage.Format.Format_ARGB32_Premultiplied)
    layer.fill(Qt.GlobalColor.transparent)
    painter = QPainter(layer)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
    paint_strokes(painter, strokes, width, height, colour=colour)
    painter.end()
    return layer


def _rgba(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = image.height(), image.width()
    return (
        np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, : w * 4].reshape(h, w, 4).copy()
    )


def compose_drawing(background: np.ndarray | None, strokes: tuple[Stroke, ...], width: int, height: int) -> np.ndarray:
    """The drawing over its background (letterboxed into the frame as the viewer shows a pin),
    or over white paper, as ``height`` x ``width`` RGB. Worker-thread work."""
    if background is None:
        base = np.full((height, width, 3), PAPER, np.uint8)
    else:
        base = fit(background, width, height).astype(np.uint8)
    layer = _rgba(stroke_layer(strokes, width, height))
    alpha = layer[..., 3:4].astype(np.float32) / 255.0
    out = layer[..., :3].astype(np.float32) * alpha + base.astype(np.float32) * (1 - alpha)
    return np.clip(out.round(), 0, 255).astype(np.uint8)


def mask_array(strokes: tuple[Stroke, ...], width: int, height: int) -> np.ndarray:
    """The mask of ``strokes``: 255 (repaint) where painted, 0 (keep) elsewhere. No antialiasing:
    a grey edge would be half repainted, and the engine keeps black pixels exactly."""
    layer = _rgba(stroke_layer(strokes, width, height, colour=QColor("white"), antialias=False))
    return np.where(layer[..., 3] > 0, MASK_WHITE, 0).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    """RGB (or single-channel) pixels as PNG bytes."""
    bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if pixels.ndim == 3 else pixels
    ok, data = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError("the picture could not be encoded as PNG")
    return data.tobytes()


def write_mask(path: Path, strokes: tuple[Stroke, ...], width: int, height: int) -> Path:
    """Write the mask of ``strokes`` as a ``width`` x ``height`` greyscale PNG at ``path``."""
    path.write_bytes(png_bytes(mask_array(strokes, width, height)))
    return path


def read_picture(path: Path) -> np.ndarray | None:
    """The picture at ``path`` as RGB at its own size; None if it can't be read (disk work)."""
    try:
        image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
    except (OSError, ValueError, cv2.error):
        return None
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
