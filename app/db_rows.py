"""Turning documents into project.db rows and back.

Each table has a row dataclass in :mod:`app.db_tables` whose fields are its columns; rows are
written and read by column name, never by position, so a new column can't shift the others.

Reading is strict: a row that Pinframe would never write (a pin outside its shot, a media
reference that is not a hash) stops the load with an error naming the row, instead of being
half-read into a document that later misbehaves.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict

from app.db_tables import (
    AudioClipRow,
    ClipTakeRow,
    KeyframeTakeRow,
    LoraRow,
    PinRow,
    ProjectRow,
    ReferenceRow,
    SceneRow,
    ShotRow,
    insert,
    select,
)
from app.document import (
    AudioClip,
    Camera,
    ClipTake,
    GenerationParams,
    KeyframeTake,
    Pin,
    Project,
    ProjectLora,
    Reference,
    RenderSettings,
    Scene,
    Shot,
)
from app.errors import CorruptBundleError, PinframeError
from app.media_ref import MediaRef
from app.timecode import FrameRate


# --- writing ------------------------------------------------------------------------------
def write_project_row(conn: sqlite3.Connection, p: Project) -> None:
    row = ProjectRow(
        id=1,
        name=p.name,
        rate_num=p.rate.num,
        rate_den=p.rate.den,
        width=p.width,
        height=p.height,
        start_frame=p.start_frame,
        drop_frame=int(p.drop_frame),
        motion_model=p.motion_model,
        prompt_template=p.prompt_template,
    )
    insert(conn, [row], ProjectRow, replace=True)
    write_references(conn, p)


def write_references(conn: sqlite3.Connection, p: Project) -> None:
    """The project's reference pictures and LoRAs (few rows: rewritten with the project row)."""
    conn.execute("DELETE FROM project_references")
    insert(conn, (ReferenceRow(r.id, i, r.name, str(r.image), r.kind, r.weight)
                   for i, r in enumerate(p.references)), ReferenceRow)  # fmt: skip
    conn.execute("DELETE FROM project_loras")
    insert(conn, (LoraRow(lo.id, i, lo.name, str(lo.file), lo.weight) for i, lo in enumerate(p.loras)), LoraRow)


def write_scenes(conn: sqlite3.Connection, scenes: Iterable[Scene]) -> None:
    conn.execute("DELETE FROM scenes")
    insert(conn, (SceneRow(s.id, i, s.heading, s.synopsis, s.script_key, s.script_hash)
                   for i, s in enumerate(scenes)), SceneRow)  # fmt: skip


def write_audio(conn: sqlite3.Connection, clips: Iterable[AudioClip]) -> None:
    conn.execute("DELETE FROM audio_clips")
    insert(conn, (AudioClipRow(c.id, i, str(c.media), c.name, c.start, c.gain_db)
                   for i, c in enumerate(clips)), AudioClipRow)  # fmt: skip


def delete_shot(conn: sqlite3.Connection, shot_id: str) -> None:
    for table, column in (
        ("shots", "id"),
        ("pins", "shot_id"),
        ("keyframe_takes", "shot_id"),
        ("clip_takes", "shot_id"),
    ):
        conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (shot_id,))


def write_shot(conn: sqlite3.Connection, scene_id: str, position: int, s: Shot) -> None:
    """Write a shot and everything in it, replacing what was stored for its id."""
    delete_shot(conn, s.id)
    c = s.camera
    row = ShotRow(
        id=s.id,
        scene_id=scene_id,
        position=position,
        number=s.number,
        action=s.action,
        dialogue=s.dialogue,
        notes=s.notes,
        prompt=s.prompt,
        negative_prompt=s.negative_prompt,
        style=s.style,
        cam_size=c.size,
        cam_angle=c.angle,
        cam_lens_mm=c.lens_mm,
        cam_move=c.move,
        duration=s.duration,
        handles=s.handles,
        current_clip=s.current_clip,
        render_json=json.dumps(asdict(s.render)),
        script_key=s.script_key,
        script_fields=s.script_fields,
        motion_model=s.motion_model,
        thumbnail_take=s.thumbnail_take,
        reference_ids=json.dumps(list(s.references)),
    )
    insert(conn, [row], ShotRow)
    insert(conn, (PinRow(s.id, p.frame, p.take_id) for p in s.pins), PinRow)
    insert(conn, (_keyframe_row(s.id, i, t) for i, t in enumerate(s.keyframe_takes)), KeyframeTakeRow)
    insert(conn, (_clip_row(s.id, i, t) for i, t in enumerate(s.clip_takes)), ClipTakeRow)


