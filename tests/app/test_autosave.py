"""Autosave through a real session and bundle: edits reach the disk without the editor waiting."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from app import autosave
from app import commands as C
from app.autosave import SaveStatus
from app.bundle import Bundle
from app.document import Project, Scene, new_id
from app.session import ProjectSession
from app.timecode import FrameRate
from tests.helpers import Reports


def new_session(path: Path, **kwargs) -> ProjectSession:
    return ProjectSession.create(path, Project("A", FrameRate(25), scenes=(Scene(new_id(), "S"),)), **kwargs)


def reopen(path: Path) -> Project:
    bundle, project, _ = Bundle.open(path, readonly=True)
    bundle.close()
    return project


def test_edits_are_saved_in_the_background(bundle_path: Path):
    statuses = Reports()  # the saver reports each save; the waits below wake on those reports
    session = new_session(bundle_path, on_save_status=statuses)

    def saved() -> bool:
        return session.autosaver.saved_revision == session.history.revision

    scene = session.project.scenes[0].id
    for _ in range(5):
        session.do(C.add_shot(session.project, scene, prompt="a quiet street"))
    statuses.wait(saved, 10, "the edits to be saved")
    assert reopen(bundle_path) == session.project
    last: SaveStatus = statuses.items[-1]
    assert last.error == "" and last.saved_revision == session.history.revision
    session.undo()
    statuses.wait(saved, 10, "the undo to be saved")
    assert reopen(bundle_path).shot_count() == 4
    session.close()


def test_a_long_drag_is_saved_while_it_goes_on(bundle_path: Path):
    session = new_session(bundle_path, quiet=0.3, max_delay=0.2)
    scene = session.project.scenes[0].id
    session.do(C.add_shot(session.project, scene, duration=500))
    shot_id = session.project.scenes[0].shots[0].id
    before_drag = session.history.revision
    lengths = itertools.cycle(range(100, 300))
    deadline = time.monotonic() + 10
    # The drag goes on, edit after edit with no pause (never a 0.3 s quiet spell), until the saver has
    # written one of its steps: only max_delay can have made it save.
    while session.autosaver.saved_revision <= before_drag:
        assert time.monotonic() < deadline, "max_delay must force saves during continuous editing"
        session.do(C.retime_shot(session.project, shot_id, next(lengths), merge=True))
    session.close()


def test_editing_never_waits_for_a_slow_save(bundle_path: Path):
    session = new_session(bundle_path, quiet=0.0, max_delay=0.0)
    release = threading.Event()
    in_save = threading.Event()
    real_save = session.bundle.save

    def slow_save(project):
        in_save.set()
        release.wait(30)
        real_save(project)

    session.autosaver._save = slow_save
    scene = session.project.scenes[0].id
    session.do(C.add_shot(session.project, scene))
    assert in_save.wait(10)
    # The saver is stuck inside a save; edits on this thread must still go straight through.
    for _ in range(20):
        session.do(C.add_shot(session.project, scene))
    assert session.project.shot_count() == 21
    assert not release.is_set()
    release.set()
    assert session.close()
    assert reopen(bundle_path).shot_count() == 21


def test_a_failed_save_keeps_the_edits_and_retries(bundle_path: Path, monkeypatch):
    monkeypatch.setattr(autosave, "RETRY_SECONDS", 0.1)
    statuses = Reports()
    session = new_session(bundle_path, quiet=0.0, max_delay=0.05, on_save_status=statuses)
    conn = session.bundle._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite now reports a full disk
    scene = session.project.scenes[0].id
    for _ in range(100):
        session.do(C.add_shot(session.project, scene, action="x" * 400))
    statuses.wait(lambda: any(s.error for s in statuses.items), 10, "a failed save to be reported")
    assert "full" in next(s.error for s in statuses.items if s.error)
    assert session.project.shot_count() == 100, "nothing is lost in memory"
    conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
    statuses.wait(lambda: session.autosaver.saved_revision == session.history.revision, 10, "the retry to save")
    assert session.autosaver.error == ""
    session.close()
    assert reopen(bundle_path).shot_count() == 100


def test_closing_writes_the_last_edits(bundle_path: Path):
    session = new_session(bundle_path, quiet=60, max_delay=60)  # autosave would wait a minute
    scene = session.project.scenes[0].id
    session.do(C.add_shot(session.project, scene, number="77"))
    assert session.close()
    assert [s.number for s in reopen(bundle_path).shots()] == ["77"]


def test_session_open_reports_and_reuses_the_bundle(bundle_path: Path):
    session = new_session(bundle_path)
    session.do(C.add_shot(session.project, session.project.scenes[0].id))
    session.close()
    again = ProjectSession.open(bundle_path)
    assert again.project.shot_count() == 1 and again.report.missing_media == ()
    with pytest.raises(Exception, match="already open"):
        ProjectSession.open(bundle_path)
    again.close()
