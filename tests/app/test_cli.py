"""The command line, run the way a person runs it: ``python main.py ...`` in a fresh process.

Expected values come from resources/demo/demo.json and app.timecode, never from a recorded run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.cli import EXIT_USAGE, EXIT_USER_ERROR
from app.timecode import FrameRate, format_duration

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = ROOT / "resources" / "demo"
DEMO_SPEC = json.loads((DEMO_DIR / "demo.json").read_text(encoding="utf-8"))
DEMO_SHOTS = [shot for scene in DEMO_SPEC["scenes"] for shot in scene["shots"]]
# SQLite's shared-memory and write-ahead files appear beside any WAL database a reader opens;
# they are SQLite's bookkeeping, not the user's data, so "unchanged" ignores them.
SQLITE_SIDE_FILES = ("-shm", "-wal")


def pinframe(*args: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PINFRAME_DEBUG"}  # debug mode re-raises on purpose
    return subprocess.run(
        [sys.executable, "main.py", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def ok(*args: object) -> str:
    result = pinframe(*args)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    return result.stdout


def summary_field(text: str, name: str) -> str:
    """The value after a label in the `info` header, e.g. ``  shots         4``."""
    match = re.search(rf"^\s*{re.escape(name)}\s+(.+?)\s*$", text, re.MULTILINE)
    assert match, f"no '{name}' line in:\n{text}"
    return match.group(1)


def copy_bundle(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*-shm", "*-wal", ".lock"))
    return target


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under ``root``."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
        if not path.name.endswith(SQLITE_SIDE_FILES)
    }


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`pinframe demo DIR` once for the module: (DIR, its stdout). Tests copy the bundle before changing it."""
    folder = tmp_path_factory.mktemp("demo")
    return folder, ok("demo", folder)


@pytest.fixture()
def demo_bundle(demo_run: tuple[Path, str]) -> Path:
    return demo_run[0] / "Demo.pinframe"


# --- help and routing ---------------------------------------------------------------------
def test_help_lists_every_subcommand() -> None:
    out = ok("--help")
    for command in ("gui", "new", "info", "demo"):
        assert re.search(rf"^\s+{command}\s+\S", out, re.MULTILINE), f"{command} missing from:\n{out}"


def test_bundle_path_with_trailing_slash_goes_to_the_window(demo_bundle: Path) -> None:
    # Shell completion leaves `Film.pinframe/`; it must route to `gui` like `Film.pinframe` does.
    # --help makes the gui subcommand print its usage and stop before any window opens.
    out = ok(f"{demo_bundle}/", "--help")
    assert "pinframe gui" in out
    assert "--demo" in out  # only the gui subcommand has this option


# --- new and info -------------------------------------------------------------------------
def test_new_creates_a_bundle_that_info_reports(tmp_path: Path) -> None:
    bundle = tmp_path / "X.pinframe"
    assert str(bundle) in ok("new", bundle, "--fps", "24000/1001", "--size", "1280x720")
    assert bundle.is_dir()
    assert (bundle / "project.db").is_file()

    text = ok("info", bundle)
    assert "1280x720" in text
    assert "23.976" in text
    assert summary_field(text, "shots") == "0"

    summary = json.loads(ok("info", "--json", bundle))
    assert summary["name"] == "X"
    assert summary["fps"] == "24000/1001"
    assert summary["size"] == [1280, 720]
    assert summary["shot_count"] == 0
    assert summary["drop_frame"] is False


def test_new_with_drop_frame_start(tmp_path: Path) -> None:
    bundle = tmp_path / "DF.pinframe"
    ok("new", bundle, "--start", "01:00:00;00", "--fps", "30000/1001")
    summary = json.loads(ok("info", "--json", bundle))
    assert summary["fps"] == "30000/1001"
    assert summary["drop_frame"] is True
    assert summary["start_timecode"] == "01:00:00;00"


# --- demo ---------------------------------------------------------------------------------
def test_demo_writes_demo_bundle_that_info_summarizes(demo_run: tuple[Path, str]) -> None:
    folder, stdout = demo_run
    bundle = folder / "Demo.pinframe"
    assert [p.name for p in folder.iterdir()] == ["Demo.pinframe"]
    assert (bundle / "project.db").is_file()
    assert str(bundle) in stdout

    text = ok("info", bundle)
    rate = FrameRate.parse(DEMO_SPEC["fps"])
    for scene in DEMO_SPEC["scenes"]:
        assert scene["heading"] in text
    for shot in DEMO_SHOTS:
        duration = re.escape(format_duration(shot["duration"], rate))
        assert re.search(rf"^\s+{re.escape(shot['number'])}\s+{duration}\s", text, re.MULTILINE), (
            f"shot {shot['number']} missing from:\n{text}"
        )
    assert summary_field(text, "shots") == str(len(DEMO_SHOTS))
    assert summary_field(text, "pins") == str(sum(len(shot.get("pins", [])) for shot in DEMO_SHOTS))
    total = sum(shot["duration"] for shot in DEMO_SHOTS)
    assert summary_field(text, "running time") == f"{format_duration(total, rate)} ({total} frames)"


def test_demo_into_a_named_bundle_path(tmp_path: Path) -> None:
    target = tmp_path / "Name.pinframe"
    assert str(target) in ok("demo", target)
    assert [p.name for p in tmp_path.iterdir()] == ["Name.pinframe"]
    assert (target / "project.db").is_file()


