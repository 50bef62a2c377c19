"""Edits a timeline drag builds: a retime from the shot as it was at press."""

from __future__ import annotations

from dataclasses import replace

from app import commands
from app.document import Pin, Project, with_shot
from app.edits import Command


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
