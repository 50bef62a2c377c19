"""Reveal File: show a take's or a clip's file in the desktop's file manager.

One place for every context menu that offers it (keyframe takes, clips on the timeline). The file is
looked for on a worker thread (a bundle on a network drive can stall a stat); a missing file is said in
the status bar with what to do, never opened. Finder and Explorer can select the file in its folder;
on Linux desktops opening the folder is the best there is.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices

from ui.state import EditorState
from ui.takes import event_loop


def reveal_command(path: Path, platform: str = sys.platform) -> list[str] | None:
    """The file manager command that shows ``path`` selected in its folder, where the platform has
    one (Finder, Explorer); None where opening the folder is the best there is (Linux desktops)."""
    if platform == "darwin":
        return ["open", "-R", str(path)]
    if platform.startswith("win"):
        return ["explorer", f"/select,{path}"]
    return None


def reveal_file(state: EditorState, path: Path, *, what: str, missing: str) -> asyncio.Future:
    """Show ``path`` in the file manager and say where it is (``what``: "Take seed 7", "Shot 2's clip");
    when the file is gone, say ``missing`` (what it means and what to do) instead."""

    async def reveal() -> None:
        if not await event_loop().run_in_executor(None, path.is_file):
            state.message.emit(missing)
            return
        command = reveal_command(path)
        if command is not None:
            started = QProcess.startDetached(command[0], command[1:])
            opened = started[0] if isinstance(started, tuple) else bool(started)
        else:
            opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
        where = f"{what} is {path.name} in {path.parent}"
        state.message.emit(where if opened else f"{where}; no file manager could open it")

    return asyncio.ensure_future(reveal(), loop=event_loop())
