"""Project ▸ Prompt Template: how every shot's prompt, style and camera become the prompts models read.

The template is the project's (app.prompt_template); the dialog edits a copy and shows, as the
director types, the keyframe and motion prompts of the current shot. A template that can't be
used says why under the text and can't be applied. Apply is one undoable edit. Everything here
is string work on the document in memory: nothing waits on the engine or the disk.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import commands
from app.errors import PinframeError
from app.prompt_template import DEFAULT_TEMPLATE, PLACEHOLDERS, check_template, shot_prompts
from ui.labels import wrapping_label
from ui.shot_forms import ERROR_COLOUR
from ui.state import EditorState


class PromptTemplateDialog(QDialog):
    def __init__(self, state: EditorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prompt Template")
        self.setObjectName("prompt-template-dialog")
        self.state = state
        self.resize(720, 460)

        intro = QLabel(
            "How each shot's prompt, style and camera become the prompts the models read. Empty fields drop "
            "out with their comma or brackets; keyframe prompts leave out the move. {{ and }} are literal braces."
        )
        intro.setWordWrap(True)

        self.template = QPlainTextEdit()
        self.template.setObjectName("prompt-template-text")
        self.template.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.template.setPlaceholderText(DEFAULT_TEMPLATE)
        self.template.setMaximumHeight(80)
        self.template.setTabChangesFocus(True)

        # One button per placeholder: inserts it at the cursor, and its tooltip says what it holds.
        chips = QHBoxLayout()
        chips.addWidget(QLabel("Insert:"))
        self.placeholder_buttons: dict[str, QPushButton] = {}
        for name, text in PLACEHOLDERS.items():
            button = QPushButton(f"{{{name}}}")
            button.setToolTip(text)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, n=name: self.template.insertPlainText(f"{{{n}}}"))
            chips.addWidget(button)
            self.placeholder_buttons[name] = button
        chips.addStretch(1)
        self.reset_button = QPushButton("Built-in Template")
        self.reset_button.setToolTip(f"Go back to {DEFAULT_TEMPLATE}")
        self.reset_button.clicked.connect(lambda: self.template.setPlainText(DEFAULT_TEMPLATE))
        chips.addWidget(self.reset_button)

        self.error = wrapping_label()
        self.error.setStyleSheet(f"color: {ERROR_COLOUR};")

        self.preview_box = QGroupBox("Preview")
        self.keyframe_preview = self._preview_label()
        self.motion_preview = self._preview_label()
        form = QFormLayout(self.preview_box)
        form.addRow("Keyframe", self.keyframe_preview)
        form.addRow("Motion", self.motion_preview)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.template)
        layout.addLayout(chips)
        layout.addWidget(self.error)
        layout.addWidget(self.preview_box)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.template.textChanged.connect(self.refresh)
        # Bound methods, not lambdas: Qt disconnects them when the dialog goes.
        state.current_shot_changed.connect(self._elsewhere_changed)
        state.project_changed.connect(self._elsewhere_changed)
        self.load()

    def _elsewhere_changed(self, _what: object) -> None:
        self.refresh()

    @staticmethod
    def _preview_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setMinimumHeight(40)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        return label

    def load(self) -> None:
        """Show the project's template as it is now (the built-in one when it has none of its own)."""
        project = self.state.project
        self.template.setPlainText(project.prompt_template if project and project.prompt_template else DEFAULT_TEMPLATE)

    def text(self) -> str:
        return self.template.toPlainText()

    def refresh(self) -> None:
        """Check the text and preview it on the current shot."""
        project, shot_id = self.state.project, self.state.current_shot
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            check_template(self.text())
            prompts = shot_prompts(project, project.shot(shot_id), self.text()) if project and shot_id else None
        except PinframeError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)
            ok.setEnabled(False)
            self._show_preview("Preview (when the template is fixed)", "", "")
            return
        self.error.setVisible(False)
        ok.setEnabled(project is not None)
        if prompts is None or project is None or shot_id is None:  # all three or none
            self._show_preview("Preview (choose a shot to see its prompts)", "", "")
        else:
            title = f"Preview: shot {project.shot(shot_id).number}"
            self._show_preview(title, prompts.keyframe or "(empty)", prompts.motion or "(empty)")

    def _show_preview(self, title: str, keyframe: str, motion: str) -> None:
        # A template being fixed shows no preview: the last good one would look like this one's.
        self.preview_box.setTitle(title)
        self.keyframe_preview.setText(keyframe)
        self.motion_preview.setText(motion)

    def apply(self) -> bool:
        """Set the project's template (one undo step) and close; a refused one keeps the dialog open."""
        try:
            template = check_template(self.text())
        except PinframeError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)
            return False
        project = self.state.project
        changed = project is not None and project.prompt_template != template
        if changed and not self.state.edit(commands.set_project_settings, prompt_template=template):
            return False
        self.accept()
        return True
