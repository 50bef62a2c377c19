"""The storyboard timeline: shots as blocks on the cut, their pins, a ruler, the playhead, audio.

Everything is painted by hand because a cut of a thousand shots must scrub smoothly: a paint
only draws what the exposed rectangle shows, moving the playhead repaints two thin strips,
and nothing here touches the disk while painting. Pin thumbnails are decoded small on a
worker thread (through the qasync loop) and cached by media reference.

Edits go through :class:`~ui.state.EditorState`. A drag (pin, shot edge) edits live with
``merge=True`` so other panels follow it, and ``History.close_merge`` on release makes the
whole drag one undo step.
"""

from __future__ import annotations

import asyncio
import math
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QImage,
    QImageReader,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QScrollBar, QToolTip, QWidget

from app import commands
from app.cut import Cut, CutEntry
from app.document import Pin, Project, with_shot
from app.edits import Command, MoveShot
from app.errors import PinframeError
from app.media_ref import MediaRef
from app.timecode import format_duration, frames_to_timecode
from ui.mime import read_take
from ui.state import EditorState

# Screening-room colours (ui/theme.py): neutral greys so the pictures carry the colour.
BG, RULER_BG, LANE_BG = QColor("#1b1c1f"), QColor("#232428"), QColor("#202124")
BLOCK, BLOCK_ALT, BLOCK_CURRENT = QColor("#2f3036"), QColor("#34353c"), QColor("#3d3e46")
BORDER, TEXT, DIM = QColor("#4a4b52"), QColor("#d8d8dc"), QColor("#7c7d84")
ACCENT, STALE, CLIP_OK = QColor("#d9a441"), QColor("#c8553d"), QColor("#5f9e78")
SCENE_A, SCENE_B, SCENE_LINE = QColor("#26272c"), QColor("#2a2b31"), QColor("#8a8b93")
AUDIO, PIN, MISSING = QColor("#2e4a4f"), QColor("#e8e8ec"), QColor("#5a2a2a")

MARGIN = 12  # content padding left and right, so frame 0 isn't flush with the border
RULER_H, SCENE_H, AUDIO_H = 26, 18, 24
HEADER_H, PIN_ROW_H = 18, 14
EDGE_GRIP = 5  # pixels either side of a shot edge that grab it for a retime
MIN_PPF, MAX_PPF = 0.01, 64.0
THUMB_H = 96  # decode height in logical pixels; painting scales down from here
THUMB_CACHE = 600  # ~40 MB of small RGB32 images
MAX_DECODES = 3  # the loop's executor also saves projects: don't queue a hundred decodes ahead of that


