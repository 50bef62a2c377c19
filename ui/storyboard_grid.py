"""The storyboard: the cut's shots in order as panels, the view a storyboard artist starts from.

Each panel shows the shot's picture (the take chosen as its thumbnail, else its first pin, else
its newest take), its number, duration, action and dialogue. Panels drag to reorder (one undo
step), a double-click opens the shot in the timeline, a right-click offers ``ui.shot_menu``,
Delete / Backspace deletes the selection, and the selection is the EditorState's, so the list,
the timeline and the playhead follow it.

It scales to long cuts: the model is a flat list rebuilt only when the cut's order changes, the
delegate paints from the shots themselves, and pictures are decoded off the GUI thread only for
panels that are painted (on screen).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QContextMenuEvent, QDragMoveEvent, QDropEvent, QKeyEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.document import Project
from ui.shot_menu import delete_shots, pick, shot_menu
from ui.state import EditorState
from ui.storyboard_model import SHOTS_MIME, Panel, StoryboardModel, move_to, panels_of, read_shots
from ui.storyboard_thumbs import ShotThumbnails

THUMB = QSize(176, 99)  # 16:9; other aspects are fitted inside it
PANEL = QSize(THUMB.width() + 12, THUMB.height() + 70)  # fits one row in a laptop-height dock
DELETE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)


def _wrap(metrics, text: str, width: int, count: int) -> list[str]:
    """``text`` word-wrapped to ``width`` on at most ``count`` lines, the last one elided."""
    words = text.split()
    lines: list[str] = []
    while words and len(lines) < count - 1:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width))
    if words and count > 0:
        lines.append(metrics.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width))
    return lines


# --- painting --------------------------------------------------------------------------------------
class PanelDelegate(QStyledItemDelegate):
    def __init__(self, model: StoryboardModel, thumbnails: ShotThumbnails, state: EditorState) -> None:
        super().__init__()
        self.model, self.thumbnails, self.state = model, thumbnails, state

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return PANEL

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        panel = self.model.panels[index.row()]
        palette = option.palette
        rect = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillRect(rect, palette.color(QPalette.ColorRole.Highlight) if selected else QColor("#26272c"))
        picture = QRect(rect.left() + 3, rect.top() + 3, THUMB.width(), THUMB.height())
        p.fillRect(picture, QColor("#17181b"))
        pixmap = self._pixmap(panel)
        if pixmap is not None:
            size = pixmap.size().scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(QPoint(0, 0), size)
            target.moveCenter(picture.center())
            p.drawPixmap(target, pixmap)
        else:
            p.setPen(QColor("#6c6d74"))
            p.drawText(picture, Qt.AlignmentFlag.AlignCenter, "no keyframe yet")
        if panel.first_in_scene:  # where a scene starts, as a strip down the panel's left edge
            p.fillRect(QRect(rect.left(), rect.top(), 3, rect.height()), QColor("#d9a441"))
        # The panel is dark whatever the theme (pictures read best on dark), so its text is light.
        text = palette.color(QPalette.ColorRole.HighlightedText) if selected else QColor("#e6e6e9")
        line = QRect(picture.left(), picture.bottom() + 4, picture.width(), 16)
        bold = p.font()
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(text)
        p.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"Shot {panel.number}")
        p.setFont(option.font)
        p.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, panel.duration)
        metrics = option.fontMetrics
        dim = QColor(text)
        dim.setAlpha(200)
        p.setPen(dim)
        body = QRect(line.left(), line.bottom() + 2, line.width(), rect.bottom() - line.bottom() - 4)
        self._draw_text(p, metrics, body, panel)
        p.restore()
        if option.state & QStyle.StateFlag.State_HasFocus:
            p.save()
            p.setPen(QPen(palette.color(QPalette.ColorRole.Highlight).lighter(140), 1))
            p.drawRect(rect.adjusted(0, 0, -1, -1))
            p.restore()

    @staticmethod
    def _draw_text(p: QPainter, metrics, body: QRect, panel: Panel) -> None:
        """The action on the lines left, the dialogue's first line last, each elided: a panel never grows."""
        height = metrics.height()
        room = max(1, body.height() // height)
        lines = []
        if panel.action:
            lines += _wrap(metrics, panel.action, body.width(), room - 1 if panel.dialogue and room > 1 else room)
        if panel.dialogue:
            lines.append(metrics.elidedText(f"“{panel.dialogue}”", Qt.TextElideMode.ElideRight, body.width()))
        for n, text in enumerate(lines[:room]):
            p.drawText(
                QRect(body.left(), body.top() + n * height, body.width(), height), Qt.AlignmentFlag.AlignLeft, text
            )

    def _pixmap(self, panel: Panel):
        if panel.ref is None or self.state.session is None:
            return None
        cached = self.thumbnails.cached(panel.ref)
        return (
            cached if cached is not None else self.thumbnails.get(panel.ref, self.state.session.media.path(panel.ref))
        )


def _is_delete(event: QEvent) -> bool:
    if not isinstance(event, QKeyEvent):
        return False
    plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return plain and event.key() in DELETE_KEYS


# --- the view --------------------------------------------------------------------------------------
class StoryboardGrid(QListView):
    """The storyboard panels. Put it in a dock; ``open_in_timeline`` asks the window to show the timeline."""

    open_in_timeline = Signal(str)  # shot id, after a double-click (the shot is already selected)
    thumbnail_shown = Signal(str)  # shot id whose picture just arrived (tests wait on it)

    def __init__(self, state: EditorState, parent=None) -> None:
        super().__init__(parent)
        self.editor = state  # not ``state``: that is QAbstractItemView.state(), the view's drag/edit state
        self._syncing = False  # code is changing the view's selection: not the person's pick
        self.storyboard = StoryboardModel()
        self.thumbnails = ShotThumbnails(state, THUMB)
        self.setModel(self.storyboard)
        self.setItemDelegate(PanelDelegate(self.storyboard, self.thumbnails, state))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)  # layout is O(1) per panel, however long the cut
        self.setGridSize(PANEL)
        self.setSpacing(0)
        # Static: Qt must not move panels around by itself; a drop becomes a document edit instead.
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        self.setToolTip("")
        self._drop_at: tuple[int, bool] | None = None  # (row, after) while a drag hovers
        self.thumbnails.loaded.connect(self._on_thumbnail)
        self.selectionModel().selectionChanged.connect(self._on_view_selection)
        self.selectionModel().currentChanged.connect(lambda *_: self._on_view_selection())
        self.doubleClicked.connect(self._on_double_click)
        state.project_changed.connect(self._on_project)
        # Bound methods, not lambdas: Qt drops them with this view, so a closed grid hears nothing.
        state.session_changed.connect(self._on_session)
        state.current_shot_changed.connect(self._on_state_selection)
        state.selection_changed.connect(self._on_state_selection)
        self._on_project(state.project)

    # --- reading what is shown (tests read what a person sees) ------------------------------------
    def shot_ids(self) -> list[str]:
        return [p.shot_id for p in self.storyboard.panels]

    def panel(self, shot_id: str) -> Panel:
        return self.storyboard.panels[self.storyboard.row_of(shot_id)]

    def panel_rect(self, shot_id: str) -> QRect:
        return self.visualRect(self.storyboard.index(self.storyboard.row_of(shot_id)))

    # --- from the document ---------------------------------------------------------------------
    def _on_project(self, project: Project | None) -> None:
        with self._syncing_view():
            rebuilt = self.storyboard.show(panels_of(project, self.editor.cut))
        if rebuilt:
            self._sync_selection()

    def _on_session(self, _session) -> None:
        self._on_project(self.editor.project)

    def _on_state_selection(self, _value) -> None:
        self._sync_selection()

    def _on_thumbnail(self, ref) -> None:
        for row, panel in enumerate(self.storyboard.panels):
            if panel.ref == ref:
                index = self.storyboard.index(row)
                self.update(index)
                self.thumbnail_shown.emit(panel.shot_id)

    # --- selection, both ways ------------------------------------------------------------------
    @contextmanager
    def _syncing_view(self) -> Iterator[None]:
        was, self._syncing = self._syncing, True
        try:
            yield
        finally:
            self._syncing = was

    def _sync_selection(self) -> None:
        if self._syncing:
            return  # the state is echoing what this view just told it
        model, chosen = self.storyboard, set(self.editor.selection)
        selection = QItemSelection()
        for row, panel in enumerate(model.panels):
            if panel.shot_id in chosen:
                selection.select(model.index(row), model.index(row))
        current = model.row_of(self.editor.current_shot) if self.editor.current_shot else -1
        with self._syncing_view():
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
            self.selectionModel().select(selection, flags)
            if current >= 0:
                index = model.index(current)
                self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
                self.scrollTo(index)

    def _on_view_selection(self, *_args) -> None:
        if self._syncing:
            return
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        ids = [self.storyboard.panels[r].shot_id for r in rows]
        current = self.currentIndex()
        shot = self.storyboard.panels[current.row()].shot_id if current.isValid() else None
        with self._syncing_view():  # the state's echo would fight the person's Shift/Ctrl clicks
            self.editor.set_selection(ids)
            if shot in ids:
                self.editor.set_current_shot(shot)
            elif ids:
                self.editor.set_current_shot(ids[0])

    def _on_double_click(self, index: QModelIndex) -> None:
        if index.isValid():
            shot_id = self.storyboard.panels[index.row()].shot_id
            pick(self.editor, [shot_id])
            self.open_in_timeline.emit(shot_id)

    # --- keys and the menu ---------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # Claim Delete / Backspace while the grid has focus, before any window-wide shortcut.
        if event.type() == QEvent.Type.ShortcutOverride and _is_delete(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if _is_delete(event):
            delete_shots(self.editor, list(self.editor.selection))
            event.accept()
            return
        super().keyPressEvent(event)

    def menu_at(self, pos: QPoint) -> QMenu | None:
        """The right-click menu at ``pos`` (viewport coordinates); a panel outside the selection
        is selected first, as in a file browser."""
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        shot_id = self.storyboard.panels[index.row()].shot_id
        if shot_id not in self.editor.selection:
            pick(self.editor, [shot_id])
        return shot_menu(self.editor, list(self.editor.selection), self)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.menu_at(self.viewport().mapFrom(self, event.pos()))
        if menu is not None:
            menu.exec(event.globalPos())
            menu.deleteLater()

    # --- dragging panels -----------------------------------------------------------------------
    def drop_anchor(self, pos: QPoint) -> tuple[str | None, bool]:
        """(the panel a drop at ``pos`` lands next to, after it?); (None, True): after the last."""
        index = self.indexAt(pos)
        if not index.isValid():
            return None, True
        rect = self.visualRect(index)
        return self.storyboard.panels[index.row()].shot_id, pos.x() >= rect.center().x()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(SHOTS_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not event.mimeData().hasFormat(SHOTS_MIME):
            event.ignore()
            return
        shot_id, after = self.drop_anchor(event.position().toPoint())
        row = self.storyboard.row_of(shot_id) if shot_id else len(self.storyboard.panels) - 1
        self._drop_at = (row, after or shot_id is None)
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        self.viewport().update()

    def dragLeaveEvent(self, event) -> None:
        self._drop_at = None
        self.viewport().update()
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop_at = None
        self.viewport().update()
        ids = read_shots(event.mimeData())
        # Not MoveAction: Qt would then remove the dragged rows itself after the drop.
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if not ids:
            return
        anchor, after = self.drop_anchor(event.position().toPoint())
        # Later: the edit rebuilds the model, which must not happen inside Qt's drop handling.
        QTimer.singleShot(0, lambda: self.move_shots(ids, anchor, after))

    def move_shots(self, shot_ids: list[str], anchor: str | None, after: bool) -> bool:
        """Move the shots next to ``anchor`` as one undo step, and keep them selected."""
        if self.editor.project is None or not self.editor.edit(move_to, shot_ids, anchor, after):
            return False
        pick(self.editor, shot_ids)
        return True

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._drop_at is None or not self.storyboard.panels:
            return
        # Where the panels will land: a bar in the gap before or after the hovered panel.
        row, after = self._drop_at
        rect = self.visualRect(self.storyboard.index(max(0, row)))
        x = rect.right() if after else rect.left()
        p = QPainter(self.viewport())
        p.fillRect(
            QRect(x - 2, rect.top() + 4, 4, rect.height() - 8), self.palette().color(QPalette.ColorRole.Highlight)
        )
        p.end()