def _keyframe_row(shot_id: str, position: int, t: KeyframeTake) -> KeyframeTakeRow:
    return KeyframeTakeRow(
        id=t.id,
        shot_id=shot_id,
        position=position,
        media=str(t.image),
        width=t.width,
        height=t.height,
        created=t.created,
        imported_from=t.imported_from,
        generation_json=json.dumps(asdict(t.generation)) if t.generation else None,
    )


def _clip_row(shot_id: str, position: int, t: ClipTake) -> ClipTakeRow:
    return ClipTakeRow(
        id=t.id,
        shot_id=shot_id,
        position=position,
        media=str(t.media),
        inputs_hash=t.inputs_hash,
        frame_count=t.frame_count,
        created=t.created,
        backend=t.backend,
        model_id=t.model_id,
        model_revision=t.model_revision,
        settings_json=json.dumps([list(p) for p in t.settings]),
        notes=t.notes,
        audio=str(t.audio) if t.audio is not None else None,
        draft=int(t.draft),
    )


def update_shot_position(conn: sqlite3.Connection, scene_id: str, position: int, shot_id: str) -> None:
    conn.execute("UPDATE shots SET scene_id = ?, position = ? WHERE id = ?", (scene_id, position, shot_id))


# --- reading ------------------------------------------------------------------------------
class _RowError(Exception):
    pass


