"""The storyboard's data: one panel per shot of the cut, the list model, and where dropped panels go.

No painting here (ui.storyboard_grid draws and handles the mouse); the drop arithmetic is plain
functions on a project, so it is tested without a window.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt

from app.cut import Cut
from app.document import Project
from app.edits import Command
from app.media_ref import MediaRef
from app.timecode import format_duration
from ui.shot_moves import SCENE_END, place_shots
from ui.storyboard_thumbs import storyboard_ref

SHOTS_MIME = "application/x-pinframe-shots"
SHOT_ROLE = Qt.ItemDataRole.UserRole
INDEX_ROLE = Qt.ItemDataRole.UserRole + 1  # position in the cut, 0-based


@dataclass(frozen=True)
class Panel:
    """What one panel is drawn from (a value, so "did it change?" is one comparison)."""

    shot_id: str
    number: str
    duration: str
    action: str
    dialogue: str
    scene: int  # 1-based scene number
    scene_heading: str
    first_in_scene: bool
    ref: MediaRef | None  # the picture


def panels_of(project: Project | None, cut: Cut) -> list[Panel]:
    if project is None:
        return []
    out, last_scene = [], -1
    for entry in cut.entries:
        shot = entry.shot
        out.append(
            Panel(
                shot.id,
                shot.number,
                format_duration(shot.duration, project.rate, drop_frame=project.drop_frame),
                shot.action,
                shot.dialogue,
                entry.scene_index + 1,
                project.scenes[entry.scene_index].heading,
                entry.scene_index != last_scene,
                storyboard_ref(shot),
            )
        )
        last_scene = entry.scene_index
    return out


def drop_place(project: Project, moving: Sequence[str], ref_id: str | None, after: bool) -> tuple[str, int] | None:
    """Where shots dropped before / after the panel ``ref_id`` go: (scene id, index among the
    scene's staying shots), as ``shot_moves.place_shots`` takes it. ``ref_id`` None: the end."""
    gone = set(moving)
    order = [s.id for s in project.shots()]
    staying = [i for i in order if i not in gone]
    if not staying:
        return None
    if ref_id is None or ref_id not in order:
        return project.scenes[-1].id, SCENE_END
    # A panel that is itself moving is no anchor: use the nearest staying panel on the drop's side.
    position = order.index(ref_id) + int(after)
    before = [i for i in order[:position] if i not in gone]
    if before:
        anchor = before[-1]
        si, _ = project.locate_shot(anchor)
        scene = project.scenes[si]
        kept = [s.id for s in scene.shots if s.id not in gone]
        return scene.id, kept.index(anchor) + 1
    first = staying[0]
    si, _ = project.locate_shot(first)
    return project.scenes[si].id, 0


def move_to(project: Project, moving: Sequence[str], ref_id: str | None, after: bool) -> Command | None:
    target = drop_place(project, moving, ref_id, after)
    return place_shots(project, list(moving), *target) if target else None


def shots_mime(shot_ids: Sequence[str]) -> QMimeData:
    data = QMimeData()
    data.setData(SHOTS_MIME, json.dumps(list(shot_ids)).encode())
    return data


def read_shots(mime: QMimeData) -> list[str]:
    if not mime.hasFormat(SHOTS_MIME):
        return []
    try:
        value = json.loads(bytes(mime.data(SHOTS_MIME).data()).decode())
    except ValueError:
        return []
    return [str(i) for i in value] if isinstance(value, list) else []


# --- the model -------------------------------------------------------------------------------------
class StoryboardModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self.panels: list[Panel] = []

    def show(self, panels: list[Panel]) -> bool:
        """Take the new panels; True when the rows were rebuilt (the order or count changed)."""
        if [p.shot_id for p in panels] != [p.shot_id for p in self.panels]:
            self.beginResetModel()
            self.panels = panels
            self.endResetModel()
            return True
        changed = [n for n, (old, new) in enumerate(zip(self.panels, panels, strict=True)) if old != new]
        self.panels = panels
        if changed:  # typing in one shot's action repaints that panel only
            self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))
        return False

    def row_of(self, shot_id: str) -> int:
        return next((n for n, p in enumerate(self.panels) if p.shot_id == shot_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.panels)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.panels):
            return None
        panel = self.panels[index.row()]
        if role == SHOT_ROLE:
            return panel.shot_id
        if role == INDEX_ROLE:
            return index.row()
        if role == Qt.ItemDataRole.DisplayRole:
            return panel.number
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"Shot {panel.number} · {panel.duration}", f"Scene {panel.scene}: {panel.scene_heading}"]
            lines += [t for t in (panel.action, f"“{panel.dialogue}”" if panel.dialogue else "") if t]
            return "\n".join(lines)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        return base if index.isValid() else Qt.ItemFlag.ItemIsDropEnabled

    def mimeTypes(self) -> list[str]:
        return [SHOTS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes})
        return shots_mime([self.panels[r].shot_id for r in rows])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction
