"""Turning documents into project.db rows and back.

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
    conn.execute(
        "INSERT OR REPLACE INTO project (id, name, rate_num, rate_den, width, height, start_frame, drop_frame,"
        " motion_model, prompt_template) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            p.name,
            p.rate.num,
            p.rate.den,
            p.width,
            p.height,
            p.start_frame,
            int(p.drop_frame),
            p.motion_model,
            p.prompt_template,
        ),
    )
    write_references(conn, p)


def write_references(conn: sqlite3.Connection, p: Project) -> None:
    """The project's reference pictures and LoRAs (few rows: rewritten with the project row)."""
    conn.execute("DELETE FROM project_references")
    conn.executemany(
        "INSERT INTO project_references (id, position, name, media, kind, weight) VALUES (?, ?, ?, ?, ?, ?)",
        [(r.id, i, r.name, str(r.image), r.kind, r.weight) for i, r in enumerate(p.references)],
    )
    conn.execute("DELETE FROM project_loras")
    conn.executemany(
        "INSERT INTO project_loras (id, position, name, media, weight) VALUES (?, ?, ?, ?, ?)",
        [(lo.id, i, lo.name, str(lo.file), lo.weight) for i, lo in enumerate(p.loras)],
    )


def write_scenes(conn: sqlite3.Connection, scenes: Iterable[Scene]) -> None:
    conn.execute("DELETE FROM scenes")
    conn.executemany(
        "INSERT INTO scenes (id, position, heading, synopsis, script_key, script_hash) VALUES (?, ?, ?, ?, ?, ?)",
        [(s.id, i, s.heading, s.synopsis, s.script_key, s.script_hash) for i, s in enumerate(scenes)],
    )


