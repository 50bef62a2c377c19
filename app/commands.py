"""The edits a director makes, as undoable commands.

Each function reads the current project, checks the edit makes sense, and returns a
:class:`~app.edits.Command` for :meth:`app.history.History.do`. Nothing here changes the
project by itself, so the UI, the CLI and tests all drive the same commands.

Retiming rule (what happens to pins when a shot gets shorter): trimming the tail keeps every
pin that still fits; of the pins that no longer fit, the *last* one moves to the new last
frame (if that frame is free), because the end pose is usually what a shot is cut on; the
others are unpinned. Trimming the head mirrors this: pins still inside shift with the new first
frame, and the *first* pin cut off (the opening pose) moves to frame 0 if it is free.
Unpinned keyframes stay in the shot's take history, and the whole retime is one undo step,
so nothing is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from app.document import (
    AudioClip,
    ClipTake,
    KeyframeTake,
    Pin,
    Project,
    ProjectLora,
    Reference,
    Scene,
    Shot,
    new_id,
)
from app.edits import (
    Command,
    InsertAudio,
    InsertScene,
    InsertShot,
    MoveScene,
    MoveShot,
    RemoveAudio,
    RemoveScene,
    RemoveShot,
    ReplaceAudio,
    ReplaceShot,
    SetProjectFields,
    SetSceneFields,
)
from app.errors import EditError
from app.media_ref import MediaRef
from app.timecode import FrameRate

TEXT_FIELDS = ("number", "action", "dialogue", "notes", "prompt", "negative_prompt", "style")
SHOT_FIELDS = frozenset(TEXT_FIELDS + ("camera", "handles", "render", "motion_model"))

_FIELD_LABELS = {"negative_prompt": "Negative Prompt", "handles": "Handles", "render": "Render Settings"}


# --- project ----------------------------------------------------------------------------
def set_project_settings(project: Project, **changes: Any) -> Command:
    """Name, rate, size, start timecode, drop-frame. Durations stay in frames across a rate change."""
    if "rate" in changes and not isinstance(changes["rate"], FrameRate):
        changes["rate"] = FrameRate.parse(changes["rate"])
    rate = changes.get("rate", project.rate)
    if "drop_frame" not in changes and project.drop_frame and not rate.supports_drop_frame:
        changes["drop_frame"] = False
    # Validate the whole result now so a bad value fails here, not half-applied.
    replace(project, **changes)
    label = "Motion Model" if set(changes) == {"motion_model"} else "Project Settings"
    return Command(label, (SetProjectFields(tuple(sorted(changes.items()))),))


# --- scenes -----------------------------------------------------------------------------
def add_scene(project: Project, index: int = -1, heading: str = "", synopsis: str = "") -> Command:
    scene = Scene(id=new_id(), heading=heading, synopsis=synopsis)
    return Command("Add Scene", (InsertScene(index, scene),))


def remove_scene(project: Project, scene_id: str) -> Command:
    project.scene(scene_id)
    return Command("Delete Scene", (RemoveScene(scene_id),))


def move_scene(project: Project, scene_id: str, index: int) -> Command:
    project.scene(scene_id)
    return Command("Move Scene", (MoveScene(scene_id, index),))


def set_scene_fields(project: Project, scene_id: str, **changes: str) -> Command:
    project.scene(scene_id)
    key = ("scene-fields", scene_id, frozenset(changes))
    return Command("Edit Scene", (SetSceneFields(scene_id, tuple(sorted(changes.items()))),), merge_key=key)


# --- shots ------------------------------------------------------------------------------
def suggest_shot_number(project: Project, scene_id: str, index: int) -> str:
    """Storyboard numbering: append after 12 gives 13; insert between 12 and 13 gives 12A."""
    scene = project.scene(scene_id)
    taken = {s.number for s in project.shots()}
    before = scene.shots[index - 1].number if 0 < index <= len(scene.shots) else None
    if index >= len(scene.shots) or index < 0:
        # Appending: one past the highest leading number in the whole project.
        highest = max((_leading_int(s.number) for s in project.shots()), default=0)
        candidate = str(highest + 1)
        if candidate not in taken:
            return candidate
    if before:
        base = before.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") or before
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            candidate = f"{base}{letter}"
            if candidate not in taken:
                return candidate
    n = 1
    while str(n) in taken:
        n += 1
    return str(n)


def _leading_int(number: str) -> int:
    m = re.match(r"\d+", number)
    return int(m.group()) if m else 0


def add_shot(project: Project, scene_id: str, index: int = -1, *, duration: int = 48, **fields: Any) -> Command:
    scene = project.scene(scene_id)
    position = len(scene.shots) if index < 0 else min(index, len(scene.shots))
    fields.setdefault("number", suggest_shot_number(project, scene_id, position))
    shot = Shot(id=new_id(), duration=duration, **fields)
    return Command(f"Add Shot {shot.number}", (InsertShot(scene_id, position, shot),))


def duplicate_shots(project: Project, shot_ids: list[str]) -> Command:
    """Copies land right after each original, with fresh ids for the shot and its takes."""
    ops = []
    working = project
    for shot_id in shot_ids:
        si, hi = working.locate_shot(shot_id)
        scene = working.scenes[si]
        original = scene.shots[hi]
        copy = _copy_shot(original, suggest_shot_number(working, scene.id, hi + 1))
        op = InsertShot(scene.id, hi + 1, copy)
        working, _ = op.apply(working)
        ops.append(op)
    return Command("Duplicate Shot" if len(ops) == 1 else f"Duplicate {len(ops)} Shots", tuple(ops))


def _copy_shot(shot: Shot, number: str) -> Shot:
    take_ids = {t.id: new_id() for t in shot.keyframe_takes}
    clip_ids = {c.id: new_id() for c in shot.clip_takes}
    return replace(
        shot,
        id=new_id(),
        number=number,
        keyframe_takes=tuple(replace(t, id=take_ids[t.id]) for t in shot.keyframe_takes),
        pins=tuple(Pin(p.frame, take_ids[p.take_id]) for p in shot.pins),
        clip_takes=tuple(replace(c, id=clip_ids[c.id]) for c in shot.clip_takes),
        current_clip=clip_ids.get(shot.current_clip) if shot.current_clip else None,
        thumbnail_take=take_ids.get(shot.thumbnail_take, ""),
        # A copy is the director's own shot: a script re-import never matches or removes it.
        script_key="",
        script_fields="",
    )


def remove_shots(project: Project, shot_ids: list[str]) -> Command:
    for shot_id in shot_ids:
        project.shot(shot_id)
    label = "Delete Shot" if len(shot_ids) == 1 else f"Delete {len(shot_ids)} Shots"
    return Command(label, tuple(RemoveShot(i) for i in shot_ids))


def move_shot(project: Project, shot_id: str, scene_id: str, index: int) -> Command:
    """Put a shot at ``index`` of a scene (the index counts the scene's shots without it)."""
    project.shot(shot_id)
    project.scene(scene_id)
    return Command("Move Shot", (MoveShot(shot_id, scene_id, index),))


def move_shots(project: Project, shot_ids: list[str], scene_id: str, index: int) -> Command:
    """Move several shots, keeping their cut order, to one place (multi-select drag).

    ``index`` counts the target scene's shots that are not being moved. All shots are taken
    out first and put back as one block, so moving a selection past its own neighbours never
    interleaves it.
    """
    project.scene(scene_id)
    order = [s.id for s in project.shots()]
    moving = sorted(dict.fromkeys(shot_ids), key=order.index)
    shots = [project.shot(i) for i in moving]
    ops: list = [RemoveShot(i) for i in moving]
    ops.extend(InsertShot(scene_id, index + offset, shot) for offset, shot in enumerate(shots))
    return Command("Move Shot" if len(moving) == 1 else f"Move {len(moving)} Shots", tuple(ops))


def set_shot_fields(project: Project, shot_id: str, **changes: Any) -> Command:
    bad = set(changes) - SHOT_FIELDS
    if bad:
        raise EditError(f"'{', '.join(sorted(bad))}' can't be set this way; use retime, pins or takes")
    shot = project.shot(shot_id)
    new = replace(shot, **changes)
    names = [_FIELD_LABELS.get(k, k.replace("_", " ").title()) for k in sorted(changes)]
    label = f"Edit {names[0]}" if len(names) == 1 else "Edit Shot"
    # Typing in one field of one shot is one undo step, as in every text editor.
    return Command(label, (ReplaceShot(new),), merge_key=("shot-fields", shot_id, frozenset(changes)))


def retime_shot(project: Project, shot_id: str, duration: int, *, edge: str = "tail", merge: bool = False) -> Command:
    """Change a shot's length by trimming or extending its ``tail`` (end) or ``head`` (start).

    Pins that no longer fit follow the rule in this module's docstring. ``merge`` makes a
    drag of the shot's edge one undo step.
    """
    shot = project.shot(shot_id)
    if not isinstance(duration, int) or duration < 1:
        raise EditError(f"shot {shot.number}: duration must be at least 1 frame, got {duration}")
    if edge not in ("tail", "head"):
        raise ValueError(f"edge must be 'tail' or 'head', not {edge!r}")
    pins = _retimed_pins(shot.pins, shot.duration, duration, edge)
    new = replace(shot, duration=duration, pins=pins)
    key = ("retime", shot_id, edge) if merge else None
    return Command(f"Retime Shot {shot.number}", (ReplaceShot(new),), merge_key=key)


def _retimed_pins(pins: tuple[Pin, ...], old: int, new: int, edge: str) -> tuple[Pin, ...]:
    if edge == "head":
        # Mirror: trimming the head is trimming the tail of the reversed shot.
        mirrored = tuple(sorted(Pin(old - 1 - p.frame, p.take_id) for p in pins))
        kept = _retimed_pins(mirrored, old, new, "tail")
        return tuple(sorted(Pin(new - 1 - p.frame, p.take_id) for p in kept))
    inside = [p for p in pins if p.frame < new]
    outside = [p for p in pins if p.frame >= new]
    if outside and not any(p.frame == new - 1 for p in inside):
        inside.append(Pin(new - 1, outside[-1].take_id))
    return tuple(sorted(inside))


def unpinned_by_retime(project: Project, shot_id: str, duration: int, edge: str = "tail") -> list[Pin]:
    """Pins a retime would remove, so the UI can warn before a drag lets go."""
    shot = project.shot(shot_id)
    kept_takes = [p.take_id for p in _retimed_pins(shot.pins, shot.duration, duration, edge)]
    lost = []
    for pin in shot.pins:
        if pin.take_id in kept_takes:
            kept_takes.remove(pin.take_id)
        else:
            lost.append(pin)
    return lost


# --- pins -------------------------------------------------------------------------------
def set_pin(project: Project, shot_id: str, frame: int, take_id: str) -> Command:
    """Pin a keyframe take at a frame; a pin already on that frame is replaced."""
    shot = project.shot(shot_id)
    _check_frame(shot, frame)
    shot.keyframe(take_id)
    existing = shot.pin_at(frame)
    pins = tuple(sorted([p for p in shot.pins if p.frame != frame] + [Pin(frame, take_id)]))
    label = "Replace Pin" if existing else "Add Pin"
    return Command(label, (ReplaceShot(replace(shot, pins=pins)),))


def move_pin(project: Project, shot_id: str, from_frame: int, to_frame: int, *, merge: bool = False) -> Command:
    shot = project.shot(shot_id)
    pin = shot.pin_at(from_frame)
    if pin is None:
        raise EditError(f"shot {shot.number} has no pin at frame {from_frame}")
    _check_frame(shot, to_frame)
    if to_frame != from_frame and shot.pin_at(to_frame) is not None:
        raise EditError(f"shot {shot.number} already has a pin at frame {to_frame}; move or remove that one first")
    pins = tuple(sorted([p for p in shot.pins if p.frame != from_frame] + [Pin(to_frame, pin.take_id)]))
    key = ("move-pin", shot_id) if merge else None
    return Command("Move Pin", (ReplaceShot(replace(shot, pins=pins)),), merge_key=key)


def remove_pin(project: Project, shot_id: str, frame: int) -> Command:
    shot = project.shot(shot_id)
    if shot.pin_at(frame) is None:
        raise EditError(f"shot {shot.number} has no pin at frame {frame}")
    pins = tuple(p for p in shot.pins if p.frame != frame)
    return Command("Remove Pin", (ReplaceShot(replace(shot, pins=pins)),))


def _check_frame(shot: Shot, frame: int) -> None:
    if not isinstance(frame, int) or not 0 <= frame < shot.duration:
        raise EditError(f"frame {frame} is outside shot {shot.number} (frames 0-{shot.duration - 1})")


# --- takes ------------------------------------------------------------------------------
def add_keyframe_take(project: Project, shot_id: str, take: KeyframeTake, *, pin_frame: int | None = None) -> Command:
    shot = project.shot(shot_id)
    new = replace(shot, keyframe_takes=shot.keyframe_takes + (take,))
    if pin_frame is not None:
        _check_frame(shot, pin_frame)
        pins = tuple(sorted([p for p in new.pins if p.frame != pin_frame] + [Pin(pin_frame, take.id)]))
        new = replace(new, pins=pins)
    label = "Add Keyframe" if pin_frame is None else "Add and Pin Keyframe"
    return Command(label, (ReplaceShot(new),))


def remove_keyframe_take(project: Project, shot_id: str, take_id: str) -> Command:
    """Drop a take from the history; pins showing it go too (undo brings both back)."""
    shot = project.shot(shot_id)
    shot.keyframe(take_id)
    new = replace(
        shot,
        keyframe_takes=tuple(t for t in shot.keyframe_takes if t.id != take_id),
        pins=tuple(p for p in shot.pins if p.take_id != take_id),
        thumbnail_take="" if shot.thumbnail_take == take_id else shot.thumbnail_take,
    )
    return Command("Delete Keyframe", (ReplaceShot(new),))


def set_shot_thumbnail(project: Project, shot_id: str, take_id: str) -> Command:
    """Show this keyframe take for the shot in the storyboard and the shot list ("": the default)."""
    shot = project.shot(shot_id)
    if take_id:
        shot.keyframe(take_id)
    return Command("Set Shot Thumbnail", (ReplaceShot(replace(shot, thumbnail_take=take_id)),))


def add_clip_take(project: Project, shot_id: str, take: ClipTake, *, make_current: bool = True) -> Command:
    shot = project.shot(shot_id)
    new = replace(shot, clip_takes=shot.clip_takes + (take,))
    if make_current:
        new = replace(new, current_clip=take.id)
    return Command("Add Clip", (ReplaceShot(new),))


def set_current_clip(project: Project, shot_id: str, take_id: str | None) -> Command:
    shot = project.shot(shot_id)
    if take_id is not None:
        shot.clip(take_id)
    return Command("Set Current Clip", (ReplaceShot(replace(shot, current_clip=take_id)),))


# --- audio ------------------------------------------------------------------------------
def add_audio(project: Project, media: MediaRef, start: int, name: str = "", gain_db: float = 0.0) -> Command:
    clip = AudioClip(id=new_id(), media=media, start=start, name=name, gain_db=gain_db)
    return Command("Add Audio", (InsertAudio(len(project.audio), clip),))


def move_audio(project: Project, clip_id: str, start: int, *, merge: bool = False) -> Command:
    clip = project.audio[project.audio_index(clip_id)]
    key = ("move-audio", clip_id) if merge else None
    return Command("Move Audio", (ReplaceAudio(replace(clip, start=start)),), merge_key=key)


def set_audio_gain(project: Project, clip_id: str, gain_db: float) -> Command:
    clip = project.audio[project.audio_index(clip_id)]
    return Command("Audio Gain", (ReplaceAudio(replace(clip, gain_db=gain_db)),), merge_key=("gain", clip_id))


def remove_audio(project: Project, clip_id: str) -> Command:
    project.audio_index(clip_id)
    return Command("Delete Audio", (RemoveAudio(clip_id),))


# --- media ------------------------------------------------------------------------------
def relink_media(project: Project, old: MediaRef, new: MediaRef) -> Command:
    """Point every use of a missing file at a replacement already stored in the bundle."""
    ops: list = []
    for shot in project.shots():
        if old not in set(shot.media_refs()):
            continue
        ops.append(
            ReplaceShot(
                replace(
                    shot,
                    keyframe_takes=tuple(replace(t, image=new) if t.image == old else t for t in shot.keyframe_takes),
                    clip_takes=tuple(replace(c, media=new) if c.media == old else c for c in shot.clip_takes),
                )
            )
        )
    ops.extend(ReplaceAudio(replace(c, media=new)) for c in project.audio if c.media == old)
    if not ops:
        raise EditError(f"no take or audio clip uses media {old}")
    return Command("Relink Media", tuple(ops))


# --- references and LoRAs -----------------------------------------------------------------
@dataclass(frozen=True)
class SetLibrary:
    """The project's references and LoRAs, and the scenes, in one step: removing a reference also
    takes it off the shots that used it, and the project must never exist with a shot pointing at
    a reference it lacks. Untouched shots stay the same objects, so the saver skips them."""

    references: tuple[Reference, ...]
    loras: tuple[ProjectLora, ...]
    scenes: tuple[Scene, ...]

    def apply(self, project: Project) -> tuple[Project, SetLibrary]:
        new = replace(project, references=self.references, loras=self.loras, scenes=self.scenes)
        return new, SetLibrary(project.references, project.loras, project.scenes)


def _library(project: Project, label: str, merge_key: Any = None, **changes: Any) -> Command:
    op = SetLibrary(
        changes.get("references", project.references),
        changes.get("loras", project.loras),
        changes.get("scenes", project.scenes),
    )
    op.apply(project)  # validate now, so a bad edit fails here and not half-applied
    return Command(label, (op,), merge_key=merge_key)


def add_reference(
    project: Project, image: MediaRef, name: str, kind: str = "character", weight: float = 0.6
) -> Command:
    """A named reference picture (already stored in the bundle) shots can use for their keyframes."""
    if image.ext not in {"png", "jpg", "webp"}:
        raise EditError(f"a reference must be a picture (PNG, JPEG or WebP), not .{image.ext}")
    ref = Reference(new_id(), name.strip(), image, kind, float(weight))
    return _library(project, f"Add Reference {ref.name}", references=project.references + (ref,))


def set_reference(project: Project, ref_id: str, **changes: Any) -> Command:
    """Rename a reference, change its kind or its weight (dragging the weight is one undo step)."""
    bad = set(changes) - {"name", "kind", "weight"}
    if bad:
        raise EditError(f"a reference has no field {', '.join(sorted(bad))}")
    old = project.reference(ref_id)
    if "name" in changes:
        changes["name"] = str(changes["name"]).strip()
    new = replace(old, **changes)
    refs = tuple(new if r.id == ref_id else r for r in project.references)
    key = ("reference", ref_id, frozenset(changes)) if set(changes) == {"weight"} else None
    return _library(project, f"Edit Reference {new.name}", key, references=refs)


def remove_reference(project: Project, ref_id: str) -> Command:
    """Delete a reference; the shots that used it stop using it (one undo step brings both back)."""
    old = project.reference(ref_id)
    scenes = tuple(
        replace(
            scene,
            shots=tuple(
                replace(shot, references=tuple(r for r in shot.references if r != ref_id))
                if ref_id in shot.references
                else shot
                for shot in scene.shots
            ),
        )
        if any(ref_id in shot.references for shot in scene.shots)
        else scene
        for scene in project.scenes
    )
    refs = tuple(r for r in project.references if r.id != ref_id)
    return _library(project, f"Delete Reference {old.name}", references=refs, scenes=scenes)


def add_lora(project: Project, file: MediaRef, name: str, weight: float = 1.0) -> Command:
    """A LoRA (a .safetensors file already stored in the bundle) keyframe generation loads."""
    lora = ProjectLora(new_id(), name.strip(), file, float(weight))
    return _library(project, f"Add LoRA {lora.name}", loras=project.loras + (lora,))


def set_lora(project: Project, lora_id: str, **changes: Any) -> Command:
    bad = set(changes) - {"name", "weight"}
    if bad:
        raise EditError(f"a LoRA has no field {', '.join(sorted(bad))}")
    old = next((lo for lo in project.loras if lo.id == lora_id), None)
    if old is None:
        raise EditError(f"no LoRA with id {lora_id}")
    if "name" in changes:
        changes["name"] = str(changes["name"]).strip()
    new = replace(old, **changes)
    loras = tuple(new if lo.id == lora_id else lo for lo in project.loras)
    key = ("lora", lora_id, frozenset(changes)) if set(changes) == {"weight"} else None
    return _library(project, f"Edit LoRA {new.name}", key, loras=loras)


def remove_lora(project: Project, lora_id: str) -> Command:
    old = next((lo for lo in project.loras if lo.id == lora_id), None)
    if old is None:
        raise EditError(f"no LoRA with id {lora_id}")
    return _library(project, f"Delete LoRA {old.name}", loras=tuple(lo for lo in project.loras if lo.id != lora_id))


def set_shot_references(project: Project, shot_id: str, ref_ids: list[str] | tuple[str, ...]) -> Command:
    """Which project references this shot's keyframes use, in order."""
    shot = project.shot(shot_id)
    ids = tuple(dict.fromkeys(ref_ids))
    for ref_id in ids:
        project.reference(ref_id)
    return Command(f"Shot {shot.number} References", (ReplaceShot(replace(shot, references=ids)),))
