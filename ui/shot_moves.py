"""What the shots panel's buttons do to a project, without a window: outline rows, moves, camera and retime edits.

:func:`place_shots` is also where a dragged selection lands on the storyboard and the timeline:
one drop, one undo step, whichever view it was made in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypedDict, Unpack

from app import commands
from app.document import Project
from app.edits import Command
from app.timecode import parse_duration

Row = tuple[str, str]  # ("scene" | "shot", id): one line of the outline
SCENE_END = 1 << 30  # past the end of any scene; inserts clamp it to "append"


# --- what the buttons do, without a window (tested on plain projects) ---------------------------
def cut_rows(project: Project) -> list[Row]:
    rows: list[Row] = []
    for scene in project.scenes:
        rows.append(("scene", scene.id))
        rows.extend(("shot", shot.id) for shot in scene.shots)
    return rows


def place_shots(project: Project, shot_ids: list[str], scene_id: str, index: int) -> Command | None:
    """Put shots (kept in cut order) at ``index`` of a scene, counting only the shots that stay.

    One command, so one undo step; None when the cut would read the same (dropped where it was).
    """
    wanted = set(shot_ids)
    ids = [s.id for s in project.shots() if s.id in wanted]
    if not ids:
        return None
    command = commands.move_shots(project, ids, scene_id, index)
    moved, _ = command.apply(project)
    return None if cut_rows(moved) == cut_rows(project) else command


def step_target(project: Project, shot_ids: list[str], step: int) -> tuple[str, int] | None:
    """Where Move Up (-1) / Down (+1) puts the shots: one row past the neighbouring row.

    A scene heading counts as a row, so the first shot of a scene moves up to the end of the
    scene before it. Several shots close up into one block next to that row.
    """
    rows = cut_rows(project)
    moving = {("shot", i) for i in shot_ids}
    positions = [n for n, row in enumerate(rows) if row in moving]
    if not positions:
        return None
    staying = [row for row in rows if row not in moving]
    anchor = positions[0] if step < 0 else positions[-1]
    before = sum(1 for row in rows[:anchor] if row not in moving)
    slot = before - 1 if step < 0 else before + 1
    if not 1 <= slot <= len(staying):  # slot 0 would be above the first heading
        return None
    above = staying[:slot]
    heading = max(n for n, row in enumerate(above) if row[0] == "scene")
    return above[heading][1], len(above) - 1 - heading


def step_shots(project: Project, shot_ids: list[str], step: int) -> Command | None:
    target = step_target(project, shot_ids, step)
    return place_shots(project, shot_ids, *target) if target else None


def step_scene(project: Project, scene_id: str, step: int) -> Command | None:
    index = project.scene_index(scene_id) + step
    return commands.move_scene(project, scene_id, index) if 0 <= index < len(project.scenes) else None


class CameraChanges(TypedDict, total=False):
    """The fields of :class:`app.document.Camera`, any of which set_camera may change."""

    size: str
    angle: str
    lens_mm: float | None
    move: str


def set_camera(project: Project, shot_id: str, **changes: Unpack[CameraChanges]) -> Command:
    """One camera field; Camera's own check (lens range...) refuses a bad value here."""
    camera = replace(project.shot(shot_id).camera, **changes)
    return commands.set_shot_fields(project, shot_id, camera=camera)


def retime_text(project: Project, shot_id: str, text: str) -> Command | None:
    """A duration as typed (frames, ``2s`` or timecode); None when it is the length already."""
    frames = parse_duration(text, project.rate)
    if frames == project.shot(shot_id).duration:
        return None
    return commands.retime_shot(project, shot_id, frames)
