"""`pinframe` alone opens the window with the start screen over it; with a project or --demo, without."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from tests.ui.conftest import run_until
from ui.start_screen import StartScreen


@pytest.fixture
def start(qapp, loop, tmp_path, monkeypatch):
    """ui.app.open_window as run_gui calls it, on a CPU engine and settings of its own."""
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.app import create_application, open_window

    create_application().setQuitOnLastWindowClosed(False)
    windows = []

    def start_window(**kwargs):
        engine = Engine(tmp_path / f"engine-cache-{len(windows)}", DeviceSettings(device="cpu", precision="fp32"))
        windows.append(open_window(engine=engine, **kwargs))
        return windows[-1]

    yield start_window
    for w in windows:
        loop.run_until_complete(w.close_project())
        w.close()
        w.bridge.shutdown()
        w.deleteLater()


def visible_start_screens(window) -> list[StartScreen]:
    return [s for s in window.findChildren(StartScreen) if s.isVisible()]


def test_no_arguments_shows_the_start_screen_over_an_empty_window(start, qtbot):
    window = start()
    assert window.isVisible() and window.session is None
    (screen,) = visible_start_screens(window)
    qtbot.waitExposed(screen)
    assert screen.isModal() and screen.parent() is window


def test_demo_and_project_open_without_the_start_screen(start, loop, tmp_path):
    window = start(demo=True)
    assert not visible_start_screens(window)
    run_until(loop, lambda: window.session is not None, timeout=60)
    demo = window.session.path
    other = start(project=str(demo.with_name("Nope.pinframe")))
    assert not visible_start_screens(other)  # a bad path: the error box, not the start screen
