"""The start screen: what `pinframe` alone shows over the empty window (recent projects, New, Open, demo).

A window-modal dialog over the main window rather than a page inside it: the window's central
widget stays the viewer, and closing the dialog (Esc) leaves the empty editor as it always was.
Every choice goes through the window's own code paths (File ▸ New / Open / Open Recent / Open
Demo), so opening a project here is exactly opening it from the menu.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.paths import resources_dir
from ui.recent import recent_projects
from ui.takes import event_loop

if TYPE_CHECKING:
    from ui.main_window import MainWindow

# Each entry's folder is looked for on a worker thread (a project on a network drive can stall a stat).
MAX_LISTED = 10
PATH_ROLE = Qt.ItemDataRole.UserRole
MISSING_ROLE = Qt.ItemDataRole.UserRole + 1
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class RecentEntry:
    path: str
    missing: bool

    @property
    def name(self) -> str:
        return Path(self.path).stem or self.path

    @property
    def folder(self) -> str:
        """The folder it is in, the home folder written ~ as a terminal does."""
        folder, home = Path(self.path).parent, Path.home()
        return f"~/{folder.relative_to(home)}" if folder.is_relative_to(home) and folder != home else str(folder)


def recent_entries(paths: list[str] | None = None) -> list[RecentEntry]:
    """The recent projects, most recent first, each marked missing when its folder is gone."""
    paths = recent_projects() if paths is None else paths
    return [RecentEntry(p, not Path(p).is_dir()) for p in paths[:MAX_LISTED]]


def _show_missing(item: QListWidgetItem, missing: bool) -> None:
    path = item.data(PATH_ROLE)
    item.setData(MISSING_ROLE, missing)
    if missing:
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # shown, greyed, never opened
        item.setToolTip(f"{path} is missing: it was moved, renamed or deleted")
    else:
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        item.setToolTip(path)


class _RecentDelegate(QStyledItemDelegate):
    """Two lines a project: its name, and dimmer below it the folder it is in; 'missing' at the right."""

    ROW_HEIGHT = 52

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(200, self.ROW_HEIGHT)  # as wide as the list: it never scrolls sideways

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        palette: QPalette = option.palette
        missing = bool(index.data(MISSING_ROLE))
        selected = bool(option.state & QStyle.StateFlag.State_Selected) and not missing
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver) and not missing
        rect = option.rect
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected or hovered:
            fill = QColor(palette.color(QPalette.ColorRole.Highlight))
            fill.setAlpha(46 if selected else 20)
            painter.fillRect(rect, fill)
        if selected:  # an accent bar at the left edge, as the timeline marks the current shot
            accent_bar = QRect(rect.left(), rect.top(), 3, rect.height())
            painter.fillRect(accent_bar, palette.color(QPalette.ColorRole.Highlight))
        text = palette.color(QPalette.ColorRole.Text)
        dim = palette.color(QPalette.ColorRole.PlaceholderText)
        left = rect.adjusted(16, 7, -16, -7)
        name_font = QFont(option.font)
        name_font.setPointSizeF(option.font.pointSizeF() * 1.08)
        name_font.setBold(True)
        tag_width = 0
        if missing:
            tag_font = QFont(option.font)
            tag_font.setPointSizeF(option.font.pointSizeF() * 0.85)
            painter.setFont(tag_font)
            tag = "MISSING"
            tag_width = painter.fontMetrics().horizontalAdvance(tag) + 14
            tag_rect = QRect(left.right() - tag_width, left.top() + 2, tag_width, painter.fontMetrics().height() + 4)
            painter.setPen(dim)
            painter.drawRoundedRect(tag_rect, 3, 3)
            painter.drawText(tag_rect, Qt.AlignmentFlag.AlignCenter, tag)
        painter.setFont(name_font)
        painter.setPen(dim if missing else text)
        name_rect = QRect(left.left(), left.top(), left.width() - tag_width - 8, left.height() // 2 + 2)
        name = painter.fontMetrics().elidedText(index.data(Qt.ItemDataRole.DisplayRole), Qt.TextElideMode.ElideRight,
                                                name_rect.width())  # fmt: skip
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        painter.setFont(option.font)
        painter.setPen(dim)
        path_rect = QRect(left.left(), left.top() + left.height() // 2 + 2, left.width(), left.height() // 2)
        folder = index.data(FOLDER_ROLE) or ""
        folder = painter.fontMetrics().elidedText(folder, Qt.TextElideMode.ElideMiddle, path_rect.width())
        painter.drawText(path_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, folder)
        painter.restore()


class StartScreen(QDialog):
    """Recent projects (Enter or a double click opens one), New Project…, Open…, Open the Demo; Esc: empty editor."""

    chosen = Signal(str)  # "recent", "new", "open" or "demo"

    def __init__(self, window: MainWindow, entries: list[RecentEntry] | None = None) -> None:
        super().__init__(window)
        self.window_ = window
        self._chosen = False
        self.setObjectName("StartScreen")
        self.setWindowTitle("Pinframe")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(860, 520)
        self.setMinimumSize(640, 400)
        # Listed at once as they were stored; which are missing is looked for off the GUI thread (checked).
        looked = entries is not None
        entries = entries if entries is not None else [RecentEntry(p, False) for p in recent_projects()[:MAX_LISTED]]
        self._missing = {e.path for e in entries if e.missing}

        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base).name()
        window_bg = palette.color(QPalette.ColorRole.Window).name()
        dim = palette.color(QPalette.ColorRole.PlaceholderText).name()
        accent = palette.color(QPalette.ColorRole.Highlight).name()
        button = palette.color(QPalette.ColorRole.Button).name()
        on_accent = palette.color(QPalette.ColorRole.HighlightedText).name()
        self.setStyleSheet(f"""
            #StartSide {{ background: {base}; border-right: 1px solid #2f3036; }}
            #StartTitle {{ font-size: 22pt; font-weight: 600; }}
            #StartVersion, #StartHint, #StartEmpty {{ color: {dim}; }}
            #StartHeading {{ color: {dim}; font-weight: 600; letter-spacing: 1px; }}
            QPushButton {{
                padding: 7px 14px; border: 1px solid #3a3b42; border-radius: 4px; background: {button};
            }}
            QPushButton:hover, QPushButton:focus {{ border-color: {accent}; }}
            QPushButton:disabled {{ color: {dim}; border-color: #2f3036; }}
            #StartSide QPushButton {{ text-align: left; padding: 9px 14px; }}
            QPushButton#StartNew {{
                background: {accent}; color: {on_accent}; border-color: {accent}; font-weight: 600;
            }}
            QPushButton#StartNew:hover {{ background: #e3b456; }}
            QListWidget#StartRecent {{ background: {window_bg}; border: none; outline: none; }}
        """)  # fmt: skip

        # Left: who we are and what to start with.
        side = QFrame()
        side.setObjectName("StartSide")
        side.setFixedWidth(280)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(24, 28, 24, 20)
        side_layout.setSpacing(8)
        header = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(QIcon(str(resources_dir() / "icons" / "pinframe.svg")).pixmap(44, 44))
        header.addWidget(icon)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        title = QLabel("Pinframe")
        title.setObjectName("StartTitle")
        version = QLabel(f"Version {__version__}")
        version.setObjectName("StartVersion")
        titles.addWidget(title)
        titles.addWidget(version)
        header.addLayout(titles, 1)
        side_layout.addLayout(header)
        side_layout.addSpacing(22)
        self.new_button = self._side_button(
            "New Project…", "StartNew", "A new project: choose where it goes", side_layout
        )
        self.open_button = self._side_button("Open…", "StartOpen", "Open a .pinframe project folder", side_layout)
        self.demo_button = self._side_button(
            "Open the Demo", "StartDemo", "A short scripted scene with pins and motion, to try things on", side_layout
        )
        side_layout.addStretch(1)
        hint = QLabel("Enter opens the selected project.\nEsc starts with an empty editor.")
        hint.setObjectName("StartHint")
        side_layout.addWidget(hint)

        # Right: the recent projects.
        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(20, 28, 20, 20)
        main_layout.setSpacing(10)
        heading = QLabel("RECENT PROJECTS")
        heading.setObjectName("StartHeading")
        main_layout.addWidget(heading)
        self.recent = QListWidget()
        self.recent.setObjectName("StartRecent")
        self.recent.setItemDelegate(_RecentDelegate(self.recent))
        self.recent.setMouseTracking(True)
        self.recent.setUniformItemSizes(True)
        self.recent.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        for entry in entries:
            item = QListWidgetItem(entry.name)
            item.setData(PATH_ROLE, entry.path)
            item.setData(FOLDER_ROLE, entry.folder)
            _show_missing(item, entry.missing)
            self.recent.addItem(item)
        self.recent.itemDoubleClicked.connect(lambda item: self.open_recent(item.data(PATH_ROLE)))
        self.recent.currentItemChanged.connect(lambda *_: self._refresh())
        main_layout.addWidget(self.recent, 1)
        self.empty = QLabel(
            "No recent projects yet.\n\nStart a new project, open one, or open the demo to see how shots, "
            "pinned keyframes and rendered motion fit together."
        )
        self.empty.setObjectName("StartEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        main_layout.addWidget(self.empty, 1)
        self.recent.setVisible(bool(entries))
        self.empty.setVisible(not entries)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.empty_button = QPushButton("Empty Editor")
        self.empty_button.setToolTip("Close this and start with no project (Esc)")
        self.empty_button.clicked.connect(self.reject)
        self.open_selected_button = QPushButton("Open")
        self.open_selected_button.clicked.connect(self.open_selected)
        for b in (self.empty_button, self.open_selected_button):
            b.setMinimumWidth(110)
            buttons.addWidget(b)
        main_layout.addLayout(buttons)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(side)
        layout.addWidget(main, 1)

        self.new_button.clicked.connect(lambda: self._choose("new", window.act_new.trigger))
        self.open_button.clicked.connect(lambda: self._choose("open", window.act_open.trigger))
        self.demo_button.clicked.connect(lambda: self._choose("demo", lambda: window.spawn(window.open_demo())))
        first = next((i for i in range(self.recent.count()) if not self.recent.item(i).data(MISSING_ROLE)), None)
        if first is not None:
            self.recent.setCurrentRow(first)
            self.recent.setFocus()
        else:
            self.new_button.setFocus()
        self._refresh()
        self.checked: asyncio.Future | None = (
            None if looked else asyncio.ensure_future(self._look_for_missing([e.path for e in entries]))
        )

    async def _look_for_missing(self, paths: list[str]) -> None:
        found = await event_loop().run_in_executor(None, recent_entries, paths)
        if self._chosen or not (shiboken6.isValid(self) and shiboken6.isValid(self.recent)):
            return  # chosen or closed meanwhile
        self._missing = {e.path for e in found if e.missing}
        for i, entry in enumerate(found):
            _show_missing(self.recent.item(i), entry.missing)
        current = self.recent.currentItem()
        if current is not None and current.data(MISSING_ROLE):
            there = next((i for i in range(self.recent.count()) if not self.recent.item(i).data(MISSING_ROLE)), None)
            self.recent.setCurrentRow(-1 if there is None else there)
        self._refresh()

    def _side_button(self, text: str, name: str, tip: str, layout: QVBoxLayout) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        layout.addWidget(button)
        return button

    def _refresh(self) -> None:
        self.open_selected_button.setEnabled(self.selected_path() is not None)

    def selected_path(self) -> str | None:
        item = self.recent.currentItem()
        return None if item is None or item.data(MISSING_ROLE) else item.data(PATH_ROLE)

    # --- choices ---------------------------------------------------------------------------
    def _choose(self, what: str, act) -> None:
        if self._chosen:
            return  # one choice: a double click or Enter handled twice opens once
        self._chosen = True
        # Closed first: New's and Open's file dialogs belong to the window, which this blocks.
        self.accept()
        self.chosen.emit(what)
        act()

    def open_recent(self, path: str | None) -> None:
        if path is None or path in self._missing:
            return  # a project not yet looked for is opened, and the window says if it is gone
        window = self.window_
        self._choose("recent", lambda: window.spawn(window.open_project(path)))

    def open_selected(self) -> None:
        self.open_recent(self.selected_path())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # A focused button takes Enter itself (auto-default); the list passes it on after its
        # `activated`, which isn't connected, so a project opens once.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_selected()
            event.accept()
            return
        super().keyPressEvent(event)  # Esc: reject(), the empty editor


def show_start_screen(window: MainWindow) -> StartScreen:
    """Show the start screen over ``window`` (non-blocking: qasync can't run a nested event loop)."""
    screen = StartScreen(window)  # the window owns it (window.findChild(StartScreen) finds it)
    screen.open()
    return screen
