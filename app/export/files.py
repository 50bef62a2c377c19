"""Writing export files safely: temp name then rename, progress with cancel, clear disk errors."""

from __future__ import annotations

import errno
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.errors import ExportCancelled, ExportError

ProgressCallback = Callable[[int, int, str], None]  # (done, total, what is being written)


@dataclass(frozen=True)
class ExportStatus:
    """Where an export stands: the whole (work units) and the file being written now.

    A unit is an encoded frame, a board panel or a small file (see ``app.export.run``), so
    ``file_done`` of ``file_units`` is "frames done" for a movie or an image sequence.
    """

    done: int
    total: int
    stage: str  # what is being written, in words ("shot 1A movie")
    file: str = ""  # its name relative to the export folder ("media/001_1A.mov")
    file_number: int = 0  # from 1; 0 before the first file
    file_count: int = 0
    file_done: int = 0
    file_units: int = 0
    unit: str = "frames"  # what file_units counts, for showing them


StatusCallback = Callable[[ExportStatus], None]


class Progress:
    """Counts work units across a whole export; ``tick`` raises :class:`ExportCancelled` once cancelled.

    Writers call ``tick`` at least once a frame, so a cancel takes effect within one frame.
    ``callback`` hears (done, total, stage) and ``on_status`` an :class:`ExportStatus` on every
    ``begin`` and ``tick``; a listener that shows them decides how often to redraw.
    """

    def __init__(self, total: int = 0, callback: ProgressCallback | None = None,
                 cancel: threading.Event | None = None, *, on_status: StatusCallback | None = None,
                 file_count: int = 0) -> None:  # fmt: skip
        self.total = total
        self.done = 0
        self.stage = ""
        self.file = ""
        self.file_number = 0
        self.file_count = file_count
        self.file_done = 0
        self.file_units = 0
        self.unit = "frames"
        self._callback = callback
        self._on_status = on_status
        self.cancel_event = cancel or threading.Event()

    def begin(self, stage: str, *, file: str = "", units: int = 0, unit: str = "frames") -> None:
        """Start a stage; naming a ``file`` (of ``units`` work units) starts the next file of the export."""
        self.check()
        self.stage = stage
        if file:
            self.file, self.file_units, self.file_done, self.unit = file, units, 0, unit
            self.file_number += 1
        self._tell()

    def tick(self, n: int = 1) -> None:
        self.check()
        self.done += n
        self.file_done += n
        self._tell()

    def status(self) -> ExportStatus:
        return ExportStatus(self.done, self.total, self.stage, self.file, self.file_number,
                            max(self.file_count, self.file_number), min(self.file_done, self.file_units),
                            self.file_units, self.unit)  # fmt: skip

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise ExportCancelled("export cancelled; nothing half-written was kept")

    def _tell(self) -> None:
        if self._callback:
            self._callback(self.done, self.total, self.stage)
        if self._on_status:
            self._on_status(self.status())


class Throttle:
    """Passes on an export's status at most every ``interval`` seconds, and always when the file changes.

    The export thread ticks once a frame, hundreds of times a second for small frames; a window
    redrawing its progress for each one spends its GUI thread on updates no one can read (a
    320x180 export used ~9% more CPU in the window than on the command line, most of it on
    progress updates). A file's first and last status and the export's last always pass.
    """

    def __init__(self, forward: StatusCallback, interval: float = 1 / 15,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.forward, self.interval, self.clock = forward, interval, clock
        self._last_time = -float("inf")
        self._last: ExportStatus | None = None

    def __call__(self, status: ExportStatus) -> None:
        now = self.clock()
        last = self._last
        changed = last is None or (status.file_number, status.stage) != (last.file_number, last.stage)
        finished = status.done >= status.total > 0 or 0 < status.file_units <= status.file_done
        if changed or finished or now - self._last_time >= self.interval:
            self._last, self._last_time = status, now
            self.forward(status)


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
