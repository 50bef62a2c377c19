"""Turning a script into the project's scenes and shots, and re-importing it after edits.

A first import builds one scene per script scene and one shot per script shot, each shot
numbered after its scene ("12A", "12B"), timed from its words and given a drafted prompt.
Every imported shot remembers its script content (``script_key``) and fingerprints of the
fields as imported (``script_fields``), so a later import knows what the director changed.

Re-importing:

- **Scenes** are matched first by content (an unchanged scene found anywhere in the script,
  even renumbered or moved), then by their key: the scene number written in the script
  ("#12A#"), else the heading and how many times it came before. Unmatched script scenes are
  new; project scenes the script no longer has are removed only if nobody worked on them.
- **Unchanged scenes** are left exactly as the director has them. The script's scene order
  is applied (and reported when it changed); hand-made scenes keep their place after the
  scene they followed.
- **Changed scenes** are aligned shot by shot with the script (a diff of shot contents).
  Unchanged shots stay as they are. An edited paragraph updates its shot in place: the same
  shot keeps its pins, takes and clips, and any field the director changed since the last
  import (duration, prompt, camera, number) keeps the director's value. Shots the script
  dropped go unless someone worked on them; hand-made shots stay.
- **Shot lists** (CSV) are matched shot by shot by number, and their values win: a shot list
  is where a person decided them.
- **New shots** are numbered to sort where they stand: between 12 and 13 comes 12A, between
  12A and 12B 12AA (:func:`app.script.numbers.shot_number_key` is the order). A pinned shot whose text changed
  keeps its pins and length, takes the new text, and is named in the report.
- Shots are timed by the page lines they fill, a page a minute (:mod:`app.script.pages`); the
  preview gives the script's running time and the shots the maximum shot length clipped.

The whole import is one command, so one Undo takes it back.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TypeVar

from app.document import Camera, Project, Scene, Shot, new_id
from app.edits import Command, ReplaceScenes
from app.errors import EditError
from app.script.model import ScriptDocument, ScriptScene, ScriptShot
from app.script.numbers import NumberPool
from app.script.pages import LINES_PER_PAGE, shot_lines
from app.script.prompt import draft_prompt, lighting_for
from app.script.timing import TimingSettings, estimate_frames, format_running_time, limit, screen_seconds

T = TypeVar("T", Scene, Shot)

# Fields a director may change after an import; a re-import keeps such changes.
_TRACKED = ("number", "duration", "prompt", "negative_prompt", "camera", "action", "dialogue", "notes")


@dataclass(frozen=True)
class SceneChange:
    # "add", "update", "same", "gone-kept", "gone-removed", "empty-removed"
    kind: str
    heading: str
    number: str  # the scene's number in the script, or its position
    shots_before: int = 0
    shots_after: int = 0
    added_shots: int = 0
    removed_shots: int = 0
    kept_shots: tuple[str, ...] = ()  # shot numbers kept because someone worked on them
    updated_shots: int = 0
    scene_id: str = ""  # the project scene this describes ("" for one that was removed)

    def describe(self) -> str:
        label = " ".join(p for p in ("scene", self.number, f"“{self.heading}”" if self.heading else "") if p)
        if self.kind == "add":
            return f"new {label}: {self.shots_after} shot(s)"
        if self.kind == "same":
            return f"unchanged {label}"
        if self.kind == "update":
            parts = [
                f"{self.updated_shots} shot(s) updated",
                f"{self.added_shots} added",
                f"{self.removed_shots} removed",
            ]
            if self.kept_shots:
                parts.append(f"kept {', '.join(self.kept_shots)} (worked on, no longer in the script)")
            return f"changed {label}: " + ", ".join(parts)
        if self.kind == "gone-kept":
            return f"{label} is no longer in the script; kept because it was worked on (delete it by hand)"
        if self.kind == "gone-removed":
            return f"{label} is no longer in the script; removed ({self.shots_before} untouched shot(s))"
        return f"removed the empty placeholder {label}"


@dataclass(frozen=True)
class RunningTime:
    """How long the script plays, estimated, and the shots the maximum shot length clipped."""

    seconds: Fraction = Fraction(0)  # every script shot at its estimate, none clipped
    pages: Fraction = Fraction(0)  # the script's length in screenplay pages
    cut_seconds: Fraction = Fraction(0)  # what the script's shots add up to once clipped
    clipped: tuple[str, ...] = ()  # numbers of the shots the maximum clipped
    maximum_seconds: float | None = None

    def headline(self) -> str:
        pages = f"{float(self.pages):.1f}".removesuffix(".0")
        return f"estimated running time {format_running_time(self.seconds)} (≈ {pages} pages at a page a minute)"

    def clipped_line(self) -> str | None:
        if not self.clipped:
            return None
        label = "shot" if len(self.clipped) == 1 else "shots"
        return (
            f"{label} {', '.join(self.clipped)} clipped to {self.maximum_seconds:g} s, the longest shot "
            f"(the script's shots add up to {format_running_time(self.cut_seconds)}; split them or allow "
            "longer shots)"
        )


@dataclass(frozen=True)
class ImportPreview:
    """What an import would do; nothing changes until :func:`import_command` is applied."""

    scenes: tuple[Scene, ...]
    changes: tuple[SceneChange, ...]
    warnings: tuple[str, ...] = ()
    reordered: bool = False
    before: tuple[Scene, ...] = field(default=(), repr=False)
    running: RunningTime = field(default_factory=RunningTime)
    # Shots with pinned keyframes whose action, dialogue or scene heading the script changed:
    # kept with their pins and timing, the new text applied; the director should check the pictures.
    pinned_changed: tuple[str, ...] = ()

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def changed(self) -> bool:
        return self.scenes != self.before

    def summary(self) -> str:
        shots = sum(len(s.shots) for s in self.scenes)
        return (
            f"{self.count('add')} new, {self.count('update')} changed, {self.count('same')} unchanged scene(s); "
            f"{shots} shot(s) in the project after the import"
        )

    def report(self) -> list[str]:
        lines = [c.describe() for c in self.changes if c.kind != "same"]
        if self.reordered:
            lines.append("scenes put in the script's new order")
        if len(self.pinned_changed) == 1:
            lines.append(f"shot {self.pinned_changed[0]} is pinned and its text changed: check its keyframes")
        elif self.pinned_changed:
            lines.append(
                f"shots {', '.join(self.pinned_changed)} are pinned and their text changed: check their keyframes"
            )
        clipped = self.running.clipped_line()
        return lines + ([clipped] if clipped else []) + list(self.warnings)


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
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise EditError(
            f"the script numbers two scenes the same ({', '.join(k[1:] for k in duplicates)}); "
            "give every scene its own number and import again"
        )
    return keys


def field_prints(shot: Shot) -> str:
    """Short fingerprints of a shot's tracked fields, stored at import to spot later edits."""
    return json.dumps({name: _print(_field(shot, name)) for name in _TRACKED}, sort_keys=True)


def changed_fields(shot: Shot) -> set[str]:
    """Fields the director changed since the shot was imported (all of them for hand-made shots)."""
    if not shot.script_fields:
        return set(_TRACKED)
    try:
        prints = json.loads(shot.script_fields)
    except ValueError:
        return set(_TRACKED)
    return {name for name in _TRACKED if prints.get(name) != _print(_field(shot, name))}


def has_work(shot: Shot) -> bool:
    """Would removing this shot lose something a person did? Pictures, clips, or any edit."""
    return bool(shot.pins or shot.keyframe_takes or shot.clip_takes or changed_fields(shot))


def preview_import(project: Project, doc: ScriptDocument, timing: TimingSettings | None = None) -> ImportPreview:
    timing = timing or TimingSettings()
    if not doc.scenes:
        raise EditError("the script has no scenes to import")
    keys = scene_keys(doc)
    lighting = _times_of_day(doc)
    matches = _match_scenes(project, doc, keys)
    numbers = NumberPool(shot.number for shot in project.shots())
    fresh: dict[str, tuple[str, str]] = {}
    pinned_changed: list[str] = []
    changes: list[SceneChange] = []
    built: list[Scene] = []
    for i, (key, script) in enumerate(zip(keys, doc.scenes, strict=True)):
        number = script.number or str(i + 1)
        build = _Builder(project, timing, lighting[i], numbers, fresh, pinned_changed)
        old = matches.get(i)
        if old is None:
            scene = build.scene(script, key, number)
            changes.append(SceneChange("add", script.heading, number, 0, len(scene.shots), len(scene.shots),
                                       scene_id=scene.id))  # fmt: skip
        elif doc.source_format == "csv":
            scene, change = build.listed(old, script, key, number)
            changes.append(change)
        elif old.script_hash == script.content_hash and old.heading == script.heading:
            scene = replace(old, script_key=key) if old.script_key != key else old
            changes.append(SceneChange("same", old.heading, number, len(old.shots), len(old.shots), scene_id=old.id))
        else:
            scene, change = build.updated(old, script, key, number)
            changes.append(change)
        built.append(scene)

    matched_ids = {s.id for s in matches.values()}
    first_import = not any(s.script_key for s in project.scenes)
    kept: list[Scene] = []
    for scene in project.scenes:
        if scene.id in matched_ids:
            continue
        if scene.script_key:
            if any(has_work(s) for s in scene.shots):
                kept.append(scene)
                changes.append(SceneChange("gone-kept", scene.heading, "", len(scene.shots), len(scene.shots),
                                           scene_id=scene.id))  # fmt: skip
            else:
                changes.append(SceneChange("gone-removed", scene.heading, "", len(scene.shots)))
        elif first_import and not scene.shots and not scene.synopsis.strip():
            changes.append(SceneChange("empty-removed", scene.heading, ""))  # the new project's placeholder
        else:
            kept.append(scene)  # made by hand
    scenes = _keep_in_place(project.scenes, built, kept)
    scenes, misplaced = _number_new_shots(scenes, fresh, numbers)
    old_order = [s.id for s in project.scenes if s.id in matched_ids]
    new_order = [s.id for s in scenes if s.id in matched_ids]
    by_id = {s.id: s for s in scenes}
    running = running_time(doc, [by_id.get(s.id) for s in built], project, timing)
    return ImportPreview(tuple(scenes), tuple(changes), tuple(doc.warnings) + tuple(misplaced),
                         old_order != new_order, project.scenes, running, tuple(pinned_changed))  # fmt: skip


