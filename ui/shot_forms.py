"""The shots panel's forms: the scene form and the shot form, and what they share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import commands
from app import engine_service as S
from app.document import CAMERA_ANGLES, CAMERA_MOVES, SHOT_SIZES, Project, Scene, Shot
from app.edits import Command
from app.timecode import format_duration
from engine.backend_registry import get_backend
from ui.motion_models import NOT_INSTALLED, MotionEntry, choice_name, entry_for
from ui.motion_settings import MotionSettings
from ui.references_row import ShotReferences
from ui.shot_moves import retime_text, set_camera
from ui.state import EditorState

ERROR_COLOUR = "#e5534b"  # readable on the dark theme and on a light one
WANTS_ROLE = Qt.ItemDataRole.UserRole + 1  # a Motion entry that isn't installed: the model id it needs


# --- the forms -----------------------------------------------------------------------------------
def _text_box(lines: int, placeholder: str = "") -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)  # Tab walks the form, as in every other field
    box.setPlaceholderText(placeholder)
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 2 * box.frameWidth() + 10)
    return box


def _put_text(widget: QLineEdit | QPlainTextEdit, text: str) -> bool:
    """Show ``text`` unless the widget shows it already (then the person may be typing there)."""
    if (widget.toPlainText() if isinstance(widget, QPlainTextEdit) else widget.text()) == text:
        return False
    typing = widget.hasFocus()
    if isinstance(widget, QPlainTextEdit):
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
    if isinstance(widget, QSpinBox):
        widget.setValue(int(value))  # whole numbers (handles): the value is one already
    else:
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
    # A Motion entry that isn't installed was picked: the window opens the Models dialog at it.
    models_wanted = Signal(str)

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
        self.number, self.prompt, self.style_edit = self.texts["number"], self.texts["prompt"], self.texts["style"]
        self.negative_prompt = self.texts["negative_prompt"]
        self._camera_rows()
        self._timing_rows()
        self.references = ShotReferences()
        self.references.chosen.connect(
            lambda ids: self._apply("references", commands.set_shot_references, self.shot_id, ids)
        )
        self._row("References", self.references, self.references.list)
        self._motion_rows()
        state.motion_models_changed.connect(self._on_motion_models)

    # --- building ----------------------------------------------------------------------------
    def _text_row(self, field: str, label: str, lines: int, hint: str) -> None:
        box: QLineEdit | QPlainTextEdit
        if lines:
            box = text_box = _text_box(lines, hint)
            text_box.textChanged.connect(lambda: self._set(field, text_box.toPlainText()))
        else:
            box = line = QLineEdit()
            line.setPlaceholderText(hint)
            line.textEdited.connect(lambda text: self._set(field, text))
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
        completer, move_line = self.camera_move.completer(), self.camera_move.lineEdit()
        if completer is not None and move_line is not None:  # both exist once the combo is editable
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
            move_line.setPlaceholderText("static, dolly in…")
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

    def _motion_rows(self) -> None:
        self.motion = self._combo([])
        self.motion.setToolTip("The motion model this shot renders with; Project default follows Render ▸ Motion Model")
        self.motion.currentIndexChanged.connect(self._on_motion)
        self._motion_key: tuple | None = None  # what the combo was filled from
        self._row("Motion", self.motion)
        # The settings of the backend the shot renders with, made from the backend table.
        self.motion_settings = MotionSettings()
        self.motion_settings.edited.connect(self._on_motion_setting)
        self._last_setting = ""
        self.form.addRow("Settings", self.motion_settings)
        self.clip_info = QLabel()
        self.clip_info.setWordWrap(True)
        self.clip_info.setEnabled(False)  # dimmed: a read-out of the current clip, not a field
        self.clip_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form.addRow("Clip", self.clip_info)

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
            self.references.show_shot(project, shot)
            self._show_motion(project, shot)
        self._show_motion_settings(project, shot)
        self._show_clip(project, shot)

    def _show_motion(self, project: Project, shot: Shot) -> None:
        """The entries of Render ▸ Motion Model, after a 'Project default' that names the project's.

        Refilled only when the entries or the choices change (not on every keystroke elsewhere).
        Not-installed entries carry no choice: picking one asks for the Models dialog instead.
        """
        entries = self.state.motion_models
        key = (entries, project.motion_model, shot.motion_model)
        if key != self._motion_key:
            self._motion_key = key
            combo = self.motion
            combo.clear()
            combo.addItem(f"Project default ({choice_name(project.motion_model, entries)})", "")
            combo.setItemData(0, "Follows Render ▸ Motion Model", Qt.ItemDataRole.ToolTipRole)
            group = None
            for entry in entries:
                here = entry.backend if (entry.model_id or not entry.choice) else ""
                if here != group:
                    combo.insertSeparator(combo.count())
                    group = here
                combo.addItem(entry.label, entry.choice if entry.installed else None)
                combo.setItemData(combo.count() - 1, entry.detail, Qt.ItemDataRole.ToolTipRole)
                if not entry.installed:
                    combo.setItemData(combo.count() - 1, entry.model_id, WANTS_ROLE)
                    # Dimmed, as a menu's unavailable entries are; still pickable, to get it installed.
                    dim = combo.palette().color(QPalette.ColorRole.PlaceholderText)
                    combo.setItemData(combo.count() - 1, dim, Qt.ItemDataRole.ForegroundRole)
            own = shot.motion_model
            if own and combo.findData(own) < 0:
                # Chosen elsewhere (the command line) and not offered here: shown, never silently lost.
                offered = entry_for(own, entries)
                text = f"{offered.name} — chosen, {NOT_INSTALLED}" if offered else f"{own} (not in the model list)"
                combo.insertSeparator(combo.count())
                combo.addItem(text, own)
            # The popup is as wide as its longest entry, even when the dock is narrow.
            combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)
        _put_data(self.motion, shot.motion_model)

    def _motion_entry(self, project: Project, shot: Shot) -> MotionEntry | None:
        """The model the shot renders with, as the motion menus list it; None while it can't be used."""
        choice = project.motion_model_of(shot)
        entry = entry_for(choice, self.state.motion_models)
        if entry is None:
            try:  # a built-in backend, listed or not yet (before the model list has been read)
                info = get_backend(choice)
            except ValueError:
                return None
            return MotionEntry(choice, info.name, info.display_name) if not info.needs_model else None
        return entry if entry.installed and entry.backend else None

    def _show_motion_settings(self, project: Project, shot: Shot) -> None:
        entry = self._motion_entry(project, shot)
        info = get_backend(entry.backend) if entry is not None else None
        values = S.shot_settings(shot, info.name) if info is not None else {}
        self.motion_settings.show_settings(info, values)

    def _on_motion_setting(self, name: str, value: object) -> None:
        project = self.state.project
        if self._loading or self.shot_id is None or project is None:
            return
        entry = self._motion_entry(project, project.shot(self.shot_id))
        if entry is not None:
            # Each setting is an undo step of its own (a spin box's arrows merge: it keeps focus).
            if self._last_setting != name:
                self.close_merge()
            self._last_setting = name
            self._apply(name, S.motion_settings_command, self.shot_id, entry.backend, entry.model_id, {name: value})

    def _show_clip(self, project: Project, shot: Shot) -> None:
        from app.clip_state import clip_state

        clip = shot.current_clip_take
        if clip is None:
            self.clip_info.setText("not rendered")
            self.clip_info.setToolTip("")
            return
        state = clip_state(project, shot)
        sound = " · with sound" if clip.audio is not None else ""
        self.clip_info.setText(f"{state} · {clip.frame_count} fr{sound}\nmade by {clip.made_by}")
        draft = "A draft (fewer steps or a smaller size): Render Stale renders it in full." if state == "draft" else ""
        self.clip_info.setToolTip("\n".join(t for t in (clip.notes, draft) if t))

    def _on_motion_models(self) -> None:
        project = self.state.project
        if project is not None and self.shot_id is not None:
            with self._quiet():
                self._show_motion(project, project.shot(self.shot_id))
            self._show_motion_settings(project, project.shot(self.shot_id))

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

    def _on_motion(self, index: int) -> None:
        if self._loading or self.shot_id is None or index < 0:
            return
        choice = self.motion.itemData(index)
        if choice is None:
            # Not installed: put the shot's own choice back, and ask for the Models dialog.
            wanted = self.motion.itemData(index, WANTS_ROLE) or ""
            with self._quiet():
                _put_data(self.motion, self.state.require_project().shot(self.shot_id).motion_model)
            self.models_wanted.emit(wanted)
            return
        self.close_merge()  # a pick is an undo step of its own
        self._apply("motion_model", commands.set_shot_fields, self.shot_id, motion_model=choice)
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
