"""The main window's dialogs: the farm, export, prompt template, models, script import, shortcuts and
the file choosers of File ▸ New / Open / Import.

A mixin of :class:`ui.main_window.MainWindow`, kept apart so the window's own module holds the
project's life (open, save, close) and rendering. Each dialog is made once and raised when asked
again, except where a fresh one is needed (said at each).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.bundle import BUNDLE_SUFFIX
from app.errors import PinframeError
from ui.export_dialog import ExportDialog
from ui.farm_dialog import FarmDialog
from ui.models_dialog import ModelsDialog
from ui.prompt_template_dialog import PromptTemplateDialog
from ui.script_import_dialog import ScriptImportDialog
from ui.shortcuts import ShortcutsDialog

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow as WindowMixinBase

    from ui.engine_bridge import EngineBridge
    from ui.keyframe_panel import KeyframePanel
    from ui.motion_menu import MotionMenu
    from ui.state import EditorState
else:
    WindowMixinBase = object

log = logging.getLogger("ui.main_window")


class WindowDialogs(WindowMixinBase):
    # What the window provides (ui.main_window.MainWindow).
    state: EditorState
    bridge: EngineBridge
    keyframes: KeyframePanel
    motion: MotionMenu
    models_dialog: ModelsDialog | None
    export_dialog: ExportDialog | None
    script_dialog: ScriptImportDialog | None
    farm_dialog: FarmDialog | None
    prompt_dialog: PromptTemplateDialog | None
    shortcuts_dialog: ShortcutsDialog | None

    if TYPE_CHECKING:

        def spawn(self, coro: Any) -> asyncio.Task: ...
        def selected_shots(self) -> list[str]: ...
        def _error(self, title: str, text: str) -> None: ...
        async def open_project(self, path: str | Path) -> bool: ...
        async def create_project(self, path: str | Path, rate: Any = None) -> bool: ...
        async def import_audio(self, path: str | Path) -> bool: ...

    def show_farm_dialog(self) -> FarmDialog | None:
        """Render ▸ Send to Farm: a batch of shots rendered on a Ray cluster."""
        if self.state.project is None:
            return None
        if self.farm_dialog is not None and self.farm_dialog.busy:
            self.farm_dialog.raise_()
            return self.farm_dialog
        if self.farm_dialog is not None:
            self.farm_dialog.deleteLater()
        self.farm_dialog = FarmDialog(self.state, self.bridge, self.selected_shots(), self)
        self.farm_dialog.show()
        return self.farm_dialog

    async def disconnect_farm(self) -> None:
        try:
            await self.bridge.disconnect_farm()
            self.statusBar().showMessage("Disconnected from the render farm", 5000)
        except PinframeError as exc:
            self._error("Can't disconnect from the farm", str(exc))
        except Exception as exc:  # Ray raises many kinds; the window stays up
            log.exception("letting the farm go failed")
            self._error("Can't disconnect from the farm", f"{type(exc).__name__}: {exc}")

    async def _let_farm_go(self) -> None:
        try:
            await self.bridge.disconnect_farm(cancel_jobs=True)
        except Exception:  # quitting goes on regardless
            log.exception("letting the farm go while quitting failed")

    def show_export(self) -> ExportDialog | None:
        """File ▸ Export: a dialog on a snapshot of the project as it is now (edits go on meanwhile)."""
        session = self.state.session
        if session is None:
            return None
        if self.export_dialog is not None:
            if self.export_dialog.running:
                self.export_dialog.show()
                self.export_dialog.raise_()
                return self.export_dialog
            self.export_dialog.close()  # an idle one may name another project: start afresh
            self.export_dialog.deleteLater()
        self.export_dialog = ExportDialog(self.state, self)
        self.export_dialog.show()
        return self.export_dialog

    def show_prompt_template(self) -> PromptTemplateDialog | None:
        """Project ▸ Prompt Template: how shots' prompts, styles and cameras become model prompts."""
        if self.state.project is None:
            return None
        if self.prompt_dialog is None:
            self.prompt_dialog = PromptTemplateDialog(self.state, self)
        self.prompt_dialog.load()
        self.prompt_dialog.open()
        return self.prompt_dialog

    def show_models(self) -> ModelsDialog:
        if self.models_dialog is None:
            from app.cli.models import registry

            self.models_dialog = ModelsDialog(self.bridge, registry(), self)
            self.models_dialog.finished.connect(lambda _r: self.keyframes.reload_models())
            # A download, an added or a removed folder changes what the motion menus offer.
            self.models_dialog.models_changed.connect(self.motion.refresh)
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    # --- dialogs ----------------------------------------------------------------------------
    def _choose_open(self) -> None:
        dialog = QFileDialog(self, "Open Pinframe project")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(lambda p: self.spawn(self.open_project(p)))
        dialog.open()

    def _choose_new(self) -> None:
        dialog = QFileDialog(self, "New Pinframe project")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(f"Pinframe project (*{BUNDLE_SUFFIX})")
        dialog.fileSelected.connect(lambda p: self.spawn(self.create_project(p)))
        dialog.open()

    def _choose_audio(self) -> None:
        dialog = QFileDialog(self, "Import audio")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("Audio (*.wav *.flac *.mp3 *.m4a *.aac *.ogg)")
        dialog.fileSelected.connect(lambda p: self.spawn(self.import_audio(p)))
        dialog.open()

    def _choose_script(self) -> None:
        dialog = QFileDialog(self, "Import script")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters([
            "Scripts and shot lists (*.fountain *.spmd *.fdx *.txt *.csv)",
            "Fountain (*.fountain *.spmd *.txt)", "Final Draft (*.fdx)", "Shot list (*.csv)",
        ])  # fmt: skip
        dialog.fileSelected.connect(lambda p: self.spawn(self.import_script(p)))
        dialog.open()

    async def import_script(self, path: str | Path) -> ScriptImportDialog | None:
        """Open the preview for a script; the project changes only when the dialog's Import is pressed."""
        if self.state.session is None:
            return None
        dialog = ScriptImportDialog(self.state, path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(
            lambda p: self.statusBar().showMessage(f"Imported {Path(path).name}: {p.summary()}", 8000)
        )
        self.script_dialog = dialog
        dialog.finished.connect(lambda _result: setattr(self, "script_dialog", None))
        dialog.open()
        await dialog.load()
        return dialog

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help ▸ Keyboard Shortcuts: made afresh, so panels' keys added since are listed."""
        if self.shortcuts_dialog is not None:
            self.shortcuts_dialog.deleteLater()
        self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.show()
        return self.shortcuts_dialog
