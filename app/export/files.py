"""Writing export files safely: temp name then rename, progress with cancel, clear disk errors."""

from __future__ import annotations

import errno
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.errors import ExportCancelled, ExportError

ProgressCallback = Callable[[int, int, str], None]  # (done, total, what is being written)


class Progress:
    """Counts work units across a whole export; ``tick`` raises :class:`ExportCancelled` once cancelled.

    Writers call ``tick`` at least once a frame, so a cancel takes effect within one frame.
    """

    def __init__(self, total: int = 0, callback: ProgressCallback | None = None,
                 cancel: threading.Event | None = None) -> None:  # fmt: skip
        self.total = total
        self.done = 0
        self.stage = ""
        self._callback = callback
        self.cancel_event = cancel or threading.Event()

    def begin(self, stage: str) -> None:
        self.check()
        self.stage = stage
        if self._callback:
            self._callback(self.done, self.total, stage)

    def tick(self, n: int = 1) -> None:
        self.check()
        self.done += n
        if self._callback:
            self._callback(self.done, self.total, self.stage)

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise ExportCancelled("export cancelled; nothing half-written was kept")


def partial_path(final: Path) -> Path:
    """Temp name next to ``final``; keeps the extension so muxers pick the right format."""
    return final.with_name(f".{final.stem}.partial{final.suffix}")


@contextmanager
def atomic_file(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path to write; on success it is fsynced and renamed to ``final``, else removed."""
    final = Path(final)
    tmp = partial_path(final)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # a name too long to create is too long to remove: nothing was left behind
        if isinstance(exc, OSError):
            raise disk_error(final, exc) from None
        raise


@contextmanager
def atomic_dir(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Like :func:`atomic_file` for a folder of files (a PNG sequence)."""
    final = Path(final)
    tmp = final.with_name(f".{final.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise disk_error(final, exc) from None
        raise


def disk_error(path: Path, exc: OSError) -> ExportError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ExportError(f"the disk is full while writing '{path}'; free some space or export to another drive")
    if exc.errno == errno.ENAMETOOLONG:
        return ExportError(f"the file name '{path.name}' is too long for this drive; shorten the project or shot name")
    if exc.errno == errno.EFBIG:
        return ExportError(f"'{path}' is too large for that drive (FAT32 stops at 4 GB); use an exFAT or NTFS drive")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"can't write '{path}': permission denied; choose a folder you can write to")
    return ExportError(f"can't write '{path}': {exc.strerror or exc}")
