"""Scenes and shots in cut order, the buttons that add and reorder them, and a form for the current one.

Every change goes through :meth:`EditorState.edit`, so undo covers all of it, and the panel
keeps no copy of the project: the tree and the forms are redrawn from ``project_changed``.
Typing edits the document keystroke by keystroke; the command's merge key makes one run of
typing in one field one undo step, and leaving the field ends the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import commands
from app.clip_state import clip_state
from app.document import Project, Shot
from app.edits import Command
from app.errors import PinframeError
from app.timecode import format_duration
from ui.shot_forms import SceneForm, ShotForm
from ui.shot_menu import pick, shot_menu
from ui.shot_moves import SCENE_END, Row, cut_rows, place_shots, step_scene, step_shots, step_target
from ui.state import EditorState
from ui.storyboard_thumbs import ShotThumbnails

ROW_ROLE = Qt.ItemDataRole.UserRole
CLIP_TEXT = {"none": "—", "current": "current", "stale": "stale", "draft": "draft", "missing": "missing"}
CLIP_COLOUR = {"current": "#6cc070", "stale": "#d9a441", "draft": "#8fa8c8", "missing": "#d96b5f"}
CLIP_TIP = {
    "missing": "the rendered clip's file is gone from the project's media; Render Stale renders it again",
    "stale": "the rendered clip no longer matches the shot",
    "draft": "a draft: rendered with fewer steps or at a smaller size; Render Stale renders it in full",
}
COLUMNS = ("Shot", "Duration", "Pins", "Clip")
LIST_THUMB = QSize(36, 20)  # small: the list shows a dozen rows in a laptop-height dock


# --- the outline ---------------------------------------------------------------------------------
def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [child for j in range(item.childCount()) if (child := item.child(j)) is not None]


class ShotTree(QTreeWidget):
    """Scenes and their shots. A drop becomes a request; the document, not Qt, moves the rows."""

    shots_dropped = Signal(list, str, int)  # shot ids, scene id, index among the shots that stay

    def __init__(self) -> None:
        super().__init__()
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setUniformRowHeights(True)
        self.setAllColumnsShowFocus(True)
        self.setIndentation(12)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

    @staticmethod
    def row_of(item: QTreeWidgetItem | None) -> Row | None:
        return item.data(0, ROW_ROLE) if item is not None else None

    @staticmethod
    def id_of(item: QTreeWidgetItem) -> str:
        """The scene's or shot's id: every item of the tree carries its row."""
        row: Row = item.data(0, ROW_ROLE)
        return row[1]

    def selected_shot_ids(self) -> list[str]:
        """In cut order (selectedItems() is in the order they were clicked)."""
        headings = (self.topLevelItem(i) for i in range(self.topLevelItemCount()))
        return [self.id_of(shot) for h in headings if h is not None for shot in _children(h) if shot.isSelected()]

    def drop_target(self, pos: QPoint) -> tuple[str, int] | None:
        """(scene id, index among the staying shots) for a drop at ``pos`` in the viewport."""
        item = self.itemAt(pos)
        if item is None:
            last = self.topLevelItem(self.topLevelItemCount() - 1)
            return (self.id_of(last), SCENE_END) if last else None
        upper = pos.y() < self.visualItemRect(item).center().y()
        parent = item.parent()
        if parent is None:  # a scene's heading (shots sit under theirs)
            above = self.itemAbove(item)
            if upper and above is not None:  # the upper half of a heading ends the scene before it
                return self.id_of(above.parent() or above), SCENE_END
            return self.id_of(item), 0
        staying = sum(1 for shot in _children(parent)[: parent.indexOfChild(item)] if not shot.isSelected())
        lower = not upper and not item.isSelected()
        return self.id_of(parent), staying + int(lower)

    def dropEvent(self, event: QDropEvent) -> None:
        target = self.drop_target(event.position().toPoint())
        ids = self.selected_shot_ids()
        # Not MoveAction: Qt would then delete the dragged rows itself after the drop.
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if target and ids:
            # Later: the edit rebuilds this tree, which must not happen inside Qt's drop handling.
            QTimer.singleShot(0, lambda: self.shots_dropped.emit(ids, *target))


class ThumbnailDelegate(QStyledItemDelegate):
    """The shot column with the shot's storyboard picture, asked for only as rows are painted."""

    def __init__(self, tree: ShotTree, state: EditorState, thumbnails: ShotThumbnails) -> None:
        super().__init__(tree)
        self.state, self.thumbnails = state, thumbnails

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        # Every row as tall as a picture: rows have uniform heights, measured on a scene heading.
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), LIST_THUMB.height() + 2))

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        row = index.data(ROW_ROLE)
        project = self.state.project
        if not row or row[0] != "shot" or project is None:
            return
        try:
            shot = project.shot(row[1])
        except PinframeError:
            return  # a row of a shot just deleted, painted once more before the rebuild
        pixmap = self.thumbnails.for_shot(shot) or self.thumbnails.blank
        option.icon = QIcon(pixmap)
        option.decorationSize = LIST_THUMB
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration


