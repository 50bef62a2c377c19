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
