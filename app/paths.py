"""Where Pinframe finds its bundled resources and keeps per-user files (the demo copy, models, caches)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder (demo project, fonts, icons).

    From a checkout it sits beside the code. In a standalone build (PyInstaller) the source
    tree is gone: the spec puts ``resources/`` into the bundle's data folder, ``sys._MEIPASS``.
    """
    bundle_root = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle_root:
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def user_data_dir() -> Path:
    override = os.environ.get("PINFRAME_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Pinframe"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "Pinframe"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "pinframe"


def user_cache_dir() -> Path:
    """Engine results cache (safe to delete; rebuilt on demand)."""
    override = os.environ.get("PINFRAME_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "Pinframe"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "Pinframe" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pinframe"