# --- the panel -----------------------------------------------------------------------------------
class ShotsPanel(QWidget):
    """The outline, its edit buttons, and the form for the current shot (or the chosen scene)."""

    def __init__(self, state: EditorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._syncing = False  # code is changing the tree: its signals are not the user's
        self._pushing = False  # the panel is telling the state what the user picked
        self._scene_focus: str | None = None  # a heading is the tree's current row
        self._rows: list[Row] = []
        self._items: dict[Row, QTreeWidgetItem] = {}
        self._shown: dict[str, tuple] = {}  # what each shot row was drawn from
        self.tree = ShotTree()
        self.shot_form = ShotForm(state)
        self.scene_form = SceneForm(state)
        self.placeholder = QLabel("No shots: add a scene, then a shot.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.forms = QStackedWidget()
        for page in (self.placeholder, self.shot_form, self.scene_form):
            self.forms.addWidget(page)
        self._build_actions()
        self._build_layout()
        self.tree.itemSelectionChanged.connect(self._on_tree_selection)
        self.thumbnails = ShotThumbnails(state, LIST_THUMB)
        self.tree.setIconSize(LIST_THUMB)
        self.tree.setItemDelegateForColumn(0, ThumbnailDelegate(self.tree, state, self.thumbnails))
        self.thumbnails.loaded.connect(self._on_thumbnail)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.tree.shots_dropped.connect(self._on_drop)
        state.project_changed.connect(self._on_project)
        state.session_changed.connect(self._on_session)  # bound: Qt drops it when the panel goes
        state.current_shot_changed.connect(self._on_state_current)
        state.selection_changed.connect(self._on_state_selection)
        self._on_project(state.project)

    # --- building ----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.act_add_shot = self._action("+ Shot", "Add a shot after the current one", "Ctrl+Shift+N", self.add_shot)
        self.act_add_scene = self._action("+ Scene", "Add a scene after this one", "Ctrl+Alt+N", self.add_scene)
        self.act_duplicate = self._action("Duplicate", "Duplicate the selected shots", "Ctrl+D", self.duplicate)
        # The tree only: Delete in a text field deletes text.
        self.act_delete = self._action(
            "Delete", "Delete the selected shots (or the chosen scene)", "Del", self.delete_selected, self.tree
        )
        # Backspace too: it is the delete key on a laptop's keyboard.
        self.act_delete.setShortcuts([QKeySequence("Del"), QKeySequence(Qt.Key.Key_Backspace)])
        self.act_up = self._action("↑", "Move up, across scenes too", "Alt+Up", lambda: self.move_selected(-1))
        self.act_down = self._action("↓", "Move down, across scenes too", "Alt+Down", lambda: self.move_selected(1))

    def _action(
        self, text: str, tip: str, keys: str, slot: Callable[[], None], scope: QWidget | None = None
    ) -> QAction:
        action = QAction(text, self)
        shortcut = QKeySequence(keys)
        action.setShortcut(shortcut)
        action.setShortcutContext(
            Qt.ShortcutContext.WidgetShortcut if scope else Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        action.setToolTip(f"{tip} ({shortcut.toString(QKeySequence.SequenceFormat.NativeText)})")
        action.triggered.connect(slot)
        (scope or self).addAction(action)
        self.toolbar.addAction(action)
        return action

    def _build_layout(self) -> None:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.forms)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(scroll)
        split.setChildrenCollapsible(False)
        split.setSizes([260, 540])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toolbar)
        layout.addWidget(split, 1)

    # --- the tree from the document ----------------------------------------------------------
    def _on_session(self, _session: object) -> None:
        self._on_project(self.state.project)

    def _on_thumbnail(self, _ref: object) -> None:
        self.tree.viewport().update()

    # --- the right-click menu --------------------------------------------------------------------
    def menu_at(self, pos: QPoint) -> QMenu | None:
        """The shot menu for a right-click at ``pos`` (viewport coordinates); a shot outside the
        selection is selected first. None on a heading or empty space."""
        row = self.tree.row_of(self.tree.itemAt(pos))
        if row is None or row[0] != "shot":
            return None
        if row[1] not in self.state.selection:
            pick(self.state, [row[1]])
        return shot_menu(self.state, list(self.state.selection), self)

    def _on_context_menu(self, pos: QPoint) -> None:
        menu = self.menu_at(pos)
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def _on_project(self, project: Project | None) -> None:
        rows = cut_rows(project) if project is not None else []
        if rows != self._rows:
            self._rebuild(project, rows)
        if project is not None:
            self._draw_rows(project)
        if self._scene_focus and ("scene", self._scene_focus) not in self._items:
            self._scene_focus = None
        self._sync_tree()
        self._show_form()
        self._update_actions()

    def _rebuild(self, project: Project | None, rows: list[Row]) -> None:
        with self._tree_syncing():
            self.tree.clear()
            self._items, self._shown, self._rows = {}, {}, rows
            for scene in project.scenes if project else ():
                heading = QTreeWidgetItem()
                heading.setData(0, ROW_ROLE, ("scene", scene.id))
                heading.setFlags(heading.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
                font = heading.font(0)
                font.setBold(True)
                heading.setFont(0, font)
                self.tree.addTopLevelItem(heading)
                heading.setFirstColumnSpanned(True)
                self._items[("scene", scene.id)] = heading
                for shot in scene.shots:
                    item = QTreeWidgetItem(heading)
                    item.setData(0, ROW_ROLE, ("shot", shot.id))
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
                    for col in (1, 2):
                        item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self._items[("shot", shot.id)] = item
                heading.setExpanded(True)

    def _draw_rows(self, project: Project) -> None:
        for n, scene in enumerate(project.scenes, 1):
            heading = self._items[("scene", scene.id)]
            heading.setText(0, f"{n}  {scene.heading or '(no heading)'}")
            heading.setToolTip(0, scene.synopsis or scene.heading)
            for shot in scene.shots:
                self._draw_shot(project, shot)

    def _draw_shot(self, project: Project, shot: Shot) -> None:
        # Typing redraws on every key; only shots that changed (or a new rate) are redrawn.
        key = (shot, project.rate, project.drop_frame, project.width, project.height)
        seen = self._shown.get(shot.id)
        if seen is not None and seen[0] is shot and seen[1:] == key[1:]:
            return
        self._shown[shot.id] = key
        item = self._items[("shot", shot.id)]
        status = clip_state(project, shot)
        item.setText(0, shot.number)
        item.setText(1, format_duration(shot.duration, project.rate, drop_frame=project.drop_frame))
        item.setText(2, str(len(shot.pins)))
        item.setText(3, CLIP_TEXT[status])
        item.setToolTip(0, shot.action or shot.prompt)
        clip = shot.current_clip_take
        made = f"made by {clip.made_by}" if clip is not None else ""
        item.setToolTip(3, "\n".join(t for t in (CLIP_TIP.get(status, ""), made) if t))
        colour = CLIP_COLOUR.get(status)
        item.setData(3, Qt.ItemDataRole.ForegroundRole, QColor(colour) if colour else None)

    # --- selection, both ways ----------------------------------------------------------------
    @contextmanager
    def _tree_syncing(self) -> Iterator[None]:
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    @contextmanager
    def _push(self) -> Iterator[None]:
        self._pushing = True
        try:
            yield
        finally:
            self._pushing = False

    def _current_row(self) -> Row | None:
        if self._scene_focus:
            return ("scene", self._scene_focus)
        return ("shot", self.state.current_shot) if self.state.current_shot else None

    def _sync_tree(self) -> None:
        """Make the tree show the state's selection and current row, without echoing back."""
        wanted = {("shot", i) for i in self.state.selection}
        current = self._current_row()
        if self._scene_focus:
            wanted.add(("scene", self._scene_focus))
        have = {self.tree.row_of(item) for item in self.tree.selectedItems()}
        if have == wanted and self.tree.row_of(self.tree.currentItem()) == current:
            return  # leave the scroll position alone while someone types
        with self._tree_syncing():
            self.tree.clearSelection()
            for row in wanted:
                if row in self._items:
                    self._items[row].setSelected(True)
            item = self._items.get(current) if current else None
            if item is not None:
                index = self.tree.indexFromItem(item)
                self.tree.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
                self.tree.scrollToItem(item)

    def _on_tree_selection(self) -> None:
        if self._syncing:
            return
        ids = self.tree.selected_shot_ids()
        current_item = self.tree.currentItem()
        current = self.tree.row_of(current_item)
        self._scene_focus = None
        if current_item is not None and current is not None and current[0] == "scene":
            self._scene_focus = current[1] if current_item.isSelected() or not ids else None
        shot = current[1] if current and current[0] == "shot" and current[1] in ids else (ids[0] if ids else None)
        with self._push():
            self.state.set_selection(ids)
            if shot is not None:
                self.state.set_current_shot(shot)
        self._show_form()
        self._update_actions()

    def _on_state_current(self, _shot_id: str | None) -> None:
        if self._pushing:
            return
        self._scene_focus = None  # a shot picked elsewhere (timeline, viewer) replaces the heading
        self._sync_tree()
        self._show_form()
        self._update_actions()

    def _on_state_selection(self, _ids: list[str]) -> None:
        if not self._pushing:
            self._sync_tree()
            self._update_actions()

    def _show_form(self) -> None:
        project = self.state.project
        if project is not None and self._scene_focus:
            self.scene_form.show_scene(project, project.scene(self._scene_focus))
            self.forms.setCurrentWidget(self.scene_form)
        elif project is not None and self.state.current_shot:
            self.shot_form.show_shot(project, project.shot(self.state.current_shot))
            self.forms.setCurrentWidget(self.shot_form)
        else:
            self.placeholder.setText("No project open." if project is None else "No shots: add a scene, then a shot.")
            self.forms.setCurrentWidget(self.placeholder)

    def focus_scene(self, scene_id: str) -> None:
        """Make a heading the current row: the form edits that scene."""
        self._scene_focus = scene_id
        with self._push():
            self.state.set_selection([])
        self._sync_tree()
        self._show_form()
        self._update_actions()

    def _pick(self, shot_ids: list[str]) -> None:
        self._scene_focus = None
        self.state.set_current_shot(shot_ids[0])
        self.state.set_selection(shot_ids)
        self._sync_tree()
        self._show_form()
        self._update_actions()

    def _update_actions(self) -> None:
        project = self.state.project
        ids = self.state.selection
        self.act_add_shot.setEnabled(bool(project and project.scenes))
        self.act_add_scene.setEnabled(project is not None)
        self.act_duplicate.setEnabled(bool(ids))
        self.act_delete.setEnabled(bool(ids or self._scene_focus))
        for action, step in ((self.act_up, -1), (self.act_down, 1)):
            action.setEnabled(project is not None and self._can_step(project, step))

    def _can_step(self, project: Project, step: int) -> bool:
        if self.state.selection:
            return step_target(project, self.state.selection, step) is not None
        scenes = [s.id for s in project.scenes]
        if self._scene_focus in scenes:
            return 0 <= scenes.index(self._scene_focus) + step < len(scenes)
        return False

    # --- the buttons -------------------------------------------------------------------------
    def _focused_scene(self, project: Project) -> tuple[str, int] | None:
        """(scene id, index after the current row) where a new shot goes."""
        if self._scene_focus:
            return self._scene_focus, -1  # a chosen heading: the end of that scene
        if self.state.current_shot:
            si, hi = project.locate_shot(self.state.current_shot)
            return project.scenes[si].id, hi + 1
        return (project.scenes[-1].id, -1) if project.scenes else None

    def _edit_and_pick_new(self, build: Callable[..., Command | None], *args: object) -> None:
        """Run an edit that makes shots, then select what it made (ids are new, so diff them)."""
        project = self.state.project
        if project is None:
            return
        before = {s.id for s in project.shots()}
        if self.state.edit(build, *args):
            made = [s.id for s in self.state.require_project().shots() if s.id not in before]
            if made:
                self._pick(made)

    def add_shot(self) -> None:
        target = self._focused_scene(self.state.project) if self.state.project else None
        if target is not None:
            self._edit_and_pick_new(commands.add_shot, *target)

    def add_scene(self) -> None:
        project = self.state.project
        if project is None:
            return
        target = self._focused_scene(project)
        index = project.scene_index(target[0]) + 1 if target else len(project.scenes)
        before = {s.id for s in project.scenes}
        if self.state.edit(commands.add_scene, index):
            made = next(s.id for s in self.state.require_project().scenes if s.id not in before)
            self.focus_scene(made)
            self.scene_form.heading.setFocus()  # a new scene wants its heading first

    def duplicate(self) -> None:
        if self.state.selection:
            self._edit_and_pick_new(commands.duplicate_shots, list(self.state.selection))

    def delete_selected(self) -> None:
        ids = list(self.state.selection)
        if ids:
            follow = self._neighbour(ids)
            if self.state.edit(commands.remove_shots, ids) and follow:
                self._pick([follow])
        elif self._scene_focus:
            self.state.edit(commands.remove_scene, self._scene_focus)

    def _neighbour(self, ids: list[str]) -> str | None:
        """The shot to land on after a delete: the next one that stays, else the one before."""
        order = [s.id for s in self.state.require_project().shots()]  # ids: selected shots of it
        gone = set(ids)
        last = max(order.index(i) for i in ids)
        after = [i for i in order[last:] if i not in gone]
        before = [i for i in order[:last] if i not in gone]
        return after[0] if after else (before[-1] if before else None)

    def move_selected(self, step: int) -> None:
        if self.state.selection:
            self.state.edit(step_shots, list(self.state.selection), step)
        elif self._scene_focus:
            self.state.edit(step_scene, self._scene_focus, step)

    def _on_drop(self, shot_ids: list[str], scene_id: str, index: int) -> None:
        self.state.edit(place_shots, shot_ids, scene_id, index)
