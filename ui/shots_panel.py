"""Scenes and shots in cut order, the buttons that add and reorder them, and a form for the current one.

Every change goes through :meth:`EditorState.edit`, so undo covers all of it, and the panel
keeps no copy of the project: the tree and the forms are redrawn from ``project_changed``.
Typing edits the document keystroke by keystroke; the command's merge key makes one run of
typing in one field one undo step, and leaving the field ends the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import commands
from app.document import CAMERA_ANGLES, CAMERA_MOVES, SHOT_SIZES, Project, Scene, Shot
from app.edits import Command
from app.timecode import format_duration, parse_duration
from ui.state import EditorState

Row = tuple[str, str]  # ("scene" | "shot", id): one line of the outline
ROW_ROLE = Qt.ItemDataRole.UserRole
_END = 1 << 30  # past the end of any scene; inserts clamp it to "append"
ERROR_COLOUR = "#e5534b"  # readable on the dark theme and on a light one
CLIP_TEXT = {"none": "—", "current": "current", "stale": "stale"}
CLIP_COLOUR = {"current": "#6cc070", "stale": "#d9a441"}
COLUMNS = ("Shot", "Duration", "Pins", "Clip")


# --- what the buttons do, without a window (tested on plain projects) ---------------------------
def cut_rows(project: Project) -> list[Row]:
    rows: list[Row] = []
    for scene in project.scenes:
        rows.append(("scene", scene.id))
        rows.extend(("shot", shot.id) for shot in scene.shots)
    return rows


def clip_status(project: Project, shot: Shot) -> str:
    if shot.current_clip is None:
        return "none"
    return "stale" if project.is_stale(shot) else "current"


def place_shots(project: Project, shot_ids: list[str], scene_id: str, index: int) -> Command | None:
    """Put shots (kept in cut order) at ``index`` of a scene, counting only the shots that stay.

    ``commands.move_shots`` moves one shot at a time, so a moving shot still waiting its turn
    in front of the target would shift the index; parking them all at the end of the cut first
    makes the index exact. Both halves form one command, so one undo step. None: no change.
    """
    wanted = set(shot_ids)
    ids = [s.id for s in project.shots() if s.id in wanted]
    if not ids:
        return None
    park = commands.move_shots(project, ids, project.scenes[-1].id, _END)
    parked, _ = park.apply(project)
    place = commands.move_shots(parked, ids, scene_id, index)
    moved, _ = place.apply(parked)
    if cut_rows(moved) == cut_rows(project):
        return None
    return Command(place.label, park.ops + place.ops)


def step_target(project: Project, shot_ids: list[str], step: int) -> tuple[str, int] | None:
    """Where Move Up (-1) / Down (+1) puts the shots: one row past the neighbouring row.

    A scene heading counts as a row, so the first shot of a scene moves up to the end of the
    scene before it. Several shots close up into one block next to that row.
    """
    rows = cut_rows(project)
    moving = {("shot", i) for i in shot_ids}
    positions = [n for n, row in enumerate(rows) if row in moving]
    if not positions:
        return None
    staying = [row for row in rows if row not in moving]
    anchor = positions[0] if step < 0 else positions[-1]
    before = sum(1 for row in rows[:anchor] if row not in moving)
    slot = before - 1 if step < 0 else before + 1
    if not 1 <= slot <= len(staying):  # slot 0 would be above the first heading
        return None
    above = staying[:slot]
    heading = max(n for n, row in enumerate(above) if row[0] == "scene")
    return above[heading][1], len(above) - 1 - heading


def step_shots(project: Project, shot_ids: list[str], step: int) -> Command | None:
    target = step_target(project, shot_ids, step)
    return place_shots(project, shot_ids, *target) if target else None


def step_scene(project: Project, scene_id: str, step: int) -> Command | None:
    index = project.scene_index(scene_id) + step
    return commands.move_scene(project, scene_id, index) if 0 <= index < len(project.scenes) else None


def set_camera(project: Project, shot_id: str, **changes: object) -> Command:
    """One camera field; Camera's own check (lens range...) refuses a bad value here."""
    camera = replace(project.shot(shot_id).camera, **changes)
    return commands.set_shot_fields(project, shot_id, camera=camera)


def retime_text(project: Project, shot_id: str, text: str) -> Command | None:
    """A duration as typed (frames, ``2s`` or timecode); None when it is the length already."""
    frames = parse_duration(text, project.rate)
    if frames == project.shot(shot_id).duration:
        return None
    return commands.retime_shot(project, shot_id, frames)


