"""The bundle on disk: round trips through a real SQLite file, and every bad input."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from app import commands as C
from app import schema
from app.bundle import Bundle
from app.document import KeyframeTake, Project, Scene, new_id, with_shot
from app.errors import BundleError, CorruptBundleError, MediaError, NewerVersionError, NotABundleError
from app.history import History
from app.media_ref import MediaRef
from app.timecode import FrameRate
from tests.app.test_document_commands import random_command
from tests.helpers import png_bytes


def real_project(bundle: Bundle, shots: int = 3) -> Project:
    """A project whose keyframes are real PNGs stored in the bundle."""
    h = History(
        Project(
            "Real",
            FrameRate(30000, 1001),
            drop_frame=True,
            start_frame=107892,
            scenes=(Scene(new_id(), "INT. LAB - NIGHT", "synopsis"),),
        )
    )
    scene_id = h.project.scenes[0].id
    for i in range(shots):
        h.do(C.add_shot(h.project, scene_id, duration=24 + i, prompt=f"prompt {i}", dialogue="Line…  ✓"))
        shot = h.project.scenes[0].shots[-1]
        ref = bundle.media.put_bytes(png_bytes(i), "png")
        h.do(C.add_keyframe_take(h.project, shot.id, KeyframeTake(new_id(), ref, 4, 2), pin_frame=i))
    return h.project


def test_round_trip_is_exact(bundle_path: Path):
    bundle = Bundle.create(bundle_path, Project("Empty", FrameRate(25)))
    project = real_project(bundle)
    bundle.save(project)
    bundle.close()
    again, loaded, report = Bundle.open(bundle_path)
    again.close()
    assert loaded == project
    assert report.missing_media == () and report.migrated_from is None


def test_incremental_saves_of_random_edits_reopen_identical(bundle_path: Path):
    bundle = Bundle.create(bundle_path, Project("Empty", FrameRate(24)))
    h = History(real_project(bundle))
    rng = random.Random(7)
    for step in range(120):
        h.do(random_command(rng, h.project))
        if step % 10 == 9:
            bundle.save(h.project)
            bundle.close()
            bundle, loaded, _ = Bundle.open(bundle_path)
            assert loaded == h.project, f"after step {step}"
    bundle.close()


def test_media_are_content_addressed_inside_the_bundle(bundle_path: Path, tmp_path: Path):
    bundle = Bundle.create(bundle_path, Project("M", FrameRate(24)))
    data = png_bytes(5)
    ref = bundle.media.put_bytes(data, "PNG")
    assert ref == bundle.media.put_bytes(data, ".png"), "same content, same reference"
    path = bundle.media.path(ref)
    assert path.read_bytes() == data
    assert path.parent.parent == bundle_path / "media" and path.parent.name == ref.sha256[:2]
    assert not list((bundle_path / "media").rglob(".tmp-*"))
    source = tmp_path / "still.jpeg"
    source.write_bytes(b"jpeg-ish bytes")
    assert bundle.media.put_file(source).ext == "jpg"
    with pytest.raises(MediaError, match="missing.png"):
        bundle.media.put_file(tmp_path / "missing.png")
    with pytest.raises(MediaError, match=".exe"):
        bundle.media.put_bytes(b"x", "exe")
    bundle.close()


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "/etc/passwd", "ab" * 32 + ".png/../../x", "AB" * 32 + ".png", "ab" * 32]
)
def test_a_media_reference_can_never_point_outside(bad: str):
    with pytest.raises(MediaError):
        MediaRef.parse(bad)


def test_tampered_media_reference_is_refused_on_open(bundle_path: Path):
    bundle = Bundle.create(bundle_path, Project("T", FrameRate(24)))
    bundle.save(real_project(bundle))
    bundle.close()
    with sqlite3.connect(bundle_path / "project.db") as conn:
        conn.execute("UPDATE keyframe_takes SET media = '../../../../etc/passwd'")
    with pytest.raises(CorruptBundleError, match="keyframe take") as info:
        Bundle.open(bundle_path)
    assert "project.db" in str(info.value) and "backups" in str(info.value)


def test_inconsistent_rows_are_refused_with_the_row_named(bundle_path: Path):
    bundle = Bundle.create(bundle_path, Project("T", FrameRate(24)))
    bundle.save(real_project(bundle))
    bundle.close()
    with sqlite3.connect(bundle_path / "project.db") as conn:
        conn.execute("UPDATE pins SET frame = 500")
    with pytest.raises(CorruptBundleError, match="shot '1'.*outside the shot"):
        Bundle.open(bundle_path)


# --- bad paths and damaged files ---------------------------------------------------------------
def test_path_that_does_not_exist(tmp_path: Path):
    with pytest.raises(NotABundleError, match="nowhere.pinframe.*does not exist"):
        Bundle.open(tmp_path / "nowhere.pinframe")


def test_regular_file_is_not_a_bundle(tmp_path: Path):
    f = tmp_path / "notes.txt"
    f.write_text("hi")
    with pytest.raises(NotABundleError, match="notes.txt.*is a file"):
        Bundle.open(f)


def test_folder_without_database_is_not_a_bundle(tmp_path: Path):
    with pytest.raises(NotABundleError, match="has no project.db"):
        Bundle.open(tmp_path)


def make_saved_bundle(bundle_path: Path) -> None:
    bundle = Bundle.create(bundle_path, Project("T", FrameRate(24)))
    bundle.save(real_project(bundle, shots=40))
    bundle.close()


def test_garbage_database(bundle_path: Path):
    make_saved_bundle(bundle_path)
    (bundle_path / "project.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CorruptBundleError, match="project.db is damaged.*backups"):
        Bundle.open(bundle_path)


@pytest.mark.parametrize("keep", [0.5, 0.1])
def test_truncated_database(bundle_path: Path, keep: float):
    make_saved_bundle(bundle_path)
    db = bundle_path / "project.db"
    data = db.read_bytes()
    db.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CorruptBundleError, match="project.db"):
        Bundle.open(bundle_path)


def test_empty_database_file(bundle_path: Path):
    make_saved_bundle(bundle_path)
    (bundle_path / "project.db").write_bytes(b"")
    with pytest.raises(CorruptBundleError, match="no Pinframe tables"):
        Bundle.open(bundle_path)


def test_bundle_from_a_newer_version_is_refused_and_untouched(bundle_path: Path):
    make_saved_bundle(bundle_path)
    db = bundle_path / "project.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    before = db.read_bytes()
    for readonly in (True, False):
        with pytest.raises(NewerVersionError, match="newer Pinframe.*update Pinframe"):
            Bundle.open(bundle_path, readonly=readonly)
    assert db.read_bytes() == before
    assert not (bundle_path / "backups").exists()


def test_missing_media_are_listed_and_can_be_relinked(bundle_path: Path, tmp_path: Path):
    bundle = Bundle.create(bundle_path, Project("T", FrameRate(24)))
    project = real_project(bundle)
    bundle.save(project)
    bundle.close()
    lost = project.scenes[0].shots[1].keyframe_takes[0].image
    (bundle_path / lost.relpath).unlink()

    bundle, loaded, report = Bundle.open(bundle_path)
    assert loaded == project, "a missing file doesn't stop the project from opening"
    assert [(m.ref, m.used_by) for m in report.missing_media] == [(lost, ("shot 2",))]

    # Relinking: the user points at a replacement picture somewhere on disk.
    replacement = tmp_path / "found-it.png"
    replacement.write_bytes(png_bytes(1234))
    h = History(loaded)
    h.do(C.relink_media(h.project, lost, bundle.media.put_file(replacement)))
    bundle.save(h.project)
    assert bundle.find_missing_media(h.project) == []
    bundle.close()
    bundle, _, report = Bundle.open(bundle_path)
    assert report.missing_media == ()
    bundle.close()


def test_a_bundle_open_for_writing_cannot_be_opened_twice(bundle_path: Path):
    make_saved_bundle(bundle_path)
    first, _, _ = Bundle.open(bundle_path)
    with pytest.raises(BundleError, match="already open"):
        Bundle.open(bundle_path)
    reader, _, _ = Bundle.open(bundle_path, readonly=True)  # `pinframe info` still works
    reader.close()
    first.close()
    Bundle.open(bundle_path)[0].close()


def data_files(bundle_path: Path) -> dict[Path, bytes]:
    # Any SQLite reader may leave its -shm lock index and an empty -wal; neither holds data.
    files = {p: p.read_bytes() for p in bundle_path.rglob("*") if p.is_file() and not p.name.endswith("-shm")}
    return {p: b for p, b in files.items() if b or not p.name.endswith("-wal")}


def test_readonly_open_writes_nothing(bundle_path: Path):
    make_saved_bundle(bundle_path)
    before = data_files(bundle_path)
    bundle, project, _ = Bundle.open(bundle_path, readonly=True)
    with pytest.raises(BundleError, match="read-only"):
        bundle.save(project)
    bundle.close()
    assert data_files(bundle_path) == before


def test_create_refuses_bad_targets(tmp_path: Path):
    with pytest.raises(BundleError, match="must end in .pinframe"):
        Bundle.create(tmp_path / "film", Project("P", FrameRate(24)))
    (tmp_path / "taken.pinframe").mkdir()
    (tmp_path / "taken.pinframe" / "x").write_text("mine")
    with pytest.raises(BundleError, match="already exists"):
        Bundle.create(tmp_path / "taken.pinframe", Project("P", FrameRate(24)))
    with pytest.raises(BundleError, match="does not exist"):
        Bundle.create(tmp_path / "no" / "such.pinframe", Project("P", FrameRate(24)))


# --- backups and migrations ---------------------------------------------------------------------
def test_first_save_of_a_session_keeps_a_backup_and_old_ones_rotate(bundle_path: Path):
    make_saved_bundle(bundle_path)
    for session in range(7):
        bundle, project, _ = Bundle.open(bundle_path)
        h = History(project)
        h.do(C.set_project_settings(h.project, name=f"session {session}"))
        bundle.save(h.project)
        bundle.save(h.project)
        bundle.close()
    backups = sorted((bundle_path / "backups").glob("project-*.db"))
    assert 1 <= len(backups) <= 5
    # A backup is a whole, openable project.db from before the session's first save.
    with sqlite3.connect(backups[-1]) as conn:
        assert conn.execute("SELECT name FROM project").fetchone()[0].startswith(("T", "session"))


def test_older_schema_is_migrated_forward_after_a_backup(bundle_path: Path, monkeypatch):
    make_saved_bundle(bundle_path)
    _, original, _ = Bundle.open(bundle_path, readonly=True)

    def add_colour_labels(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE shots ADD COLUMN colour TEXT NOT NULL DEFAULT ''")

    v = schema.SCHEMA_VERSION
    monkeypatch.setitem(schema.MIGRATIONS, v, add_colour_labels)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", v + 1)
    monkeypatch.setattr("app.bundle.SCHEMA_VERSION", v + 1)

    reader, loaded, report = Bundle.open(bundle_path, readonly=True)  # migrates a copy in memory
    reader.close()
    assert loaded == original and report.migrated_from == v
    with sqlite3.connect(bundle_path / "project.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == v, "read-only open left the file alone"

    bundle, loaded, report = Bundle.open(bundle_path)
    bundle.close()
    assert loaded == original and report.migrated_from == v
    with sqlite3.connect(bundle_path / "project.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == v + 1
        assert "colour" in [row[1] for row in conn.execute("PRAGMA table_info(shots)")]
    assert list((bundle_path / "backups").glob(f"project-*before-upgrade-v{v}.db"))


def test_a_failing_migration_leaves_the_old_version(bundle_path: Path, monkeypatch):
    make_saved_bundle(bundle_path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE shots ADD COLUMN x TEXT")
        raise sqlite3.OperationalError("simulated failure half-way")

    v = schema.SCHEMA_VERSION
    monkeypatch.setitem(schema.MIGRATIONS, v, broken)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", v + 1)
    monkeypatch.setattr("app.bundle.SCHEMA_VERSION", v + 1)
    with pytest.raises(
        BundleError, match=f"upgrading .*project.db from project format {v} to {v + 1} failed.*not changed"
    ):
        Bundle.open(bundle_path)
    with sqlite3.connect(bundle_path / "project.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == v
        assert "x" not in [row[1] for row in conn.execute("PRAGMA table_info(shots)")]


def test_a_version_1_bundle_gains_script_identity_columns(bundle_path: Path):
    """The real 1 -> 2 migration: a bundle written before script import opens with empty script keys."""
    make_saved_bundle(bundle_path)
    with sqlite3.connect(bundle_path / "project.db") as conn:  # take the file back to format 1
        _drop_v3_columns(conn)
        conn.execute("ALTER TABLE scenes DROP COLUMN script_key")
        conn.execute("ALTER TABLE scenes DROP COLUMN script_hash")
        conn.execute("ALTER TABLE shots DROP COLUMN script_key")
        conn.execute("ALTER TABLE shots DROP COLUMN script_fields")
        conn.execute("PRAGMA user_version = 1")
    bundle, loaded, report = Bundle.open(bundle_path)
    try:
        assert report.migrated_from == 1
        assert loaded.shot_count() > 0
        assert all(s.script_key == "" and s.script_hash == "" for s in loaded.scenes)
        assert all(shot.script_key == "" for shot in loaded.shots())
        keyed = replace(loaded, scenes=(replace(loaded.scenes[0], script_key="scene-1", script_hash="abc"),)
                        + loaded.scenes[1:])  # fmt: skip
        bundle.save(keyed)
    finally:
        bundle.close()
    _, again, _ = Bundle.open(bundle_path, readonly=True)
    assert again.scenes[0].script_key == "scene-1" and again.scenes[0].script_hash == "abc"


def drop_v7_additions(conn: sqlite3.Connection) -> None:
    """Take a current project.db back to format 6 (no references or LoRAs)."""
    conn.execute("DROP TABLE project_references")
    conn.execute("DROP TABLE project_loras")
    conn.execute("ALTER TABLE shots DROP COLUMN reference_ids")


def _drop_v5_columns(conn: sqlite3.Connection) -> None:
    drop_v7_additions(conn)
    conn.execute("ALTER TABLE shots DROP COLUMN thumbnail_take")


def _drop_v4_columns(conn: sqlite3.Connection) -> None:
    _drop_v5_columns(conn)
    conn.execute("ALTER TABLE project DROP COLUMN prompt_template")
    conn.execute("ALTER TABLE clip_takes DROP COLUMN draft")


def _drop_v3_columns(conn: sqlite3.Connection) -> None:
    _drop_v4_columns(conn)
    conn.execute("ALTER TABLE project DROP COLUMN motion_model")
    conn.execute("ALTER TABLE shots DROP COLUMN motion_model")
    for column in ("model_revision", "settings_json", "notes", "audio"):
        conn.execute(f"ALTER TABLE clip_takes DROP COLUMN {column}")


def test_a_version_2_bundle_gains_motion_models_and_clip_provenance(bundle_path: Path):
    """The real 2 -> 3 migration: the project renders with flow, shots follow it, clips keep loading."""
    make_saved_bundle(bundle_path)
    with sqlite3.connect(bundle_path / "project.db") as conn:
        _drop_v3_columns(conn)
        conn.execute("PRAGMA user_version = 2")
    bundle, loaded, report = Bundle.open(bundle_path)
    try:
        assert report.migrated_from == 2
        assert loaded.motion_model == "flow"
        assert all(shot.motion_model == "" for shot in loaded.shots())
        shot = next(loaded.shots())
        bundle.save(with_shot(replace(loaded, motion_model="hold"), replace(shot, motion_model="crossfade")))
    finally:
        bundle.close()
    _, again, _ = Bundle.open(bundle_path, readonly=True)
    assert again.motion_model == "hold"
    assert next(again.shots()).motion_model == "crossfade"


# --- a full disk --------------------------------------------------------------------------------
def fill_database(bundle: Bundle) -> None:
    """Make SQLite report SQLITE_FULL ("database or disk is full"), as on a full disk."""
    pages = bundle._conn.execute("PRAGMA page_count").fetchone()[0]
    bundle._conn.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_fails_the_save_cleanly_and_keeps_the_old_state(bundle_path: Path):
    bundle = Bundle.create(bundle_path, Project("T", FrameRate(24)))
    project = real_project(bundle, shots=1)
    bundle.save(project)
    h = History(project)
    for _ in range(200):
        h.do(C.add_shot(h.project, h.project.scenes[0].id, prompt="x" * 500))
    fill_database(bundle)
    with pytest.raises(BundleError, match="disk .* is full"):
        bundle.save(h.project)
    bundle._conn.execute("PRAGMA max_page_count = 1073741823")
    bundle.save(h.project)  # the next try writes everything, nothing was lost in memory
    bundle.close()
    _, loaded, _ = Bundle.open(bundle_path, readonly=True)
    assert loaded == h.project


def test_a_full_disk_while_storing_media(bundle_path: Path, monkeypatch):
    import errno
    import os

    bundle = Bundle.create(bundle_path, Project("T", FrameRate(24)))

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(MediaError, match="full.*nothing was lost"):
        bundle.media.put_bytes(png_bytes(1), "png")
    monkeypatch.undo()
    assert not list((bundle_path / "media").rglob("*.*")), "no torn or temporary file left behind"
    bundle.close()


def test_a_version_3_bundle_gains_a_prompt_template_and_draft_clips(bundle_path: Path):
    """The real 3 -> 4 migration: the built-in template, and every clip a final render."""
    make_saved_bundle(bundle_path)
    with sqlite3.connect(bundle_path / "project.db") as conn:
        _drop_v4_columns(conn)
        conn.execute("PRAGMA user_version = 3")
    bundle, loaded, report = Bundle.open(bundle_path)
    try:
        assert report.migrated_from == 3 and loaded.prompt_template == ""
        assert all(not c.draft for s in loaded.shots() for c in s.clip_takes)
        bundle.save(replace(loaded, prompt_template="{prompt}, {move}"))
    finally:
        bundle.close()
    _, again, _ = Bundle.open(bundle_path, readonly=True)
    assert again.prompt_template == "{prompt}, {move}"


def test_a_version_4_bundle_gains_shot_thumbnails_and_they_follow_their_take(bundle_path: Path):
    """The real 4 -> 5 migration: every shot shows its default thumbnail; a chosen one is saved, copied with
    a duplicated shot, and cleared when its take is deleted."""
    from app import commands as C
    from app.errors import EditError

    make_saved_bundle(bundle_path)
    with sqlite3.connect(bundle_path / "project.db") as conn:
        _drop_v5_columns(conn)
        conn.execute("PRAGMA user_version = 4")
    bundle, loaded, report = Bundle.open(bundle_path)
    try:
        assert report.migrated_from == 4
        assert all(s.thumbnail_take == "" for s in loaded.shots())
        shot = next(s for s in loaded.shots() if s.keyframe_takes)
        take = shot.keyframe_takes[-1].id
        chosen = C.set_shot_thumbnail(loaded, shot.id, take).apply(loaded)[0]
        assert chosen.shot(shot.id).thumbnail_take == take
        with pytest.raises(EditError):
            C.set_shot_thumbnail(loaded, shot.id, "no-such-take")
        copied = C.duplicate_shots(chosen, [shot.id]).apply(chosen)[0]
        copy = next(s for s in copied.shots() if s.id not in {x.id for x in chosen.shots()})
        assert copy.thumbnail_take == copy.keyframe_takes[-1].id != take, "the copy shows its own copy of the take"
        gone = C.remove_keyframe_take(chosen, shot.id, take).apply(chosen)[0]
        assert gone.shot(shot.id).thumbnail_take == ""
        bundle.save(chosen)
    finally:
        bundle.close()
    _, again, _ = Bundle.open(bundle_path, readonly=True)
    assert again.shot(shot.id).thumbnail_take == take
