"""The hash of everything a shot's clip is rendered from.

A clip take stores this hash when it is rendered; when the shot's current hash differs, the
clip is stale. Only what changes the pixels counts: pins (frame and the image content),
prompts, style, camera, duration, handles, render settings, and the project's frame rate and
resolution. Shot number, action, dialogue and notes don't, so renumbering a shot or fixing a
typo in its notes never asks for a re-render.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from engine.backend_registry import get_backend

if TYPE_CHECKING:  # types only: app.document imports this module to answer Project.is_stale
    from app.document import Project, Shot

# Bump when the meaning of an input changes, so every clip rendered before is marked stale.
INPUTS_VERSION = 1


def shot_inputs(shot: Shot, project: Project) -> dict:
    takes = {t.id: t for t in shot.keyframe_takes}
    cam = shot.camera
    inputs: dict = {
        "v": INPUTS_VERSION,
        "rate": [project.rate.num, project.rate.den],
        "size": [project.width, project.height],
        "duration": shot.duration,
        "handles": shot.handles,
        # The image hash, not the take id: re-importing the same picture changes nothing.
        "pins": [[p.frame, takes[p.take_id].image.sha256] for p in shot.pins],
        "prompt": shot.prompt,
        "negative_prompt": shot.negative_prompt,
        "style": shot.style,
        # The lens as the bundle stores it (a float: 35 and 35.0 are one lens, before and after a save).
        "camera": [cam.size, cam.angle, None if cam.lens_mm is None else float(cam.lens_mm), cam.move],
        "render": [shot.render.backend, shot.render.model_id, shot.render.seed, list(map(list, shot.render.params))],
    }
    if shot.references and _takes_references(shot.render.backend):
        # Only for a motion model that reads reference pictures (Wan VACE), and only when the shot has
        # some: every other clip keeps the hash it was rendered with. The picture's content counts, and
        # not its weight (motion models take the pictures alone) nor its name.
        inputs["references"] = [project.reference(ref_id).image.sha256 for ref_id in shot.references]
    if project.prompt_template:
        # Only when set: a project on the built-in template keeps the hashes its clips were made with.
        inputs["prompt_template"] = project.prompt_template
    return inputs


def _takes_references(backend: str) -> bool:
    try:
        return get_backend(backend).references
    except ValueError:  # no backend chosen yet ("")
        return False


def shot_inputs_hash(shot: Shot, project: Project) -> str:
    blob = json.dumps(shot_inputs(shot, project), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
