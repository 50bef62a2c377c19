"""What a shot's current clip is worth: none, stale, a draft, or current.

One answer for every place that shows or acts on it (``pinframe info``, ``render --stale``,
Render ▸ Render Stale Shots, the timeline badge, the shots tree and the shot form), so they
can't disagree. Stale outranks draft: a draft whose inputs changed is stale like any clip.
A draft is its own state, not a kind of stale: its inputs are current, it was only made
quickly (fewer steps or a smaller work size, see :func:`app.engine_service.is_draft`).
"""

from __future__ import annotations

from typing import Literal

from app.document import Project, Shot

ClipState = Literal["none", "stale", "draft", "current"]


def clip_state(project: Project, shot: Shot) -> ClipState:
    """The state of the shot's current clip (hashes the shot: call once per shot per edit)."""
    clip = shot.current_clip_take
    if clip is None:
        return "none"
    if project.is_stale(shot):  # its inputs hash covers handles too: a clip without them is stale
        return "stale"
    return "draft" if clip.draft else "current"


def needs_render(project: Project, shot: Shot, *, keep_drafts: bool = False) -> bool:
    """Whether Render Stale renders ``shot``: it has pins, and its clip is missing, stale, or a
    draft (unless ``keep_drafts``: a director happy with the quick look for now)."""
    if not shot.pins:
        return False
    state = clip_state(project, shot)
    return state in ("none", "stale") or (state == "draft" and not keep_drafts)
