"""The window's keyboard: one table of shortcuts, installed on the window and listed in Help.

The keys follow editors (Space, J/K/L, arrows, Home/End, I/O) and work wherever the focus is
in the window, the way an editor's transport does: the shot list, a button just clicked, the
timeline. They are the window's actions (``Qt.WindowShortcut``), so Qt's own rule applies
first: a text field that takes a key (a typed space, J in a prompt) gets it. :class:`TypingGuard`
completes that rule for the keys a field uses without typing them (Up/Down in a spin box, the
arrows in a list of candidates), so nobody loses a keystroke to the transport.

Help ▸ Keyboard Shortcuts (:class:`ShortcutsDialog`) reads this table and every shortcut of the
window's menus and panels, so the list can't fall behind the keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app import commands

if TYPE_CHECKING:
    from ui.keyframe_panel import KeyframePanel
    from ui.state import EditorState
    from ui.viewer import ViewerWidget


class Window(Protocol):
    """What the handlers use of the main window."""

    state: EditorState
    viewer: ViewerWidget
    keyframes: KeyframePanel


@dataclass(frozen=True)
class Shortcut:
    keys: str  # QKeySequence's portable text: "Space", "Shift+Left"
    name: str  # as the menu and the list say it
    what: str  # what it does, in a director's words
    handler: Callable[[Window], object]


# --- what the keys do ------------------------------------------------------------------------------
def _shuttle(window: Window, direction: int) -> None:
    """L (or J) again doubles the speed in that direction, as in editors; the other way starts at 1."""
    viewer = window.viewer
    same_way = viewer.speed * direction > 0
    viewer.play(viewer.speed * 2 if same_way else direction)


def _go(window: Window, frame: int) -> None:
    window.viewer.stop()
    window.state.set_playhead(frame)


def _step(window: Window, frames: int) -> None:
    _go(window, window.state.playhead + frames)


def _second(window: Window) -> int:
    project = window.state.project
    return project.rate.timebase if project is not None else 1


def _shot_start(window: Window, *, forward: bool) -> None:
    starts = [e.start for e in window.state.cut.entries]
    here, last = window.state.playhead, window.state.cut.length - 1
    if forward:
        _go(window, next((s for s in starts if s > here), last))
    else:
        _go(window, next((s for s in reversed(starts) if s < here), 0))


def _shot_edge(window: Window, *, end: bool) -> None:
    """I / O: the first or last frame of the shot under the playhead (the shot's in and out)."""
    found = window.state.cut.locate(window.state.playhead)
    if found is None:
        window.state.message.emit("No shot under the playhead: add a shot first.")
        return
    entry = found[0]
    _go(window, entry.start + entry.shot.duration - 1 if end else entry.start)


def _pin_frames(window: Window) -> list[int]:
    """Every pin's frame in the cut, in order."""
    return sorted(e.start + p.frame for e in window.state.cut.entries for p in e.shot.pins)


def _pin_step(window: Window, *, forward: bool) -> None:
    here = window.state.playhead
    frames = _pin_frames(window)
    ahead = (f for f in frames if f > here) if forward else (f for f in reversed(frames) if f < here)
    target = next(ahead, None)
    if target is None:
        window.state.message.emit(f"No pin {'after' if forward else 'before'} the playhead.")
        return
    _go(window, target)


def _pin(window: Window) -> None:
    state = window.state
    before = state.project
    if window.keyframes.pin_at_playhead() and state.project is not before:
        found = state.shot_at_playhead()
        if found is not None:
            number = state.require_project().shot(found[0]).number  # just edited
            state.message.emit(f"Pinned the selected keyframe at frame {found[1]} of shot {number}.")


def _unpin(window: Window) -> None:
    state = window.state
    found = state.shot_at_playhead()
    if found is None or state.project is None:
        state.message.emit("No shot under the playhead: nothing to unpin.")
        return
    shot_id, frame = found
    shot = state.project.shot(shot_id)
    if shot.pin_at(frame) is None:
        state.message.emit(f"Shot {shot.number} has no pin at frame {frame}: move the playhead onto a pin ([ and ]).")
        return
    if state.edit(commands.remove_pin, shot_id, frame):
        state.message.emit(f"Removed the pin at frame {frame} of shot {shot.number} (Undo puts it back).")


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("Space", "Play / Pause", "Play the cut from the playhead, or stop", lambda w: w.viewer.toggle()),
    Shortcut("L", "Play Forward", "Play; again: faster (2×, 4×…)", lambda w: _shuttle(w, 1)),
    Shortcut("J", "Play Backward", "Play in reverse; again: faster", lambda w: _shuttle(w, -1)),
    Shortcut("K", "Stop", "Stop playback", lambda w: w.viewer.stop()),
    Shortcut("Left", "Previous Frame", "One frame back", lambda w: _step(w, -1)),
    Shortcut("Right", "Next Frame", "One frame on", lambda w: _step(w, 1)),
    Shortcut("Shift+Left", "Back One Second", "One second back", lambda w: _step(w, -_second(w))),
    Shortcut("Shift+Right", "On One Second", "One second on", lambda w: _step(w, _second(w))),
    Shortcut("Up", "Previous Shot", "To the start of this shot, or the one before",
             lambda w: _shot_start(w, forward=False)),
    Shortcut("Down", "Next Shot", "To the start of the next shot", lambda w: _shot_start(w, forward=True)),
    Shortcut("Home", "Start of Cut", "To the first frame of the cut", lambda w: _go(w, 0)),
    Shortcut("End", "End of Cut", "To the last frame of the cut", lambda w: _go(w, w.state.cut.length - 1)),
    Shortcut("I", "Go to Shot In", "To the first frame of the shot under the playhead",
             lambda w: _shot_edge(w, end=False)),
    Shortcut("O", "Go to Shot Out", "To the last frame of the shot under the playhead",
             lambda w: _shot_edge(w, end=True)),
    Shortcut("[", "Previous Pin", "To the pinned keyframe before the playhead", lambda w: _pin_step(w, forward=False)),
    Shortcut("]", "Next Pin", "To the pinned keyframe after the playhead", lambda w: _pin_step(w, forward=True)),
    Shortcut("P", "Pin at Playhead", "Pin the selected keyframe take at the playhead", _pin),
    Shortcut("Shift+P", "Unpin at Playhead", "Remove the pin under the playhead", _unpin),
)  # fmt: skip


