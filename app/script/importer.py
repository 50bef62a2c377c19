"""Turning a script into the project's scenes and shots, and re-importing it after edits.

A first import builds one scene per script scene and one shot per script shot, each shot
numbered after its scene ("12A", "12B"), timed from its words and given a drafted prompt.

Re-importing matches scenes by a stable key: the scene number written in the script when
there is one ("#12A#"), otherwise the heading and how many times that heading came before.
Then, per scene:

- **same**: the script content is unchanged (same hash as at the last import), so the scene is
  left exactly as the user has it: pins, takes, clips, retimings, renumbering, added shots.
- **update**: the script changed. Shots whose script content is unchanged are kept as they
  are (matched by content, so moving a paragraph keeps its shot); new script shots are added;
  shots the script dropped are removed only if nobody worked on them (no pins, takes or
  clips); shots made by hand are kept.
- **add**: a scene new in the script.
- **gone**: the scene left the script. Removed if nobody worked on it, otherwise kept and
  reported, so an edit to the script never silently throws away keyframes.

Scenes made by hand stay where they were relative to the imported ones. The whole import is
one command, so one Undo takes it back.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator
from dataclasses import dataclass, replace

from app.document import Camera, Project, Scene, Shot, new_id
from app.edits import Command, ReplaceScenes
from app.errors import EditError
from app.script.model import ScriptDocument, ScriptScene, ScriptShot
from app.script.prompt import CONTINUITY_WORDS, draft_prompt
from app.script.timing import TimingSettings, estimate_frames


@dataclass(frozen=True)
class SceneChange:
    kind: str  # "add", "update", "same", "gone-removed", "gone-kept", "empty-removed"
    heading: str
    number: str  # the scene's number in the script, or its position
    shots_before: int = 0
    shots_after: int = 0
    added_shots: int = 0
    removed_shots: int = 0
    kept_shots: tuple[str, ...] = ()  # shot numbers kept because someone worked on them

    def describe(self) -> str:
        label = f"scene {self.number} {self.heading}".strip()
        if self.kind == "add":
            return f"new {label}: {self.shots_after} shot(s)"
        if self.kind == "same":
            return f"unchanged {label}"
        if self.kind == "update":
            parts = [f"{self.added_shots} shot(s) added", f"{self.removed_shots} removed"]
            if self.kept_shots:
                parts.append(f"kept {', '.join(self.kept_shots)} (pinned or rendered, no longer in the script)")
            return f"changed {label}: " + ", ".join(parts)
        if self.kind == "gone-kept":
            return f"{label} is no longer in the script; kept because it has keyframes or clips (delete it by hand)"
        if self.kind == "gone-removed":
            return f"{label} is no longer in the script; removed ({self.shots_before} untouched shot(s))"
        return f"removed the empty scene {label or '(no heading)'}"


@dataclass(frozen=True)
class ImportPreview:
    """What an import would do; nothing changes until :func:`import_command` is applied."""

    scenes: tuple[Scene, ...]
    changes: tuple[SceneChange, ...]
    warnings: tuple[str, ...] = ()

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def changed(self) -> bool:
        return any(c.kind != "same" for c in self.changes)

    def summary(self) -> str:
        shots = sum(len(s.shots) for s in self.scenes)
        return (
            f"{self.count('add')} new, {self.count('update')} changed, {self.count('same')} unchanged scene(s); "
            f"{shots} shot(s) in the project after the import"
        )

    def report(self) -> list[str]:
        return [c.describe() for c in self.changes if c.kind != "same"] + list(self.warnings)


def scene_keys(doc: ScriptDocument) -> list[str]:
    """Stable identity of each script scene: its written number, else heading + occurrence."""
    seen: dict[str, int] = {}
    keys = []
    for scene in doc.scenes:
        if scene.number:
            keys.append(f"#{scene.number.strip().upper()}")
            continue
        heading = " ".join(scene.heading.upper().split())
        seen[heading] = seen.get(heading, 0) + 1
        keys.append(f"h:{heading}:{seen[heading]}")
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise EditError(
            f"the script numbers two scenes the same ({', '.join(sorted(k[1:] for k in duplicates))}); "
            "give every scene its own number and import again"
        )
    return keys


def preview_import(project: Project, doc: ScriptDocument, timing: TimingSettings | None = None) -> ImportPreview:
    timing = timing or TimingSettings()
    if not doc.scenes:
        raise EditError("the script has no scenes to import")
    keys = scene_keys(doc)
    wanted = dict(zip(keys, doc.scenes, strict=True))
    lighting = _times_of_day(doc)
    changes: list[SceneChange] = []
    built: dict[str, Scene] = {}
    for position, (key, script_scene) in enumerate(wanted.items(), start=1):
        number = script_scene.number or str(position)
        old = next((s for s in project.scenes if s.script_key == key), None)
        build = _Builder(project, timing, lighting[position - 1])
        if old is None:
            scene = build.scene(script_scene, key, number)
            changes.append(SceneChange("add", script_scene.heading, number, 0, len(scene.shots), len(scene.shots)))
        elif old.script_hash == script_scene.content_hash:
            scene = old
            changes.append(SceneChange("same", old.heading, number, len(old.shots), len(old.shots)))
        else:
            scene, change = _updated_scene(old, script_scene, number, build)
            changes.append(change)
        built[key] = scene

    # Scenes not in the script: hand-made ones and ones the script dropped. Each is anchored
    # to the imported scene it followed, so it keeps its place relative to the script.
    anchored: dict[str | None, list[Scene]] = {}
    anchor: str | None = None
    for scene in project.scenes:
        if scene.script_key in wanted:
            anchor = scene.script_key
            continue
        label = scene.heading
        if scene.script_key:
            if _has_work(scene):
                changes.append(SceneChange("gone-kept", label, "", len(scene.shots), len(scene.shots)))
            else:
                changes.append(SceneChange("gone-removed", label, "", len(scene.shots)))
                continue
        elif not scene.shots and not scene.synopsis.strip():
            changes.append(SceneChange("empty-removed", label, ""))
            continue
        anchored.setdefault(anchor, []).append(scene)

    scenes: list[Scene] = list(anchored.get(None, []))
    for key, scene in built.items():
        scenes.append(scene)
        scenes.extend(anchored.get(key, []))
    return ImportPreview(tuple(scenes), tuple(changes), tuple(doc.warnings))


def import_command(preview: ImportPreview, label: str = "Import Script") -> Command:
    return Command(label, (ReplaceScenes(preview.scenes),))


# --- building ------------------------------------------------------------------------------------
def _times_of_day(doc: ScriptDocument) -> list[str]:
    """For each scene, the last time of day named so far: CONTINUOUS keeps the light it follows."""
    out, last = [], ""
    for scene in doc.scenes:
        time = scene.setting[2].upper()
        if time and not any(word in time for word in CONTINUITY_WORDS):
            last = time
        out.append(last)
    return out


@dataclass(frozen=True)
class _Builder:
    project: Project
    timing: TimingSettings
    fallback_time: str

    def scene(self, script: ScriptScene, key: str, number: str) -> Scene:
        numbers = _numbers(number, [s.number for s in script.shots], taken=set())
        shots = tuple(self.shot(script, s, n) for s, n in zip(script.shots, numbers, strict=True))
        return Scene(new_id(), script.heading, script.synopsis, shots, key, script.content_hash)

    def shot(self, scene: ScriptScene, shot: ScriptShot, number: str) -> Shot:
        key = shot.key  # of the shot as the script has it: re-imports match on this
        if not shot.action.strip() and shot.shot_line:
            # "INSERT - THE DEPARTURE BOARD" with nothing under it: the line is what the shot shows.
            shot = replace(shot, action=shot.shot_line, shot_line="")
        notes = "\n".join(t for t in (shot.shot_line, shot.notes) if t)
        try:
            camera = Camera(shot.size, shot.angle, shot.lens_mm, shot.move)
        except EditError as exc:
            raise EditError(f"scene {scene.number or scene.heading}, shot {number}: {exc}") from None
        return Shot(
            id=new_id(),
            number=number,
            duration=estimate_frames(shot, self.project.rate, self.timing),
            action=shot.action,
            dialogue="\n".join(d.text() for d in shot.dialogue),
            notes=notes,
            prompt=draft_prompt(scene, shot, fallback_time=self.fallback_time),
            negative_prompt=shot.negative_prompt,
            camera=camera,
            script_key=key,
        )


def _updated_scene(old: Scene, script: ScriptScene, number: str, build: _Builder) -> tuple[Scene, SceneChange]:
    by_key: dict[str, list[Shot]] = {}
    for shot in old.shots:
        if shot.script_key:
            by_key.setdefault(shot.script_key, []).append(shot)
    reused: list[Shot | None] = []
    for script_shot in script.shots:
        matches = by_key.get(script_shot.key)
        reused.append(matches.pop(0) if matches else None)
    reused_ids = {s.id for s in reused if s is not None}
    leftovers = [s for s in old.shots if s.id not in reused_ids]
    keep = [s for s in leftovers if not s.script_key or _shot_has_work(s)]
    removed = len(leftovers) - len(keep)

    taken = {s.number for s in reused if s is not None} | {s.number for s in keep}
    new_numbers = iter(_numbers(number, [s.number for s, r in zip(script.shots, reused, strict=True) if r is None],
                                taken))  # fmt: skip
    shots: list[Shot] = []
    for script_shot, shot in zip(script.shots, reused, strict=True):
        shots.append(shot if shot is not None else build.shot(script, script_shot, next(new_numbers)))
    # Kept shots go back after the shot that preceded them before, so the cut stays familiar.
    order = {s.id: i for i, s in enumerate(old.shots)}
    for kept in keep:
        before = [i for i, s in enumerate(shots) if s.id in order and order[s.id] < order[kept.id]]
        shots.insert(before[-1] + 1 if before else 0, kept)
    kept_work = tuple(s.number for s in keep if s.script_key)
    scene = replace(old, heading=script.heading, synopsis=script.synopsis, shots=tuple(shots),
                    script_hash=script.content_hash)  # fmt: skip
    added = sum(1 for s in reused if s is None)
    return scene, SceneChange("update", script.heading, number, len(old.shots), len(shots), added, removed, kept_work)


def _numbers(scene_number: str, explicit: list[str], taken: set[str]) -> list[str]:
    """Shot numbers for new shots: the script's own where given, else the scene number plus the next free letter."""
    taken = set(taken)
    out = []
    for given in explicit:
        if given and given not in taken:
            number = given
        else:
            number = next(f"{scene_number}{suffix}" for suffix in _letters() if f"{scene_number}{suffix}" not in taken)
        taken.add(number)
        out.append(number)
    return out


def _letters() -> Iterator[str]:
    """A, B, ... Z, AA, AB, ... as storyboards letter the shots of a scene."""
    for n in range(1, 4):
        yield from ("".join(chars) for chars in itertools.product(string.ascii_uppercase, repeat=n))


def _shot_has_work(shot: Shot) -> bool:
    return bool(shot.pins or shot.keyframe_takes or shot.clip_takes)


def _has_work(scene: Scene) -> bool:
    return any(_shot_has_work(s) or not s.script_key for s in scene.shots)