def running_time(
    doc: ScriptDocument, built: Sequence[Scene | None], project: Project, timing: TimingSettings
) -> RunningTime:
    """The script's estimated running time, and the numbers of the imported shots the maximum clipped.

    ``built`` is the project scene each script scene became. A shot is reported as clipped while
    it still has the clipped estimate: one the director retimed is theirs.
    """
    seconds = cut = Fraction(0)
    lines = 0
    clipped: list[str] = []
    for script, scene in zip(doc.scenes, built, strict=True):
        clipped_keys: set[str] = set()
        for j, shot in enumerate(script.shots):
            heading = script.heading if j == 0 else None
            lines += shot_lines(shot, heading).total
            if shot.duration is not None:
                listed = Fraction(shot.duration) / project.rate.fps
                seconds, cut = seconds + listed, cut + listed
                continue
            estimate = screen_seconds(shot, timing, heading)
            limited, was_clipped = limit(estimate, timing)
            seconds, cut = seconds + estimate, cut + limited
            if was_clipped:
                clipped_keys.add(shot.key)
        for made in scene.shots if scene is not None else ():
            if made.script_key in clipped_keys and "duration" not in changed_fields(made):
                clipped.append(made.number)
    return RunningTime(seconds, Fraction(lines, LINES_PER_PAGE), cut, tuple(clipped), timing.maximum_seconds)


def import_command(preview: ImportPreview, label: str = "Import Script") -> Command:
    return Command(label, (ReplaceScenes(preview.scenes),))