# --- the outline ---------------------------------------------------------------------------------
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

    def selected_shot_ids(self) -> list[str]:
        """In cut order (selectedItems() is in the order they were clicked)."""
        ids = []
        for i in range(self.topLevelItemCount()):
            heading = self.topLevelItem(i)
            for j in range(heading.childCount()):
                if heading.child(j).isSelected():
                    ids.append(self.row_of(heading.child(j))[1])
        return ids

    def drop_target(self, pos: QPoint) -> tuple[str, int] | None:
        """(scene id, index among the staying shots) for a drop at ``pos`` in the viewport."""
        item = self.itemAt(pos)
        if item is None:
            last = self.topLevelItem(self.topLevelItemCount() - 1)
            return (self.row_of(last)[1], _END) if last else None
        upper = pos.y() < self.visualItemRect(item).center().y()
        kind, _ = self.row_of(item)
        if kind == "scene":
            above = self.itemAbove(item)
            if upper and above is not None:  # the upper half of a heading ends the scene before it
                return self.row_of(above.parent() or above)[1], _END
            return self.row_of(item)[1], 0
        parent = item.parent()
        staying = sum(1 for j in range(parent.indexOfChild(item)) if not parent.child(j).isSelected())
        lower = not upper and not item.isSelected()
        return self.row_of(parent)[1], staying + int(lower)

    def dropEvent(self, event: QDropEvent) -> None:
        target = self.drop_target(event.position().toPoint())
        ids = self.selected_shot_ids()
        # Not MoveAction: Qt would then delete the dragged rows itself after the drop.
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if target and ids:
            # Later: the edit rebuilds this tree, which must not happen inside Qt's drop handling.
            QTimer.singleShot(0, lambda: self.shots_dropped.emit(ids, *target))


# --- the forms -----------------------------------------------------------------------------------
def _text_box(lines: int, placeholder: str = "") -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)  # Tab walks the form, as in every other field
    box.setPlaceholderText(placeholder)
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 2 * box.frameWidth() + 10)
    return box


def _put_text(widget: QLineEdit | QPlainTextEdit, text: str) -> bool:
    """Show ``text`` unless the widget shows it already (then the person may be typing there)."""
    plain = isinstance(widget, QPlainTextEdit)
    if (widget.toPlainText() if plain else widget.text()) == text:
        return False
    typing = widget.hasFocus()
    if plain:
        pos = widget.textCursor().position()
        widget.setPlainText(text)
        if typing:  # undo while typing: stay where the person was
            cursor = widget.textCursor()
            cursor.setPosition(min(pos, len(text)))
            widget.setTextCursor(cursor)
    else:
        pos = widget.cursorPosition()
        widget.setText(text)
        if typing:
            widget.setCursorPosition(min(pos, len(text)))
    return True


def _put_value(widget: QSpinBox | QDoubleSpinBox, value: float) -> bool:
    # An unchanged value is left alone: setValue would reset a number being typed.
    if widget.value() == value:
        return False
    widget.setValue(value)
    return True


