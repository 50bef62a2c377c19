"""project.db's tables and the row dataclasses of app.db_tables name the same columns; rows are read by name."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import fields, make_dataclass

from app.bundle import DB_NAME, Bundle
from app.db_rows import load_project
from app.db_tables import ROW_TYPES, ClipTakeRow, ShotRow, columns
from app.document import Project
from app.schema import run_migrations
from app.timecode import FrameRate
from tests.app.export.project_factory import make_export_project

# The bundle's own key/value table: not part of the document, so it has no row.
NOT_DOCUMENT = {"meta"}


def table_columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def mismatches(tables: dict[str, list[str]], row_types=ROW_TYPES) -> list[str]:
    """Every disagreement between the tables and the rows, each naming the table, the row and the column."""
    found: list[str] = []
    rows = {r.TABLE: r for r in row_types}
    for table in sorted(set(tables) - set(rows) - NOT_DOCUMENT):
        found.append(f"table {table} has no row dataclass in app/db_tables.py")
    for table, row in rows.items():
        if table not in tables:
            found.append(f"{row.__name__} is for table {table}, which a new bundle doesn't have")
            continue
        have, want = set(tables[table]), set(columns(row))
        for column in sorted(have - want):
            found.append(f"column {table}.{column} has no field in {row.__name__}: add one, or it is never read")
        for field in sorted(want - have):
            found.append(f"{row.__name__}.{field} has no column in table {table}: add a migration in app/schema.py")
    return found


def new_bundle_tables(tmp_path) -> dict[str, list[str]]:
    bundle = Bundle.create(tmp_path / "Fresh.pinframe", Project("Fresh", FrameRate(24, 1)))
    bundle.close()
    conn = sqlite3.connect(tmp_path / "Fresh.pinframe" / DB_NAME)
    try:
        return table_columns(conn)
    finally:
        conn.close()


def test_every_table_column_is_a_row_field_and_back(tmp_path):
    tables = new_bundle_tables(tmp_path)
    assert not mismatches(tables), "\n".join(mismatches(tables))
    assert {r.TABLE for r in ROW_TYPES} | NOT_DOCUMENT == set(tables)


def test_a_column_without_a_field_or_a_field_without_a_column_is_named():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    run_migrations(conn)
    conn.execute("ALTER TABLE shots ADD COLUMN lens_filter TEXT NOT NULL DEFAULT ''")
    wider = make_dataclass("ClipTakeRow", [(f.name, f.type) for f in fields(ClipTakeRow)] + [("rating", int)])
    wider.TABLE = ClipTakeRow.TABLE
    found = mismatches(table_columns(conn), tuple(wider if r is ClipTakeRow else r for r in ROW_TYPES))
    assert found == [
        "column shots.lens_filter has no field in ShotRow: add one, or it is never read",
        "ClipTakeRow.rating has no column in table clip_takes: add a migration in app/schema.py",
    ]


def test_rows_are_read_by_column_name_not_position(tmp_path):
    """The same database with every table's columns in reverse order loads the same project."""
    made = make_export_project(tmp_path / "p", audio=True)
    db = made.bundle_path / DB_NAME
    shuffled = tmp_path / "shuffled.db"
    shutil.copy(db, shuffled)
    conn = sqlite3.connect(shuffled, isolation_level=None)
    try:
        for row in ROW_TYPES:
            cols = ", ".join(reversed(columns(row)))
            conn.execute(f"CREATE TABLE reversed AS SELECT {cols} FROM {row.TABLE}")
            conn.execute(f"DROP TABLE {row.TABLE}")
            conn.execute(f"ALTER TABLE reversed RENAME TO {row.TABLE}")
        assert table_columns(conn)["shots"] == list(reversed(columns(ShotRow)))
        reordered = load_project(conn, "shuffled.db")
    finally:
        conn.close()
    original = sqlite3.connect(db)
    try:
        assert reordered == load_project(original, "project.db")
    finally:
        original.close()
    assert reordered.shot_count() == made.project.shot_count() and reordered.audio