def shortcuts_markdown() -> str:
    """The README's key table, made from :data:`SHORTCUTS` (a test keeps the two equal)."""
    rows = ["| key | does |", "| --- | --- |"]
    rows += [f"| {s.keys} | {s.what} |" for s in SHORTCUTS]
    return "\n".join(rows)


# --- installing ------------------------------------------------------------------------------------
def install_shortcuts(window: QMainWindow, menu: QMenu | None = None) -> dict[str, QAction]:
    """The table's keys as the window's actions (in ``menu`` too, where they show their keys).

    Call it after the window's docks exist: a floating dock is a window of its own and gets the
    typing guard too. Returns the actions by key text.
    """
    actions: dict[str, QAction] = {}
    for shortcut in SHORTCUTS:
        action = QAction(shortcut.name, window)
        action.setShortcut(QKeySequence(shortcut.keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(shortcut.what)
        action.triggered.connect(lambda _=False, s=shortcut: s.handler(window))
        window.addAction(action)  # works with the menu closed, and with no menu at all
        if menu is not None:
            menu.addAction(action)
        actions[shortcut.keys] = action
    # QKeySequence[i] is its i-th key combination; PySide6's stubs leave out __getitem__.
    guard = TypingGuard(window, [QKeySequence(s.keys)[0] for s in SHORTCUTS])  # type: ignore[index]
    for watched in (window, *window.findChildren(QDockWidget)):
        watched.installEventFilter(guard)
    return actions


_ARROWS_UP_DOWN = {Qt.Key.Key_Up, Qt.Key.Key_Down}
_ARROWS_SIDEWAYS = {Qt.Key.Key_Left, Qt.Key.Key_Right}


def is_typing(widget: QWidget | None) -> bool:
    """A field that takes typed text now: every key of the table belongs to it."""
    if isinstance(widget, (QLineEdit, QPlainTextEdit, QTextEdit)):
        return not widget.isReadOnly()
    if isinstance(widget, QAbstractSpinBox):
        return not widget.isReadOnly()
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return isinstance(widget, QKeySequenceEdit)


def keeps_key(widget: QWidget | None, key: int) -> bool:  # QKeyEvent.key(): an int (a Qt.Key value)
    """Whether ``widget`` needs ``key`` itself (typing, or moving through its items)."""
    if is_typing(widget):
        return True
    if isinstance(widget, QAbstractSlider):
        return key in _ARROWS_UP_DOWN | _ARROWS_SIDEWAYS | {Qt.Key.Key_Home, Qt.Key.Key_End}
    if isinstance(widget, QComboBox):
        return key in _ARROWS_UP_DOWN  # steps through its choices
    if isinstance(widget, QAbstractItemView):
        # Lists move by rows; a grid of candidates moves sideways too.
        sideways = isinstance(widget, QListView) and widget.flow() == QListView.Flow.LeftToRight
        return key in _ARROWS_UP_DOWN or (sideways and key in _ARROWS_SIDEWAYS)
    return False


class TypingGuard(QObject):
    """Hands the table's keys to the focused widget when it needs them (see the module's note).

    It watches the window, not the whole application: Qt offers a shortcut's key to the focused
    widget first and passes the offer up to its window when the widget doesn't take it.
    """

    def __init__(self, parent: QObject, keys: Iterable[QKeyCombination]) -> None:
        super().__init__(parent)
        self.keys = set(keys)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.keyCombination() in self.keys
            and keeps_key(QApplication.focusWidget(), event.key())
        ):
            event.accept()  # not a shortcut now: the key goes to the focused widget
            return True
        return False


# --- Help ▸ Keyboard Shortcuts -------------------------------------------------------------------
@dataclass(frozen=True)
class Listed:
    keys: str  # as this platform writes them
    name: str
    where: str  # the menu or panel it belongs to


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _name(action: QAction) -> str:
    """An action's name for the list; a toolbar symbol (↑) says less than its tooltip."""
    text = _clean(action.text()).rstrip("…")
    if not any(c.isalpha() for c in text) and action.toolTip():
        return action.toolTip().split(" (")[0]
    return text


def _menu_entries(menu: QMenu, path: str) -> Iterable[tuple[QAction, str]]:
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):  # a QMenu or None (typed QObject: Qt's menu<T>() template)
            yield from _menu_entries(sub, f"{path} ▸ {_clean(sub.title())}")
        elif not action.isSeparator():
            yield action, path


