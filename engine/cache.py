"""A content-addressed cache of job results.

The key hashes everything that decides the output: the backend, the model folder's identity
(path, revision, and the names, sizes and modification times of its files), every parameter,
and the SHA-256 of every input image. A repeated job returns its stored files at once without
loading a model. Entries are built in a staging folder and renamed into place, so a crash
never leaves a half-written entry that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

from engine.jobs import ClipJob, ClipResult, Job, KeyframeResult, Result, job_to_dict, result_from_dict, result_to_dict

# Bump when a backend's output for the same inputs changes (a fixed bug, a new resampler).
CACHE_VERSION = 1
_FINGERPRINT_CACHE: dict[tuple[str, float], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def folder_fingerprint(path: str) -> str:
    """Cheap identity of a model folder: file names, sizes and mtimes, not contents."""
    if not path:
        return ""
    root = Path(path)
    try:
        stamp = root.stat().st_mtime
    except OSError:
        return "missing"
    cached = _FINGERPRINT_CACHE.get((path, stamp))
    if cached:
        return cached
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        st = file.stat()
        digest.update(f"{file.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    value = digest.hexdigest()
    _FINGERPRINT_CACHE[(path, stamp)] = value
    return value


def job_key(job: Job) -> str:
    """The cache key of a keyframe or clip job."""
    data = job_to_dict(job)
    data.pop("priority", None)
    model = data["model"]
    if model["backend"] != "sketch":
        data.pop("label", None)  # only sketch cards print the label
    model["fingerprint"] = folder_fingerprint(model["path"])
    model["upscale_fingerprint"] = folder_fingerprint(model["upscale_path"])
    if isinstance(job, ClipJob):
        data["pins"] = [[p.frame, file_sha256(p.path)] for p in job.pins]
    data["cache_version"] = CACHE_VERSION
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class ResultCache:
    def __init__(self, root: str | os.PathLike[str], max_bytes: int = 20 * 1024**3) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.hits = 0
        self.root.mkdir(parents=True, exist_ok=True)

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> tuple[Result, ...] | None:
        index = self._entry(key) / "result.json"
        try:
            data = json.loads(index.read_text())
        except (OSError, ValueError):
            return None
        results = tuple(_absolute(result_from_dict(r), index.parent) for r in data["results"])
        if not all(_files_exist(r) for r in results):
            return None
        os.utime(index)  # least-recently-used eviction reads this
        self.hits += 1
        return results

    def staging(self) -> Path:
        """A fresh folder for a running job's output files."""
        folder = self.root / ".staging" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return folder

    def commit(self, key: str, staging: Path, results: tuple[Result, ...]) -> tuple[Result, ...]:
        """Move a finished job's files into the cache; returns results with final paths."""
        final = self._entry(key)
        relative = [_relative(r, staging) for r in results]
        (staging / "result.json").write_text(json.dumps({"results": [result_to_dict(r) for r in relative]}))
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
        self._evict()
        return tuple(_absolute(r, final) for r in relative)

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def clear_staging(self) -> None:
        shutil.rmtree(self.root / ".staging", ignore_errors=True)

    def _evict(self) -> None:
        entries = []
        total = 0
        for index in self.root.glob("??/*/result.json"):
            folder = index.parent
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            entries.append((index.stat().st_mtime, size, folder))
            total += size
        for _, size, folder in sorted(entries):
            if total <= self.max_bytes:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= size


def _relative(result: Result, base: Path) -> Result:
    if isinstance(result, KeyframeResult):
        return replace(result, path=os.path.relpath(result.path, base))
    return replace(result, frames_dir=os.path.relpath(result.frames_dir, base))


def _absolute(result: Result, base: Path) -> Result:
    if isinstance(result, KeyframeResult):
        return replace(result, path=str(base / result.path))
    return replace(result, frames_dir=str(base / result.frames_dir))


def _files_exist(result: Result) -> bool:
    if isinstance(result, KeyframeResult):
        return os.path.isfile(result.path)
    assert isinstance(result, ClipResult)
    return os.path.isfile(result.frame_path(result.frame_count - 1))
