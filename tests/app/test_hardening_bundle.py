"""Issue 18, items 1, 5 and 6: atomic ``new``, unfinished bundles, leftovers swept on open, and
clips whose file was deleted. Real bundles (SQLite), real media, a real kill -9."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import app.bundle as bundle_module
from app import engine_service as S
from app import schema
from app.bundle import BUILD_PREFIX, Bundle
from app.cli import main
from app.clip_state import clip_state, needs_render
from app.document import Project, Scene, Shot, new_id
from app.errors import BundleError, CorruptBundleError, NotABundleError
from app.media_ref import MediaRef
from app.timecode import FrameRate
from tests.app.test_drafts import shot_of, tiny_project
from tests.helpers import png_bytes

ROOT = Path(__file__).resolve().parents[2]


def a_project() -> Project:
    return Project("Atomic", FrameRate(24), scenes=(Scene(new_id(), "INT. ROOM", shots=(Shot(new_id(), "1", 24),)),))


def beside(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


# --- 1. atomic creation -----------------------------------------------------------------------
@pytest.mark.parametrize("step", ["run_migrations", "write_project_row", "write_shot"])
def test_a_create_that_fails_midway_leaves_nothing_at_the_path(bundle_path: Path, monkeypatch, step: str):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt  # what Ctrl-C part way through `new` raises

    monkeypatch.setattr(bundle_module, step, fail)
    with pytest.raises(KeyboardInterrupt):
        Bundle.create(bundle_path, a_project())
    assert not bundle_path.exists()
    assert beside(bundle_path) == [], "the build folder is removed too"
    monkeypatch.undo()
    Bundle.create(bundle_path, a_project()).close()
    bundle, project, _ = Bundle.open(bundle_path)
    bundle.close()
    assert project.name == "Atomic" and [s.number for s in project.shots()] == ["1"]


def test_a_kill_during_new_leaves_nothing_at_the_path_and_new_then_succeeds(bundle_path: Path):
    child = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import app.bundle as B
        from app.cli import main
        def killed(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        B.write_shot = killed
        B.write_project_row = killed
        main(["new", {str(bundle_path)!r}])
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not bundle_path.exists()
    assert [n for n in beside(bundle_path) if n.startswith(BUILD_PREFIX)], "killed while building beside the path"

    assert main(["new", str(bundle_path)]) == 0
    assert beside(bundle_path) == [bundle_path.name], "the killed build's folder is swept by the next new"
    bundle, project, _ = Bundle.open(bundle_path)
    bundle.close()
    assert project.scenes


def test_create_leaves_one_whole_database_file(bundle_path: Path):
    Bundle.create(bundle_path, a_project()).close()
    assert sorted(p.name for p in bundle_path.iterdir()) == [".lock", "media", "project.db"]


def old_half_bundles(path: Path) -> dict[str, Path]:
    """What the old in-place ``new`` could leave when killed at each step."""
    made = {}
    only_media = path / "OnlyMedia.pinframe"
    (only_media / "media").mkdir(parents=True)
    (only_media / ".lock").touch()
    made["no project.db"] = only_media

    half_db = path / "HalfDb.pinframe"
    (half_db / "media").mkdir(parents=True)
    conn = sqlite3.connect(half_db / ".project.db.new")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.close()
    made["half-built database"] = half_db

    no_row = path / "NoProject.pinframe"
    (no_row / "media").mkdir(parents=True)
    conn = sqlite3.connect(no_row / "project.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    schema.run_migrations(conn)
    conn.close()
    (no_row / ".lock").touch()
    made["database with no project"] = no_row
    return made


@pytest.mark.parametrize("kind", ["no project.db", "half-built database", "database with no project"])
def test_a_half_made_bundle_is_reported_with_what_to_do(tmp_path: Path, kind: str):
    path = old_half_bundles(tmp_path)[kind]
    for readonly in (False, True):
        with pytest.raises(NotABundleError) as opened:
            Bundle.open(path, readonly=readonly)
        message = str(opened.value)
        assert str(path) in message and "unfinished project" in message
        assert "Delete the folder" in message and "create the project again" in message
        assert "backups/" not in message, "it has no backups/ folder to restore from"
    with pytest.raises(BundleError) as created:
        Bundle.create(path, a_project())
    message = str(created.value)
    assert "unfinished project" in message and "delete the folder and create the project again" in message
    assert path.is_dir(), "nothing is deleted on the user's behalf"


def test_new_on_a_half_made_bundle_says_how_to_proceed(tmp_path: Path, capsys):
    path = old_half_bundles(tmp_path)["no project.db"]
    capsys.readouterr()
    assert main(["new", str(path)]) != 0
    err = capsys.readouterr().err
    assert "unfinished project" in err and "internal error" not in err


def test_a_folder_with_work_in_it_is_not_taken_for_an_unfinished_one(tmp_path: Path):
    path = tmp_path / "Work.pinframe"
    (path / "media" / "ab").mkdir(parents=True)
    (path / "media" / "ab" / ("ab" + "0" * 62 + ".png")).write_bytes(png_bytes(1))
    with pytest.raises(NotABundleError) as opened:
        Bundle.open(path)
    assert "unfinished" not in str(opened.value) and "no project.db" in str(opened.value)
    with pytest.raises(BundleError, match="already exists"):
        Bundle.create(path, a_project())


def test_a_damaged_bundle_without_backups_does_not_point_at_them(bundle_path: Path):
    Bundle.create(bundle_path, a_project()).close()
    conn = sqlite3.connect(bundle_path / "project.db", isolation_level=None)
    conn.execute("DELETE FROM project")  # shots left, no project: changed outside Pinframe
    conn.close()
    assert not (bundle_path / "backups").exists()
    with pytest.raises(CorruptBundleError) as opened:
        Bundle.open(bundle_path, readonly=True)
    message = str(opened.value)
    assert "no project row" in message and "backups/ folder yet" in message
    assert "restore it from the bundle's backups/ folder" not in message


def test_a_damaged_bundle_with_backups_still_points_at_them(bundle_path: Path):
    Bundle.create(bundle_path, a_project()).close()
    bundle, project, _ = Bundle.open(bundle_path)
    bundle.save(project)  # the first save of a session makes a backup
    bundle.close()
    assert list((bundle_path / "backups").glob("project-*.db"))
    conn = sqlite3.connect(bundle_path / "project.db", isolation_level=None)
    conn.execute("DELETE FROM project")
    conn.close()
    with pytest.raises(CorruptBundleError, match=r"restore it from the bundle's backups/ folder"):
        Bundle.open(bundle_path, readonly=True)


# --- 5. leftovers ------------------------------------------------------------------------------
def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_leftovers_of_interrupted_work_are_removed_on_open_and_counted(bundle_path: Path):
    bundle = Bundle.create(bundle_path, a_project())
    kept = [bundle.media.put_bytes(png_bytes(i), "png") for i in range(3)]
    kept.append(bundle.media.put_bytes(b"RIFF....WAVEfmt finished sound", "wav"))
    bundle.close()
    before = {ref: digest(bundle_path / ref.relpath) for ref in kept}

    media = bundle_path / "media"
    leftovers = [
        media / kept[0].relpath.split("/")[1] / ".tmp-3f2a",  # a media write cut short
        media / ".incoming" / ".tmp-9c1d.mp4",  # a clip being encoded
        media / ".render-old.mp4",  # an older version's clip store
        media / ".sound-1234.wav",  # a model's sound being stored
        media / ".tmp-top",
        bundle_path / "backups" / ".project-20260101-120000-session.db.tmp",  # a backup being copied
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half written")

    bundle, _, report = Bundle.open(bundle_path, readonly=True)
    bundle.close()
    assert report.removed_leftovers == 0 and all(p.exists() for p in leftovers), "read-only opens write nothing"

    bundle, _, report = Bundle.open(bundle_path)
    bundle.close()
    assert report.removed_leftovers == len(leftovers)
    assert f"removed {len(leftovers)} unfinished file(s) left by interrupted work" in report.notes
    assert not any(p.exists() for p in leftovers)
    assert {ref: digest(bundle_path / ref.relpath) for ref in kept} == before, "finished media untouched"
    assert report.missing_media == ()

    bundle, _, report = Bundle.open(bundle_path)
    bundle.close()
    assert report.removed_leftovers == 0 and report.notes == ()


# --- 6. a clip whose file was deleted ---------------------------------------------------------
@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PINFRAME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def rendered_then_deleted(folder: Path) -> tuple[Path, MediaRef]:
    """Both shots rendered (the model-free flow backend), then shot 1's clip file deleted."""
    path = tiny_project(folder / "M.pinframe", folder)
    assert main(["render", str(path)]) == 0
    bundle, project, _ = Bundle.open(path, readonly=True)
    bundle.close()
    assert [clip_state(project, s, bundle.media) for s in project.shots()] == ["current", "current"]
    gone = shot_of(project, "1").current_clip_take.media
    (path / gone.relpath).unlink()
    return path, gone


