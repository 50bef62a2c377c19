"""Keyframes dropped on the timeline from the keyframe panel: a take pinned where it lands, on its own shot only."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

from app import commands
from app.errors import PinframeError
from ui.mime import read_take
from ui.state import EditorState
from ui.timeline_layout import WidgetMixinBase


class TimelineDrops(WidgetMixinBase):
    """The drop handlers of :class:`~ui.timeline.TimelineWidget` (a mixin of it)."""

    state: EditorState
    _take_drop: tuple[int, bool] | None  # cut frame, belongs to that shot
    frame_at_x: Callable[[float], int]  # ui.timeline_layout.TimelineLayout's

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
            return self.state.require_project().shot(shot_id).number  # a drop lands on a shot: a project is open
        except PinframeError:
            return "(deleted)"
