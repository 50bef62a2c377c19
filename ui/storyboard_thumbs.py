"""Which picture stands for a shot on the storyboard and in the shot list, loaded lazily off the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QPixmap

from app.document import KeyframeTake, Shot
from app.media_ref import MediaRef
from ui.state import EditorState
from ui.takes import ThumbnailLoader


def storyboard_take(shot: Shot) -> KeyframeTake | None:
    """The take chosen as the shot's thumbnail, else its first pin's, else its newest; None: no takes."""
    takes = {t.id: t for t in shot.keyframe_takes}
    if shot.thumbnail_take in takes:
        return takes[shot.thumbnail_take]
    if shot.pins:
        return takes.get(min(shot.pins, key=lambda p: p.frame).take_id)
    # Takes are appended as they are made, so the last is the newest.
    return shot.keyframe_takes[-1] if shot.keyframe_takes else None


def storyboard_ref(shot: Shot) -> MediaRef | None:
    take = storyboard_take(shot)
    return take.image if take is not None else None


class ShotThumbnails(ThumbnailLoader):
    """A ThumbnailLoader that knows where the open project's media are.

    Asking is cheap and never waits: a view asks only for the shots it paints, so a cut of
    hundreds of shots decodes just the panels on screen (and the rest as they scroll in).
    """

    def __init__(self, state: EditorState, box: QSize, capacity: int = 512) -> None:
        super().__init__(box, capacity)
        self.state = state
        # A shot with no keyframe yet: an empty frame, so the rows' text still lines up.
        self.blank = QPixmap(box)
        self.blank.fill(QColor("#2a2b30"))

    def pending(self) -> int:
        """How many pictures are still being decoded."""
        return len(self._pending)

    def for_shot(self, shot: Shot) -> QPixmap | None:
        """The shot's picture, the loading placeholder while it decodes, or None when it has none."""
        ref = storyboard_ref(shot)
        if ref is None or self.state.session is None:
            return None
        cached = self.cached(ref)
        if cached is not None:
            return cached
        return self.get(ref, self.state.session.media.path(ref))