def test_a_clip_whose_file_was_deleted_is_missing_and_needs_rendering(user_dirs: Path):
    path, gone = rendered_then_deleted(user_dirs)
    bundle, project, report = Bundle.open(path)
    try:
        first, second = shot_of(project, "1"), shot_of(project, "2")
        assert clip_state(project, first, bundle.media) == "missing"
        assert clip_state(project, second, bundle.media) == "current"
        assert clip_state(project, first, report) == "missing", "the open report answers as of opening"
        assert clip_state(project, second, report) == "current"
        assert needs_render(project, first, media=bundle.media)
        assert needs_render(project, first, keep_drafts=True, media=bundle.media)
        assert not needs_render(project, second, media=bundle.media)
        assert [m.ref for m in report.missing_media] == [gone]
    finally:
        bundle.close()


def test_info_says_a_deleted_clip_is_missing(user_dirs: Path, capsys):
    path, _ = rendered_then_deleted(user_dirs)
    capsys.readouterr()
    assert main(["info", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    states = {s["number"]: s["clip"] for scene in summary["scenes"] for s in scene["shots"]}
    assert states == {"1": "missing", "2": "current"}


def test_render_stale_plans_a_deleted_clip(user_dirs: Path):
    path, _ = rendered_then_deleted(user_dirs)
    bundle, project, _ = Bundle.open(path, readonly=True)
    bundle.close()
    assert S.shots_to_render(project, "stale", media=bundle.media) == [shot_of(project, "1").id]


def test_render_stale_rerenders_a_deleted_clip(user_dirs: Path, capsys):
    path, _ = rendered_then_deleted(user_dirs)
    capsys.readouterr()
    assert main(["render", str(path), "--stale"]) == 0
    assert "rendered 1 of 1" in capsys.readouterr().out
    bundle, project, report = Bundle.open(path, readonly=True)
    bundle.close()
    assert report.missing_media == ()
    assert clip_state(project, shot_of(project, "1"), bundle.media) == "current"


def test_the_leftover_patterns_never_match_stored_media_names():
    from app.media_store import LEFTOVER_PATTERNS

    stored = Path("ab") / ("ab" + "0" * 62 + ".mp4")
    assert not any(stored.match(p) or Path(stored.name).match(p) for p in LEFTOVER_PATTERNS)
