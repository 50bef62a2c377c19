"""What a shot's current clip is worth: none, missing, stale, a draft, or current.

One answer for every place that shows or acts on it (``pinframe info``, ``render --stale``,
Render ▸ Render Stale Shots, the timeline badge, the shots tree and the shot form), so they
can't disagree. Stale outranks draft: a draft whose inputs changed is stale like any clip.
A draft is its own state, not a kind of stale: its inputs are current, it was only made
quickly (fewer steps or a smaller work size, see :func:`app.engine_service.is_draft`).

Missing outranks everything else: a clip whose file is gone from the bundle can't be played
or exported however current its inputs are, so it is rendered again. Only callers that pass
the bundle's media (anything with ``exists(ref)``, e.g. :class:`app.media_store.MediaStore`)
can tell; without it the file is assumed present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from app.document import Project, Shot
from app.media_ref import MediaRef

ClipState = Literal["none", "missing", "stale", "draft", "current"]


class MediaLookup(Protocol):
    def exists(self, ref: MediaRef) -> bool: ...


def clip_state(project: Project, shot: Shot, media: MediaLookup | None = None) -> ClipState:
    """The state of the shot's current clip (hashes the shot: call once per shot per edit).

    ``media``: the bundle's media store; with it, a clip whose file was deleted is "missing"."""
    clip = shot.current_clip_take
    if clip is None:
        return "none"
    if media is not None and not media.exists(clip.media):
        return "missing"
    if project.is_stale(shot):  # its inputs hash covers handles too: a clip without them is stale
        return "stale"
    return "draft" if clip.draft else "current"


def needs_render(project: Project, shot: Shot, *, keep_drafts: bool = False, media: MediaLookup | None = None) -> bool:
    """Whether Render Stale renders ``shot``: it has pins, and its clip is absent, its file is
    missing (known only with ``media``), it is stale, or it is a draft (unless ``keep_drafts``:
    a director happy with the quick look for now)."""
    if not shot.pins:
        return False
    state = clip_state(project, shot, media)
    return state in ("none", "missing", "stale") or (state == "draft" and not keep_drafts)


@dataclass(frozen=True)
class MediaSnapshot:
    """Which clip files were missing when it was taken: a :class:`MediaLookup` that reads no disk.

    Taken on a worker thread (:func:`snapshot_clip_media`), then asked on the GUI thread, which must
    not stat a bundle that may be on a network drive once per shot."""

    missing: frozenset[MediaRef] = frozenset()

    def exists(self, ref: MediaRef) -> bool:
        return ref not in self.missing


def snapshot_clip_media(project: Project, media: MediaLookup) -> MediaSnapshot:
    """Look once (a stat a shot) for current clips whose file is gone."""
    clips = [s.current_clip_take for s in project.shots()]
    return MediaSnapshot(frozenset(c.media for c in clips if c is not None and not media.exists(c.media)))