def write_audio(conn: sqlite3.Connection, clips: Iterable[AudioClip]) -> None:
    conn.execute("DELETE FROM audio_clips")
    conn.executemany(
        "INSERT INTO audio_clips (id, position, media, name, start_frame, gain_db) VALUES (?, ?, ?, ?, ?, ?)",
        [(c.id, i, str(c.media), c.name, c.start, c.gain_db) for i, c in enumerate(clips)],
    )


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
    conn.execute(
        "INSERT INTO shots (id, scene_id, position, number, action, dialogue, notes, prompt, negative_prompt,"
        " style, cam_size, cam_angle, cam_lens_mm, cam_move, duration, handles, current_clip, render_json,"
        " script_key, script_fields, motion_model, thumbnail_take, reference_ids) VALUES (" + ", ".join("?" * 23) + ")",
        (
            s.id,
            scene_id,
            position,
            s.number,
            s.action,
            s.dialogue,
            s.notes,
            s.prompt,
            s.negative_prompt,
            s.style,
            c.size,
            c.angle,
            c.lens_mm,
            c.move,
            s.duration,
            s.handles,
            s.current_clip,
            json.dumps(asdict(s.render)),
            s.script_key,
            s.script_fields,
            s.motion_model,
            s.thumbnail_take,
            json.dumps(list(s.references)),
        ),
    )
    conn.executemany(
        "INSERT INTO pins (shot_id, frame, take_id) VALUES (?, ?, ?)",
        [(s.id, p.frame, p.take_id) for p in s.pins],
    )
    conn.executemany(
        "INSERT INTO keyframe_takes (id, shot_id, position, media, width, height, created, imported_from,"
        " generation_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                t.id,
                s.id,
                i,
                str(t.image),
                t.width,
                t.height,
                t.created,
                t.imported_from,
                json.dumps(asdict(t.generation)) if t.generation else None,
            )
            for i, t in enumerate(s.keyframe_takes)
        ],
    )
    conn.executemany(
        "INSERT INTO clip_takes (id, shot_id, position, media, inputs_hash, frame_count, created, backend,"
        " model_id, model_revision, settings_json, notes, audio, draft) VALUES (" + ", ".join("?" * 14) + ")",
        [
            (
                t.id,
                s.id,
                i,
                str(t.media),
                t.inputs_hash,
                t.frame_count,
                t.created,
                t.backend,
                t.model_id,
                t.model_revision,
                json.dumps([list(p) for p in t.settings]),
                t.notes,
                str(t.audio) if t.audio is not None else None,
                int(t.draft),
            )
            for i, t in enumerate(s.clip_takes)
        ],
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
        row = conn.execute(
            "SELECT name, rate_num, rate_den, width, height, start_frame, drop_frame, motion_model, prompt_template"
            " FROM project WHERE id = 1"
        ).fetchone()
        if row is None:
            raise _RowError("it has no project row")

        pins: dict[str, list[Pin]] = defaultdict(list)
        for shot_id, frame, take_id in conn.execute("SELECT shot_id, frame, take_id FROM pins ORDER BY shot_id, frame"):
            pins[shot_id].append(Pin(_int(frame), take_id))

        keyframes: dict[str, list[KeyframeTake]] = defaultdict(list)
        for r in conn.execute(
            "SELECT id, shot_id, media, width, height, created, imported_from, generation_json"
            " FROM keyframe_takes ORDER BY shot_id, position"
        ):
            where = f"keyframe take {r[0]}"
            gen = _generation(_object(r[7], "generation record")) if r[7] else None
            keyframes[r[1]].append(KeyframeTake(r[0], MediaRef.parse(r[2]), _int(r[3]), _int(r[4]), r[5], gen, r[6]))

        clips: dict[str, list[ClipTake]] = defaultdict(list)
        for r in conn.execute(
            "SELECT id, shot_id, media, inputs_hash, frame_count, created, backend, model_id, model_revision,"
            " settings_json, notes, audio, draft FROM clip_takes ORDER BY shot_id, position"
        ):
            where = f"clip take {r[0]}"
            clips[r[1]].append(
                ClipTake(
                    r[0],
                    MediaRef.parse(r[2]),
                    r[3],
                    _int(r[4]),
                    r[5],
                    r[6],
                    r[7],
                    model_revision=r[8],
                    settings=_settings(r[9]),
                    notes=r[10],
                    audio=MediaRef.parse(r[11]) if r[11] else None,
                    draft=bool(r[12]),
                )
            )

        shots: dict[str, list[Shot]] = defaultdict(list)
        for r in conn.execute(
            "SELECT id, scene_id, number, action, dialogue, notes, prompt, negative_prompt, style, cam_size,"
            " cam_angle, cam_lens_mm, cam_move, duration, handles, current_clip, render_json, script_key,"
            " script_fields, motion_model, thumbnail_take, reference_ids FROM shots ORDER BY scene_id, position"
        ):
            where = f"shot {r[2]!r} ({r[0]})"
            render = _render(r[16])
            shots[r[1]].append(
                Shot(
                    id=r[0],
                    number=r[2],
                    action=r[3],
                    dialogue=r[4],
                    notes=r[5],
                    prompt=r[6],
                    negative_prompt=r[7],
                    style=r[8],
                    camera=Camera(r[9], r[10], r[11], r[12]),
                    duration=_int(r[13]),
                    handles=_int(r[14]),
                    current_clip=r[15],
                    render=render,
                    pins=tuple(pins.pop(r[0], ())),
                    keyframe_takes=tuple(keyframes.pop(r[0], ())),
                    clip_takes=tuple(clips.pop(r[0], ())),
                    script_key=r[17],
                    script_fields=r[18],
                    motion_model=r[19],
                    thumbnail_take=r[20],
                    references=_ids(r[21]),
                )
            )

        scenes = []
        for scene_id, heading, synopsis, key, digest in conn.execute(
            "SELECT id, heading, synopsis, script_key, script_hash FROM scenes ORDER BY position"
        ):
            where = f"scene {heading!r}"
            scenes.append(Scene(scene_id, heading, synopsis, tuple(shots.pop(scene_id, ())), key, digest))
        if shots:
            where = "the shots table"
            raise _RowError(f"{sum(map(len, shots.values()))} shots belong to no scene")

        audio = []
        for r in conn.execute("SELECT id, media, name, start_frame, gain_db FROM audio_clips ORDER BY position"):
            where = f"audio clip {r[2]!r}"
            audio.append(AudioClip(r[0], MediaRef.parse(r[1]), _int(r[3]), r[2], float(r[4])))

        references = []
        for r in conn.execute("SELECT id, name, media, kind, weight FROM project_references ORDER BY position"):
            where = f"reference {r[1]!r}"
            references.append(Reference(r[0], r[1], MediaRef.parse(r[2]), r[3], float(r[4])))
        loras = []
        for r in conn.execute("SELECT id, name, media, weight FROM project_loras ORDER BY position"):
            where = f"LoRA {r[1]!r}"
            loras.append(ProjectLora(r[0], r[1], MediaRef.parse(r[2]), float(r[3])))

        where = "the project row"
        return Project(
            name=row[0],
            rate=FrameRate(_int(row[1]), _int(row[2])),
            width=_int(row[3]),
            height=_int(row[4]),
            start_frame=_int(row[5]),
            drop_frame=bool(row[6]),
            motion_model=row[7],
            prompt_template=row[8],
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
