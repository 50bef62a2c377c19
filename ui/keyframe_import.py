"""Importing image files as keyframe takes of the current shot: from a file dialog or dropped on the panel.

A mixin of :class:`~ui.keyframe_panel.KeyframePanel`. Files are stored in the bundle off the GUI
thread; each one is its own undo step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from app import commands
from app.document import KeyframeTake, new_id
from app.errors import PinframeError
from ui.state import EditorState
from ui.takes import event_loop, store_image

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp)"


class ImportImages:
    """The Import images… button and drops of image files (the panel accepts drops)."""

    state: EditorState
    _spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task]
    _file_dialog: Callable[[str, QFileDialog.FileMode], QFileDialog]

    def _choose_images(self) -> None:
        dialog = self._file_dialog("Import keyframe images", QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(IMAGE_FILTER)
        dialog.filesSelected.connect(self.import_files)
        dialog.open()

    def import_files(self, paths: list[str]) -> list[asyncio.Task]:
        """Add image files as keyframe takes of the current shot (stored off the GUI thread)."""
        shot_id = self.state.current_shot
        if shot_id is None or self.state.session is None:
            self.state.message.emit("Select a shot first; imported images become its keyframes.")
            return []
        return [self._spawn(self._import_one(shot_id, Path(p))) for p in paths]

    async def _import_one(self, shot_id: str, path: Path) -> None:
        session = self.state.session
        if session is None:
            return  # the project was closed before this import started
        try:
            ref, width, height = await event_loop().run_in_executor(None, store_image, session.media, path)
        except PinframeError as exc:
            self.state.message.emit(f"{path.name} can't be imported: {exc}")
            return
        if self.state.session is not session:
            return  # the project was closed meanwhile; the stored file is harmless
        take = KeyframeTake(new_id(), ref, width, height, _now(), None, imported_from=path.name)
        self.state.edit(commands.add_keyframe_take, shot_id, take)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _local_files(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_files(paths)


def _local_files(mime: QMimeData) -> list[str]:
    # Every local file is taken, so a dropped PDF is refused with a message rather than silently.
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
