"""The project bundle on disk: ``NAME.pinframe/`` with ``project.db`` and ``media/``.

Crash safety comes from SQLite: every save is one transaction in WAL mode with
``synchronous=FULL``, so killing the process at any moment leaves the last committed save.
Media files are written before any row refers to them (see :mod:`app.media_store`).

Saves are incremental: the bundle remembers the shot objects it last wrote, and because
documents are immutable, a shot that is the *same object* is unchanged and is skipped.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from app import __version__
from app.db_rows import (
    _damaged,
    delete_shot,
    load_project,
    update_shot_position,
    write_audio,
    write_project_row,
    write_scenes,
    write_shot,
)
from app.document import Project, Shot
from app.errors import BundleError, CorruptBundleError, NewerVersionError, NotABundleError
from app.media_ref import MediaRef
from app.media_store import MediaStore, fsync_dir
from app.schema import SCHEMA_VERSION, read_version, run_migrations

BUNDLE_SUFFIX = ".pinframe"
DB_NAME = "project.db"
BACKUP_DIR = "backups"
KEEP_BACKUPS = 5
# A bundle being created is built in a hidden folder beside it named with this prefix.
BUILD_PREFIX = ".creating-"
# Names an unfinished creation (by this or an older Pinframe) can leave inside the bundle.
_CREATION_NAMES = frozenset({"media", ".lock", DB_NAME, f".{DB_NAME}.new"})

try:  # POSIX advisory lock; Windows has no fcntl and gets no second-instance guard.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class MissingMedia:
    ref: MediaRef
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class OpenReport:
    """What a person should know after opening: files to relink, an upgrade that happened."""

    missing_media: tuple[MissingMedia, ...] = ()
    migrated_from: int | None = None
    notes: tuple[str, ...] = field(default=())
    # Unfinished files (half-written media, clips, sounds, backups) that interrupted work had
    # left and this open removed; finished media are never among them.
    removed_leftovers: int = 0

    def exists(self, ref: MediaRef) -> bool:
        """Whether ``ref``'s file was there when the bundle was opened (a
        :class:`app.clip_state.MediaLookup`, so ``info`` can say a clip is missing)."""
        return all(m.ref != ref for m in self.missing_media)


def _connect(db_path: Path, *, readonly: bool) -> sqlite3.Connection:
    mode = "ro" if readonly else "rw"
    # mode=rw refuses to create a file, so a missing project.db is never replaced by an empty one.
    uri = f"{db_path.resolve().as_uri()}?mode={mode}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=5)
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class Bundle:
    """An open project bundle. Thread-safe: saves may come from the autosave thread."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool, lock_fd: int | None) -> None:
        self.path = path
        self.db_path = path / DB_NAME
        self.media = MediaStore(path)
        self.readonly = readonly
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()
        self._lock_fd = lock_fd
        self._saved_shots: dict[str, tuple[str, int, Shot]] = {}
        self._backed_up = False
        self.last_save_seconds = 0.0

    # --- creating and opening ------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], project: Project) -> Bundle:
        """Make a new bundle at ``path`` holding ``project``.

        The bundle is built whole in a hidden folder beside ``path`` and renamed into place, so
        a crash or a kill part way leaves nothing at ``path`` (only the hidden folder, which the
        next ``create`` beside it removes).
        """
        bundle_path = Path(path)
        if bundle_path.suffix != BUNDLE_SUFFIX:
            raise BundleError(f"'{bundle_path}' must end in {BUNDLE_SUFFIX} (e.g. {bundle_path.name}{BUNDLE_SUFFIX})")
        if bundle_path.exists() and (not bundle_path.is_dir() or any(bundle_path.iterdir())):
            unfinished = _unfinished_reason(bundle_path)
            if unfinished:
                raise BundleError(
                    f"'{bundle_path}' is an unfinished project ({unfinished}), left by a `pinframe new` that was "
                    "stopped part way; it holds no work: delete the folder and create the project again, "
                    "or choose another name"
                )
            raise BundleError(f"'{bundle_path}' already exists; choose another name or delete it first")
        if not bundle_path.parent.is_dir():
            raise BundleError(f"folder '{bundle_path.parent}' does not exist; create it first")
        _remove_abandoned_builds(bundle_path)
        build = bundle_path.with_name(f"{BUILD_PREFIX}{bundle_path.name}.{uuid.uuid4().hex[:12]}")
        try:
            try:
                (build / "media").mkdir(parents=True)
                conn = sqlite3.connect(build / DB_NAME, isolation_level=None)
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=FULL")
                    run_migrations(conn)
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("INSERT INTO meta (key, value) VALUES ('created_by', ?)", (f"Pinframe {__version__}",))
                    write_project_row(conn, project)
                    write_scenes(conn, project.scenes)
                    write_audio(conn, project.audio)
                    for scene in project.scenes:
                        for position, shot in enumerate(scene.shots):
                            write_shot(conn, scene.id, position, shot)
                    conn.execute("COMMIT")
                    # Fold the WAL in: the renamed folder then holds project.db alone, whole.
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    conn.close()
                if bundle_path.is_dir():
                    bundle_path.rmdir()  # it was checked empty; rename can't replace a folder on Windows
                os.rename(build, bundle_path)
            except OSError as exc:
                raise BundleError(f"can't create '{bundle_path}': {exc.strerror or exc}") from None
            except sqlite3.Error as exc:
                if "full" in str(exc).lower():
                    raise BundleError(
                        f"can't create '{bundle_path}': the disk is full; free some space and create it again"
                    ) from None
                raise BundleError(f"can't create '{bundle_path}': {exc}") from None
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        fsync_dir(bundle_path.parent)
        db_path = bundle_path / DB_NAME
        bundle = cls(bundle_path, _connect(db_path, readonly=False), readonly=False, lock_fd=_acquire_lock(bundle_path))
        bundle._backed_up = True
        bundle._remember(project)
        return bundle

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> tuple[Bundle, Project, OpenReport]:
        """Open a bundle. ``readonly`` never writes (used by ``pinframe info``)."""
        bundle_path = Path(path)
        db_path = _check_is_bundle(bundle_path)
        label = str(db_path)
        lock_fd = None if readonly else _acquire_lock(bundle_path)
        conn = None
        try:
            conn = _connect(db_path, readonly=readonly)
            version = _checked_version(conn, label)
            _check_finished(conn, bundle_path)
            migrated_from = None
            if version < SCHEMA_VERSION:
                conn = _migrate(conn, bundle_path, version, label, readonly=readonly)
                migrated_from = version
            project = load_project(conn, label)
        except sqlite3.DatabaseError as exc:
            _close_quietly(conn, lock_fd)
            raise CorruptBundleError(_honest_about_backups(_damaged(label, str(exc)), bundle_path)) from None
        except CorruptBundleError as exc:
            _close_quietly(conn, lock_fd)
            raise CorruptBundleError(_honest_about_backups(str(exc), bundle_path)) from None
        except BaseException:
            _close_quietly(conn, lock_fd)
            raise
        bundle = cls(bundle_path, conn, readonly=readonly, lock_fd=lock_fd)
        bundle._remember(project)
        removed = 0
        if not readonly:  # holding the lock, so no other Pinframe is writing these right now
            removed = bundle.media.remove_stale_temporaries() + _remove_backup_temporaries(bundle_path)
        notes = (f"removed {removed} unfinished file(s) left by interrupted work",) if removed else ()
        report = OpenReport(
            missing_media=tuple(bundle.find_missing_media(project)),
            migrated_from=migrated_from,
            notes=notes,
            removed_leftovers=removed,
        )
        return bundle, project, report

    # --- saving ---------------------------------------------------------------------------
    def save(self, project: Project) -> None:
        """Write what changed since the last save, in one transaction."""
        if self.readonly:
            raise BundleError(f"'{self.path}' was opened read-only")
        with self._lock:
            if self._conn is None:
                raise BundleError(f"'{self.path}' is closed")
            started = time.perf_counter()
            if not self._backed_up:
                _backup(self._conn, self.path, reason="session")
                self._backed_up = True
            layout = {shot.id: (scene.id, i, shot) for scene in project.scenes for i, shot in enumerate(scene.shots)}
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                write_project_row(conn, project)
                write_scenes(conn, project.scenes)
                write_audio(conn, project.audio)
                for shot_id in self._saved_shots.keys() - layout.keys():
                    delete_shot(conn, shot_id)
                for shot_id, (scene_id, position, shot) in layout.items():
                    before = self._saved_shots.get(shot_id)
                    if before is None or before[2] is not shot:
                        write_shot(conn, scene_id, position, shot)
                    elif before[:2] != (scene_id, position):
                        update_shot_position(conn, scene_id, position, shot_id)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise BundleError(_save_failed(self.path, exc)) from None
            self._saved_shots = layout
            self.last_save_seconds = time.perf_counter() - started

    def _remember(self, project: Project) -> None:
        self._saved_shots = {
            shot.id: (scene.id, i, shot) for scene in project.scenes for i, shot in enumerate(scene.shots)
        }

    # --- media ----------------------------------------------------------------------------
    def find_missing_media(self, project: Project) -> list[MissingMedia]:
        users: dict[MediaRef, list[str]] = {}
        for shot in project.shots():
            for ref in shot.media_refs():
                users.setdefault(ref, []).append(f"shot {shot.number}")
        for clip in project.audio:
            users.setdefault(clip.media, []).append(f"audio {clip.name or clip.id}")
        for reference in project.references:
            users.setdefault(reference.image, []).append(f"reference {reference.name}")
        for lora in project.loras:
            users.setdefault(lora.file, []).append(f"LoRA {lora.name}")
        return [MissingMedia(ref, tuple(dict.fromkeys(users[ref]))) for ref in self.media.missing(set(users))]

    # --- closing --------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                if not self.readonly:
                    try:
                        # Fold the WAL back so the bundle is one file again when copied elsewhere.
                        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    except sqlite3.Error:
                        pass
                self._conn.close()
                self._conn = None
            _release_lock(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- helpers ------------------------------------------------------------------------------
def _check_is_bundle(path: Path) -> Path:
    if not path.exists():
        raise NotABundleError(f"'{path}' does not exist; check the path, or create a project with `pinframe new`")
    if not path.is_dir():
        raise NotABundleError(f"'{path}' is a file, not a Pinframe project; open the folder ending in {BUNDLE_SUFFIX}")
    db_path = path / DB_NAME
    unfinished = _unfinished_reason(path) if not db_path.is_file() else None
    if unfinished:
        raise NotABundleError(_unfinished_message(path, unfinished))
    if not db_path.is_file():
        raise NotABundleError(
            f"'{path}' is not a Pinframe project (it has no {DB_NAME}); open a folder ending in {BUNDLE_SUFFIX}, "
            "or create one with `pinframe new`"
        )
    return db_path


def _unfinished_message(path: Path, reason: str) -> str:
    return (
        f"'{path}' is an unfinished project ({reason}): Pinframe was stopped while creating it, "
        "before any work was saved in it. Delete the folder, then create the project again "
        "(`pinframe new` or File > New)"
    )


def _unfinished_reason(path: Path) -> str | None:
    """Why ``path`` looks like a bundle whose creation was cut short, or None if it doesn't.

    Older versions built the bundle in place, so a kill left a folder with an empty media/,
    a lock file, perhaps a half-built database, and no project in it. Anything else (a stored
    media file, a backups/ folder, a foreign file) means it may hold work: not unfinished.
    """
    try:
        names = {child.name for child in path.iterdir()}
        media = path / "media"
        if "media" in names and (not media.is_dir() or any(media.iterdir())):
            return None
    except OSError:
        return None
    extra = {n for n in names if n.startswith(f".{DB_NAME}.new") or n.startswith(f"{DB_NAME}-")}
    if not names or (names - extra) - _CREATION_NAMES:
        return None
    if DB_NAME not in names:
        return f"it has no {DB_NAME}"
    try:
        conn = _connect(path / DB_NAME, readonly=True)
    except sqlite3.Error:
        return None
    try:
        if _holds_no_project(conn):
            return "its project.db holds no project"
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return None


def _holds_no_project(conn: sqlite3.Connection) -> bool:
    has = lambda table: conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]  # noqa: E731
    return not has("project") and not has("shots")


