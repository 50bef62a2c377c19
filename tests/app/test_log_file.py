"""The log (issue 18 item 8): every job, error and traceback in a rotating file in the user data folder; the
command line's internal error and the window's error dialogs say where it is; Help ▸ Show Log opens it."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import cli
from app.log_file import BACKUPS, MAX_BYTES, log_path, setup_logging
from engine.devices import DeviceSettings
from engine.events import Failed
from engine.jobs import ModelSpec
from engine.runtime import Engine
from tests.engine.test_diffusers_backends import clip
from tests.engine.test_runtime import run


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    yield tmp_path / "data"
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "pinframe_log", False)]:
        root.removeHandler(handler)
        handler.close()


def flushed(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_the_log_is_a_rotating_file_in_the_user_data_folder(data_dir):
    path = setup_logging()
    assert path == log_path() == data_dir / "logs" / "pinframe.log"
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "pinframe_log", False))
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert (handler.maxBytes, handler.backupCount) == (MAX_BYTES, BACKUPS)
    setup_logging()
    assert sum(getattr(h, "pinframe_log", False) for h in logging.getLogger().handlers) == 1, "set up once"


def test_a_failed_job_is_logged_with_its_traceback(data_dir, tmp_path):
    path = setup_logging()
    engine = Engine(tmp_path / "cache", DeviceSettings(device="cpu"))
    try:
        job = clip(tmp_path, ModelSpec("ltx", str(tmp_path / "no-such-model"), "gone"), 9, ((0, 1), (8, 2)))
        events = run(engine, job)
    finally:
        engine.shutdown()
    failed = events[-1]
    assert isinstance(failed, Failed)
    text = flushed(path)
    assert f"job {failed.job_id} queued" in text and f"job {failed.job_id} failed: {failed.message}" in text
    assert "Traceback" in text, "the traceback a bug report needs"


def test_the_cli_internal_error_points_at_the_log_that_holds_its_traceback(data_dir, monkeypatch, capsys, tmp_path):
    path = setup_logging()

    def broken(_args):
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "info", broken)
    assert cli.main(["info", str(tmp_path / "P.pinframe")]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error" in err and str(path) in err
    text = flushed(path)
    assert "internal error in `info`" in text and "RuntimeError: a bug" in text and "Traceback" in text


def test_a_log_that_cant_be_written_never_stops_the_app(data_dir, capsys):
    data_dir.mkdir(parents=True)
    (data_dir / "logs").write_text("a file where the folder should be")
    assert setup_logging() is None
    assert "no log file" in capsys.readouterr().err
    logging.getLogger("pinframe.test").error("still fine")  # no handler error, no crash


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_the_log_keeps_working_after_a_second_setup_moves_the_data_folder(data_dir, tmp_path, monkeypatch):
    first = setup_logging()
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "elsewhere"))
    second = setup_logging()
    assert second != first
    logging.getLogger("pinframe.test").error("after the move")
    assert "after the move" in flushed(second) and "after the move" not in flushed(first)


def test_the_readme_troubleshooting_section_names_the_log_and_the_limits():
    from engine.backends.fit import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Troubleshooting") :]
    section = section[: section.index("\n## ", 3)]
    assert "pinframe.log" in section and "Help ▸ Show Log" in section
    assert f"{MAX_IMAGE_SIDE} pixels a side" in section and f"{MAX_IMAGE_BYTES // 1024**2} MB" in section
