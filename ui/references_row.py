"""The shot form's References row: which of the project's reference pictures the shot uses.

A checkable list, one line per project reference, in the project's order. A shot's keyframes
follow the checked ones when the keyframe model takes references (the registry's ``references``);
the pictures themselves are managed under Project ▸ References and LoRAs….
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.document import Project, Shot

ID_ROLE = Qt.ItemDataRole.UserRole
MAX_ROWS = 5  # taller than this, the list scrolls: the form must still fit a 720 px screen


class ShotReferences(QWidget):
    """Checkboxes for the project's references; ``chosen`` gives the ids the director left checked."""

    chosen = Signal(list)  # reference ids, the shot's existing order kept, new ones in project order

    def __init__(self) -> None:
        super().__init__()
        self.list = QListWidget()
        self.list.setToolTip("The reference pictures this shot's keyframes follow (models that take references)")
        self.hint = QLabel("None yet: Project ▸ References and LoRAs…")
        self.hint.setEnabled(False)  # dimmed: a hint, not a field
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.list)
        box.addWidget(self.hint)
        self._current: tuple[str, ...] = ()
        self.list.itemChanged.connect(self._on_item)

    def show_shot(self, project: Project, shot: Shot) -> None:
        """Fill from the document (signals blocked: loading is not an edit)."""
        self._current = shot.references
        was = self.list.blockSignals(True)
        try:
            self.list.clear()
            for ref in project.references:
                item = QListWidgetItem(f"{ref.name}  ·  {ref.kind}")
                item.setData(ID_ROLE, ref.id)
                item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
                item.setCheckState(Qt.CheckState.Checked if ref.id in shot.references else Qt.CheckState.Unchecked)
                self.list.addItem(item)
        finally:
            self.list.blockSignals(was)
        rows = min(len(project.references), MAX_ROWS)
        self.list.setVisible(bool(rows))
        self.hint.setVisible(not rows)
        if rows:
            self.list.setFixedHeight(self.list.sizeHintForRow(0) * rows + 2 * self.list.frameWidth() + 2)

    def checked(self) -> list[str]:
        items = [self.list.item(i) for i in range(self.list.count())]
        return [i.data(ID_ROLE) for i in items if i.checkState() == Qt.CheckState.Checked]

    def _on_item(self, _item: QListWidgetItem) -> None:
        ticked = self.checked()
        # Keep the order the shot had (it is the order the model receives them), new ones after.
        ids = [i for i in self._current if i in ticked] + [i for i in ticked if i not in self._current]
        self._current = tuple(ids)
        self.chosen.emit(ids)
