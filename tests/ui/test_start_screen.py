"""The start screen `pinframe` alone shows: recent projects (missing ones greyed), New, Open, the demo, Esc."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog

from app.document import Project
from app.session import ProjectSession
from app.timecode import FrameRate
from tests.ui.conftest import run_until
from tests.ui.test_main_window import ARTIFACTS
from ui.recent import MAX_RECENT, recent_projects, remember_project
from ui.start_screen import MISSING_ROLE, PATH_ROLE, StartScreen, show_start_screen


def make_project(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ProjectSession.create(path, Project(path.stem, FrameRate(24), width=320, height=180)).close()
    return path


@pytest.fixture
def projects(window, tmp_path) -> tuple[Path, Path]:
    """An existing project and a missing one, the missing one the most recent."""
    there = make_project(tmp_path / "work" / "There.pinframe")
    gone = tmp_path / "work" / "Gone.pinframe"
    QSettings().setValue("recent", [str(gone), str(there)])
    return there, gone


def rows(screen: StartScreen) -> list[tuple[str, str, bool, bool]]:
    out = []
    for i in range(screen.recent.count()):
        item = screen.recent.item(i)
        enabled = bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
        out.append((item.text(), item.data(PATH_ROLE), bool(item.data(MISSING_ROLE)), enabled))
    return out


def test_lists_recent_projects_most_recent_first_with_missing_ones_greyed(window, projects, qtbot, loop):
    there, gone = projects
    screen = show_start_screen(window)
    qtbot.waitExposed(screen)
    assert screen.isVisible() and screen.isModal()
    # Listed at once; which are missing is looked for on a worker thread, never on the GUI thread.
    assert [r[1] for r in rows(screen)] == [str(gone), str(there)] and screen.checked is not None
    loop.run_until_complete(screen.checked)
    assert rows(screen) == [("Gone", str(gone), True, False), ("There", str(there), False, True)]
    assert "missing" in screen.recent.item(0).toolTip()
    # The first project that is there is selected, so Enter opens it at once.
    assert screen.selected_path() == str(there) and screen.open_selected_button.isEnabled()
    ARTIFACTS.mkdir(exist_ok=True)
    assert screen.grab().save(str(ARTIFACTS / "start_screen.png"))


def test_enter_opens_the_selected_project_in_the_window(window, projects, loop, qtbot):
    there, _ = projects
    screen = show_start_screen(window)
    qtbot.waitExposed(screen)
    loop.run_until_complete(screen.checked)  # the missing one was selected first, until looked for
    screen.recent.setFocus()
    qtbot.keyClick(screen.recent, Qt.Key.Key_Return)
    assert not screen.isVisible()
    run_until(loop, lambda: window.session is not None, timeout=30)
    assert window.session.path == there
    assert window.state.project.name == "There"
    assert recent_projects()[0] == str(there)  # opening it moved it to the top, through the window's own path


def test_double_click_opens_and_a_missing_project_does_nothing(window, projects, loop, qtbot):
    there, _ = projects
    screen = show_start_screen(window)
    qtbot.waitExposed(screen)
    loop.run_until_complete(screen.checked)
    missing = screen.recent.item(0)
    screen.recent.itemDoubleClicked.emit(missing)
    screen.open_recent(missing.data(PATH_ROLE))
    assert screen.isVisible() and window.session is None
    rect = screen.recent.visualItemRect(screen.recent.item(1))
    qtbot.mouseClick(screen.recent.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # the press it pairs
    qtbot.mouseDClick(screen.recent.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert not screen.isVisible()
    run_until(loop, lambda: window.session is not None, timeout=30)
    assert window.session.path == there


def test_escape_leaves_an_empty_editor(window, projects, loop, qtbot):
    screen = show_start_screen(window)
    qtbot.waitExposed(screen)
    qtbot.keyClick(screen, Qt.Key.Key_Escape)
    assert not screen.isVisible()
    loop.run_until_complete(__import__("asyncio").sleep(0.1))
    assert window.session is None and window.isVisible()


def test_open_the_demo(window, loop, qtbot, tmp_path):
    screen = show_start_screen(window)
    qtbot.waitExposed(screen)
    assert screen.recent.count() == 0 and screen.empty.isVisible()  # no recent projects yet
    assert screen.selected_path() is None and not screen.open_selected_button.isEnabled()
    qtbot.mouseClick(screen.demo_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: window.session is not None, timeout=60)
    assert window.session.path == tmp_path / "data" / "Demo.pinframe"
    assert not [s for s in window.findChildren(StartScreen) if s.isVisible()]


def test_new_project_goes_through_the_windows_new_dialog(window, loop, qtbot, tmp_path):
    screen = show_start_screen(window)
    qtbot.waitExposed(screen)
    qtbot.mouseClick(screen.new_button, Qt.MouseButton.LeftButton)
    assert not screen.isVisible()
    dialogs = [d for d in window.findChildren(QFileDialog) if d.isVisible()]
    assert len(dialogs) == 1 and dialogs[0].acceptMode() == QFileDialog.AcceptMode.AcceptSave  # File ▸ New's
    target = tmp_path / "Fresh"
    dialogs[0].fileSelected.emit(str(target))
    dialogs[0].reject()
    run_until(loop, lambda: window.session is not None, timeout=30)
    assert window.session.path == tmp_path / "Fresh.pinframe"
    assert (tmp_path / "Fresh.pinframe" / "project.db").is_file()


def test_open_goes_through_the_windows_open_dialog(window, projects, loop, qtbot):
    there, _ = projects
    screen = show_start_screen(window)
    qtbot.waitExposed(screen)
    qtbot.keyClick(screen.open_button, Qt.Key.Key_Return)  # Enter on a focused button presses that button
    dialogs = [d for d in window.findChildren(QFileDialog) if d.isVisible()]
    assert len(dialogs) == 1 and dialogs[0].fileMode() == QFileDialog.FileMode.Directory  # File ▸ Open's
    dialogs[0].fileSelected.emit(str(there))
    dialogs[0].reject()
    run_until(loop, lambda: window.session is not None, timeout=30)
    assert window.session.path == there


def test_recent_list_is_one_list_for_the_menu_and_the_start_screen(window, tmp_path):
    paths = [str(tmp_path / f"P{i}.pinframe") for i in range(MAX_RECENT + 3)]
    for p in paths:
        remember_project(p)
    remember_project(paths[2])  # opened again: to the top, once
    expected = [paths[2], *[p for p in reversed(paths) if p != paths[2]]][:MAX_RECENT]
    assert recent_projects() == expected
    window._fill_recent()
    assert [a.text() for a in window.recent_menu.actions()] == expected
    screen = StartScreen(window)
    assert [screen.recent.item(i).data(PATH_ROLE) for i in range(screen.recent.count())] == expected
    screen.deleteLater()