def _decode_thumbnail(path: str, height: int) -> QImage:
    """Read an image scaled to ``height`` (runs on a worker thread; a QImage is safe there)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and size.height() > height:
        # Scaled decoding lets JPEG skip most of the work instead of decoding full size.
        reader.setScaledSize(QSize(max(1, round(size.width() * height / size.height())), height))
    image = reader.read()
    return image if image.isNull() else image.convertToFormat(QImage.Format.Format_RGB32)


class _Thumbnails:
    """Small pictures of pinned keyframes by media reference, decoded off the GUI thread."""

    def __init__(self, on_ready: Callable[[], None], height: Callable[[], int]) -> None:
        self._on_ready, self._height = on_ready, height
        self._images: OrderedDict[MediaRef, QImage] = OrderedDict()
        self._wanted: OrderedDict[MediaRef, str] = OrderedDict()
        self._running: set[MediaRef] = set()

    def get(self, ref: MediaRef, path: Callable[[MediaRef], object]) -> QImage | None:
        """The thumbnail, or None while it loads (the request is queued, newest first)."""
        image = self._images.get(ref)
        if image is not None:
            self._images.move_to_end(ref)
            return image
        if ref not in self._running:
            self._wanted[ref] = str(path(ref))  # a path join, not a disk read
            self._wanted.move_to_end(ref)
            while len(self._wanted) > 256:  # what scrolled away is asked for again when painted
                self._wanted.popitem(last=False)
            self._start()
        return None

    @property
    def pending(self) -> int:
        return len(self._wanted) + len(self._running)

    def __contains__(self, ref: MediaRef) -> bool:
        return ref in self._images

    def clear(self) -> None:
        self._images.clear()
        self._wanted.clear()

    def _start(self) -> None:
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # no loop (a bare widget in a script): thumbnails stay placeholders
            return
        while self._wanted and len(self._running) < MAX_DECODES and not loop.is_closed():
            ref, path = self._wanted.popitem(last=True)  # what was painted last is what's on screen
            self._running.add(ref)
            future = loop.run_in_executor(None, _decode_thumbnail, path, self._height())
            future.add_done_callback(lambda f, ref=ref: self._done(ref, f))

    def _done(self, ref: MediaRef, future: asyncio.Future) -> None:
        self._running.discard(ref)
        try:
            image = future.result()
        except Exception:  # noqa: BLE001 - an unreadable file shows as a "missing" placeholder
            image = QImage()
        self._images[ref] = image
        while len(self._images) > THUMB_CACHE:
            self._images.popitem(last=False)
        self._start()
        try:
            self._on_ready()
        except RuntimeError:  # the widget was closed while this decoded
            pass


@dataclass
class _CutIndex:
    """Start frames and scene spans of one cut, for bisecting to what is visible."""

    cut: Cut
    starts: list[int]
    scenes: list[tuple[int, int, int]]  # scene index, first frame, end frame

    @classmethod
    def of(cls, cut: Cut) -> _CutIndex:
        scenes: list[tuple[int, int, int]] = []
        for e in cut.entries:
            if scenes and scenes[-1][0] == e.scene_index:
                scenes[-1] = (e.scene_index, scenes[-1][1], e.end)
            else:
                scenes.append((e.scene_index, e.start, e.end))
        return cls(cut, [e.start for e in cut.entries], scenes)

    def entries_between(self, first: int, last: int) -> list[CutEntry]:
        i = max(0, bisect_right(self.starts, first) - 1)
        j = bisect_right(self.starts, last)
        return list(self.cut.entries[i:j])


@dataclass
class _Hit:
    kind: str  # "pin", "tail", "head", "shot" or "scrub"
    entry: CutEntry | None = None
    frame: int = 0  # the pin's frame inside the shot


@dataclass
class _Drag:
    hit: _Hit
    press: QPointF
    active: bool = False  # past the drag distance; a press alone edits nothing
    edited: bool = False
    frame: int = 0  # pin: where it is now
    duration: int = 0  # edge: the shot's length at press
    pins: tuple[Pin, ...] = ()  # edge: the shot's pins at press
    ids: list[str] = field(default_factory=list)  # shot drag: what moves
    drop: tuple[str, int, float] | None = None  # shot drag: scene id, index in scene, marker x
    lost: list[Pin] = field(default_factory=list)  # edge: pins this retime would unpin


class TimelineWidget(QWidget):
    def __init__(self, state: EditorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._ppf = 4.0
        self._scroll = 0.0  # float so zooming keeps the frame under the cursor exactly
        self._index: _CutIndex | None = None
        self._badges: tuple[Project | None, dict[str, str]] = (None, {})
        self._thumbs = _Thumbnails(self.update, lambda: round(THUMB_H * self.devicePixelRatioF()))
        self._drag: _Drag | None = None
        self._anchor: str | None = None  # where a shift-click range starts
        self._take_drop: tuple[int, bool] | None = None  # cut frame, belongs to that shot
        self._painted_playhead = state.playhead
        self._hbar = QScrollBar(Qt.Orientation.Horizontal, self)
        self._hbar.valueChanged.connect(self._on_scrollbar)
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(6.0, self.font().pointSizeF() * 0.85))
        self._bold = QFont(self.font())
        self._bold.setBold(True)
        self._small_metrics, self._bold_metrics = QFontMetrics(self._small), QFontMetrics(self._bold)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paint fills everything it's asked for
        state.project_changed.connect(self._on_project_changed)
        state.session_changed.connect(self._on_session_changed)
        state.selection_changed.connect(self.update)
        state.current_shot_changed.connect(self.update)
        state.playhead_changed.connect(self._on_playhead)

    # --- public geometry (tests and other panels) ------------------------------------------
    @property
    def pixels_per_frame(self) -> float:
        return self._ppf

    def set_pixels_per_frame(self, ppf: float, anchor_x: float | None = None) -> None:
        """Zoom, keeping the frame position under ``anchor_x`` (default: the playhead) in place."""
        if anchor_x is None:
            x = self.x_of_frame(self.state.playhead)
            anchor_x = x if 0 <= x <= self.width() else self.width() / 2
        position = (anchor_x + self._scroll - MARGIN) / self._ppf
        self._ppf = min(MAX_PPF, max(MIN_PPF, float(ppf)))
        self._set_scroll(position * self._ppf - anchor_x + MARGIN)
        self.update()

    def frame_at_x(self, x: float) -> int:
        """Cut frame under widget x (not clamped: may be negative or past the cut)."""
        return math.floor((x + self._scroll - MARGIN) / self._ppf)

    def x_of_frame(self, frame: float) -> float:
        """Widget x of the left edge of a cut frame."""
        return MARGIN + frame * self._ppf - self._scroll

    def shot_rect(self, shot_id: str) -> QRectF:
        entry = self.state.cut.entry(shot_id)
        if entry is None:
            return QRectF()
        top, bottom = self._shot_lane()
        return QRectF(self.x_of_frame(entry.start), top, entry.shot.duration * self._ppf, bottom - top)

    def pin_rect(self, shot_id: str, frame: int) -> QRectF:
        """The pin marker's hit area (frame inside the shot)."""
        entry = self.state.cut.entry(shot_id)
        return QRectF() if entry is None else self._pin_marker(entry, frame)

    def playhead_label(self) -> str:
        project = self.state.project
        if project is None:
            return ""
        return frames_to_timecode(
            project.start_frame + self.state.playhead, project.rate, drop_frame=project.drop_frame
        )

    def badge_for(self, shot_id: str) -> str:
        """The shot's clip badge: ``stale``, ``clip`` (a current render) or empty (never rendered)."""
        project = self.state.project
        if project is None:
            return ""
        if self._badges[0] is not project:
            self._badges = (project, {})  # staleness hashes the shot: once per shot per edit
        badges = self._badges[1]
        if shot_id not in badges:
            shot = project.shot(shot_id)
            clip = shot.current_clip_take
            badges[shot_id] = "" if clip is None else ("stale" if project.is_stale(shot) else "clip")
        return badges[shot_id]

    def retime_warning(self) -> str:
        """What the edge drag in progress would unpin, in words ("" when nothing)."""
        drag = self._drag
        if drag is None or not drag.lost:
            return ""
        frames = ", ".join(str(p.frame) for p in drag.lost)
        many = len(drag.lost) > 1
        what = f"{len(drag.lost)} keyframe{'s' if many else ''} (frame{'s' if many else ''} {frames})"
        they = "they stay" if many else "it stays"
        return f"This retime unpins {what}; {they} in the shot's takes, and undo pins {'them' if many else 'it'} again"

    def has_thumbnail(self, ref: MediaRef) -> bool:
        return ref in self._thumbs

    def thumbnails_pending(self) -> int:
        return self._thumbs.pending

    def ensure_frame_visible(self, frame: int) -> None:
        x = self.x_of_frame(frame)
        if x < MARGIN or x > self.width() - MARGIN:
            self._set_scroll(self._scroll + x - self.width() * 0.1)

    def sizeHint(self) -> QSize:
        return QSize(900, 220)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, RULER_H + SCENE_H + HEADER_H + PIN_ROW_H + 30 + AUDIO_H + self._hbar.sizeHint().height())

    # --- layout ------------------------------------------------------------------------------
    def _bottom(self) -> int:
        return self.height() - self._hbar.height()

    def _shot_lane(self) -> tuple[float, float]:
        top = RULER_H + SCENE_H
        return top, max(top + HEADER_H + PIN_ROW_H + 8, self._bottom() - AUDIO_H - 4)

    def _audio_lane(self) -> tuple[float, float]:
        top = self._shot_lane()[1] + 2
        return top, top + AUDIO_H

    def _cut_index(self) -> _CutIndex:
        cut = self.state.cut
        if self._index is None or self._index.cut is not cut:
            self._index = _CutIndex.of(cut)
        return self._index

    def _block(self, entry: CutEntry) -> QRectF:
        top, bottom = self._shot_lane()
        return QRectF(self.x_of_frame(entry.start), top, entry.shot.duration * self._ppf, bottom - top)

    def _pin_marker(self, entry: CutEntry, frame: int) -> QRectF:
        _, bottom = self._shot_lane()
        centre = self.x_of_frame(entry.start + frame) + self._ppf / 2
        w = max(12.0, min(self._ppf, 14.0))
        return QRectF(centre - w / 2, bottom - PIN_ROW_H, w, PIN_ROW_H)

    def _scroll_limit(self) -> float:
        content = 2 * MARGIN + self.state.cut.length * self._ppf
        # A cut wider than the view scrolls on until its end is mid-view: room to drag the last tail out.
        return max(0.0, content - self.width() / 2) if content > self.width() else 0.0

    def _set_scroll(self, value: float) -> None:
        limit = self._scroll_limit()
        self._scroll = min(max(0.0, value), limit)
        self._sync_scrollbar()
        self.update()

    def _sync_scrollbar(self) -> None:
        limit = math.ceil(self._scroll_limit())
        self._hbar.blockSignals(True)  # the bar mirrors self._scroll; don't round it back
        self._hbar.setRange(0, limit)
        self._hbar.setPageStep(max(1, self.width()))
        self._hbar.setSingleStep(max(1, round(self._ppf * 4)))
        self._hbar.setValue(round(self._scroll))
        self._hbar.blockSignals(False)

    def resizeEvent(self, event: QResizeEvent) -> None:
        h = self._hbar.sizeHint().height()
        self._hbar.setGeometry(0, self.height() - h, self.width(), h)
        self._set_scroll(self._scroll)

    # --- state signals -----------------------------------------------------------------------
    def _on_project_changed(self, _project: object) -> None:
        self._set_scroll(self._scroll)  # the cut may have grown or shrunk
        self.update()

    def _on_session_changed(self, _session: object) -> None:
        self._thumbs.clear()
        self._drag = None
        self._scroll = 0.0
        self._set_scroll(0.0)

    def _on_scrollbar(self, value: int) -> None:
        self._scroll = float(value)
        self.update()

    def _on_playhead(self, frame: int) -> None:
        if self._drag is None and self.isVisible():
            x = self.x_of_frame(frame)
            if x < 0 or x > self.width():  # playback ran off the view: page along with it
                self.ensure_frame_visible(frame)
        # Two thin strips, not the whole cut: this is what keeps scrubbing smooth.
        self.update(self._playhead_dirty(self._painted_playhead))
        self.update(self._playhead_dirty(frame))

    def _playhead_box(self, frame: int) -> tuple[float, QRectF]:
        x = self.x_of_frame(frame)
        w = self._small_metrics.horizontalAdvance(self.playhead_label()) + 10
        left = min(max(0.0, x - w / 2), self.width() - w)
        return x, QRectF(left, 2, w, RULER_H - 6)

    def _playhead_dirty(self, frame: int) -> QRect:
        x, box = self._playhead_box(frame)
        band = QRectF(x - 2, 0, max(self._ppf, 1.0) + 4, self._bottom())
        # The label is as wide as the widest timecode could be at the old frame too.
        return band.united(box).toAlignedRect().adjusted(-40, 0, 40, 0)

    # --- painting ----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        area = QRectF(event.rect())
        p.fillRect(area, BG)
        project = self.state.project  # read fresh every time: panels never keep a project
        if project is None:
            p.setPen(DIM)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No project open")
            return
        first, last = self.frame_at_x(area.left() - 16), self.frame_at_x(area.right() + 16)
        index = self._cut_index()
        entries = index.entries_between(first, last)
        self._paint_ruler(p, project, area, first, last)
        self._paint_scenes(p, project, index, area)
        for entry in entries:
            self._paint_shot(p, project, entry, area)
        self._paint_scene_lines(p, index, area)
        self._paint_audio(p, project, index.cut, area)
        self._paint_markers(p)
        self._paint_playhead(p)

    def _paint_ruler(self, p: QPainter, project: Project, area: QRectF, first: int, last: int) -> None:
        p.fillRect(QRectF(area.left(), 0, area.width(), RULER_H), RULER_BG)
        major, minor = self._tick_steps(project.rate.timebase)
        # Start a label's width early: a label whose tick is left of a thin exposed strip
        # (the playhead's) still crosses into it and must be redrawn there.
        first, last = max(0, self.frame_at_x(area.left() - 100)), min(last, self.state.cut.length)
        p.setFont(self._small)
        for frame in range(first - first % minor, last + 1, minor):
            x = self.x_of_frame(frame)
            is_major = frame % major == 0
            p.setPen(DIM if is_major else BORDER)
            p.drawLine(QPointF(x, RULER_H - (10 if is_major else 5)), QPointF(x, RULER_H))
            if is_major:
                label = frames_to_timecode(project.start_frame + frame, project.rate, drop_frame=project.drop_frame)
                p.drawText(QPointF(x + 3, RULER_H - 12), label)
        p.setPen(BORDER)
        p.drawLine(QPointF(area.left(), RULER_H - 0.5), QPointF(area.right(), RULER_H - 0.5))

    def _tick_steps(self, timebase: int) -> tuple[int, int]:
        """Frames between labelled ticks (at least ~90 px apart) and between minor ticks."""
        # Below a second, steps that divide it (6 and 12 at 24 fps), so labels land on whole seconds.
        steps = [d for d in range(1, timebase) if timebase % d == 0]
        steps += [timebase * s for s in (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)]
        major = next((s for s in steps if s * self._ppf >= 90), steps[-1])
        minor = next((major // n for n in (10, 6, 5, 4, 3, 2) if major % n == 0 and major // n * self._ppf >= 7), major)
        return major, minor

    def _paint_scenes(self, p: QPainter, project: Project, index: _CutIndex, area: QRectF) -> None:
        p.setFont(self._small)
        for scene_index, start, end in index.scenes:
            rect = QRectF(self.x_of_frame(start), RULER_H, (end - start) * self._ppf, SCENE_H)
            if not rect.intersects(area):
                continue
            p.fillRect(rect, SCENE_A if scene_index % 2 == 0 else SCENE_B)
            if rect.width() > 30:
                text = f"{scene_index + 1}  {project.scenes[scene_index].heading}".strip()
                visible = rect.intersected(QRectF(0, RULER_H, self.width(), SCENE_H))  # heading stays readable
                p.setPen(DIM)
                p.drawText(
                    visible.adjusted(6, 0, -4, 0),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    self._small_metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(visible.width()) - 10),
                )

    def _paint_scene_lines(self, p: QPainter, index: _CutIndex, area: QRectF) -> None:
        p.setPen(QPen(SCENE_LINE, 2))
        _, bottom = self._audio_lane()
        for _, start, _end in index.scenes[1:]:
            x = self.x_of_frame(start)
            if area.left() - 2 <= x <= area.right() + 2:
                p.drawLine(QPointF(x, RULER_H), QPointF(x, bottom))

    def _paint_shot(self, p: QPainter, project: Project, entry: CutEntry, area: QRectF) -> None:
        shot = entry.shot
        rect = self._block(entry)
        moving = self._drag is not None and self._drag.active and shot.id in self._drag.ids
        fill = BLOCK_CURRENT if shot.id == self.state.current_shot else (BLOCK, BLOCK_ALT)[entry.scene_index % 2]
        if rect.width() < 4:  # fit-to-window on a long cut: a sliver of colour is all that fits
            p.fillRect(rect, ACCENT if shot.id in self.state.selection else fill)
            return
        body = rect.adjusted(0.5, 0.5, -0.5, -0.5)
        p.save()
        p.setClipRect(body)
        if moving:
            p.setOpacity(0.45)
        p.fillRect(body, fill)
        self._paint_thumbnails(p, project, entry, body, area)
        self._paint_header(p, project, entry, body)
        self._paint_pins(p, entry)
        if self._drag is not None and self._drag.lost and self._drag.hit.entry.shot.id == shot.id:
            p.fillRect(body, QColor(STALE.red(), STALE.green(), STALE.blue(), 70))  # this retime drops pins
        p.restore()
        selected = shot.id in self.state.selection
        p.setPen(QPen(ACCENT, 2) if selected else QPen(BORDER, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(body.adjusted(1, 1, -1, -1) if selected else body)

    def _paint_header(self, p: QPainter, project: Project, entry: CutEntry, body: QRectF) -> None:
        shot = entry.shot
        left = max(body.left(), 0.0) + 5  # zoomed in on a long shot, its number stays in view
        header = QRectF(left, body.top(), body.right() - 5 - left, HEADER_H)
        badge = self.badge_for(shot.id)
        if badge and header.width() > 60:
            label = "STALE" if badge == "stale" else "CLIP"
            w = self._small_metrics.horizontalAdvance(label) + 8
            pill = QRectF(header.right() - w, header.top() + 3, w, HEADER_H - 6)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(STALE if badge == "stale" else CLIP_OK)
            p.drawRoundedRect(pill, 3, 3)
            p.setFont(self._small)
            p.setPen(QColor("#111111"))
            p.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
            header.setRight(pill.left() - 4)
        p.setFont(self._bold)
        p.setPen(TEXT)
        number_w = self._bold_metrics.horizontalAdvance(shot.number) + 8
        p.drawText(header, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shot.number)
        if header.width() > number_w + 40:
            p.setFont(self._small)
            p.setPen(DIM)
            duration = format_duration(shot.duration, project.rate, drop_frame=project.drop_frame)
            p.drawText(header.adjusted(number_w, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, duration)

    def _paint_thumbnails(self, p: QPainter, project: Project, entry: CutEntry, body: QRectF, area: QRectF) -> None:
        shot = entry.shot
        strip = QRectF(body.left() + 2, body.top() + HEADER_H, body.width() - 4, body.height() - HEADER_H - PIN_ROW_H)
        if strip.height() < 8 or strip.width() < 8:
            return
        if not shot.pins:
            if strip.width() > 80:
                p.setFont(self._small)
                p.setPen(DIM)
                p.drawText(strip, Qt.AlignmentFlag.AlignCenter, "no keyframe pinned")
            return
        h = strip.height() - 2
        w = h * project.width / project.height
        images = {t.id: t.image for t in shot.keyframe_takes}
        media = self.state.session.media
        for pin in shot.pins:
            centre = self.x_of_frame(entry.start + pin.frame) + self._ppf / 2
            left = max(strip.left(), min(centre - w / 2, strip.right() - w))
            target = QRectF(left, strip.top() + 1, w, h)
            if not target.intersects(area):  # a long shot zoomed in: don't decode what's off screen
                continue
            image = self._thumbs.get(images[pin.take_id], media.path)
            if image is None:
                p.fillRect(target, LANE_BG)  # still decoding
            elif image.isNull():
                p.fillRect(target, MISSING)  # the file is missing or unreadable
            else:
                p.drawImage(target, image)
            p.setPen(QPen(BG, 1))
            p.drawRect(target)

    def _paint_pins(self, p: QPainter, entry: CutEntry) -> None:
        dragged = self._drag.frame if self._drag and self._drag.hit.kind == "pin" else None
        dragged_shot = self._drag.hit.entry.shot.id if dragged is not None else None
        for pin in entry.shot.pins:
            marker = self._pin_marker(entry, pin.frame)
            active = dragged_shot == entry.shot.id and pin.frame == dragged
            colour = ACCENT if active else PIN
            x = marker.center().x()
            # The tick says exactly which frame; the diamond is what a hand grabs.
            p.setPen(QPen(QColor(colour.red(), colour.green(), colour.blue(), 140), 1))
            p.drawLine(QPointF(x, marker.top() - 4), QPointF(x, marker.top() + 2))
            c, r = marker.center(), min(marker.width(), marker.height()) / 2 - 1
            diamond = QPolygonF([QPointF(c.x(), c.y() - r), QPointF(c.x() + r, c.y()), QPointF(c.x(), c.y() + r),
                                 QPointF(c.x() - r, c.y())])  # fmt: skip
            p.setPen(QPen(BG, 1))
            p.setBrush(colour)
            p.drawPolygon(diamond)

    def _paint_audio(self, p: QPainter, project: Project, cut: Cut, area: QRectF) -> None:
        top, _ = self._audio_lane()
        p.fillRect(QRectF(area.left(), top, area.width(), AUDIO_H), LANE_BG)
        clips = sorted(project.audio, key=lambda c: c.start)
        p.setFont(self._small)
        for i, clip in enumerate(clips):
            # AudioClip has no length: run it to the next clip or the end of the cut.
            end = clips[i + 1].start if i + 1 < len(clips) else cut.length
            x0 = self.x_of_frame(clip.start)
            x1 = self.x_of_frame(end) if end > clip.start else x0 + 120
            rect = QRectF(x0, top + 2, max(x1 - x0, 4.0), AUDIO_H - 4)
            if not rect.intersects(area):
                continue
            p.fillRect(rect.adjusted(0.5, 0, -0.5, 0), AUDIO)
            p.setPen(TEXT)
            label = QRectF(
                max(rect.left(), 0.0) + 5, rect.top(), rect.right() - max(rect.left(), 0.0) - 8, rect.height()
            )
            p.drawText(label, Qt.AlignmentFlag.AlignVCenter, f"♪ {clip.name or 'audio'}")

    def _paint_markers(self, p: QPainter) -> None:
        top, bottom = self._shot_lane()
        drag = self._drag
        if drag is not None and drag.active and drag.drop is not None:
            x = drag.drop[2]
            p.fillRect(QRectF(x - 1.5, top - 3, 3, bottom - top + 6), ACCENT)
            for y, d in ((top - 3, 5), (bottom + 3, -5)):
                p.setBrush(ACCENT)
                p.setPen(Qt.PenStyle.NoPen)
                p.drawPolygon(QPolygonF([QPointF(x - 5, y - d), QPointF(x + 5, y - d), QPointF(x, y)]))
        if self._take_drop is not None:
            frame, ok = self._take_drop
            p.fillRect(QRectF(self.x_of_frame(frame), top, max(self._ppf, 2.0), bottom - top), ACCENT if ok else STALE)

    def _paint_playhead(self, p: QPainter) -> None:
        frame = self.state.playhead
        self._painted_playhead = frame
        x, box = self._playhead_box(frame)
        if self._ppf >= 4:  # wide frames: show which frame, not just where it starts
            p.fillRect(QRectF(x, RULER_H, self._ppf, self._bottom() - RULER_H), QColor(217, 164, 65, 40))
        p.setPen(QPen(ACCENT, 1))
        p.drawLine(QPointF(x, box.bottom()), QPointF(x, self._bottom()))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ACCENT)
        p.drawRoundedRect(box, 3, 3)
        p.setFont(self._small)
        p.setPen(QColor("#111111"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, self.playhead_label())

    # --- hit testing -------------------------------------------------------------------------
    def _hit(self, pos: QPointF) -> _Hit:
        top, bottom = self._shot_lane()
        cut = self.state.cut
        if not top <= pos.y() < bottom or not cut.entries:
            return _Hit("scrub")
        found = cut.locate(self.frame_at_x(pos.x()))
        if found is None:  # just outside either end of the cut still grabs that edge
            if 0 <= pos.x() - self.x_of_frame(cut.length) <= EDGE_GRIP:
                return _Hit("tail", cut.entries[-1])
            if 0 < self.x_of_frame(0) - pos.x() <= EDGE_GRIP:
                return _Hit("head", cut.entries[0])
            return _Hit("scrub")
        entry = found[0]
        if pos.y() >= bottom - PIN_ROW_H:
            pins = [p for p in entry.shot.pins if self._pin_marker(entry, p.frame).contains(pos)]
            if pins:
                nearest = min(pins, key=lambda p: abs(self._pin_marker(entry, p.frame).center().x() - pos.x()))
                return _Hit("pin", entry, nearest.frame)
        rect = self._block(entry)
        grip = min(EDGE_GRIP, rect.width() / 4)
        if rect.right() - pos.x() <= grip:
            return _Hit("tail", entry)
        if pos.x() - rect.left() <= grip:
            return _Hit("head", entry)
        return _Hit("shot", entry)

    def _drop_target(self, x: float) -> tuple[str, int, float] | None:
        """Where a dragged shot lands: (scene id, index in that scene, marker x)."""
        cut, project = self.state.cut, self.state.project
        if not cut.entries or project is None:
            return None
        position = (x + self._scroll - MARGIN) / self._ppf
        if position >= cut.length:
            entry, after = cut.entries[-1], True
        elif position < 0:
            entry, after = cut.entries[0], False
        else:
            entry = cut.locate(math.floor(position))[0]
            # Which half of a shot decides the scene, too: the left half of a scene's first shot
            # is the start of that scene, the right half of the shot before is the end of its own.
            after = position - entry.start > entry.shot.duration / 2
        scene = project.scenes[entry.scene_index]
        index = [s.id for s in scene.shots].index(entry.shot.id) + (1 if after else 0)
        return scene.id, index, self.x_of_frame(entry.end if after else entry.start)

    # --- mouse -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.state.project is None:
            return super().mousePressEvent(event)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        hit = self._hit(event.position())
        drag = _Drag(hit, event.position())
        if hit.kind == "scrub":
            drag.active = True
            self.state.set_playhead(self.frame_at_x(event.position().x()))
        elif hit.kind == "pin":
            drag.frame = hit.frame
            self.state.set_current_shot(hit.entry.shot.id)
        elif hit.kind in ("tail", "head"):
            drag.duration, drag.pins = hit.entry.shot.duration, hit.entry.shot.pins
        else:
            drag.ids = self._press_select(hit.entry.shot.id, event.modifiers())
        self._drag = drag
        self.update()

    def _press_select(self, shot_id: str, mods: Qt.KeyboardModifier) -> list[str]:
        """Select on press (Ctrl toggles, Shift extends a range); returns the shots a drag would move."""
        state = self.state
        order = [e.shot.id for e in state.cut.entries]
        anchor = self._anchor if self._anchor in order else state.current_shot
        if mods & Qt.KeyboardModifier.ControlModifier:
            chosen = [i for i in state.selection if i != shot_id]
            if shot_id not in state.selection:
                chosen.append(shot_id)
            state.set_selection(chosen)
            if shot_id in chosen:
                state.set_current_shot(shot_id)
            self._anchor = shot_id
        elif mods & Qt.KeyboardModifier.ShiftModifier and anchor in order:
            i, j = sorted((order.index(anchor), order.index(shot_id)))
            state.set_selection(order[i : j + 1])
            state.set_current_shot(shot_id)
        elif shot_id not in state.selection:
            state.set_current_shot(shot_id)
            self._anchor = shot_id
        # Pressing inside a multi-selection keeps it, so the drag moves all of it.
        return list(state.selection) if shot_id in state.selection else [shot_id]

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        drag = self._drag
        if drag is None:
            self._hover(pos)
            return
        if not drag.active:
            if (pos - drag.press).manhattanLength() < QApplication.startDragDistance():
                return
            drag.active = True
            if drag.hit.kind in ("pin", "tail", "head") and self.state.session:
                self.state.session.history.close_merge()  # never merge into the step before this drag
        kind = drag.hit.kind
        if kind == "scrub":
            self.state.set_playhead(self.frame_at_x(pos.x()))
        elif kind == "pin":
            self._drag_pin(drag, pos)
        elif kind in ("tail", "head"):
            self._drag_edge(drag, event)
        else:
            drag.drop = self._drop_target(pos.x())
            self.update()

    def _drag_pin(self, drag: _Drag, pos: QPointF) -> None:
        entry = self.state.cut.entry(drag.hit.entry.shot.id)
        if entry is None:
            return
        target = min(max(self.frame_at_x(pos.x()) - entry.start, 0), entry.shot.duration - 1)
        # A frame with another pin is skipped: the pin waits where it is until a free frame.
        if target != drag.frame and entry.shot.pin_at(target) is None:
            shot_id = entry.shot.id
            if self.state.edit(commands.move_pin, shot_id, drag.frame, target, merge=True):
                drag.frame, drag.edited = target, True

    def _drag_edge(self, drag: _Drag, event: QMouseEvent) -> None:
        shot_id = drag.hit.entry.shot.id
        entry = self.state.cut.entry(shot_id)
        if entry is None:
            return
        x = event.position().x()
        if drag.hit.kind == "tail":  # the shot's start stays put, so the edge follows the cursor
            duration = round((x - self.x_of_frame(entry.start)) / self._ppf)
        else:  # a ripple head trim keeps the start too: the length follows the cursor's travel
            duration = drag.duration - round((x - drag.press.x()) / self._ppf)
        duration = max(1, duration)
        if duration == entry.shot.duration:
            return
        edge = drag.hit.kind
        if self.state.edit(_retime_from_press, shot_id, duration, edge, drag.duration, drag.pins):
            drag.edited = True
            try:
                base = _press_shape(self.state.project, shot_id, drag.duration, drag.pins)
                drag.lost = commands.unpinned_by_retime(base, shot_id, duration, edge)
            except PinframeError:
                drag.lost = []
        warning = self.retime_warning()
        if warning:
            QToolTip.showText(event.globalPosition().toPoint(), warning, self)
        else:
            QToolTip.hideText()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        if drag is None or event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        if drag.edited and self.state.session:
            self.state.session.history.close_merge()  # the whole drag is one undo step
        if drag.hit.kind == "shot":
            if drag.active and drag.drop is not None:
                self._apply_reorder(drag.ids, drag.drop[0], drag.drop[1])
            elif not drag.active and not event.modifiers() & _EXTEND:
                shot_id = drag.hit.entry.shot.id
                self.state.set_selection([shot_id])  # a plain click in a multi-selection narrows it
                self.state.set_current_shot(shot_id)
                self._anchor = shot_id
        QToolTip.hideText()
        self.update()

    def _cancel_drag(self) -> None:
        """Escape mid-drag: put back what the drag changed (it is the newest undo step)."""
        drag, self._drag = self._drag, None
        if drag is not None and drag.edited and self.state.session:
            self.state.session.history.close_merge()
            self.state.undo()
        QToolTip.hideText()
        self.update()

    def _apply_reorder(self, ids: list[str], scene_id: str, index: int) -> None:
        project = self.state.project
        if project is None:
            return
        scene = project.scene(scene_id)
        before = [s.id for s in scene.shots[:index] if s.id not in ids]
        command = _reorder(project, ids, scene_id, len(before))
        if command is not None:
            self.state.do(command)

    def _hover(self, pos: QPointF) -> None:
        kind = self._hit(pos).kind if self.state.project is not None else "scrub"
        edge = Qt.CursorShape.SizeHorCursor
        shapes = {"pin": Qt.CursorShape.OpenHandCursor, "tail": edge, "head": edge}
        self.setCursor(shapes.get(kind, Qt.CursorShape.ArrowCursor))

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent) and self._drag is None:
            text = self._tooltip(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def _tooltip(self, pos: QPoint) -> str:
        project = self.state.project
        hit = self._hit(QPointF(pos)) if project is not None else _Hit("scrub")
        if hit.entry is None:
            return ""
        shot = hit.entry.shot
        if hit.kind == "pin":
            return f"Shot {shot.number}: pin at frame {hit.frame} (drag to move it)"
        duration = format_duration(shot.duration, project.rate, drop_frame=project.drop_frame)
        clip = {"stale": "clip is stale: its inputs changed", "clip": "clip is current", "": "not rendered"}
        lines = [f"Shot {shot.number} · {shot.duration} frames ({duration})", clip[self.badge_for(shot.id)]]
        if shot.action:
            lines.insert(1, shot.action)
        return "\n".join(lines)

    # --- wheel and keys ----------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = (delta.y() or delta.x() or event.pixelDelta().y()) / 120
            self.set_pixels_per_frame(self._ppf * 1.25**steps, event.position().x())
        else:
            # Shift-wheel arrives as x on some platforms and as y on others; both scroll sideways.
            pixels = event.pixelDelta()
            amount = (pixels.x() or pixels.y()) if not pixels.isNull() else (delta.x() or delta.y()) / 120 * 80
            self._set_scroll(self._scroll - amount)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        step = self.state.project.rate.timebase if self.state.project else 1
        if key == Qt.Key.Key_Escape and self._drag is not None:
            self._cancel_drag()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_pixels_per_frame(self._ppf * 1.5)
        elif key == Qt.Key.Key_Minus:
            self.set_pixels_per_frame(self._ppf / 1.5)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            sign = 1 if key == Qt.Key.Key_Right else -1
            shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            self.state.set_playhead(self.state.playhead + sign * (step if shift else 1))
            self.ensure_frame_visible(self.state.playhead)
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            self.state.set_playhead(0 if key == Qt.Key.Key_Home else self.state.cut.length - 1)
            self.ensure_frame_visible(self.state.playhead)
        else:
            super().keyPressEvent(event)

    # --- keyframes dropped from the keyframe panel ----------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if read_take(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        take = read_take(event.mimeData())
        found = self.state.cut.locate(self.frame_at_x(event.position().x()))
        if take is None or found is None:
            self._take_drop = None
            event.ignore()
        else:
            self._take_drop = (self.frame_at_x(event.position().x()), found[0].shot.id == take[0])
            event.acceptProposedAction()
        self.update()

    def dragLeaveEvent(self, event: QEvent) -> None:
        self._take_drop = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._take_drop = None
        self.update()
        take = read_take(event.mimeData())
        found = self.state.cut.locate(self.frame_at_x(event.position().x()))
        if take is None or found is None:
            event.ignore()
            return
        (entry, offset), (shot_id, take_id) = found, take
        if shot_id != entry.shot.id:
            self.state.message.emit(
                f"That keyframe belongs to shot {self._number(shot_id)}, not shot {entry.shot.number}: "
                "drag a keyframe onto its own shot"
            )
            event.ignore()
            return
        self.state.edit(commands.set_pin, shot_id, offset, take_id)
        event.acceptProposedAction()

    def _number(self, shot_id: str) -> str:
        try:
            return self.state.project.shot(shot_id).number
        except PinframeError:
            return "(deleted)"


_EXTEND = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def _press_shape(project: Project, shot_id: str, duration: int, pins: tuple[Pin, ...]) -> Project:
    """The project with one shot back at its length and pins from when the drag began."""
    return with_shot(project, replace(project.shot(shot_id), duration=duration, pins=pins))


def _retime_from_press(
    project: Project, shot_id: str, duration: int, edge: str, press_duration: int, press_pins: tuple[Pin, ...]
) -> Command:
    # Each step retimes from the shot as it was at press, not as the last step left it: a pin
    # trimmed off on the way in comes back when the edge is dragged out again in the same drag.
    base = _press_shape(project, shot_id, press_duration, press_pins)
    return commands.retime_shot(base, shot_id, duration, edge=edge, merge=True)


def _reorder(project: Project, ids: list[str], scene_id: str, kept_before: int) -> Command | None:
    """Move ``ids`` (cut order kept) so that ``kept_before`` unmoved shots of the scene precede them.

    ``commands.move_shots`` is used when it lands the shots there; with several shots moving
    right inside their own scene its per-shot index doesn't, so the moves are then built from
    each shot's anchor (the shot it must follow) instead.
    """
    order = [s.id for s in project.shots()]
    ids = sorted(ids, key=order.index)
    rest = [s.id for s in project.scene(scene_id).shots if s.id not in ids]
    wanted = rest[:kept_before] + ids + rest[kept_before:]
    if [s.id for s in project.scene(scene_id).shots] == wanted:
        return None  # dropped where it already was
    command = commands.move_shots(project, ids, scene_id, kept_before)
    result, _ = command.apply(project)
    if [s.id for s in result.scene(scene_id).shots] == wanted:
        return command
    ops, working = [], project
    for i, shot_id in enumerate(ids):
        anchor = ids[i - 1] if i else (rest[kept_before - 1] if kept_before else None)
        others = [s.id for s in working.scene(scene_id).shots if s.id != shot_id]
        op = MoveShot(shot_id, scene_id, others.index(anchor) + 1 if anchor else 0)
        working, _ = op.apply(working)
        ops.append(op)
    return Command(command.label, tuple(ops))
