"""The main window on a real Qt application (offscreen): open the demo, undo/redo, errors, close."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app import commands as C
from app.demo import DEMO_DIR, write_demo
from app.errors import PinframeError

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def tree_numbers(window) -> list[str]:
    """Shot numbers as the shots panel shows them, top to bottom."""
    tree = window.shots.tree
    out = []
    for i in range(tree.topLevelItemCount()):
        scene = tree.topLevelItem(i)
        out.extend(scene.child(j).text(0) for j in range(scene.childCount()))
    return out


def test_opens_the_demo_and_shows_its_shots(window, loop, tmp_path):
    assert loop.run_until_complete(window.open_demo())
    spec = json.loads((DEMO_DIR / "demo.json").read_text())
    numbers = [s["number"] for scene in spec["scenes"] for s in scene["shots"]]
    assert tree_numbers(window) == numbers
    assert [s.number for s in window.state.project.shots()] == numbers
    assert spec["name"] in window.windowTitle()
    assert (tmp_path / "data" / "Demo.pinframe" / "project.db").is_file()
    ARTIFACTS.mkdir(exist_ok=True)
    window.resize(1500, 920)
    window.state.set_playhead(30)
    loop.run_until_complete(asyncio.sleep(0.5))  # let thumbnails and the viewer's frame arrive
    assert window.grab().save(str(ARTIFACTS / "main_window_demo.png"))


def test_undo_and_redo_from_the_edit_menu(window, loop, qtbot):
    loop.run_until_complete(window.open_demo())
    session = window.session
    shot = session.project.scenes[0].shots[0]
    session.do(C.set_shot_fields(session.project, shot.id, number="1X"))
    assert tree_numbers(window)[0] == "1X"
    assert window.act_undo.isEnabled() and "Edit Number" in window.act_undo.text()
    window.act_undo.trigger()
    assert tree_numbers(window)[0] == shot.number
    window.act_redo.trigger()
    assert tree_numbers(window)[0] == "1X"
    assert window.save_label.text() == "Saving…"

    async def saved():
        while window.save_label.text() != "All changes saved":
            await asyncio.sleep(0.01)

    loop.run_until_complete(asyncio.wait_for(saved(), 10))


def test_a_bad_path_shows_an_error_and_keeps_the_window(window, loop, tmp_path):
    messages = []
    window.open_failed.connect(messages.append)
    assert not loop.run_until_complete(window.open_project(tmp_path / "missing.pinframe"))
    assert messages and "missing.pinframe" in messages[0] and "does not exist" in messages[0]
    assert window.session is None and window.isVisible()


def test_a_damaged_project_names_the_file(window, loop, tmp_path):
    target = write_demo(tmp_path / "Broken.pinframe")
    (target / "project.db").write_bytes(b"\0garbage" * 64)
    messages = []
    window.open_failed.connect(messages.append)
    assert not loop.run_until_complete(window.open_project(target))
    assert "project.db is damaged" in messages[0]


def test_closing_the_window_saves_and_releases_the_project(window, loop, qtbot, tmp_path):
    loop.run_until_complete(window.open_demo())
    session = window.session
    path = session.path
    shot = session.project.scenes[0].shots[-1]
    session.do(C.set_shot_fields(session.project, shot.id, notes="closing note"))

    async def close_and_wait():
        window.close()  # the first close finishes the save off the GUI thread, then closes for real
        while window.isVisible():
            await asyncio.sleep(0.01)

    loop.run_until_complete(asyncio.wait_for(close_and_wait(), 10))
    from app.bundle import Bundle

    bundle, project, _ = Bundle.open(path)  # the lock was released, and the note is on disk
    bundle.close()
    assert project.scenes[0].shots[-1].notes == "closing note"


def test_gui_without_a_display_says_so(monkeypatch, capsys):
    from ui.app import run_gui

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert run_gui() == 1
    assert "no display" in capsys.readouterr().err


def test_errors_are_pinframe_errors():
    # The window shows PinframeError messages as they are; make sure open failures are those.
    from app.bundle import Bundle

    with pytest.raises(PinframeError):
        Bundle.open("/definitely/not/here.pinframe")


def test_render_from_the_menu_then_cancel_and_undo(window, loop, tmp_path):
    from tests.ui.conftest import run_until

    loop.run_until_complete(window.open_demo())
    state = window.state
    first = state.project.scenes[0].shots[0]
    state.set_current_shot(first.id)
    window.motion.actions["crossfade"].trigger()  # crossfade: quick at 1920x1080
    (job_id,) = loop.run_until_complete(window.render_shots("selected"))
    run_until(loop, lambda: window.bridge.jobs[job_id].status in ("done", "failed"), timeout=120)
    assert window.bridge.jobs[job_id].status == "done", window.bridge.jobs[job_id].message
    assert state.project.shot(first.id).current_clip is not None
    assert window.timeline.badge_for(first.id) == "clip"
    window.act_undo.trigger()
    assert state.project.shot(first.id).current_clip is None

    window.motion.actions["flow"].trigger()  # flow: slow enough to cancel
    ids = loop.run_until_complete(window.render_shots("all"))
    run_until(loop, lambda: window.bridge.jobs[ids[0]].status == "running", timeout=60)
    window.bridge.cancel_all()
    run_until(loop, lambda: all(not window.bridge.jobs[i].active for i in ids), timeout=60)
    assert {window.bridge.jobs[i].status for i in ids} == {"cancelled"}
    assert all(s.current_clip is None for s in state.project.shots())


def test_help_show_log_and_error_dialogs_say_where_the_log_is(window, loop):
    from PySide6.QtWidgets import QMessageBox

    from app.log_file import log_path
    from tests.ui.conftest import run_until

    assert window.act_show_log in window.help_menu.actions()
    said: list[str] = []
    window.state.message.connect(said.append)
    window.act_show_log.trigger()  # no log written in this test's data folder yet
    run_until(loop, lambda: bool(said))
    assert said[-1].startswith("There is no log at") and str(log_path()) in said[-1]
    window._error("Can't open project", "the bundle is damaged")
    box = next(b for b in window.findChildren(QMessageBox) if b.text() == "the bundle is damaged")
    assert str(log_path()) in box.informativeText() and "Help ▸ Show Log" in box.informativeText()
    box.close()


def test_opening_says_it_removed_leftovers_of_interrupted_work(window, loop, tmp_path):
    target = write_demo(tmp_path / "Left.pinframe")
    (target / "media" / ".render-1234.mp4").write_bytes(b"half written")  # a clip store cut short
    assert loop.run_until_complete(window.open_project(target))
    said = window.statusBar().currentMessage()
    assert said.startswith(f"Opened {target}") and "removed 1 unfinished file(s) left by interrupted work" in said
    assert not (target / "media" / ".render-1234.mp4").exists()