def _put_data(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    if index != combo.currentIndex():
        combo.setCurrentIndex(index)


class _Form(QWidget):
    """What both forms share: loading without echo, one merge run per focus, an inline error."""

    def __init__(self, state: EditorState) -> None:
        super().__init__()
        self.state = state
        self._loading = False
        self._inputs: list[QWidget] = []
        self._editing = False
        self._refusal = ""
        self._error_field = ""
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)  # a long heading must not widen a narrow dock
        self.form = QFormLayout()
        self.form.setVerticalSpacing(4)
        # Top-aligned labels read as captions of the tall text boxes, not as floating words.
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error.hide()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.title)
        outer.addLayout(self.form)
        outer.addWidget(self.error)
        outer.addStretch(1)  # a short form sits at the top instead of spreading its rows
        state.message.connect(self._on_message)

    def _row(self, label: str, widget: QWidget, field: QWidget | None = None) -> None:
        self.form.addRow(label, widget)
        self._watch(field or widget)

    def _watch(self, widget: QWidget) -> None:
        self._inputs.append(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            self.close_merge()
        return False

    def close_merge(self) -> None:
        """The next edit starts a new undo step (the field was left, or a pick was made)."""
        if self.state.session is not None:
            self.state.session.history.close_merge()

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Load the document into the widgets without any of it coming back as an edit."""
        self._loading = True
        blocked = [(w, w.blockSignals(True)) for w in self._inputs]
        try:
            yield
        finally:
            for widget, was in blocked:
                widget.blockSignals(was)
            self._loading = False

    def _apply(self, field: str, build: Callable[..., Command | None], *args: object, **kwargs: object) -> bool:
        """Edit through the state; a refusal is shown next to the form, not as a dialog."""
        if self._loading:
            return False
        self._editing, self._refusal = True, ""
        try:
            done = self.state.edit(build, *args, **kwargs)
        finally:
            self._editing = False
        if self._refusal:
            self._show_error(field, self._refusal)
        else:
            self._clear_error(field)
        return done

    def _on_message(self, text: str) -> None:
        if self._editing:
            self._refusal = text

    def _show_error(self, field: str, text: str) -> None:
        self._error_field = field
        self.error.setText(text)
        self.error.show()

    def _clear_error(self, field: str | None = None) -> None:
        if field is None or field == self._error_field:
            self._error_field = ""
            self.error.hide()


class SceneForm(_Form):
    def __init__(self, state: EditorState) -> None:
        super().__init__(state)
        self.scene_id: str | None = None
        self.heading = QLineEdit()
        self.heading.setPlaceholderText("INT. PLACE - DAY")
        self.synopsis = _text_box(4, "What happens in this scene")
        self._row("Heading", self.heading)
        self._row("Synopsis", self.synopsis)
        self.heading.textEdited.connect(lambda text: self._set("heading", text))
        self.synopsis.textChanged.connect(lambda: self._set("synopsis", self.synopsis.toPlainText()))

    def show_scene(self, project: Project, scene: Scene) -> None:
        if scene.id != self.scene_id:
            self.scene_id = scene.id
            self._clear_error()
        index = project.scene_index(scene.id) + 1
        count = len(scene.shots)
        self.title.setText(f"Scene {index} · {count} shot{'' if count == 1 else 's'}")
        with self._quiet():
            _put_text(self.heading, scene.heading)
            _put_text(self.synopsis, scene.synopsis)

    def _set(self, field: str, text: str) -> None:
        if self.scene_id is not None:
            self._apply(field, commands.set_scene_fields, self.scene_id, **{field: text})


class ShotForm(_Form):
    TEXT_ROWS = (
        ("number", "Shot", 0, "12A"),
        ("action", "Action", 2, "What we see"),
        ("dialogue", "Dialogue", 2, ""),
        ("notes", "Notes", 2, ""),
        ("prompt", "Prompt", 3, "What the keyframe model is asked for"),
        ("negative_prompt", "Negative", 2, "What it should avoid"),
        ("style", "Style", 0, "film still, 35mm, muted colour"),
    )

    def __init__(self, state: EditorState) -> None:
        super().__init__(state)
        self.shot_id: str | None = None
        self._duration_typed = False  # the duration field holds text not yet applied
        self.texts: dict[str, QLineEdit | QPlainTextEdit] = {}
        for field, label, lines, hint in self.TEXT_ROWS:
            self._text_row(field, label, lines, hint)
        self.number, self.prompt, self.style = self.texts["number"], self.texts["prompt"], self.texts["style"]
        self.negative_prompt = self.texts["negative_prompt"]
        self._camera_rows()
        self._timing_rows()

    # --- building ----------------------------------------------------------------------------
    def _text_row(self, field: str, label: str, lines: int, hint: str) -> None:
        if lines:
            box = _text_box(lines, hint)
            box.textChanged.connect(lambda: self._set(field, box.toPlainText()))
        else:
            box = QLineEdit()
            box.setPlaceholderText(hint)
            box.textEdited.connect(lambda text: self._set(field, text))
        self.texts[field] = box
        self._row(label, box)

    def _camera_rows(self) -> None:
        self.shot_size = self._combo(
            [(code, f"{code} · {name}" if code else name) for code, name in SHOT_SIZES.items()]
        )
        self.angle = self._combo([(a, a or "—") for a in CAMERA_ANGLES])
        self.shot_size.currentIndexChanged.connect(lambda: self._pick_camera(size=self.shot_size.currentData()))
        self.angle.currentIndexChanged.connect(lambda: self._pick_camera(angle=self.angle.currentData()))
        self.lens = QDoubleSpinBox()
        self.lens.setRange(0.0, 2000.0)
        self.lens.setDecimals(1)
        self.lens.setSuffix(" mm")
        self.lens.setSpecialValueText("—")  # the minimum, 0, stands for "no lens given"
        self.lens.setKeyboardTracking(False)  # typing 35 must not set a 3 mm lens on the way
        self.lens.valueChanged.connect(self._on_lens)
        self.camera_move = QComboBox()
        self.camera_move.setEditable(True)
        self.camera_move.addItems(CAMERA_MOVES)
        self.camera_move.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.camera_move.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.camera_move.lineEdit().setPlaceholderText("static, dolly in…")
        self.camera_move.editTextChanged.connect(lambda text: self._apply("move", set_camera, self.shot_id, move=text))
        for label, widget in (
            ("Size", self.shot_size),
            ("Angle", self.angle),
            ("Lens", self.lens),
            ("Move", self.camera_move),
        ):
            self._row(label, widget)

    def _combo(self, items: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)  # lets the form shrink to a narrow dock
        for data, text in items:
            combo.addItem(text, data)
        return combo

    def _timing_rows(self) -> None:
        self.duration = QLineEdit()
        self.duration.setToolTip("Frames (48), seconds (2s) or timecode (00:00:02:00); Enter applies")
        self.duration.textEdited.connect(self._on_duration_typed)
        self.duration.editingFinished.connect(self.apply_duration)
        self.duration_info = QLabel()
        self.duration_info.setEnabled(False)  # dimmed: a read-out, not a field
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.duration, 1)
        box.addWidget(self.duration_info)
        self._row("Duration", row, self.duration)
        self.handles = QSpinBox()
        self.handles.setRange(0, 9999)
        self.handles.setSuffix(" fr")
        self.handles.setKeyboardTracking(False)
        self.handles.valueChanged.connect(lambda v: self._set("handles", v))
        self._row("Handles", self.handles)

    # --- loading -----------------------------------------------------------------------------
    def show_shot(self, project: Project, shot: Shot) -> None:
        if shot.id != self.shot_id:
            self.shot_id = shot.id
            self._duration_typed = False
            self._clear_error()
        heading = project.scenes[project.locate_shot(shot.id)[0]].heading
        self.title.setText(f"Shot {shot.number or '?'}" + (f" · {heading}" if heading else ""))
        with self._quiet():
            for field, box in self.texts.items():
                _put_text(box, getattr(shot, field))
            self._show_camera(shot)
            if _put_value(self.handles, shot.handles):
                self._clear_error("handles")
            self._show_duration(project, shot)

    def _show_camera(self, shot: Shot) -> None:
        cam = shot.camera
        _put_data(self.shot_size, cam.size)
        _put_data(self.angle, cam.angle)
        if _put_value(self.lens, cam.lens_mm or 0.0):
            self._clear_error("lens")
        if self.camera_move.currentText() != cam.move:
            self.camera_move.setEditText(cam.move)

    def _show_duration(self, project: Project, shot: Shot) -> None:
        if not self._duration_typed:
            _put_text(self.duration, format_duration(shot.duration, project.rate, drop_frame=project.drop_frame))
        self.duration_info.setText(f"{shot.duration} fr @ {project.rate.label}")

    # --- editing -----------------------------------------------------------------------------
    def _set(self, field: str, value: object) -> None:
        if self.shot_id is not None:
            self._apply(field, commands.set_shot_fields, self.shot_id, **{field: value})

    def _pick_camera(self, **change: object) -> None:
        # A pick from a list is a step of its own, not part of whatever was typed before it.
        if self._loading or self.shot_id is None:
            return
        self.close_merge()
        self._apply(next(iter(change)), set_camera, self.shot_id, **change)
        self.close_merge()

    def _on_lens(self, value: float) -> None:
        if self.shot_id is not None:
            lens = None if value == self.lens.minimum() else value
            self._apply("lens", set_camera, self.shot_id, lens_mm=lens)

    def _on_duration_typed(self, _text: str) -> None:
        self._duration_typed = True

    def apply_duration(self) -> None:
        """Enter or leaving the field: retime to what was typed; bad text stays, with the reason."""
        if not self._duration_typed or self.shot_id is None or self._loading:
            return
        self._apply("duration", retime_text, self.shot_id, self.duration.text())
        if self._error_field != "duration":
            self._duration_typed = False
            project = self.state.project
            if project is not None:
                self._show_duration(project, project.shot(self.shot_id))


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
        self.tree.shots_dropped.connect(self._on_drop)
        state.project_changed.connect(self._on_project)
        state.session_changed.connect(lambda _s: self._on_project(state.project))
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
        status = clip_status(project, shot)
        item.setText(0, shot.number)
        item.setText(1, format_duration(shot.duration, project.rate, drop_frame=project.drop_frame))
        item.setText(2, str(len(shot.pins)))
        item.setText(3, CLIP_TEXT[status])
        item.setToolTip(0, shot.action or shot.prompt)
        item.setToolTip(3, "the rendered clip no longer matches the shot" if status == "stale" else "")
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
        on_heading = current is not None and current[0] == "scene"
        self._scene_focus = current[1] if on_heading and (current_item.isSelected() or not ids) else None
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
        before = {s.id for s in self.state.project.shots()}
        if self.state.edit(build, *args):
            made = [s.id for s in self.state.project.shots() if s.id not in before]
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
            made = next(s.id for s in self.state.project.scenes if s.id not in before)
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
        order = [s.id for s in self.state.project.shots()]
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
