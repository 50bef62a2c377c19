"""The Storyboard dock: the grid of panels, tabbed with the timeline it opens shots in."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QWidget

from ui.state import EditorState
from ui.storyboard_grid import StoryboardGrid


class _Window(Protocol):
    state: EditorState
    dock_timeline: QDockWidget
    dock_storyboard: QDockWidget  # set here

    def add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, **placing) -> QDockWidget: ...


def install_storyboard(window: _Window) -> StoryboardGrid:
    """Add the Storyboard dock (View ▸ Panels lists it) as a tab beside the timeline.

    Beside, not instead: a double-click on a panel brings the timeline tab forward with the shot
    selected and the playhead in it, which is where pins are placed.
    """
    grid = StoryboardGrid(window.state)
    window.dock_storyboard = window.add_dock(
        "Storyboard", grid, Qt.DockWidgetArea.BottomDockWidgetArea, tab_with=window.dock_timeline
    )

    def open_in_timeline(_shot_id: str) -> None:
        window.dock_timeline.show()
        window.dock_timeline.raise_()

    grid.open_in_timeline.connect(open_in_timeline)
    return grid
