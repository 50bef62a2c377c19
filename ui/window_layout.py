"""The window's docks: where they start, the View menu that shows them, Reset Layout, the saved layout.

A laptop screen (1280×720, 1366×768) must hold the whole window, so the default arrangement
stacks nothing tall: panels that share a column are tabbed, and a panel whose controls need
more height than a small screen has scrolls inside its dock instead of raising the window's
minimum height. The arrangement is kept as a recipe (the dock specs), not as a saved blob, so
Reset Layout rebuilds it at the window's current size and a dock added later takes part.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QRect, QSettings, QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QMenu, QScrollArea, QWidget

# Bump when the default arrangement changes: a layout saved by an older version is then dropped
# (restoreState refuses another version) instead of bringing back a window that doesn't fit.
LAYOUT_VERSION = 2
DEFAULT_SIZE = QSize(1500, 920)
# Room for the title bar and borders the window manager adds around the size we ask for.
FRAME_ALLOWANCE = QSize(16, 40)
SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_STATE = "window/state"
SIDE_SHARE = 0.3  # at most this much of the window's width for a side dock column, by default
BOTTOM_SHARE = 0.32  # ... and of its height for the bottom dock row


@dataclass(frozen=True)
class DockSpec:
    """Where a dock goes in the default layout."""

    dock: QDockWidget
    area: Qt.DockWidgetArea
    size: int  # preferred width (side areas) or height (top and bottom), in pixels
    tab_with: QDockWidget | None = None  # shares that dock's place as a tab


class WindowLayout:
    """Adds docks, lists them in a Panels menu, and saves, restores and resets their arrangement."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.specs: list[DockSpec] = []
        self.panels_menu = QMenu("&Panels", window)  # a toggle per dock: closed ones come back here
        self.act_reset = QAction("&Reset Layout", window)
        self.act_reset.setToolTip("Put every panel back where it starts, sized to this window")
        self.act_reset.triggered.connect(self.reset)
        window.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )

    @property
    def docks(self) -> list[QDockWidget]:
        return [spec.dock for spec in self.specs]

    def add_dock(
        self,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea,
        *,
        size: int = 320,
        scroll: bool = False,
        tab_with: QDockWidget | None = None,
    ) -> QDockWidget:
        """A dock holding ``widget``, placed and listed in the Panels menu.

        ``scroll``: the panel scrolls inside its dock when the dock is shorter (or narrower)
        than the panel's controls, instead of the window growing to fit them.
        """
        dock = QDockWidget(title, self.window)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")  # saveState needs stable names
        dock.setWidget(scrolling(widget) if scroll else widget)
        spec = DockSpec(dock, area, size, tab_with)
        self.specs.append(spec)
        self._place(spec)
        if tab_with is not None:
            tab_with.raise_()  # the first of a tab group shows
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def _place(self, spec: DockSpec) -> None:
        if spec.tab_with is not None and spec.tab_with in self.docks:
            self.window.tabifyDockWidget(spec.tab_with, spec.dock)
        else:
            self.window.addDockWidget(spec.area, spec.dock)

    # --- the default arrangement -------------------------------------------------------------------
    def reset(self) -> None:
        """Every dock back in its default place, shown, docked, and sized to the window as it is."""
        window = self.window
        for spec in self.specs:
            window.removeDockWidget(spec.dock)
        for spec in self.specs:
            self._place(spec)
            spec.dock.setFloating(False)  # after placing: a dock outside the layout has nowhere to land
            spec.dock.show()
        for spec in self.specs:
            if spec.tab_with is not None:
                spec.tab_with.raise_()
        self.size_docks()

    def size_docks(self) -> None:
        """Give each dock its preferred size, at most a share of the window (a laptop keeps its viewer)."""
        window = self.window
        sides = [s for s in self.specs if s.tab_with is None and _is_side(s.area)]
        rows = [s for s in self.specs if s.tab_with is None and not _is_side(s.area)]
        if sides:
            most = int(window.width() * SIDE_SHARE)
            window.resizeDocks([s.dock for s in sides], [min(s.size, most) for s in sides], Qt.Orientation.Horizontal)
        if rows:
            most = int(window.height() * BOTTOM_SHARE)
            window.resizeDocks([s.dock for s in rows], [min(s.size, most) for s in rows], Qt.Orientation.Vertical)

    # --- size on screen ----------------------------------------------------------------------------
    def available(self) -> QRect:
        """The screen area the window may use (without panels and docks of the desktop)."""
        screen = self.window.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 720)

    def fit_to_screen(self, wanted: QSize = DEFAULT_SIZE) -> None:
        """Size the window to ``wanted``, but never past the screen it opens on, and keep it on it."""
        room = self.available()
        size = wanted.boundedTo(room.size() - FRAME_ALLOWANCE).expandedTo(self.window.minimumSizeHint())
        self.window.resize(size)
        self._keep_on(room)

    def _keep_on(self, room: QRect) -> None:
        geometry = self.window.frameGeometry()
        if room.contains(geometry):
            return
        x = min(max(geometry.x(), room.x()), max(room.x(), room.right() - geometry.width()))
        y = min(max(geometry.y(), room.y()), max(room.y(), room.bottom() - geometry.height()))
        self.window.move(x, y)

    # --- saved per user ----------------------------------------------------------------------------
    def restore(self) -> bool:
        """The person's last layout, if one of this version was saved; otherwise the default (False)."""
        settings = QSettings()
        geometry = settings.value(SETTINGS_GEOMETRY)
        if isinstance(geometry, QByteArray) and self.window.restoreGeometry(geometry):
            # Saved on a bigger screen, or one no longer attached: brought back within this one.
            self.fit_to_screen(self.window.size())
        else:
            self.fit_to_screen()
        self.size_docks()
        state = settings.value(SETTINGS_STATE)
        return isinstance(state, QByteArray) and self.window.restoreState(state, LAYOUT_VERSION)

    def save(self) -> None:
        settings = QSettings()
        settings.setValue(SETTINGS_GEOMETRY, self.window.saveGeometry())
        settings.setValue(SETTINGS_STATE, self.window.saveState(LAYOUT_VERSION))


def scrolling(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that fills the dock while there is room."""
    area = QScrollArea()
    area.setObjectName(f"scroll-{widget.objectName() or type(widget).__name__}")
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(widget)
    return area


def _is_side(area: Qt.DockWidgetArea) -> bool:
    return area in (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
