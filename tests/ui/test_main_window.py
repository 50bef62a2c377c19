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


@pytest.fixture
def window(qtbot, loop, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    from ui.app import create_application
    from ui.main_window import MainWindow

    app = create_application()
    app.setQuitOnLastWindowClosed(False)  # closing one window must not stop the test's event loop
    w = MainWindow()
    w.show()
    yield w
    # Close the project on the running loop first; then the window has nothing left to save.
    loop.run_until_complete(w.close_project())
    w.close()
    w.deleteLater()


def test_opens_the_demo_and_shows_its_shots(window, loop, tmp_path):
    assert loop.run_until_complete(window.open_demo())
    spec = json.loads((DEMO_DIR / "demo.json").read_text())
    numbers = [s["number"] for scene in spec["scenes"] for s in scene["shots"]]
    assert window.shot_list.shot_numbers() == numbers
    assert spec["name"] in window.windowTitle()
    assert (tmp_path / "data" / "Demo.pinframe" / "project.db").is_file()
    ARTIFACTS.mkdir(exist_ok=True)
    window.resize(1280, 720)
    assert window.grab().save(str(ARTIFACTS / "main_window_demo.png"))


def test_undo_and_redo_from_the_edit_menu(window, loop, qtbot):
    loop.run_until_complete(window.open_demo())
    session = window.session
    shot = session.project.scenes[0].shots[0]
    session.do(C.set_shot_fields(session.project, shot.id, number="1X"))
    assert window.shot_list.shot_numbers()[0] == "1X"
    assert window.act_undo.isEnabled() and "Edit Number" in window.act_undo.text()
    window.act_undo.trigger()
    assert window.shot_list.shot_numbers()[0] == shot.number
    window.act_redo.trigger()
    assert window.shot_list.shot_numbers()[0] == "1X"
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