def _place_of(widget: QObject | None, window: QMainWindow) -> str:
    """The dock a panel's shortcut works in, by its title; else the window."""
    while widget is not None and widget is not window:
        if isinstance(widget, QDockWidget):
            return f"{widget.windowTitle()} panel"
        widget = widget.parent()
    return "Window"


def _native(keys: QKeySequence) -> str:
    return keys.toString(QKeySequence.SequenceFormat.NativeText)


def listed_shortcuts(window: QMainWindow) -> list[Listed]:
    """Every key of the window: the table, the menus' actions, and the panels' own shortcuts."""
    rows: list[Listed] = []
    seen: set[int] = set()
    table = {QKeySequence(s.keys).toString(): s for s in SHORTCUTS}
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if not isinstance(menu, QMenu):  # a QMenu or None
            continue
        for action, path in _menu_entries(menu, _clean(menu.title())):
            seen.add(id(action))
            for keys in action.shortcuts():
                if keys.toString() not in table:
                    rows.append(Listed(_native(keys), _name(action), path))
    rows = [Listed(_native(QKeySequence(s.keys)), s.name, "Playback") for s in SHORTCUTS] + rows
    for action in window.findChildren(QAction):
        if id(action) in seen or action.menu() is not None or not action.shortcuts():
            continue
        if any(keys.toString() in table for keys in action.shortcuts()):
            continue  # the table's own actions, listed above
        for keys in action.shortcuts():
            rows.append(Listed(_native(keys), _name(action), _place_of(action.parent(), window)))
    for shortcut in window.findChildren(QShortcut):
        if not shortcut.key().isEmpty():
            # A panel names its QShortcut with setWhatsThis; the list can't guess what it does.
            name = shortcut.whatsThis() or "(the panel's own key)"
            rows.append(Listed(_native(shortcut.key()), name, _place_of(shortcut.parent(), window)))
    return _unique(rows)


def _unique(rows: list[Listed]) -> list[Listed]:
    out: list[Listed] = []
    for row in rows:
        if row not in out:
            out.append(row)
    return out


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard Shortcuts: every key of the window, with what it does and where."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = listed_shortcuts(window)
        self.table = QTableWidget(len(self.rows), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row, entry in enumerate(self.rows):
            for col, text in enumerate((entry.keys, entry.name, entry.where)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        note = QLabel("The playback keys work anywhere in the window except while typing in a text field.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 600)

    def keys_listed(self) -> list[str]:
        return [row.keys for row in self.rows]
