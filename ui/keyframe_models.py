"""The keyframe panel's model picker and seeds: installed models that make stills, choosing one, seeds to use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QFileDialog, QLineEdit, QSpinBox

from app.cli.models import registry
from app.engine_service import random_seeds, resolve_model
from app.errors import PinframeError
from engine.backend_registry import get_backend
from engine.errors import EngineError
from engine.jobs import SEED_MAX, ModelSpec
from engine.models.registry import is_companion
from ui.state import EditorState
from ui.takes import event_loop

SKETCH = ModelSpec("sketch")


def _makes_stills(model) -> bool:
    """A keyframe backend's main model (not a second stage), as the backend table says."""
    return bool(model.backend) and get_backend(model.backend).kind == "keyframe" and not is_companion(model)


def available_models() -> list[tuple[str, ModelSpec]]:
    """Installed registry models that make stills, as (label, spec); reads the disk."""
    try:
        reg = registry()
        ids = [(m.id, m.id) for m in reg.known() if _makes_stills(m) and reg.installed(m).complete]
        ids += [(m.id, f"{m.id} ({m.path.name})") for m in reg.local() if _makes_stills(m)]
    except (EngineError, PinframeError, OSError):
        return []  # a damaged model list must not break the panel; `pinframe models` explains it
    found = []
    for model_id, label in ids:
        try:
            found.append((label, resolve_model(model_id, kind="keyframe")))
        except (EngineError, PinframeError):
            continue  # e.g. a draft pipeline that can't make stills
    return found


class ModelsAndSeeds:
    """Model picking and seeds for :class:`~ui.keyframe_panel.KeyframePanel` (a mixin: the panel builds the widgets)."""

    state: EditorState
    model_combo: QComboBox
    seed_edit: QLineEdit
    seed_lock: QCheckBox
    variations: QSpinBox
    _spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task]
    _file_dialog: Callable[[str, QFileDialog.FileMode], QFileDialog]

    def reload_models(self) -> asyncio.Task:
        """Add newly installed or registered models (after a download, say) to the picker."""
        return self._spawn(self._load_models())

    async def _load_models(self) -> None:
        models = await event_loop().run_in_executor(None, available_models)
        if shiboken6.isValid(self):
            for label, spec in models:
                self._add_model(spec, label)

    def _add_model(self, spec: ModelSpec, label: str) -> int:
        for index in range(self.model_combo.count()):
            if self.model_combo.itemData(index) == spec:
                return index
        self.model_combo.addItem(label, spec)
        self.model_combo.setItemData(self.model_combo.count() - 1, spec.path or label, Qt.ItemDataRole.ToolTipRole)
        return self.model_combo.count() - 1

    def set_model(self, spec: ModelSpec, label: str) -> None:
        """Choose ``spec`` (adding it to the picker for this session if it is new)."""
        self.model_combo.setCurrentIndex(self._add_model(spec, label))

    def model_spec(self) -> ModelSpec:
        return self.model_combo.currentData() or SKETCH

    def _choose_model_folder(self) -> None:
        dialog = self._file_dialog("Add a diffusers model folder", QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(self.add_model_folder)
        dialog.open()  # not exec(): the engine keeps reporting while the director browses

    def add_model_folder(self, path: str) -> asyncio.Task:
        return self._spawn(self._add_model_folder(path))

    async def _add_model_folder(self, path: str) -> None:
        try:
            spec = await event_loop().run_in_executor(None, partial(resolve_model, path, kind="keyframe"))
        except (PinframeError, EngineError) as exc:
            self.state.message.emit(str(exc))
            return
        if shiboken6.isValid(self):
            self.set_model(spec, f"{Path(path).name} (folder)")

    def randomize_seed(self) -> int:
        seed = random_seeds(1)[0]
        self.seed_edit.setText(str(seed))
        return seed

    def seeds_for_generate(self) -> tuple[int, ...]:
        """The locked seed, or a fresh random one, then the next ones for each variation."""
        text = self.seed_edit.text()
        valid = self.seed_edit.validator().validate(text, 0) == QValidator.State.Acceptable
        seed = int(text) if self.seed_lock.isChecked() and valid else self.randomize_seed()
        return tuple((seed + i) % (SEED_MAX + 1) for i in range(self.variations.value()))
