"""Primitive edit operations on the document, each returning its own inverse.

Every change to a project is a :class:`Command`: a label for the Edit menu plus a few of the
primitive operations below. Applying an operation gives the new project *and* the operation
that undoes it, so undo is exact and never needs a snapshot of the whole project. The
user-level commands (retime, pin, reorder...) live in :mod:`app.commands` and are built from
these.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from app.document import AudioClip, Project, Scene, Shot, with_shot
from app.errors import EditError

_PROJECT_FIELDS = frozenset(
    {"name", "rate", "width", "height", "start_frame", "drop_frame", "motion_model", "prompt_template"}
)
_SCENE_FIELDS = frozenset({"heading", "synopsis"})


class Op(Protocol):
    def apply(self, project: Project) -> tuple[Project, Op]: ...


Changes = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class SetProjectFields:
    changes: Changes

    def apply(self, project: Project) -> tuple[Project, Op]:
        bad = {k for k, _ in self.changes} - _PROJECT_FIELDS
        if bad:
            raise EditError(f"project settings have no field {', '.join(sorted(bad))}")
        old = tuple((k, getattr(project, k)) for k, _ in self.changes)
        return replace(project, **dict(self.changes)), SetProjectFields(old)


@dataclass(frozen=True)
class InsertScene:
    index: int
    scene: Scene

    def apply(self, project: Project) -> tuple[Project, Op]:
        if any(s.id == self.scene.id for s in project.scenes):
            raise EditError(f"a scene with id {self.scene.id} already exists")
        _check_unique_shots(project, self.scene.shots)
        i = _clamp(self.index, len(project.scenes))
        scenes = project.scenes[:i] + (self.scene,) + project.scenes[i:]
        return replace(project, scenes=scenes), RemoveScene(self.scene.id)


@dataclass(frozen=True)
class RemoveScene:
    scene_id: str

    def apply(self, project: Project) -> tuple[Project, Op]:
        i = project.scene_index(self.scene_id)
        scene = project.scenes[i]
        return replace(project, scenes=project.scenes[:i] + project.scenes[i + 1 :]), InsertScene(i, scene)


@dataclass(frozen=True)
class MoveScene:
    scene_id: str
    index: int

    def apply(self, project: Project) -> tuple[Project, Op]:
        old = project.scene_index(self.scene_id)
        scene = project.scenes[old]
        rest = project.scenes[:old] + project.scenes[old + 1 :]
        i = _clamp(self.index, len(rest))
        return replace(project, scenes=rest[:i] + (scene,) + rest[i:]), MoveScene(self.scene_id, old)


@dataclass(frozen=True)
class SetSceneFields:
    scene_id: str
    changes: Changes

    def apply(self, project: Project) -> tuple[Project, Op]:
        bad = {k for k, _ in self.changes} - _SCENE_FIELDS
        if bad:
            raise EditError(f"scenes have no field {', '.join(sorted(bad))}")
        i = project.scene_index(self.scene_id)
        scene = project.scenes[i]
        old = tuple((k, getattr(scene, k)) for k, _ in self.changes)
        new_scene = replace(scene, **dict(self.changes))
        scenes = project.scenes[:i] + (new_scene,) + project.scenes[i + 1 :]
        return replace(project, scenes=scenes), SetSceneFields(self.scene_id, old)


@dataclass(frozen=True)
class ReplaceScenes:
    """All scenes at once (a script import); the inverse puts the old ones back exactly."""

    scenes: tuple[Scene, ...]

    def apply(self, project: Project) -> tuple[Project, Op]:
        ids = [shot.id for scene in self.scenes for shot in scene.shots]
        if len(ids) != len(set(ids)):
            raise EditError("two shots in the new scenes share an id")
        if len({scene.id for scene in self.scenes}) != len(self.scenes):
            raise EditError("two of the new scenes share an id")
        return replace(project, scenes=self.scenes), ReplaceScenes(project.scenes)


@dataclass(frozen=True)
class InsertShot:
    scene_id: str
    index: int
    shot: Shot

    def apply(self, project: Project) -> tuple[Project, Op]:
        _check_unique_shots(project, (self.shot,))
        si = project.scene_index(self.scene_id)
        scene = project.scenes[si]
        i = _clamp(self.index, len(scene.shots))
        new_scene = replace(scene, shots=scene.shots[:i] + (self.shot,) + scene.shots[i:])
        scenes = project.scenes[:si] + (new_scene,) + project.scenes[si + 1 :]
        return replace(project, scenes=scenes), RemoveShot(self.shot.id)


@dataclass(frozen=True)
class RemoveShot:
    shot_id: str

    def apply(self, project: Project) -> tuple[Project, Op]:
        si, hi = project.locate_shot(self.shot_id)
        scene = project.scenes[si]
        shot = scene.shots[hi]
        new_scene = replace(scene, shots=scene.shots[:hi] + scene.shots[hi + 1 :])
        scenes = project.scenes[:si] + (new_scene,) + project.scenes[si + 1 :]
        return replace(project, scenes=scenes), InsertShot(scene.id, hi, shot)


@dataclass(frozen=True)
class MoveShot:
    shot_id: str
    scene_id: str
    index: int

    def apply(self, project: Project) -> tuple[Project, Op]:
        si, hi = project.locate_shot(self.shot_id)
        old_scene_id = project.scenes[si].id
        shot = project.scenes[si].shots[hi]
        removed, _ = RemoveShot(self.shot_id).apply(project)
        moved, _ = InsertShot(self.scene_id, self.index, shot).apply(removed)
        return moved, MoveShot(self.shot_id, old_scene_id, hi)


@dataclass(frozen=True)
class ReplaceShot:
    """Swap a shot for a new version of itself (same id); covers every in-shot edit."""

    shot: Shot

    def apply(self, project: Project) -> tuple[Project, Op]:
        old = project.shot(self.shot.id)
        return with_shot(project, self.shot), ReplaceShot(old)


@dataclass(frozen=True)
class InsertAudio:
    index: int
    clip: AudioClip

    def apply(self, project: Project) -> tuple[Project, Op]:
        if any(c.id == self.clip.id for c in project.audio):
            raise EditError(f"an audio clip with id {self.clip.id} already exists")
        i = _clamp(self.index, len(project.audio))
        return replace(project, audio=project.audio[:i] + (self.clip,) + project.audio[i:]), RemoveAudio(self.clip.id)


@dataclass(frozen=True)
class RemoveAudio:
    clip_id: str

    def apply(self, project: Project) -> tuple[Project, Op]:
        i = project.audio_index(self.clip_id)
        clip = project.audio[i]
        return replace(project, audio=project.audio[:i] + project.audio[i + 1 :]), InsertAudio(i, clip)


@dataclass(frozen=True)
class ReplaceAudio:
    clip: AudioClip

    def apply(self, project: Project) -> tuple[Project, Op]:
        i = project.audio_index(self.clip.id)
        old = project.audio[i]
        return replace(project, audio=project.audio[:i] + (self.clip,) + project.audio[i + 1 :]), ReplaceAudio(old)


@dataclass(frozen=True)
class Command:
    """One undoable step: a label for the Edit menu and the operations it applies in order.

    ``merge_key``: consecutive commands with the same non-None key (typing in one field,
    one drag of a pin) become a single undo step.
    """

    label: str
    ops: tuple[Op, ...]
    merge_key: Any = None

    def apply(self, project: Project) -> tuple[Project, Command]:
        inverses: list[Op] = []
        for op in self.ops:
            project, inverse = op.apply(project)
            inverses.append(inverse)
        return project, Command(self.label, tuple(reversed(inverses)))


def _clamp(index: int, length: int) -> int:
    if index < 0:
        index += length + 1
    return max(0, min(index, length))


def _check_unique_shots(project: Project, shots: tuple[Shot, ...]) -> None:
    existing = {s.id for s in project.shots()}
    for shot in shots:
        if shot.id in existing:
            raise EditError(f"a shot with id {shot.id} already exists")