# --- matching ------------------------------------------------------------------------------------
def _match_scenes(project: Project, doc: ScriptDocument, keys: list[str]) -> dict[int, Scene]:
    """Script scene index -> the project scene it continues."""
    keyed = [s for s in project.scenes if s.script_key]
    matches: dict[int, Scene] = {}
    used: set[str] = set()
    # 1. Unchanged content found once on each side: the same scene, wherever it moved.
    hashes = [s.content_hash for s in doc.scenes]
    for i, h in enumerate(hashes):
        olds = [s for s in keyed if s.script_hash == h]
        if len(olds) == 1 and hashes.count(h) == 1:
            matches[i] = olds[0]
            used.add(olds[0].id)
    # 2. Then by key (an edited scene keeps its number, or its heading and place among namesakes).
    # A shot list's Scene column is the scene's place in the project when Pinframe wrote it, but
    # a hand-made sheet's own number: whichever reading finds more of the same headings goes first.
    by_key = {s.script_key: s for s in keyed}
    for i, old in _list_matches(project, doc, keys) if doc.source_format == "csv" else _key_matches(by_key, keys):
        if i not in matches and old is not None and old.id not in used:
            matches[i] = old
            used.add(old.id)
    # 3. A renamed heading in place: the one unmatched scene between the same two neighbours.
    order = {s.id: i for i, s in enumerate(project.scenes)}
    for i in range(len(doc.scenes)):
        if i in matches:
            continue
        before = order[matches[i - 1].id] if i > 0 and i - 1 in matches else (-1 if i == 0 else None)
        after = order[matches[i + 1].id] if i + 1 in matches else (len(project.scenes) if i + 1 == len(keys) else None)
        if before is None or after is None:
            continue
        between = [s for s in project.scenes[before + 1 : after] if s.script_key and s.id not in used]
        if len(between) == 1 and _similar(between[0], doc.scenes[i]):
            matches[i] = between[0]
            used.add(between[0].id)
    return matches


def _key_matches(by_key: dict[str, Scene], keys: list[str]) -> list[tuple[int, Scene | None]]:
    return [(i, by_key.get(key)) for i, key in enumerate(keys)]


def _list_matches(project: Project, doc: ScriptDocument, keys: list[str]) -> list[tuple[int, Scene | None]]:
    """Candidates for a shot list's scenes: by place in the project and by key, the likelier reading first.

    The export numbers scenes by place (a screenplay's "12A" or a heading key can't survive a
    sheet), so a project's own shot list is found by place; a sheet that numbers scenes its own
    way is found by the key an earlier import of it stored.
    """
    by_key = {s.script_key: s for s in project.scenes if s.script_key}
    by_place: list[tuple[int, Scene | None]] = []
    for i, script in enumerate(doc.scenes):
        position = int(script.number) - 1 if script.number.isdigit() else -1
        old = project.scenes[position] if 0 <= position < len(project.scenes) else None
        by_place.append((i, old if old is not None and _fold(old.heading) == _fold(script.heading) else None))
    by_name = [(i, by_key.get(key)) for i, key in enumerate(keys)]

    def agreeing(pairs: list[tuple[int, Scene | None]]) -> int:
        return sum(1 for i, old in pairs if old is not None and _fold(old.heading) == _fold(doc.scenes[i].heading))

    return by_place + by_name if agreeing(by_place) >= agreeing(by_name) else by_name + by_place


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _similar(old: Scene, script: ScriptScene) -> bool:
    """Enough of the same shots or text to be the same scene renamed, not a different one."""
    if {s.script_key for s in old.shots} & {s.key for s in script.shots}:
        return True
    old_text = " ".join(s.action for s in old.shots)
    new_text = " ".join(s.action for s in script.shots)
    return difflib.SequenceMatcher(a=old_text, b=new_text, autojunk=False).ratio() >= 0.6


# --- building ------------------------------------------------------------------------------------
def _times_of_day(doc: ScriptDocument) -> list[str]:
    """For each scene, the last time of day named so far: CONTINUOUS keeps the light it follows."""
    out, last = [], ""
    for scene in doc.scenes:
        # The time word may sit anywhere in the heading: "EXT. PARK - DAY - LATER" is a day scene.
        parts = [scene.setting[2], *reversed(scene.heading.split(" - "))]
        named = next((p.strip().upper() for p in parts if p.strip() and lighting_for(p)), "")
        if named:
            last = named
        out.append(last)
    return out


def _number_new_shots(
    scenes: list[Scene], fresh: dict[str, tuple[str, str]], numbers: NumberPool
) -> tuple[list[Scene], list[str]]:
    """Number the import's new shots so they sort where they stand, between the shots around them."""
    flat = [shot for scene in scenes for shot in scene.shots]
    final: dict[str, str] = {}
    warnings: list[str] = []
    previous: str | None = None
    for k, shot in enumerate(flat):
        if shot.id not in fresh:
            previous = shot.number
            continue
        scene_number, wanted = fresh[shot.id]
        after = next((s.number for s in flat[k + 1 :] if s.id not in fresh), None)
        number = numbers.claim(scene_number, wanted, previous, after)
        if not number:
            number = numbers.claim(scene_number, wanted)
            warnings.append(
                f"no number sorts between shots {previous} and {after}: the new shot there is {number}; "
                "renumber the shots around it to put it in order"
            )
        final[shot.id] = previous = number
    if not final:
        return scenes, warnings
    out = []
    for scene in scenes:
        if not any(s.id in final for s in scene.shots):
            out.append(scene)
            continue
        shots = tuple(_numbered(s, final[s.id]) if s.id in final else s for s in scene.shots)
        out.append(replace(scene, shots=shots))
    return out, warnings


