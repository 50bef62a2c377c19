"""Project ▸ References and LoRAs…: the project's reference pictures and LoRA files.

A reference is a named picture (a character, a location, a look) that shots choose in their form
(ui.references_row) and keyframe models that take references follow; a LoRA is a .safetensors
file every keyframe of a model that loads LoRAs uses, at its weight. Files are checked and copied
into the bundle on a worker thread (app.project_library); every change is an undoable command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import commands as C
from app.document import LORA_WEIGHT_RANGE, REFERENCE_KINDS, REFERENCE_WEIGHT_RANGE, Project
from app.errors import PinframeError
from app.image_limits import limits_text
from app.media_ref import MediaRef
from app.project_library import import_lora, import_reference
from ui.state import EditorState
from ui.takes import ThumbnailLoader, event_loop

if TYPE_CHECKING:
    from ui.main_window import MainWindow

ID_ROLE = Qt.ItemDataRole.UserRole
THUMB = QSize(96, 54)
PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp)"
LORA_FILTER = "LoRA (*.safetensors)"


def free_name(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted 2``, ``wanted 3``… whichever no other reference (or LoRA) has."""
    folded = {t.casefold() for t in taken}
    name, n = wanted.strip() or "reference", 2
    while name.casefold() in folded:
        name = f"{wanted.strip()} {n}"
        n += 1
    return name


class _Library(QGroupBox):
    """A list with its editor row and its Add / Remove buttons: shared by references and LoRAs."""

    def __init__(self, title: str, empty: str) -> None:
        super().__init__(title)
        self.list = QListWidget()
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.empty = QLabel(empty)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)  # dimmed: a hint, not a field
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name")
        self.weight = QDoubleSpinBox()
        self.weight.setDecimals(2)
        self.weight.setSingleStep(0.05)
        self.weight.setKeyboardTracking(False)  # typing 0.45 must not apply 0.4 on the way
        self.fields = QFormLayout()
        self.fields.addRow("Name", self.name)
        self.add = QPushButton("Add…")
        self.remove = QPushButton("Remove")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.addWidget(self.list, 1)
        box.addWidget(self.empty)
        box.addLayout(self.fields)
        box.addLayout(buttons)
        # Delete / Backspace on the list removes the selected entry, as everywhere in the window.
        for key in (QKeySequence.StandardKey.Delete, QKeySequence(Qt.Key.Key_Backspace)):
            shortcut = QShortcut(key, self.list)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.remove.click)
        self.list.customContextMenuRequested.connect(self._menu)

    def selected_id(self) -> str:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item is not None else ""

    def fill(self, rows: list[tuple[str, str, str]]) -> None:
        """(id, text, tooltip) rows, keeping the selection on the same id."""
        keep = self.selected_id()
        self.list.blockSignals(True)
        self.list.clear()
        for row_id, text, tip in rows:
            item = QListWidgetItem(text)
            item.setData(ID_ROLE, row_id)
            item.setToolTip(tip)
            self.list.addItem(item)
            if row_id == keep:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self.list.blockSignals(False)
        self.empty.setVisible(not rows)
        for widget in (self.name, self.weight, self.remove):
            widget.setEnabled(bool(rows))

    def _menu(self, pos) -> None:
        if self.list.itemAt(pos) is None:
            return
        menu = QMenu(self)
        menu.addAction("Rename", self._start_rename)
        menu.addAction("Remove", self.remove.click)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _start_rename(self) -> None:
        self.name.setFocus()
        self.name.selectAll()


