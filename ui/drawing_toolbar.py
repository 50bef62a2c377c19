"""The small toolbar over the drawing layer (:mod:`ui.drawing`): tools, size, colours, undo, and
what to do with the result (save as a take, or inpaint with a prompt).

Two short rows, so it fits the viewer of a 1280x720 window between the docks.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

DRAW, MASK = "draw", "mask"
# A storyboard artist's few pens: ink, pencil grey, white for highlights, red and blue for notes.
COLOURS = (("#000000", "Ink"), ("#7f7f7f", "Grey"), ("#ffffff", "White"), ("#d22b2b", "Red"), ("#2b62d2", "Blue"))
SIZE_DEFAULT = {DRAW: 6, MASK: 40}  # screen pixels; a mask is painted with a broad brush


class DrawingToolbar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DrawingToolbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "#DrawingToolbar { background: #26272c; border-bottom: 1px solid #3a3b42; }"
            "#DrawingToolbar QLabel, #DrawingToolbar QCheckBox { color: #e6e6ea; }"
        )
        self.pen_button = _tool("Pen", "Draw (B)")
        self.eraser_button = _tool("Eraser", "Rub out strokes (E); the picture underneath stays")
        self.tools = QButtonGroup(self)
        for button in (self.pen_button, self.eraser_button):
            self.tools.addButton(button)
        self.pen_button.setChecked(True)
        self.brush_size = QSpinBox(minimum=1, maximum=200, value=SIZE_DEFAULT[DRAW])
        self.brush_size.setSuffix(" px")
        self.brush_size.setToolTip("Brush size on screen ([ and ] change it)")
        self.colours = QButtonGroup(self)
        self.colour_buttons: list[QToolButton] = []
        for colour, name in COLOURS:
            button = _tool("", name)
            button.setFixedSize(20, 20)
            button.setProperty("colour", colour)
            button.setStyleSheet(
                f"QToolButton {{ background: {colour}; border: 1px solid #555; border-radius: 3px; }}"
                "QToolButton:checked { border: 2px solid #f0c040; }"
            )
            self.colours.addButton(button)
            self.colour_buttons.append(button)
        self.colour_buttons[0].setChecked(True)
        self.undo_button = _button("↶", "Undo the last stroke (Ctrl+Z)")
        self.redo_button = _button("↷", "Redo the stroke (Ctrl+Shift+Z)")
        for step_button in (self.undo_button, self.redo_button):
            step_button.setMaximumWidth(36)
        self.clear_button = _button("Clear", "Rub out every stroke (Undo brings them back)")
        self.paper_check = QCheckBox("Blank paper")
        self.paper_check.setToolTip("Draw on white paper instead of over the keyframe")
        self.pin_check = QCheckBox("Pin")
        self.pin_check.setToolTip("Pin the saved drawing at the playhead (replacing a pin there)")
        self.save_button = _button("Save as Take", "Store the drawing over its picture as a new keyframe take")
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("What to paint in the red region")
        self.prompt.setToolTip("The prompt for the painted region (the shot's prompt to begin with)")
        self.strength = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, value=1.0, decimals=2)
        self.strength.setToolTip("1 paints the region anew; lower keeps more of what is there")
        self.inpaint_button = _button("Inpaint", "Repaint the red region with the chosen model; the rest stays")
        self.cancel_button = _button("Cancel", "Leave without changes (Esc)")
        self.strength_label = QLabel("Strength")

        first = _line(self.pen_button, self.eraser_button, self.brush_size, *self.colour_buttons,
                      self.undo_button, self.redo_button, self.clear_button)  # fmt: skip
        second = _line(self.paper_check, self.pin_check, self.prompt, self.strength_label, self.strength,
                       self.save_button, self.inpaint_button, self.cancel_button, grow=self.prompt)  # fmt: skip
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        layout.addLayout(first)
        layout.addLayout(second)

    def set_mode(self, mode: str) -> None:
        mask = mode == MASK
        self.pen_button.setText("Brush" if mask else "Pen")
        self.pen_button.setToolTip("Paint the region to repaint (B)" if mask else "Draw (B)")
        for widget in (*self.colour_buttons, self.paper_check, self.pin_check, self.save_button):
            widget.setVisible(not mask)
        for mask_widget in (self.prompt, self.strength_label, self.strength, self.inpaint_button):
            mask_widget.setVisible(mask)
        self.pen_button.setChecked(True)
        self.brush_size.setValue(SIZE_DEFAULT[mode])

    def colour(self) -> str:
        checked = self.colours.checkedButton()
        return checked.property("colour") if checked is not None else COLOURS[0][0]


def _tool(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCheckable(True)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the drawing (Esc, Ctrl+Z)
    return button


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setAutoDefault(False)
    return button


def _line(*widgets: QWidget, grow: QWidget | None = None) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    for widget in widgets:
        layout.addWidget(widget, 100 if widget is grow else 0)
    layout.addStretch(1)  # packs the row to the left when the growing field is hidden
    return layout
