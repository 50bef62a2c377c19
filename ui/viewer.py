"""The viewer: the cut at the playhead, played at the project's frame rate.

Frames come from :class:`app.cut.FrameCache`. The GUI thread only ever paints a picture that
is already decoded; a missing one is made on a worker thread (the newest request wins) and
painted when it arrives, while the previous picture stays up. Playback reads a monotonic clock
and converts elapsed time to frames with the exact rational rate, so a 23.976 cut never
drifts; a frame that isn't decoded in time is skipped, never waited for.

Keys follow editors: Space play/pause, L forward (again: faster), J backward, K stop,
Left/Right one frame, Up/Down previous/next shot, Home/End. Sound plays at normal speed
forward (:mod:`ui.sound`); shuttling (J, L twice) is silent, as in most editors' default.

Keyframe takes can be shown full size in place of the cut (:mod:`ui.take_compare`): one, two
side by side, or two flipped A/B with X (S switches between the two). Scrubbing, playing or
Esc goes back to the cut.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.cut import FrameCache
from app.timecode import frames_to_timecode
from ui.sound import SoundPlayer
from ui.state import EditorState
from ui.take_compare import SINGLE, TakeCompare, TakeRef

if TYPE_CHECKING:
    from ui.live_draft import LiveDrafts

PREFETCH_FRAMES = 24
# Keys that mean something only while takes are shown; they win over window shortcuts then.
COMPARE_KEYS = (Qt.Key.Key_Escape, Qt.Key.Key_X, Qt.Key.Key_S)


class ViewerWidget(QWidget):
    frame_shown = Signal(int)  # the cut frame whose picture is on screen now
    live_drafts: LiveDrafts | None = None  # flow drafts of shots without a current clip (set_live_drafts)

    def __init__(self, state: EditorState, *, display_size: tuple[int, int] = (960, 540)) -> None:
        super().__init__()
        self.state = state
        self.display_size = display_size
        self.cache: FrameCache | None = None
        self.clock: Callable[[], float] = time.monotonic
        self.speed = 0  # frames of the cut per frame of real time: 0 stopped, 1 play, -1 reverse, 2, 4...
        self._play_origin: tuple[float, int] = (0.0, 0)
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None  # keeps the QImage's buffer alive
        self.shown_frame = -1
        self.shown_key: tuple | None = None
        self._wanted: tuple | None = None
        self._inflight: set[tuple] = set()
        self._tasks: set[asyncio.Task] = set()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self.sound = SoundPlayer(state, self)
        self.sound.picture_position = lambda: (
            self.position_at(self.clock()) if self.playing else Fraction(self.state.playhead)
        )
        self.compare = TakeCompare(self)
        self.compare.changed.connect(self.update)
        self.compare.failed.connect(state.message.emit)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        state.session_changed.connect(self._on_session)
        state.project_changed.connect(self._on_project)
        state.playhead_changed.connect(self._on_playhead)
        self._on_session(state.session)

    # --- setup -------------------------------------------------------------------------------------
    def _on_project(self, project) -> None:
        self.compare.prune(project)
        self.show_frame(self.state.playhead)
        self.sound.prepare()

    def _on_session(self, session) -> None:
        self.compare.close()
        self.stop()
        self.sound.reset(session)
        self.cache = None
        if session is not None:
            w, h = self._display_for(session.project.width, session.project.height)
            self.cache = FrameCache(session.media, w, h)
        self.show_frame(self.state.playhead)

    def _display_for(self, width: int, height: int) -> tuple[int, int]:
        max_w, max_h = self.display_size
        scale = min(max_w / width, max_h / height, 1.0)
        return max(2, round(width * scale)) // 2 * 2, max(2, round(height * scale)) // 2 * 2

    # --- showing frames --------------------------------------------------------------------------
    def set_live_drafts(self, drafts: LiveDrafts) -> None:
        """Show ``drafts``' frames, marked DRAFT, for shots whose clip is missing or stale."""
        self.live_drafts = drafts
        drafts.changed.connect(self._on_live_draft)

    def _on_live_draft(self, _shot_id: str) -> None:
        self.show_frame(self.state.playhead)
        self.update()  # the mark says how the draft is coming, whatever the picture

    def picture_area(self) -> tuple[int, int]:
        """The device pixels a picture can fill now (what a live draft is sized to)."""
        ratio = self.devicePixelRatioF()
        return round(self.width() * ratio), round(max(1, self.height() - 28) * ratio)

    def _on_playhead(self, frame: int) -> None:
        if not self.playing:  # playback moves the playhead too, and playing already went back
            self.back_to_playback()  # scrubbing means looking at the cut again
        self.show_frame(frame)

    def show_frame(self, frame: int) -> bool:
        """Paint ``frame`` if its picture is ready (True); otherwise ask for it and keep the last one."""
        project = self.state.project
        if self.cache is None or project is None:
            self._set_image(None, -1, None)
            return False
        drafted = self.live_drafts.picture(project, self.state.cut, frame) if self.live_drafts else None
        if drafted is not None:  # already decoded: shown at once, and a late pin picture must not replace it
            self._wanted = None
            self._set_image(drafted[1], frame, drafted[0])
            return True
        key = self.cache.key(project, self.state.cut, frame)
        picture = self.cache.cached(key)
        if picture is not None:
            self._set_image(picture, frame, key)
            return True
        self._wanted = (frame, key)
        if key is not None:
            self._request(key)
        return False

    def _request(self, key: tuple) -> None:
        if key in self._inflight or self.cache is None:
            return
        self._inflight.add(key)
        cache = self.cache
        task = asyncio.ensure_future(asyncio.get_event_loop().run_in_executor(None, cache.render, key))
        self._tasks.add(task)

        def done(t: asyncio.Future) -> None:
            self._tasks.discard(t)
            self._inflight.discard(key)
            if t.cancelled() or t.exception() is not None or cache is not self.cache:
                return
            if self._wanted is not None and self._wanted[1] == key:
                self._set_image(t.result(), self._wanted[0], key)
                self._wanted = None

        task.add_done_callback(done)

    def prefetch(self, start: int, count: int = PREFETCH_FRAMES, step: int = 1) -> None:
        """Decode the frames playback is about to need, off the GUI thread."""
        project = self.state.project
        if self.cache is None or project is None:
            return
        cut = self.state.cut
        for frame in range(start, start + count * step, step):
            if self.live_drafts is not None and self.live_drafts.picture(project, cut, frame) is not None:
                continue  # a live draft's frames are in memory already
            key = self.cache.key(project, cut, frame)
            if key is not None and self.cache.cached(key) is None:
                self._request(key)

    def _set_image(self, picture: np.ndarray | None, frame: int, key: tuple | None) -> None:
        if picture is None:
            self._image, self._pixels = None, None
        else:
            self._pixels = np.ascontiguousarray(picture)
            h, w = self._pixels.shape[:2]
            self._image = QImage(self._pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self.shown_frame, self.shown_key = frame, key
        self.update()
        if frame >= 0:
            self.frame_shown.emit(frame)

    def shown_pixels(self) -> np.ndarray | None:
        return self._pixels

    # --- takes full size -----------------------------------------------------------------------
    def show_takes(self, refs: list[TakeRef], mode: str = SINGLE) -> asyncio.Task | None:
        """Show keyframe takes in place of the cut: one, or two side by side / flipped A/B."""
        if not refs:
            return None
        self.stop()
        return self.compare.open(refs, mode)

    def back_to_playback(self) -> None:
        self.compare.close()

    @property
    def showing_takes(self) -> bool:
        return self.compare.active

    # --- playback --------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.speed != 0

    def play(self, speed: int = 1) -> None:
        self.back_to_playback()
        project = self.state.project
        if project is None or self.state.cut.length == 0:
            return
        if speed > 0 and self.state.playhead >= self.state.cut.length - 1:
            self.state.set_playhead(0)  # play from the top again, as editors do
        self.speed = speed
        self._play_origin = (self.clock(), self.state.playhead)
        self.prefetch(self.state.playhead, step=1 if speed > 0 else -1)
        fps = project.rate.fps
        self._timer.start(max(1, int(1000 / float(fps) / 2)))  # twice per frame: never late by a whole frame
        if speed == 1:
            self.sound.start(self.state.playhead)
        else:
            self.sound.stop()

    def stop(self) -> None:
        self.speed = 0
        self._timer.stop()
        self.sound.stop()

    def toggle(self) -> None:
        if self.playing:
            self.stop()
        else:
            self.play(1)

    def position_at(self, now: float) -> Fraction:
        """Where playback is at ``now``, in frames of the cut (exact, between frames too)."""
        project = self.state.require_project()  # only asked while playing one
        started, frame0 = self._play_origin
        elapsed = Fraction(now - started).limit_denominator(10**6)
        return frame0 + elapsed * project.rate.fps * self.speed

    def frame_for_time(self, now: float) -> int:
        """The cut frame due at ``now`` during playback, from the exact rational rate."""
        position = self.position_at(now)
        return position.numerator // position.denominator

    def _tick(self) -> None:
        if not self.playing or self.state.project is None:
            return
        frame = self.frame_for_time(self.clock())
        last = self.state.cut.length - 1
        if frame > last or frame < 0:
            self.state.set_playhead(min(max(frame, 0), last))
            self.stop()
            return
        self.state.set_playhead(frame)
        self.prefetch(frame + self.speed, count=PREFETCH_FRAMES, step=1 if self.speed > 0 else -1)

    # --- keys ------------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and self.showing_takes
            and event.key() in COMPARE_KEYS
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            event.accept()  # keyPressEvent gets these keys, whatever the window's shortcuts
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        state = self.state
        if self.showing_takes and key in COMPARE_KEYS:
            compare_keys: dict[int, Callable[[], None]] = {
                Qt.Key.Key_Escape: self.back_to_playback,
                Qt.Key.Key_X: self.compare.flip,
                Qt.Key.Key_S: self.compare.toggle_side_by_side,
            }
            compare_keys[key]()
        elif key == Qt.Key.Key_Space:
            self.toggle()
        elif key == Qt.Key.Key_L:
            self.play(self.speed * 2 if self.speed > 0 else 1)
        elif key == Qt.Key.Key_J:
            self.play(self.speed * 2 if self.speed < 0 else -1)
        elif key == Qt.Key.Key_K:
            self.stop()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.stop()
            state.set_playhead(state.playhead + (1 if key == Qt.Key.Key_Right else -1))
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.stop()
            state.set_playhead(self._shot_boundary(forward=key == Qt.Key.Key_Down))
        elif key == Qt.Key.Key_Home:
            self.stop()
            state.set_playhead(0)
        elif key == Qt.Key.Key_End:
            self.stop()
            state.set_playhead(state.cut.length - 1)
        else:
            super().keyPressEvent(event)

    def _shot_boundary(self, *, forward: bool) -> int:
        starts = [e.start for e in self.state.cut.entries]
        here = self.state.playhead
        if forward:
            return next((s for s in starts if s > here), self.state.cut.length - 1)
        return next((s for s in reversed(starts) if s < here), 0)

    # --- painting --------------------------------------------------------------------------------
    def timecode_text(self) -> str:
        project = self.state.project
        if project is None:
            return ""
        frame = project.start_frame + max(0, self.state.playhead)
        return frames_to_timecode(frame, project.rate, drop_frame=project.drop_frame)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0c0c0e"))
        if self.showing_takes:
            self.compare.paint(painter, QRect(0, 0, self.width(), self.height() - 28))
            painter.setPen(QColor("#d9a441"))
            painter.setFont(QFont("monospace", 12))
            painter.drawText(QRect(8, self.height() - 26, self.width() - 16, 24), Qt.AlignmentFlag.AlignVCenter,
                             self.compare.caption())  # fmt: skip
            painter.end()
            return
        if self._image is not None:
            iw, ih = self._image.width(), self._image.height()
            scale = min(self.width() / iw, (self.height() - 28) / ih)
            w, h = int(iw * scale), int(ih * scale)
            target = QRect((self.width() - w) // 2, (self.height() - 28 - h) // 2, w, h)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, self._image)
        self._paint_draft_mark(painter)
        painter.setPen(QColor("#d9a441"))
        painter.setFont(QFont("monospace", 12))
        found = self.state.cut.locate(self.state.playhead)
        where = f"Shot {found[0].shot.number} · frame {found[1]}" if found else "No shots"
        painter.drawText(QRect(8, self.height() - 26, self.width() - 16, 24), Qt.AlignmentFlag.AlignVCenter,
                         f"{self.timecode_text()}    {where}")  # fmt: skip
        painter.end()

    def draft_mark(self) -> str:
        """The mark over the picture: DRAFT on a live draft's frame, or how the shot's draft is coming."""
        if self.shown_key is not None and self.shown_key[0] == "live":
            return "DRAFT"
        found = self.state.shot_at_playhead()
        return self.live_drafts.status_text(found[0]) if self.live_drafts is not None and found else ""

    def _paint_draft_mark(self, painter: QPainter) -> None:
        text = self.draft_mark()
        if not text:
            return
        painter.setFont(QFont("sans", 11, QFont.Weight.Bold))
        box = painter.fontMetrics().boundingRect(text).adjusted(-8, -4, 8, 4)
        box.moveTopLeft(self.rect().topLeft() + QPoint(10, 10))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(79, 134, 198, 220) if text == "DRAFT" else QColor(40, 40, 46, 220))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor("#f2f2f4"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
