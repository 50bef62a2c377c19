"""The storyboard timeline: shots as blocks on the cut, their pins, a ruler, the playhead, audio.

Everything is painted by hand because a cut of a thousand shots must scrub smoothly: a paint
only draws what the exposed rectangle shows, moving the playhead repaints two thin strips,
and nothing here touches the disk while painting. Pin thumbnails are decoded small on a
worker thread (through the qasync loop) and cached by media reference.

Edits go through :class:`~ui.state.EditorState`. A drag (pin, shot edge) edits live with
``merge=True`` so other panels follow it, and ``History.close_merge`` on release makes the
whole drag one undo step.

A click on a pin or an audio clip *picks* it (drawn in the accent colour): Delete / Backspace
and the right-click menus (ui.timeline_menus) act on it before the selected shots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QScrollBar, QToolTip, QWidget

from app import commands
from app.clip_state import clip_state
from app.document import Pin, Project
from app.errors import PinframeError
from app.media_ref import MediaRef
from app.timecode import format_duration, frames_to_timecode
from ui.shot_moves import place_shots
from ui.state import EditorState
from ui.timeline_drops import TimelineDrops
from ui.timeline_edits import press_shape, retime_from_press
from ui.timeline_layout import AUDIO_H, HEADER_H, PIN_ROW_H, RULER_H, SCENE_H, CutIndex, Hit, Picked
from ui.timeline_menus import context_menu, delete_selection, install_delete, install_zoom_to_fit, refresh_icons
from ui.timeline_paint import BG, DIM, TimelinePainting
from ui.timeline_thumbnails import THUMB_H, Thumbnails

if TYPE_CHECKING:
    from ui.live_draft import LiveDrafts


@dataclass
class _Drag:
    hit: Hit
    press: QPointF
    active: bool = False  # past the drag distance; a press alone edits nothing
    edited: bool = False
    frame: int = 0  # pin: where it is now
    duration: int = 0  # edge: the shot's length at press
    pins: tuple[Pin, ...] = ()  # edge: the shot's pins at press
    ids: list[str] = field(default_factory=list)  # shot drag: what moves
    drop: tuple[str, int, float] | None = None  # shot drag: scene id, index in scene, marker x
    lost: list[Pin] = field(default_factory=list)  # edge: pins this retime would unpin


class TimelineWidget(TimelineDrops, TimelinePainting, QWidget):
    live_drafts: LiveDrafts | None = None  # the window's live motion drafts, marked LIVE on their shots

    def __init__(self, state: EditorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._ppf = 4.0
        self._scroll = 0.0  # float so zooming keeps the frame under the cursor exactly
        self._index: CutIndex | None = None
        self._badges: tuple[Project | None, dict[str, str]] = (None, {})
        self._thumbs = Thumbnails(self._thumbnail_ready, lambda: round(THUMB_H * self.devicePixelRatioF()))
        self._menu_icons: list[tuple[QAction, MediaRef]] = []  # Replace With entries waiting for a thumbnail
        self._picked: Picked | None = None
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
        # What the shot blocks were last painted as (current shot, selection): a change repaints those blocks only.
        self._painted_marks: tuple[str | None, frozenset[str]] = (None, frozenset())
        state.selection_changed.connect(self._on_selection)
        state.current_shot_changed.connect(self._on_selection)
        state.playhead_changed.connect(self._on_playhead)
        self.act_zoom_fit = install_zoom_to_fit(self)
        self.act_delete = install_delete(self)

    # --- public (tests and other panels) ----------------------------------------------------
    def playhead_label(self) -> str:
        project = self.state.project
        if project is None:
            return ""
        return frames_to_timecode(
            project.start_frame + self.state.playhead, project.rate, drop_frame=project.drop_frame
        )

    def badge_for(self, shot_id: str) -> str:
        """The shot's clip badge: ``stale``, ``draft`` (current, but quickly made), ``clip`` (a current
        render) or empty (never rendered)."""
        project = self.state.project
        if project is None:
            return ""
        if self._badges[0] is not project:
            self._badges = (project, {})  # staleness hashes the shot: once per shot per edit
        badges = self._badges[1]
        if shot_id not in badges:
            state = clip_state(project, project.shot(shot_id))
            badges[shot_id] = {"none": "", "current": "clip"}.get(state, state)
        return badges[shot_id]

    def live_mark(self, shot_id: str) -> str:
        """``live`` while the viewer shows a live motion draft of the shot, ``drafting`` while one
        is on its way, else empty. Separate from the clip badge: a live draft is no clip take."""
        if self.live_drafts is None:
            return ""
        return {"ready": "live", "queued": "drafting", "drafting": "drafting"}.get(self.live_drafts.status(shot_id), "")

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

    @property
    def picked(self) -> Picked | None:
        """The pin or audio clip last clicked: Delete and the menus act on it before the shots."""
        return self._picked

    def pick(self, picked: Picked | None) -> None:
        if picked != self._picked:
            self._picked = picked
            self.update()

    def has_thumbnail(self, ref: MediaRef) -> bool:
        return ref in self._thumbs

    def thumbnails_pending(self) -> int:
        return self._thumbs.pending

    def sizeHint(self) -> QSize:
        return QSize(900, 220)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, RULER_H + SCENE_H + HEADER_H + PIN_ROW_H + 30 + AUDIO_H + self._hbar.sizeHint().height())

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
        self._picked = None
        self._scroll = 0.0
        self._set_scroll(0.0)

    def _on_selection(self, _what: object = None) -> None:
        # Scrubbing into a shot makes it current (EditorState): repainting the whole cut on every
        # shot boundary would undo the thin-strip playhead repaint, so only the changed blocks are.
        was_current, was_selected = self._painted_marks
        current, selected = self.state.current_shot, frozenset(self.state.selection)
        self._painted_marks = (current, selected)
        moved = {s for s in (was_current, current) if s is not None} if was_current != current else set()
        changed = was_selected ^ selected | moved
        if len(changed) > 64:
            self.update()
            return
        for shot_id in changed:
            self.update(self.shot_rect(shot_id).toAlignedRect().adjusted(-2, -2, 2, 2))

    def _thumbnail_ready(self) -> None:
        self.update()
        refresh_icons(self)

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

    # --- mouse -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.state.project is None:
            return super().mousePressEvent(event)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        hit = self._hit(event.position())
        drag = _Drag(hit, event.position())
        self.pick(None)
        if hit.kind == "audio":
            self.pick(Picked("audio", clip_id=hit.clip_id))
            return  # a click picks the clip; its menu moves it
        if hit.kind == "scrub":
            drag.active = True
            self.state.set_playhead(self.frame_at_x(event.position().x()))
        elif hit.kind == "pin":
            entry = hit.require_entry()
            drag.frame = hit.frame
            self.pick(Picked("pin", entry.shot.id, hit.frame))
            self.state.set_current_shot(entry.shot.id)
            # Like a marker in an editor: a click on a pin parks the playhead on it, so it shows in the viewer.
            self.state.set_playhead(entry.start + hit.frame)
        elif hit.kind in ("tail", "head"):
            shot = hit.require_entry().shot
            drag.duration, drag.pins = shot.duration, shot.pins
        else:
            drag.ids = self._press_select(hit.require_entry().shot.id, event.modifiers())
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
        entry = self.state.cut.entry(drag.hit.require_entry().shot.id)
        if entry is None:
            return
        target = min(max(self.frame_at_x(pos.x()) - entry.start, 0), entry.shot.duration - 1)
        # A frame with another pin is skipped: the pin waits where it is until a free frame.
        if target != drag.frame and entry.shot.pin_at(target) is None:
            shot_id = entry.shot.id
            if self.state.edit(commands.move_pin, shot_id, drag.frame, target, merge=True):
                drag.frame, drag.edited = target, True

    def _drag_edge(self, drag: _Drag, event: QMouseEvent) -> None:
        shot_id = drag.hit.require_entry().shot.id
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
        if self.state.edit(retime_from_press, shot_id, duration, edge, drag.duration, drag.pins):
            drag.edited = True
            try:
                base = press_shape(self.state.require_project(), shot_id, drag.duration, drag.pins)
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
        if drag.hit.kind == "pin":
            # The pin stays picked where it landed.
            self.pick(Picked("pin", drag.hit.require_entry().shot.id, drag.frame))
        if drag.hit.kind == "shot":
            if drag.active and drag.drop is not None:
                self._apply_reorder(drag.ids, drag.drop[0], drag.drop[1])
            elif not drag.active and not event.modifiers() & _EXTEND:
                shot_id = drag.hit.require_entry().shot.id
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
        command = place_shots(project, ids, scene_id, len(before))
        if command is not None:
            self.state.do(command)

    def _hover(self, pos: QPointF) -> None:
        kind = self._hit(pos).kind if self.state.project is not None else "scrub"
        edge = Qt.CursorShape.SizeHorCursor
        shapes = {"pin": Qt.CursorShape.OpenHandCursor, "tail": edge, "head": edge}
        self.setCursor(shapes.get(kind, Qt.CursorShape.ArrowCursor))

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self._drag is not None:
            return
        pos = QPointF(event.pos())
        if event.reason() == QContextMenuEvent.Reason.Keyboard:  # the Menu key: what is picked, else the shot
            picked, current = self._picked, self.state.current_shot
            if picked is not None and picked.kind == "pin":
                pos = self.pin_rect(picked.shot_id, picked.frame).center()
            elif picked is not None:
                pos = self.audio_rect(picked.clip_id).center()
            elif current is not None:
                pos = self.shot_rect(current).center()
        menu = context_menu(self, pos)
        if menu is None:
            event.ignore()
            return
        menu.exec(self.mapToGlobal(pos.toPoint()))
        menu.deleteLater()

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)  # always, for a ShortcutOverride: it says which key
            and event.key() in _DELETE_KEYS
        ):
            event.accept()  # Delete here acts on the timeline's selection, even if the window binds it
            return True
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
        if project is None:
            return ""
        hit = self._hit(QPointF(pos))
        if hit.entry is None:
            return ""
        shot = hit.entry.shot
        if hit.kind == "pin":
            return f"Shot {shot.number}: pin at frame {hit.frame} (drag to move it)"
        duration = format_duration(shot.duration, project.rate, drop_frame=project.drop_frame)
        clip = {
            "stale": "clip is stale: its inputs changed",
            "draft": "clip is a draft (fewer steps or a smaller size); Render Stale renders it in full",
            "clip": "clip is current",
            "": "not rendered",
        }
        lines = [f"Shot {shot.number} · {shot.duration} frames ({duration})", clip[self.badge_for(shot.id)]]
        take = shot.current_clip_take
        if take is not None:
            lines.append(f"made by {take.made_by}")
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
        elif key in _DELETE_KEYS and self._drag is None:
            delete_selection(self)
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


_EXTEND = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
_DELETE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