def _check_finished(conn: sqlite3.Connection, bundle_path: Path) -> None:
    """Refuse, with what to do, a bundle whose creation was cut short before its first save."""
    try:
        empty = _holds_no_project(conn)
    except sqlite3.Error:
        return  # load_project names what is wrong
    if empty:
        reason = _unfinished_reason(bundle_path)
        if reason:
            raise NotABundleError(_unfinished_message(bundle_path, reason))


def _remove_abandoned_builds(bundle_path: Path) -> None:
    """Remove hidden build folders a killed ``create`` of this same bundle left beside it."""
    prefix = f"{BUILD_PREFIX}{bundle_path.name}."  # not a glob: the name may hold [ or *
    for old in bundle_path.parent.iterdir():
        if old.name.startswith(prefix) and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)


def _remove_backup_temporaries(bundle_path: Path) -> int:
    """Delete backups that were being written when work was interrupted; returns how many."""
    folder = bundle_path / BACKUP_DIR
    count = 0
    if not folder.is_dir():
        return 0
    for tmp in folder.glob(".project-*.db.tmp*"):
        if tmp.is_file() and not tmp.is_symlink():
            try:
                tmp.unlink()
                count += 1
            except OSError:
                pass
    return count


_BACKUP_ADVICE = (
    "copy the newest file from the bundle's backups/ folder over project.db, "
    "or restore the bundle from your own backup",
    "restore it from the bundle's backups/ folder",
)


