"""Content-addressed media files inside a bundle.

A file is stored under its SHA-256: written to a temporary name in its final folder, flushed
to disk, then renamed into place, so a crash leaves either no file or the whole file, never a
torn one. Stored files are never modified, so an undo that brings back an old take always
finds its image.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import uuid
from pathlib import Path

from app.errors import MediaError
from app.media_ref import MEDIA_EXTS, MediaRef, normalize_ext

_CHUNK = 1 << 20
TMP_PREFIX = ".tmp-"
# Where interrupted work leaves files under media/, relative to it: the store's own temporary
# names (in a hash folder, in .incoming/ for clips being encoded, or at the top), and the
# clip and sound files older versions and the engine service write before storing them.
LEFTOVER_PATTERNS = (
    f"{TMP_PREFIX}*",
    f"*/{TMP_PREFIX}*",
    ".render-*",
    ".sound-*",
)


class MediaStore:
    def __init__(self, bundle_path: Path) -> None:
        self.bundle_path = Path(bundle_path)
        self.root = self.bundle_path / "media"

    def path(self, ref: MediaRef) -> Path:
        # MediaRef admits only a hex hash and a known extension, so this stays inside root.
        return self.bundle_path / ref.relpath

    def exists(self, ref: MediaRef) -> bool:
        return self.path(ref).is_file()

    def missing(self, refs: set[MediaRef]) -> list[MediaRef]:
        return sorted(ref for ref in refs if not self.exists(ref))

    def put_bytes(self, data: bytes, ext: str) -> MediaRef:
        ref = MediaRef(hashlib.sha256(data).hexdigest(), _check_ext(ext))
        if not self.exists(ref):
            self._write(ref, lambda f: f.write(data))
        return ref

    def put_file(self, source: str | os.PathLike[str], ext: str | None = None) -> MediaRef:
        """Copy a file from anywhere into the bundle (an imported image, a soundtrack)."""
        src = Path(source)
        kind = _check_ext(ext if ext is not None else src.suffix)
        try:
            digest = hashlib.sha256()
            with open(src, "rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            raise MediaError(
                f"can't read {src}: {exc.strerror or exc}; check the file exists and is readable"
            ) from None
        ref = MediaRef(digest.hexdigest(), kind)
        if not self.exists(ref):

            def copy(out) -> None:
                with open(src, "rb") as f:
                    shutil.copyfileobj(f, out, _CHUNK)

            self._write(ref, copy)
            if self.hash_of(ref) != ref.sha256:
                self.path(ref).unlink(missing_ok=True)
                raise MediaError(f"{src} changed while it was being copied into the project; try again")
        return ref

    def hash_of(self, ref: MediaRef) -> str:
        digest = hashlib.sha256()
        with open(self.path(ref), "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def read_bytes(self, ref: MediaRef) -> bytes:
        try:
            return self.path(ref).read_bytes()
        except FileNotFoundError:
            raise MediaError(
                f"media file {ref.relpath} is missing from {self.bundle_path.name}; relink it from the Media menu"
            ) from None

    def remove_stale_temporaries(self) -> int:
        """Delete half-written files left by interrupted work; returns how many.

        Only names the app gives unfinished files are touched (see :data:`LEFTOVER_PATTERNS`);
        stored media are named by their hash and never start with a dot, so they are never
        matched. Call it only while holding the bundle's lock: another writer's files would
        look the same.
        """
        count = 0
        if not self.root.is_dir():
            return 0
        seen: set[Path] = set()
        for pattern in LEFTOVER_PATTERNS:
            for tmp in self.root.glob(pattern):
                if tmp in seen or not tmp.is_file() or tmp.is_symlink():
                    continue
                seen.add(tmp)
                try:
                    tmp.unlink()
                    count += 1
                except OSError:
                    pass
        return count

    def _write(self, ref: MediaRef, writer) -> None:
        final = self.path(ref)
        folder = final.parent
        tmp = folder / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as out:
                writer(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
            fsync_dir(folder)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno == errno.ENOSPC:
                raise MediaError(
                    f"the disk holding {self.bundle_path} is full; free some space and try again (nothing was lost)"
                ) from None
            raise MediaError(f"can't write media into {self.bundle_path}: {exc.strerror or exc}") from None


def _check_ext(ext: str) -> str:
    kind = normalize_ext(ext)
    if kind not in MEDIA_EXTS:
        raise MediaError(f"'.{kind}' files can't be stored; use one of {', '.join(sorted(MEDIA_EXTS))}")
    return kind


def fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk (POSIX); Windows can't open folders.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
