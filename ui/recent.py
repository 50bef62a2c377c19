"""The recent projects list: one place that reads and writes it (File ▸ Open Recent, the start screen)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

RECENT_KEY = "recent"
MAX_RECENT = 8


def recent_projects() -> list[str]:
    """Project paths opened before, most recent first (as stored; nothing here touches the disk)."""
    stored = QSettings().value(RECENT_KEY, [], list)  # a list, as asked; the stubs say object
    return [str(p) for p in stored if p][:MAX_RECENT] if isinstance(stored, list) else []


def remember_project(path: str | Path) -> list[str]:
    """Put ``path`` first in the list (once), keep the newest MAX_RECENT, return the new list."""
    paths = [str(path), *(p for p in recent_projects() if p != str(path))][:MAX_RECENT]
    QSettings().setValue(RECENT_KEY, paths)
    return paths