def _honest_about_backups(message: str, bundle_path: Path) -> str:
    """Point at backups/ only when it holds a backup; otherwise at the person's own copies."""
    if any((bundle_path / BACKUP_DIR).glob("project-*.db")):
        return message
    for advice in _BACKUP_ADVICE:
        message = message.replace(
            advice,
            "this project has no backups/ folder yet (Pinframe makes one the first time it saves an opened "
            "project); restore the bundle from your own backup, or report it with the file attached",
        )
    return message


def _checked_version(conn: sqlite3.Connection, label: str) -> int:
    result = conn.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise CorruptBundleError(_damaged(label, f"integrity check: {result}"))
    version = read_version(conn)
    if version > SCHEMA_VERSION:
        raise NewerVersionError(
            f"{label} was written by a newer Pinframe (project format {version}; this one reads up to "
            f"{SCHEMA_VERSION}); update Pinframe to open it. The project was not changed."
        )
    if version == 0:
        raise CorruptBundleError(_damaged(label, "it holds no Pinframe tables"))
    return version


def _migrate(conn: sqlite3.Connection, bundle_path: Path, version: int, label: str, *, readonly: bool):
    """Upgrade an older project.db; read-only opens upgrade a copy in memory instead."""
    if readonly:
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.backup(memory)
        conn.close()
        conn = memory
    else:
        _backup(conn, bundle_path, reason=f"before-upgrade-v{version}")
    try:
        run_migrations(conn)
    except sqlite3.Error as exc:
        # The migration ran in one transaction, so the file is still at its old version.
        raise BundleError(
            f"upgrading {label} from project format {version} to {SCHEMA_VERSION} failed ({exc}); "
            "the project was not changed: please report this with the file attached"
        ) from None
    return conn