def test_info_lists_missing_media_and_still_succeeds(demo_bundle: Path, tmp_path: Path) -> None:
    bundle = copy_bundle(demo_bundle, tmp_path / "Film.pinframe")
    media = sorted(p for p in (bundle / "media").rglob("*") if p.is_file())
    assert media, "the demo bundle holds no media files"
    gone = media[0]
    gone.unlink()
    relpath = gone.relative_to(bundle).as_posix()

    def sha256(picture: str) -> str:
        return hashlib.sha256((DEMO_DIR / "keyframes" / picture).read_bytes()).hexdigest()

    users = [
        f"shot {shot['number']}"
        for shot in DEMO_SHOTS
        if any(sha256(picture) == gone.stem for _, picture in shot.get("pins", []))
    ]
    assert users, f"{relpath} is not one of the demo keyframes"

    summary = json.loads(ok("info", "--json", bundle))
    assert relpath.startswith("media/")
    assert summary["missing_media"] == [{"file": relpath, "used_by": users}]
    assert summary["shot_count"] == len(DEMO_SHOTS)


# --- user mistakes ------------------------------------------------------------------------
# Each case sets up under tmp_path and returns (argv, texts stderr must contain).
Case = Callable[[Path, Path], tuple[list[object], list[str]]]


def _bad_rate(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    return ["new", tmp / "A.pinframe", "--fps", "23"], ["'23'"]


def _bad_size(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    return ["new", tmp / "A.pinframe", "--size", "12x"], ["'12x'"]


def _bad_size_unicode_digit(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    return ["new", tmp / "A.pinframe", "--size", "²x2"], ["'²x2'"]


def _not_pinframe_suffix(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    return ["new", tmp / "Film"], [str(tmp / "Film"), ".pinframe"]


def _new_on_existing_folder(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    folder = tmp / "Existing.pinframe"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine\n")
    return ["new", folder], [str(folder)]


def _new_in_missing_folder(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    return ["new", tmp / "nowhere" / "B.pinframe"], [str(tmp / "nowhere")]


def _info_missing_path(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    return ["info", tmp / "Missing.pinframe"], [str(tmp / "Missing.pinframe")]


def _info_regular_file(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    path = tmp / "Notes.pinframe"
    path.write_text("not a project\n")
    return ["info", path], [str(path)]


def _info_folder_without_db(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    folder = tmp / "Empty.pinframe"
    (folder / "media").mkdir(parents=True)
    return ["info", folder], [str(folder), "project.db"]


def _info_garbage_db(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    bundle = copy_bundle(demo, tmp / "Garbage.pinframe")
    (bundle / "project.db").write_bytes(b"this is not a database at all\x00\xff" * 256)
    return ["info", bundle], [str(bundle)]


def _info_truncated_db(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    bundle = copy_bundle(demo, tmp / "Truncated.pinframe")
    db = bundle / "project.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    return ["info", bundle], [str(bundle)]


def _info_newer_version(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    bundle = copy_bundle(demo, tmp / "Newer.pinframe")
    conn = sqlite3.connect(bundle / "project.db")
    try:
        conn.execute("PRAGMA user_version = 999")
    finally:
        conn.close()
    return ["info", bundle], [str(bundle), "newer"]


def _unknown_subcommand(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    return ["frobnicate"], ["frobnicate"]


def _demo_under_regular_file(tmp: Path, demo: Path) -> tuple[list[object], list[str]]:
    path = tmp / "notes.txt"
    path.write_text("a file, not a folder\n")
    return ["demo", path / "sub"], [str(path)]


MISTAKES = [
    pytest.param(_bad_rate, EXIT_USER_ERROR, id="new-bad-rate"),
    pytest.param(_bad_size, EXIT_USER_ERROR, id="new-bad-size"),
    pytest.param(_bad_size_unicode_digit, EXIT_USER_ERROR, id="new-bad-size-unicode-digit"),
    pytest.param(_not_pinframe_suffix, EXIT_USER_ERROR, id="new-not-pinframe"),
    pytest.param(_new_on_existing_folder, EXIT_USER_ERROR, id="new-existing-folder"),
    pytest.param(_new_in_missing_folder, EXIT_USER_ERROR, id="new-missing-parent"),
    pytest.param(_info_missing_path, EXIT_USER_ERROR, id="info-missing-path"),
    pytest.param(_info_regular_file, EXIT_USER_ERROR, id="info-regular-file"),
    pytest.param(_info_folder_without_db, EXIT_USER_ERROR, id="info-no-project-db"),
    pytest.param(_info_garbage_db, EXIT_USER_ERROR, id="info-garbage-db"),
    pytest.param(_info_truncated_db, EXIT_USER_ERROR, id="info-truncated-db"),
    pytest.param(_info_newer_version, EXIT_USER_ERROR, id="info-newer-version"),
    pytest.param(_unknown_subcommand, EXIT_USAGE, id="unknown-subcommand"),
    pytest.param(_demo_under_regular_file, EXIT_USER_ERROR, id="demo-under-file"),
]


@pytest.mark.parametrize(("make_case", "exit_code"), MISTAKES)
def test_user_mistake_is_one_line_and_changes_nothing(
    make_case: Case, exit_code: int, tmp_path: Path, demo_bundle: Path
) -> None:
    argv, mentions = make_case(tmp_path, demo_bundle)
    before = snapshot(tmp_path)

    result = pinframe(*argv)

    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == exit_code, result.stderr
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, f"not one line:\n{result.stderr}"
    for text in mentions:
        assert text in result.stderr
    # Nothing created, nothing changed: no half-made bundle, project.db bytes as they were.
    assert snapshot(tmp_path) == before