def load_project(conn: sqlite3.Connection, db_label: str) -> Project:
    """Read the whole document; any inconsistency raises CorruptBundleError naming ``db_label``."""
    where = "the project row"
    try:
        row = next(select(conn, ProjectRow, "WHERE id = 1"), None)
        if row is None:
            raise _RowError("it has no project row")

        pins: dict[str, list[Pin]] = defaultdict(list)
        for pin in select(conn, PinRow, "ORDER BY shot_id, frame"):
            pins[pin.shot_id].append(Pin(frame=_int(pin.frame), take_id=pin.take_id))

        keyframes: dict[str, list[KeyframeTake]] = defaultdict(list)
        for k in select(conn, KeyframeTakeRow, "ORDER BY shot_id, position"):
            where = f"keyframe take {k.id}"
            gen = _generation(_object(k.generation_json, "generation record")) if k.generation_json else None
            keyframes[k.shot_id].append(
                KeyframeTake(
                    id=k.id,
                    image=MediaRef.parse(k.media),
                    width=_int(k.width),
                    height=_int(k.height),
                    created=k.created,
                    generation=gen,
                    imported_from=k.imported_from,
                )
            )

        clips: dict[str, list[ClipTake]] = defaultdict(list)
        for c in select(conn, ClipTakeRow, "ORDER BY shot_id, position"):
            where = f"clip take {c.id}"
            clips[c.shot_id].append(
                ClipTake(
                    id=c.id,
                    media=MediaRef.parse(c.media),
                    inputs_hash=c.inputs_hash,
                    frame_count=_int(c.frame_count),
                    created=c.created,
                    backend=c.backend,
                    model_id=c.model_id,
                    model_revision=c.model_revision,
                    settings=_settings(c.settings_json),
                    notes=c.notes,
                    audio=MediaRef.parse(c.audio) if c.audio else None,
                    draft=bool(c.draft),
                )
            )

        shots: dict[str, list[Shot]] = defaultdict(list)
        for r in select(conn, ShotRow, "ORDER BY scene_id, position"):
            where = f"shot {r.number!r} ({r.id})"
            render = _render(r.render_json)
            shots[r.scene_id].append(
                Shot(
                    id=r.id,
                    number=r.number,
                    action=r.action,
                    dialogue=r.dialogue,
                    notes=r.notes,
                    prompt=r.prompt,
                    negative_prompt=r.negative_prompt,
                    style=r.style,
                    camera=Camera(size=r.cam_size, angle=r.cam_angle, lens_mm=r.cam_lens_mm, move=r.cam_move),
                    duration=_int(r.duration),
                    handles=_int(r.handles),
                    current_clip=r.current_clip,
                    render=render,
                    pins=tuple(pins.pop(r.id, ())),
                    keyframe_takes=tuple(keyframes.pop(r.id, ())),
                    clip_takes=tuple(clips.pop(r.id, ())),
                    script_key=r.script_key,
                    script_fields=r.script_fields,
                    motion_model=r.motion_model,
                    thumbnail_take=r.thumbnail_take,
                    references=_ids(r.reference_ids),
                )
            )

        scenes = []
        for sc in select(conn, SceneRow, "ORDER BY position"):
            where = f"scene {sc.heading!r}"
            scenes.append(Scene(id=sc.id, heading=sc.heading, synopsis=sc.synopsis, shots=tuple(shots.pop(sc.id, ())),
                                script_key=sc.script_key, script_hash=sc.script_hash))  # fmt: skip
        if shots:
            where = "the shots table"
            raise _RowError(f"{sum(map(len, shots.values()))} shots belong to no scene")

        audio = []
        for a in select(conn, AudioClipRow, "ORDER BY position"):
            where = f"audio clip {a.name!r}"
            audio.append(AudioClip(id=a.id, media=MediaRef.parse(a.media), start=_int(a.start_frame), name=a.name,
                                   gain_db=float(a.gain_db)))  # fmt: skip

        references = []
        for ref in select(conn, ReferenceRow, "ORDER BY position"):
            where = f"reference {ref.name!r}"
            references.append(Reference(id=ref.id, name=ref.name, image=MediaRef.parse(ref.media), kind=ref.kind,
                                        weight=float(ref.weight)))  # fmt: skip
        loras = []
        for lo in select(conn, LoraRow, "ORDER BY position"):
            where = f"LoRA {lo.name!r}"
            loras.append(ProjectLora(id=lo.id, name=lo.name, file=MediaRef.parse(lo.media), weight=float(lo.weight)))

        where = "the project row"
        return Project(
            name=row.name,
            rate=FrameRate(_int(row.rate_num), _int(row.rate_den)),
            width=_int(row.width),
            height=_int(row.height),
            start_frame=_int(row.start_frame),
            drop_frame=bool(row.drop_frame),
            motion_model=row.motion_model,
            prompt_template=row.prompt_template,
            scenes=tuple(scenes),
            audio=tuple(audio),
            references=tuple(references),
            loras=tuple(loras),
        )
    except sqlite3.DatabaseError as exc:
        raise CorruptBundleError(_damaged(db_label, str(exc))) from None
    except (PinframeError, _RowError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise CorruptBundleError(
            f"{db_label} holds data Pinframe would never write ({where}: {exc}); it was changed outside "
            "Pinframe: restore it from the bundle's backups/ folder"
        ) from None


def _generation(fields: dict) -> GenerationParams:
    # JSON has lists where the record holds (name, weight) tuples; tuples keep it hashable.
    for key in ("references", "loras"):
        if key in fields:
            fields[key] = tuple((str(name), float(weight)) for name, weight in fields[key])
    return GenerationParams(**fields)


def _object(text: object, what: str) -> dict:
    """A JSON object read from a row: anything else (a list, a number, bad JSON) names what it is."""
    try:
        value = json.loads(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _RowError(f"its {what} is not JSON, found {text!r}") from None
    if not isinstance(value, dict):
        raise _RowError(f"its {what} should be a JSON object, found {text!r}")
    return value


def _render(text: object) -> RenderSettings:
    """A shot's render record: a JSON object of RenderSettings fields, params as [name, value] pairs."""
    fields = _object(text, "render record")
    params = fields.get("params", ())
    if not isinstance(params, list | tuple) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in params):
        raise _RowError(f"its render record's params should be a list of [name, value] pairs, found {text!r}")
    fields["params"] = tuple(tuple(p) for p in params)
    if not isinstance(fields.get("backend", ""), str) or not isinstance(fields.get("model_id", ""), str):
        raise _RowError(f"its render record's backend and model id should be text, found {text!r}")
    _int(fields.get("seed", 0))
    try:
        return RenderSettings(**fields)
    except TypeError:
        raise _RowError(f"its render record has fields Pinframe does not know, found {text!r}") from None


def _ids(text: str) -> tuple[str, ...]:
    ids = json.loads(text)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _RowError(f"its reference ids should be a list of ids, found {text!r}")
    return tuple(ids)


def _settings(text: str) -> tuple[tuple[str, object], ...]:
    pairs = json.loads(text)
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise _RowError(f"its settings should be a list of [name, value] pairs, found {text!r}")
    return tuple((str(k), v) for k, v in pairs)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _RowError(f"expected a whole number, found {value!r}")
    return value


def _damaged(db_label: str, detail: str) -> str:
    return (
        f"{db_label} is damaged ({detail}); copy the newest file from the bundle's backups/ folder "
        "over project.db, or restore the bundle from your own backup"
    )
