"""The tables of project.db as dataclasses: one a table, a field a column, read and written by name.

``app.db_rows`` turns documents into these rows and back. Columns are named in every statement
and read through ``sqlite3.Row`` by name, never by position, so a new column can't shift the
others; ``tests/app/test_db_rows_schema.py`` holds the fields to the tables of a new bundle.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from typing import ClassVar, TypeVar


@dataclass(frozen=True)
class Row:
    """A row of project.db: ``TABLE`` is its table, the fields are its columns."""

    TABLE: ClassVar[str]


@dataclass(frozen=True)
class ProjectRow(Row):
    TABLE: ClassVar[str] = "project"
    id: int
    name: str
    rate_num: int
    rate_den: int
    width: int
    height: int
    start_frame: int
    drop_frame: int
    motion_model: str
    prompt_template: str


@dataclass(frozen=True)
class SceneRow(Row):
    TABLE: ClassVar[str] = "scenes"
    id: str
    position: int
    heading: str
    synopsis: str
    script_key: str
    script_hash: str


@dataclass(frozen=True)
class ShotRow(Row):
    TABLE: ClassVar[str] = "shots"
    id: str
    scene_id: str
    position: int
    number: str
    action: str
    dialogue: str
    notes: str
    prompt: str
    negative_prompt: str
    style: str
    cam_size: str
    cam_angle: str
    cam_lens_mm: float | None
    cam_move: str
    duration: int
    handles: int
    current_clip: str | None
    render_json: str
    script_key: str
    script_fields: str
    motion_model: str
    thumbnail_take: str
    reference_ids: str  # a JSON list of the project reference ids the shot uses


@dataclass(frozen=True)
class PinRow(Row):
    TABLE: ClassVar[str] = "pins"
    shot_id: str
    frame: int
    take_id: str


@dataclass(frozen=True)
class KeyframeTakeRow(Row):
    TABLE: ClassVar[str] = "keyframe_takes"
    id: str
    shot_id: str
    position: int
    media: str
    width: int
    height: int
    created: str
    imported_from: str
    generation_json: str | None


@dataclass(frozen=True)
class ClipTakeRow(Row):
    TABLE: ClassVar[str] = "clip_takes"
    id: str
    shot_id: str
    position: int
    media: str
    inputs_hash: str
    frame_count: int
    created: str
    backend: str
    model_id: str
    model_revision: str
    settings_json: str
    notes: str
    audio: str | None
    draft: int


@dataclass(frozen=True)
class AudioClipRow(Row):
    TABLE: ClassVar[str] = "audio_clips"
    id: str
    position: int
    media: str
    name: str
    start_frame: int
    gain_db: float


@dataclass(frozen=True)
class ReferenceRow(Row):
    TABLE: ClassVar[str] = "project_references"
    id: str
    position: int
    name: str
    media: str
    kind: str
    weight: float


@dataclass(frozen=True)
class LoraRow(Row):
    TABLE: ClassVar[str] = "project_loras"
    id: str
    position: int
    name: str
    media: str
    weight: float


# Every table the document is stored in, with its row (the bundle's own ``meta`` table is not one).
ROW_TYPES: tuple[type[Row], ...] = (
    ProjectRow, SceneRow, ShotRow, PinRow, KeyframeTakeRow, ClipTakeRow, AudioClipRow, ReferenceRow, LoraRow,
)  # fmt: skip

R = TypeVar("R", bound=Row)


def columns(row_type: type[Row]) -> tuple[str, ...]:
    """The columns of ``row_type``'s table that Pinframe reads and writes: the row's fields, in order."""
    return tuple(f.name for f in fields(row_type))


def insert(conn: sqlite3.Connection, rows: Iterable[Row], row_type: type[Row], *, replace: bool = False) -> None:
    cols = columns(row_type)
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    sql = f"{verb} INTO {row_type.TABLE} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    conn.executemany(sql, [asdict(r) for r in rows])


def select(conn: sqlite3.Connection, row_type: type[R], tail: str = "") -> Iterator[R]:
    """Rows of ``row_type``'s table, each column read by its name."""
    cols = columns(row_type)
    cursor = conn.execute(f"SELECT {', '.join(cols)} FROM {row_type.TABLE} {tail}")
    cursor.row_factory = sqlite3.Row
    for found in cursor:
        yield row_type(**{c: found[c] for c in cols})
