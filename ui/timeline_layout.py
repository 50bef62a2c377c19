"""Timeline geometry: lanes, shot blocks and pin markers, frame <-> x, scrolling, and hit tests."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QScrollBar

from app.cut import Cut, CutEntry
from app.document import AudioClip
from ui.state import EditorState

if TYPE_CHECKING:
    # The mixins below are only ever mixed into TimelineWidget, a QWidget: typed as one, their
    # calls to width(), update() and friends are checked; at run time they stay plain classes.
    from PySide6.QtWidgets import QWidget as WidgetMixinBase
else:
    WidgetMixinBase = object

MARGIN = 12  # content padding left and right, so frame 0 isn't flush with the border
RULER_H, SCENE_H, AUDIO_H = 26, 18, 24
HEADER_H, PIN_ROW_H = 18, 14
EDGE_GRIP = 5  # pixels either side of a shot edge that grab it for a retime
# 0.001 px/frame puts a two-hour feature at 24 fps in 173 px: zoom to fit never runs out of range.
MIN_PPF, MAX_PPF = 0.001, 64.0


@dataclass
class CutIndex:
    """Start frames and scene spans of one cut, for bisecting to what is visible."""

    cut: Cut
    starts: list[int]
    scenes: list[tuple[int, int, int]]  # scene index, first frame, end frame

    @classmethod
    def of(cls, cut: Cut) -> CutIndex:
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
class Hit:
    kind: str  # "pin", "tail", "head", "shot", "audio" or "scrub"
    entry: CutEntry | None = None
    frame: int = 0  # the pin's frame inside the shot
    clip_id: str = ""  # audio: the clip under the cursor

    def require_entry(self) -> CutEntry:
        """The shot under a pin, edge or shot hit (those always have one)."""
        if self.entry is None:
            raise RuntimeError(f"a {self.kind!r} hit on the timeline has no shot under it")
        return self.entry


@dataclass(frozen=True)
class Picked:
    """A pin or an audio clip clicked on the timeline: what Delete and the menus act on before shots."""

    kind: str  # "pin" or "audio"
    shot_id: str = ""  # pin: its shot
    frame: int = 0  # pin: its frame inside the shot
    clip_id: str = ""  # audio: the clip


class TimelineLayout(WidgetMixinBase):
    """Where things are on :class:`~ui.timeline.TimelineWidget` (a mixin of it; the widget holds the state)."""

    state: EditorState
    playhead_label: Callable[[], str]  # TimelineWidget's
    _ppf: float  # pixels per frame
    _scroll: float  # pixels scrolled from the left
    _index: CutIndex | None
    _hbar: QScrollBar
    _small_metrics: QFontMetrics

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

    def zoom_to_fit(self) -> None:
        """Show the whole cut in the visible width, from its first frame."""
        length = self.state.cut.length
        if length <= 0:
            return
        self._ppf = min(MAX_PPF, max(MIN_PPF, (self.width() - 2 * MARGIN) / length))
        self._set_scroll(0.0)
        self.update()

    def audio_rect(self, clip_id: str) -> QRectF:
        """The audio clip's block on the audio lane (empty if it isn't in the project)."""
        return next((rect for clip, rect in self._audio_blocks() if clip.id == clip_id), QRectF())

    def ensure_frame_visible(self, frame: int) -> None:
        x = self.x_of_frame(frame)
        if x < MARGIN or x > self.width() - MARGIN:
            self._set_scroll(self._scroll + x - self.width() * 0.1)

    # --- layout ------------------------------------------------------------------------------
    def _bottom(self) -> int:
        return self.height() - self._hbar.height()

    def _shot_lane(self) -> tuple[float, float]:
        top = RULER_H + SCENE_H
        return top, max(top + HEADER_H + PIN_ROW_H + 8, self._bottom() - AUDIO_H - 4)

    def _audio_lane(self) -> tuple[float, float]:
        top = self._shot_lane()[1] + 2
        return top, top + AUDIO_H

    def _audio_blocks(self) -> list[tuple[AudioClip, QRectF]]:
        project = self.state.project
        if project is None:
            return []
        top, _ = self._audio_lane()
        clips = sorted(project.audio, key=lambda c: c.start)
        blocks = []
        for i, clip in enumerate(clips):
            # AudioClip has no length: run it to the next clip or the end of the cut.
            end = clips[i + 1].start if i + 1 < len(clips) else self.state.cut.length
            x0 = self.x_of_frame(clip.start)
            x1 = self.x_of_frame(end) if end > clip.start else x0 + 120
            blocks.append((clip, QRectF(x0, top + 2, max(x1 - x0, 4.0), AUDIO_H - 4)))
        return blocks

    def _cut_index(self) -> CutIndex:
        cut = self.state.cut
        if self._index is None or self._index.cut is not cut:
            self._index = CutIndex.of(cut)
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

    # --- hit testing -------------------------------------------------------------------------
    def _hit(self, pos: QPointF) -> Hit:
        top, bottom = self._shot_lane()
        cut = self.state.cut
        if pos.y() >= bottom:
            # Later clips are painted over earlier ones, so the last one containing pos is on top.
            over = [clip.id for clip, rect in self._audio_blocks() if rect.contains(pos)]
            return Hit("audio", clip_id=over[-1]) if over else Hit("scrub")
        if pos.y() < top or not cut.entries:
            return Hit("scrub")
        found = cut.locate(self.frame_at_x(pos.x()))
        if found is None:  # just outside either end of the cut still grabs that edge
            if 0 <= pos.x() - self.x_of_frame(cut.length) <= EDGE_GRIP:
                return Hit("tail", cut.entries[-1])
            if 0 < self.x_of_frame(0) - pos.x() <= EDGE_GRIP:
                return Hit("head", cut.entries[0])
            return Hit("scrub")
        entry = found[0]
        if pos.y() >= bottom - PIN_ROW_H:
            pins = [p for p in entry.shot.pins if self._pin_marker(entry, p.frame).contains(pos)]
            if pins:
                nearest = min(pins, key=lambda p: abs(self._pin_marker(entry, p.frame).center().x() - pos.x()))
                return Hit("pin", entry, nearest.frame)
        rect = self._block(entry)
        grip = min(EDGE_GRIP, rect.width() / 4)
        if rect.right() - pos.x() <= grip:
            return Hit("tail", entry)
        if pos.x() - rect.left() <= grip:
            return Hit("head", entry)
        return Hit("shot", entry)

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
            found = cut.locate(math.floor(position))
            if found is None:  # inside the cut every frame has a shot; nothing to land on otherwise
                return None
            entry = found[0]
            # Which half of a shot decides the scene, too: the left half of a scene's first shot
            # is the start of that scene, the right half of the shot before is the end of its own.
            after = position - entry.start > entry.shot.duration / 2
        scene = project.scenes[entry.scene_index]
        index = [s.id for s in scene.shots].index(entry.shot.id) + (1 if after else 0)
        return scene.id, index, self.x_of_frame(entry.end if after else entry.start)