def _numbered(shot: Shot, number: str) -> Shot:
    made = replace(shot, number=number)
    return replace(made, script_fields=field_prints(made))


@dataclass
class _Builder:
    project: Project
    timing: TimingSettings
    fallback_time: str
    numbers: NumberPool
    # New shots -> (scene number, the number a shot list gave): numbered once all scenes are built.
    fresh: dict[str, tuple[str, str]]
    pinned_changed: list[str]

    def scene(self, script: ScriptScene, key: str, number: str) -> Scene:
        shots = tuple(self.new(script, s, number) for s in script.shots)
        return Scene(new_id(), script.heading, script.synopsis, shots, key, script.content_hash)

    def new(self, script: ScriptScene, shot: ScriptShot, scene_number: str) -> Shot:
        made = self.shot(script, shot, "")
        self.fresh[made.id] = (scene_number, shot.number)
        return made

    def fields(self, scene: ScriptScene, shot: ScriptShot) -> dict:
        """The shot's fields as the script makes them."""
        first = bool(scene.shots) and scene.shots[0] is shot
        if not shot.action.strip() and shot.shot_line:
            # "INSERT - THE DEPARTURE BOARD" with nothing under it: the line is what the shot shows.
            shot = replace(shot, action=shot.shot_line, shot_line="")
        try:
            camera = Camera(shot.size, shot.angle, shot.lens_mm, shot.move)
        except EditError as exc:
            raise EditError(f"scene {scene.number or scene.heading}: {exc}") from None
        if shot.duration is not None:
            frames = estimate_frames(shot, self.project.rate, self.timing)
        else:
            seconds, _ = limit(screen_seconds(shot, self.timing, scene.heading if first else None), self.timing)
            frames = max(1, self.project.rate.seconds_to_frames(seconds))
        return {
            "duration": frames,
            "action": shot.action,
            "dialogue": "\n".join(d.text() for d in shot.dialogue),
            "notes": "\n".join(t for t in (shot.shot_line, shot.notes) if t),
            "prompt": draft_prompt(scene, shot, fallback_time=self.fallback_time),
            "negative_prompt": shot.negative_prompt,
            "camera": camera,
        }

    def shot(self, scene: ScriptScene, shot: ScriptShot, number: str) -> Shot:
        made = Shot(id=new_id(), number=number, script_key=shot.key, **self.fields(scene, shot))
        return replace(made, script_fields=field_prints(made))

    def refresh(self, old: Shot, scene: ScriptScene, shot: ScriptShot) -> Shot:
        """``old`` updated to the script's new text; fields the director changed keep their value."""
        mine = changed_fields(old)
        if old.pins:
            mine.add("duration")  # the pins are at frames of the shot as it is
        new = {k: v for k, v in self.fields(scene, shot).items() if k not in mine}
        # What the script would have made, for the fingerprints of the fields the director owns.
        # (without the pins: they needn't fit in a length the shot won't take)
        pristine = replace(old, pins=(), **self.fields(scene, shot))
        updated = replace(old, script_key=shot.key, **new)
        prints = json.loads(field_prints(pristine))
        if old.script_fields:
            prints.update({k: v for k, v in json.loads(old.script_fields).items() if k in mine})
        result = replace(updated, script_fields=json.dumps(prints, sort_keys=True))
        return old if result == old else result  # unchanged shots stay the very same object

    def updated(self, old: Scene, script: ScriptScene, key: str, number: str) -> tuple[Scene, SceneChange]:
        scripted = [s for s in old.shots if s.script_key]
        keys_old = [s.script_key for s in scripted]
        keys_new = [s.key for s in script.shots]
        out: list[Shot] = []
        dropped: list[Shot] = []
        added = updated = 0
        matcher = difflib.SequenceMatcher(a=keys_old, b=keys_new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            olds, news = scripted[i1:i2], script.shots[j1:j2]
            if tag == "equal":
                for shot, new in zip(olds, news, strict=True):
                    # Same text; the heading may have changed the drafted prompt.
                    refreshed = self.refresh(shot, script, new)
                    out.append(refreshed)
                    updated += refreshed != shot
                    if shot.pins and old.heading != script.heading:
                        self.pinned_changed.append(shot.number)
                continue
            paired = min(len(olds), len(news)) if tag == "replace" else 0
            for shot, new in zip(olds[:paired], news[:paired], strict=True):
                out.append(self.refresh(shot, script, new))  # an edited paragraph: the same shot, new text
                updated += 1
                made = self.fields(script, new)
                text_changed = (made["action"], made["dialogue"]) != (shot.action, shot.dialogue)
                if shot.pins and (text_changed or old.heading != script.heading):
                    self.pinned_changed.append(shot.number)
            for new in news[paired:]:
                out.append(self.new(script, new, number))
                added += 1
            dropped.extend(olds[paired:])
        keep = [s for s in dropped if has_work(s)]
        removed = len(dropped) - len(keep)
        hand_made = [s for s in old.shots if not s.script_key]
        shots = _keep_in_place(old.shots, out, keep + hand_made)
        scene = replace(old, heading=script.heading, synopsis=script.synopsis, shots=tuple(shots), script_key=key,
                        script_hash=script.content_hash)  # fmt: skip
        change = SceneChange("update", script.heading, number, len(old.shots), len(shots), added, removed,
                             tuple(s.number for s in keep), updated, scene.id)  # fmt: skip
        return scene, change

    def listed(self, old: Scene, script: ScriptScene, key: str, number: str) -> tuple[Scene, SceneChange]:
        """A shot list's scene: shots matched by number, the list's values win."""
        by_number = {s.number: s for s in old.shots}
        out: list[Shot] = []
        added = updated = 0
        for listed in script.shots:
            current = by_number.pop(listed.number, None) if listed.number else None
            if current is None:
                out.append(self.new(script, listed, number))
                added += 1
                continue
            values = self.fields(script, listed)
            if listed.duration is None:
                values.pop("duration")  # the list didn't say: keep the shot's own timing
            if listed.prompt is None:
                values.pop("prompt")
            refreshed = replace(current, **values)
            updated += refreshed != current
            out.append(refreshed)
        leftovers = list(by_number.values())
        keep = [s for s in leftovers if has_work(s) or not s.script_key]
        shots = _keep_in_place(old.shots, out, keep)
        if tuple(shots) == old.shots and old.heading == script.heading:
            scene = old  # the list says what the project already says: nothing to do
            return scene, SceneChange("same", old.heading, number, len(old.shots), len(old.shots), scene_id=old.id)
        # A shot list edits a screenplay's scene without becoming its script: the scene keeps the
        # key and hash the screenplay gave it, so the next screenplay import still finds it.
        from_list = not old.script_key or old.script_key == key
        scene = replace(old, heading=script.heading, synopsis=script.synopsis or old.synopsis, shots=tuple(shots),
                        script_key=key if from_list else old.script_key,
                        script_hash=script.content_hash if from_list else old.script_hash)  # fmt: skip
        change = SceneChange("update", script.heading, number, len(old.shots), len(shots), added,
                             len(leftovers) - len(keep), (), updated, scene.id)  # fmt: skip
        return scene, change


def _keep_in_place(old_order: Sequence[T], result: list[T], kept: list[T]) -> list[T]:
    """``result`` with each kept scene or shot after the nearest one it followed that is still there.

    Kept items are placed in their old order, so one placed earlier anchors the next: a run of
    kept items stays together and in order, at the top when nothing before them survived.
    """
    result = list(result)
    placed = {x.id for x in result}
    kept_ids = {x.id for x in kept}
    for position, item in enumerate(old_order):
        if item.id not in kept_ids:
            continue
        anchor = next((x.id for x in reversed(old_order[:position]) if x.id in placed), None)
        index = 0 if anchor is None else next(i for i, x in enumerate(result) if x.id == anchor) + 1
        result.insert(index, item)
        placed.add(item.id)
    return result


def _field(shot: Shot, name: str) -> object:
    value = getattr(shot, name)
    if isinstance(value, Camera):
        return [value.size, value.angle, value.lens_mm, value.move]
    return value


def _print(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
