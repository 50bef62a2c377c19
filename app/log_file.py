"""Pinframe's log: every job, error and traceback, in a rotating file in the user data folder.

One file a user can send with a bug report: ``<data dir>/logs/pinframe.log`` (``PINFRAME_DATA_DIR``
moves it with the rest of the user's data), at most 2 MB and 5 older copies. The window's Help ▸
Show Log opens it and its error dialogs say where it is; the command line's "internal error"
points at it. A log that can't be written (a read-only home) never stops the app: it is left out.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from app.paths import user_data_dir

LOG_NAME = "pinframe.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 5
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def log_path() -> Path:
    return user_data_dir() / "logs" / LOG_NAME


def _ours(handler: logging.Handler) -> bool:
    return getattr(handler, "pinframe_log", False)


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send Pinframe's log records (and uncaught tracebacks) to the rotating file; the file, or None
    when it can't be written. Calling it again moves the log to the current data folder."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if _ours(h)]:
        root.removeHandler(handler)
        handler.close()
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        print(f"pinframe: no log file ({exc}); carrying on without one", file=sys.stderr)
        return None
    handler.pinframe_log = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return path
