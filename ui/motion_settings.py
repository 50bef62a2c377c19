"""The shot form's motion settings: one field per setting of the backend the shot renders with.

The fields are made from the backend table (``engine.backend_registry``): a spin box with the
setting's range for numbers, a check box for on/off, a list for choices, each with the setting's
help as its tooltip. A backend added to the table gets its fields here without a change.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from engine.backend_registry import BackendInfo, Setting

Field = QSpinBox | QDoubleSpinBox | QCheckBox | QComboBox


class MotionSettings(QWidget):
    """Emits ``edited(name, value)`` when the person changes a field; ``show_settings`` loads quietly."""

    edited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setVerticalSpacing(2)
        self.fields: dict[str, Field] = {}
        self.backend = ""
        self.empty = QLabel()
        self.empty.setEnabled(False)
        self.form.addRow(self.empty)

    def show_settings(self, info: BackendInfo | None, values: dict[str, Any]) -> None:
        """Fields for ``info``'s settings (rebuilt only when the backend changes), showing ``values``."""
        name = info.name if info is not None else ""
        if name != self.backend:
            self._rebuild(info)
        for setting_name, field in self.fields.items():
            if setting_name in values:
                field.blockSignals(True)
                _put(field, values[setting_name])
                field.blockSignals(False)

    def _rebuild(self, info: BackendInfo | None) -> None:
        while self.form.rowCount() > 1:
            self.form.removeRow(1)
        self.fields.clear()
        self.backend = info.name if info is not None else ""
        settings = info.settings if info is not None else ()
        if info is None:
            self.empty.setText("the motion model isn't installed")
        elif not settings:
            self.empty.setText(f"{info.display_name} has no settings")
        self.empty.setVisible(not settings)
        for setting in settings:
            field = _field(setting)
            field.setToolTip(f"{setting.help} ({setting.range_text()}, default {_text(setting.default)})".strip())
            _connect(field, lambda value, n=setting.name: self.edited.emit(n, value))
            self.fields[setting.name] = field
            self.form.addRow(setting.label, field)


def _field(setting: Setting) -> Field:
    if setting.type == "bool":
        return QCheckBox()
    if setting.type == "choice":
        combo = QComboBox()
        combo.addItems(list(setting.choices))
        return combo
    box: QSpinBox | QDoubleSpinBox
    if setting.type == "int":
        box = QSpinBox()
        box.setRange(int(setting.minimum if setting.minimum is not None else -(2**31)),
                     int(setting.maximum if setting.maximum is not None else 2**31 - 1))  # fmt: skip
    else:
        box = QDoubleSpinBox()
        box.setDecimals(2)
        box.setSingleStep(0.1 if (setting.maximum or 10) <= 2 else 0.5)
        box.setRange(setting.minimum if setting.minimum is not None else -1e9,
                     setting.maximum if setting.maximum is not None else 1e9)  # fmt: skip
    box.setKeyboardTracking(False)  # typing "25" is one edit, not "2" then "25"
    return box


def _connect(field: Field, emit) -> None:
    if isinstance(field, QCheckBox):
        field.toggled.connect(emit)
    elif isinstance(field, QComboBox):
        field.currentTextChanged.connect(emit)
    else:
        field.valueChanged.connect(emit)


def _put(field: Field, value: Any) -> None:
    if isinstance(field, QCheckBox):
        field.setChecked(bool(value))
    elif isinstance(field, QComboBox):
        field.setCurrentText(str(value))
    elif isinstance(field, QSpinBox):
        field.setValue(int(value))
    else:
        field.setValue(float(value))


def _text(value: Any) -> str:
    return (
        ("on" if value else "off")
        if isinstance(value, bool)
        else f"{value:g}"
        if isinstance(value, float)
        else str(value)
    )