def _backup(conn: sqlite3.Connection, bundle_path: Path, *, reason: str) -> None:
    """Copy project.db into backups/ (newest KEEP_BACKUPS kept) before this session writes."""
    folder = bundle_path / BACKUP_DIR
    try:
        folder.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = folder / f"project-{stamp}-{reason}.db"
        tmp = folder / f".{target.name}.tmp"
        dest = sqlite3.connect(tmp)
        try:
            conn.backup(dest)
        finally:
            dest.close()
        os.replace(tmp, target)
        for old in sorted(folder.glob("project-*.db"))[:-KEEP_BACKUPS]:
            old.unlink(missing_ok=True)
    except (OSError, sqlite3.Error):
        # A backup is a courtesy; failing to make one must not stop the user from working.
        pass


def _acquire_lock(bundle_path: Path) -> int | None:
    if fcntl is None:
        return None
    lock_path = bundle_path / ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BundleError(f"can't open '{bundle_path}' for writing: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise BundleError(
            f"'{bundle_path}' is already open in another Pinframe window or process; close it there first"
        ) from None
    return fd


def _release_lock(fd: int | None) -> None:
    if fd is not None:
        try:
            os.close(fd)  # closing the descriptor drops the flock
        except OSError:
            pass


def _close_quietly(conn: sqlite3.Connection | None, lock_fd: int | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except sqlite3.Error:
            pass
    _release_lock(lock_fd)


def _save_failed(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "full" in text.lower():
        return f"the disk holding '{path}' is full; free some space: Pinframe keeps your edits and saves again"
    return f"saving '{path}' failed ({text}); your edits are kept in memory and saving will be retried"
