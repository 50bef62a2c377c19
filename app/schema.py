"""The project.db schema, its version, and forward migrations.

The schema version lives in SQLite's ``PRAGMA user_version``. A bundle at an older version is
migrated forward one step at a time inside one transaction (after a backup copy is made); a
bundle at a newer version is refused, because a downgrade would silently drop what the newer
Pinframe stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

SCHEMA_VERSION = 7

SCHEMA_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE project (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    rate_num INTEGER NOT NULL,
    rate_den INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    start_frame INTEGER NOT NULL,
    drop_frame INTEGER NOT NULL
);
CREATE TABLE scenes (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    heading TEXT NOT NULL,
    synopsis TEXT NOT NULL
);
CREATE TABLE shots (
    id TEXT PRIMARY KEY,
    scene_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    number TEXT NOT NULL,
    action TEXT NOT NULL,
    dialogue TEXT NOT NULL,
    notes TEXT NOT NULL,
    prompt TEXT NOT NULL,
    negative_prompt TEXT NOT NULL,
    style TEXT NOT NULL,
    cam_size TEXT NOT NULL,
    cam_angle TEXT NOT NULL,
    cam_lens_mm REAL,
    cam_move TEXT NOT NULL,
    duration INTEGER NOT NULL,
    handles INTEGER NOT NULL,
    current_clip TEXT,
    render_json TEXT NOT NULL
);
CREATE INDEX shots_by_scene ON shots (scene_id, position);
CREATE TABLE pins (
    shot_id TEXT NOT NULL,
    frame INTEGER NOT NULL,
    take_id TEXT NOT NULL,
    PRIMARY KEY (shot_id, frame)
);
CREATE TABLE keyframe_takes (
    id TEXT PRIMARY KEY,
    shot_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    media TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    created TEXT NOT NULL,
    imported_from TEXT NOT NULL,
    generation_json TEXT
);
CREATE INDEX keyframe_takes_by_shot ON keyframe_takes (shot_id, position);
CREATE TABLE clip_takes (
    id TEXT PRIMARY KEY,
    shot_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    media TEXT NOT NULL,
    inputs_hash TEXT NOT NULL,
    frame_count INTEGER NOT NULL,
    created TEXT NOT NULL,
    backend TEXT NOT NULL,
    model_id TEXT NOT NULL
);
CREATE INDEX clip_takes_by_shot ON clip_takes (shot_id, position);
CREATE TABLE audio_clips (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    media TEXT NOT NULL,
    name TEXT NOT NULL,
    start_frame INTEGER NOT NULL,
    gain_db REAL NOT NULL
);
"""


def _create_v1(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    """Script identity: which script scene (and shot) a scene (shot) was imported from, and the
    scene's content hash then, so re-importing an edited script can leave unchanged scenes alone."""
    conn.execute("ALTER TABLE scenes ADD COLUMN script_key TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE scenes ADD COLUMN script_hash TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE shots ADD COLUMN script_key TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE shots ADD COLUMN script_fields TEXT NOT NULL DEFAULT ''")


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    """Motion models: the project's default and a shot's own choice, and what made each clip
    (model revision, settings, the backend's notes, and the sound a model made with it)."""
    conn.execute("ALTER TABLE project ADD COLUMN motion_model TEXT NOT NULL DEFAULT 'flow'")
    conn.execute("ALTER TABLE shots ADD COLUMN motion_model TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE clip_takes ADD COLUMN model_revision TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE clip_takes ADD COLUMN settings_json TEXT NOT NULL DEFAULT '[]'")
    conn.execute("ALTER TABLE clip_takes ADD COLUMN notes TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE clip_takes ADD COLUMN audio TEXT")


def _v3_to_v4(conn: sqlite3.Connection) -> None:
    """The project's prompt template (camera fields into prompts; "" is the built-in one), and
    whether a clip is a draft (fewer steps or a smaller size than a final render)."""
    conn.execute("ALTER TABLE project ADD COLUMN prompt_template TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE clip_takes ADD COLUMN draft INTEGER NOT NULL DEFAULT 0")


def _v4_to_v5(conn: sqlite3.Connection) -> None:
    """The keyframe take a shot shows in the storyboard grid and shot list ("": the default)."""
    conn.execute("ALTER TABLE shots ADD COLUMN thumbnail_take TEXT NOT NULL DEFAULT ''")


def _v5_to_v6(conn: sqlite3.Connection) -> None:
    """Keyframe takes made from a picture (sketch -> keyframe, inpainting) record it in their
    generation_json (source take or file, start picture, mask, strength). No column changes: the
    version says so, and a Pinframe from before would fail on the new fields rather than refuse
    the bundle, so it must see a newer version and ask to be updated."""


def _v6_to_v7(conn: sqlite3.Connection) -> None:
    """Consistent characters and look: the project's named reference pictures and LoRA files (both
    media in the bundle), and which references each shot uses (a JSON list of reference ids). Which
    were used for a keyframe lives in its generation_json."""
    conn.execute(
        "CREATE TABLE project_references (id TEXT PRIMARY KEY, position INTEGER NOT NULL, name TEXT NOT NULL,"
        " media TEXT NOT NULL, kind TEXT NOT NULL, weight REAL NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE project_loras (id TEXT PRIMARY KEY, position INTEGER NOT NULL, name TEXT NOT NULL,"
        " media TEXT NOT NULL, weight REAL NOT NULL)"
    )
    conn.execute("ALTER TABLE shots ADD COLUMN reference_ids TEXT NOT NULL DEFAULT '[]'")


# MIGRATIONS[v] takes a database at version v to version v + 1. Version 0 is an empty file.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    0: _create_v1,
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
    6: _v6_to_v7,
}


def read_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def run_migrations(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Bring the database up to ``target`` in one transaction; returns the starting version.

    Statements run one by one (not ``executescript``, which commits on its own), so a crash
    half-way leaves the database exactly at its old version.
    """
    target = SCHEMA_VERSION if target is None else target
    start = read_version(conn)
    if start >= target:
        return start
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in range(start, target):
            MIGRATIONS[version](conn)
        conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return start
