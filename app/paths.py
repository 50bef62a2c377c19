"""Where Pinframe keeps per-user files (the demo copy, later models and caches)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


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
