"""The window on a laptop screen: everything on screen at 1280×720, docks closed, reset and remembered."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QRect, QSettings, QSize

from tests.ui.test_main_window import ARTIFACTS


def _settle(loop, seconds: float = 0.3) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))  # layouts, thumbnails and the viewer's frame


def _rect_in_window(win, widget) -> QRect:
    top_left = widget.mapTo(win, widget.rect().topLeft())
    return QRect(top_left, widget.size())


def _check_on_screen(win, widget, name: str) -> None:
    assert widget.isVisible(), f"{name} is hidden"
    rect = _rect_in_window(win, widget)
    assert rect.width() > 40 and rect.height() > 40, f"{name} is squeezed to {rect.width()}×{rect.height()}"
    assert win.rect().contains(rect), f"{name} at {rect} is outside the {win.width()}×{win.height()} window"


def test_minimum_size_fits_a_small_laptop(window, loop):
    loop.run_until_complete(window.open_demo())
    _settle(loop)
    smallest = window.minimumSizeHint()
    assert smallest.width() <= 1024 and smallest.height() <= 640, smallest
    window.resize(1024, 640)
    _settle(loop, 0.1)
    assert window.size() == QSize(1024, 640)


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_viewer_timeline_and_every_dock_are_on_screen(window, loop, tmp_path, size):
    loop.run_until_complete(window.open_demo())
    window.resize(*size)
    window.layout_.size_docks()
    window.state.set_playhead(30)
    _settle(loop, 0.5)
    assert (window.width(), window.height()) == size  # not held larger by a minimum size
    _check_on_screen(window, window.viewer, "viewer")
    _check_on_screen(window, window.timeline, "timeline")
    assert window.viewer.height() >= 200 and window.timeline.height() >= 120
    shots = []
    for dock in window.layout_.docks:
        dock.raise_()  # a tabbed dock shows when its tab is picked
        _settle(loop, 0.05)
        _check_on_screen(window, dock, dock.windowTitle())
        _check_on_screen(window, dock.widget(), f"{dock.windowTitle()} panel")
        picture = tmp_path / f"window_{size[0]}x{size[1]}_{dock.objectName()}.png"
        assert window.grab().save(str(picture))
        shots.append(picture)
    window.dock_keyframes.raise_()
    _settle(loop, 0.1)
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / f"window_layout_{size[0]}x{size[1]}.png"))
    assert all(p.stat().st_size > 10_000 for p in shots)  # real pictures, not empty grabs


def test_keyframes_and_jobs_share_a_place_as_tabs(window):
    assert window.dock_jobs in window.tabifiedDockWidgets(window.dock_keyframes)


def test_docks_close_and_come_back_from_the_view_menu(window, loop):
    panels = window.layout_.panels_menu
    assert panels.menuAction() in window.view_menu.actions()
    assert window.layout_.act_reset in window.view_menu.actions()
    toggles = {a.text(): a for a in panels.actions() if a.isCheckable()}
    assert set(toggles) == {"Shots", "Timeline", "Storyboard", "Keyframes", "Jobs"}
    toggles["Timeline"].trigger()
    assert not window.dock_timeline.isVisible()
    toggles["Timeline"].trigger()
    assert window.dock_timeline.isVisible()


def test_reset_layout_puts_every_dock_back(window, loop):
    window.resize(1280, 720)
    window.dock_shots.close()
    window.dock_jobs.setFloating(True)
    window.removeDockWidget(window.dock_timeline)  # as if dragged away and closed
    _settle(loop, 0.1)
    window.layout_.act_reset.trigger()
    _settle(loop, 0.2)
    for dock in (window.dock_shots, window.dock_timeline, window.dock_keyframes):
        assert dock.isVisible() and not dock.isFloating(), dock.windowTitle()
    assert not window.dock_jobs.isFloating()
    assert window.dock_jobs in window.tabifiedDockWidgets(window.dock_keyframes)
    assert window.dockWidgetArea(window.dock_timeline).name == "BottomDockWidgetArea"
    # A laptop keeps its viewer: the side docks take at most their share of the width.
    assert window.dock_shots.width() <= 1280 * 0.3 + 10
    assert window.viewer.width() >= 400


def test_a_dock_added_later_is_listed_and_reset(window, loop):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    extra = window.add_dock("Storyboard", QLabel("panels"), Qt.DockWidgetArea.RightDockWidgetArea, size=300)
    assert extra.objectName() == "dock-storyboard"
    assert extra.toggleViewAction() in window.layout_.panels_menu.actions()
    extra.close()
    window.layout_.reset()
    assert extra.isVisible()


def test_the_layout_is_saved_per_user_and_an_old_one_is_dropped(window, loop, tmp_path):
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.main_window import MainWindow
    from ui.window_layout import SETTINGS_STATE

    window.dock_timeline.close()
    window.layout_.save()

    again = MainWindow(Engine(tmp_path / "engine-cache-2", DeviceSettings(device="cpu", precision="fp32")))
    again.show()
    try:
        assert again.dock_timeline.isHidden()  # as this person left it
        assert again.dock_keyframes.isVisible()
    finally:
        again.close()
        again.bridge.shutdown()
        again.deleteLater()

    # A layout from before this version (Keyframes stacked over Jobs: 901 px high) is not brought back.
    QSettings().setValue(SETTINGS_STATE, window.saveState(1))
    third = MainWindow(Engine(tmp_path / "engine-cache-3", DeviceSettings(device="cpu", precision="fp32")))
    try:
        assert not third.dock_timeline.isHidden()
    finally:
        third.bridge.shutdown()
        third.deleteLater()


def test_the_window_opens_within_the_screen(window):
    room = window.layout_.available()
    assert window.frameGeometry().width() <= room.width() and window.frameGeometry().height() <= room.height()
    window.layout_.fit_to_screen(QSize(5000, 4000))  # e.g. a size saved on a bigger monitor
    assert window.width() <= room.width() and window.height() <= room.height()
    assert room.contains(window.frameGeometry().topLeft())