class ReferencesDialog(QDialog):
    def __init__(
        self,
        state: EditorState,
        parent: QWidget | None = None,
        spawn: Callable[[Coroutine[Any, Any, Any]], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("References and LoRAs")
        self.state = state
        self._spawn = spawn or asyncio.ensure_future
        self.thumbs = ThumbnailLoader(THUMB)
        self.thumbs.loaded.connect(lambda _ref: self._refresh_icons())
        self._loading = False

        self.refs = _Library(
            "Reference pictures",
            "No references yet. Add a picture of a character, a location or a look; shots choose theirs "
            "in the shot form, and keyframe models that take references follow them.",
        )
        self.refs.list.setIconSize(THUMB)
        self.ref_kind = QComboBox()
        for kind in REFERENCE_KINDS:
            self.ref_kind.addItem(kind.capitalize(), kind)
        self.refs.weight.setRange(*REFERENCE_WEIGHT_RANGE)
        self.refs.weight.setToolTip("How closely keyframes follow the picture (0: not at all, 1: closely)")
        self.refs.fields.addRow("Kind", self.ref_kind)
        self.refs.fields.addRow("Weight", self.refs.weight)
        self.refs.add.setToolTip(f"Copy pictures into the project ({limits_text()})")

        self.loras = _Library(
            "LoRAs",
            "No LoRAs yet. Add a .safetensors LoRA trained for your keyframe model; every keyframe of a "
            "model that loads LoRAs uses it at its weight.",
        )
        self.loras.weight.setRange(*LORA_WEIGHT_RANGE)
        self.loras.weight.setToolTip("How strongly the LoRA applies (1: as trained, 0: off)")
        self.loras.fields.addRow("Weight", self.loras.weight)
        self.loras.add.setToolTip("Copy a .safetensors LoRA into the project (never other formats)")

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        lists = QHBoxLayout()
        lists.addWidget(self.refs, 3)
        lists.addWidget(self.loras, 2)
        outer = QVBoxLayout(self)
        outer.addLayout(lists, 1)
        outer.addWidget(close)
        self.resize(720, 420)

        self.refs.list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.loras.list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.refs.name.editingFinished.connect(lambda: self._edit_ref(name=self.refs.name.text()))
        self.ref_kind.currentIndexChanged.connect(lambda: self._edit_ref(kind=self.ref_kind.currentData()))
        self.refs.weight.valueChanged.connect(lambda v: self._edit_ref(weight=round(v, 2)))
        self.loras.name.editingFinished.connect(lambda: self._edit_lora(name=self.loras.name.text()))
        self.loras.weight.valueChanged.connect(lambda v: self._edit_lora(weight=round(v, 2)))
        self.refs.add.clicked.connect(self._choose_pictures)
        self.loras.add.clicked.connect(self._choose_loras)
        self.refs.remove.clicked.connect(self.remove_reference)
        self.loras.remove.clicked.connect(self.remove_lora)
        state.project_changed.connect(lambda _p: self.load())
        self.load()

    # --- showing the project ---------------------------------------------------------------------
    def load(self) -> None:
        project = self.state.project
        if project is None or self._loading:
            return
        self._loading = True
        try:
            used = {r.id: [s.number for s in project.shots() if r.id in s.references] for r in project.references}
            self.refs.fill(
                [
                    (r.id, f"{r.name}\n{r.kind} · weight {r.weight:g}", "Used by shot " + ", ".join(used[r.id]))
                    if used[r.id]
                    else (r.id, f"{r.name}\n{r.kind} · weight {r.weight:g}", "No shot uses it yet")
                    for r in project.references
                ]
            )
            self._refresh_icons()
            self.loras.fill([(lo.id, f"{lo.name} · weight {lo.weight:g}", str(lo.file)) for lo in project.loras])
        finally:
            self._loading = False
        self._show_selected()

    def _refresh_icons(self) -> None:
        project = self.state.project
        if project is None or self.refs.list.count() != len(project.references):
            return
        for row, ref in enumerate(project.references):
            self.refs.list.item(row).setIcon(QIcon(self._thumb(ref.image)))

    def _thumb(self, ref: MediaRef):
        session = self.state.session
        return self.thumbs.get(ref, session.media.path(ref)) if session is not None else self.thumbs.loading

    def _show_selected(self) -> None:
        project = self.state.project
        if project is None or self._loading:
            return
        self._loading = True
        try:
            ref = next((r for r in project.references if r.id == self.refs.selected_id()), None)
            if ref is not None:
                if not self.refs.name.hasFocus():
                    self.refs.name.setText(ref.name)
                self.ref_kind.setCurrentIndex(max(0, self.ref_kind.findData(ref.kind)))
                self.refs.weight.setValue(ref.weight)
            self.ref_kind.setEnabled(ref is not None)
            lora = next((lo for lo in project.loras if lo.id == self.loras.selected_id()), None)
            if lora is not None:
                if not self.loras.name.hasFocus():
                    self.loras.name.setText(lora.name)
                self.loras.weight.setValue(lora.weight)
        finally:
            self._loading = False

    # --- editing ---------------------------------------------------------------------------------
    def _edit_ref(self, **change: Any) -> None:
        ref_id = self.refs.selected_id()
        if self._loading or not ref_id:
            return
        project = self.state.project
        if project is None:
            return
        ref = project.reference(ref_id)
        if any(getattr(ref, k) != v for k, v in change.items()) and not self.state.edit(
            C.set_reference, ref_id, **change
        ):
            self._show_selected()  # refused (the message says why): show the reference as it is

    def _edit_lora(self, **change: Any) -> None:
        lora_id = self.loras.selected_id()
        if self._loading or not lora_id:
            return
        project = self.state.project
        if project is None:
            return
        lora = next(lo for lo in project.loras if lo.id == lora_id)
        if any(getattr(lora, k) != v for k, v in change.items()) and not self.state.edit(C.set_lora, lora_id, **change):
            self._show_selected()

    def remove_reference(self) -> None:
        if self.refs.selected_id():
            self.state.edit(C.remove_reference, self.refs.selected_id())

    def remove_lora(self) -> None:
        if self.loras.selected_id():
            self.state.edit(C.remove_lora, self.loras.selected_id())

    # --- adding files (checked and copied on a worker thread) -------------------------------------
    def _choose_pictures(self) -> None:
        dialog = QFileDialog(self, "Add reference pictures")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(PICTURE_FILTER)
        dialog.filesSelected.connect(lambda paths: self._spawn(self.add_references(paths)))
        dialog.open()

    def _choose_loras(self) -> None:
        dialog = QFileDialog(self, "Add LoRAs")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(LORA_FILTER)
        dialog.filesSelected.connect(lambda paths: self._spawn(self.add_loras(paths)))
        dialog.open()

    async def add_references(self, paths: list[str], kind: str = "character") -> int:
        """Add each picture as a reference named after its file; returns how many were added."""
        return await self._add(paths, import_reference, lambda p, ref, name: C.add_reference(p, ref, name, kind))

    async def add_loras(self, paths: list[str]) -> int:
        """Add each .safetensors file as a LoRA at weight 1; anything else is refused with the reason."""
        return await self._add(paths, import_lora, lambda p, ref, name: C.add_lora(p, ref, name))

    async def _add(self, paths: list[str], store: Callable, command: Callable[[Project, MediaRef, str], Any]) -> int:
        session = self.state.session
        added = 0
        for path in paths:
            if session is None or self.state.session is not session:
                break  # the project was closed while files were copied
            try:
                ref = await event_loop().run_in_executor(None, store, session.bundle, path)
            except PinframeError as exc:
                self.state.message.emit(str(exc))
                continue
            if self.state.session is not session:
                break  # the project was closed while this file was copied
            project = session.project
            taken = {r.name for r in project.references} | {lo.name for lo in project.loras}
            if self.state.edit(command, ref, free_name(Path(path).stem, taken)):
                added += 1
        return added


def show_references(w: MainWindow) -> ReferencesDialog | None:
    """Project ▸ References and LoRAs…: one dialog per window, kept while it lives."""
    if w.state.project is None:
        w.statusBar().showMessage("Open a project first: references and LoRAs belong to a project", 5000)
        return None
    dialog = w.references_dialog
    if dialog is None:
        dialog = w.references_dialog = ReferencesDialog(w.state, w, w.spawn)
    dialog.load()
    dialog.show()
    dialog.raise_()
    return dialog
