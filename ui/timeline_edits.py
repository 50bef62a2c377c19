"""Edits a timeline drag builds: a retime from the shot as it was at press, a reorder of several shots."""

from __future__ import annotations

from dataclasses import replace

from app import commands
from app.document import Pin, Project, with_shot
from app.edits import Command, MoveShot


def press_shape(project: Project, shot_id: str, duration: int, pins: tuple[Pin, ...]) -> Project:
    """The project with one shot back at its length and pins from when the drag began."""
    return with_shot(project, replace(project.shot(shot_id), duration=duration, pins=pins))


def retime_from_press(
    project: Project, shot_id: str, duration: int, edge: str, press_duration: int, press_pins: tuple[Pin, ...]
) -> Command:
    # Each step retimes from the shot as it was at press, not as the last step left it: a pin
    # trimmed off on the way in comes back when the edge is dragged out again in the same drag.
    base = press_shape(project, shot_id, press_duration, press_pins)
    return commands.retime_shot(base, shot_id, duration, edge=edge, merge=True)


def reorder(project: Project, ids: list[str], scene_id: str, kept_before: int) -> Command | None:
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
