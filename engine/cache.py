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
import time
import uuid
from pathlib import Path

from engine.backend_registry import get_backend
from engine.jobs import (
    ClipJob,
    ClipResult,
    Job,
    KeyframeJob,
    KeyframeResult,
    Result,
    job_to_dict,
    result_from_dict,
    result_relative_to,
    result_to_dict,
    result_under,
)

# Bump when a backend's output for the same inputs changes (a fixed bug, a new resampler).
CACHE_VERSION = 2
# Entries younger than this are never evicted: a client may not have imported them yet.
EVICTION_GRACE_SECONDS = 15 * 60


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def folder_fingerprint(path: str) -> str:
    """Cheap identity of a model folder: every file's name, size and mtime, not contents.

    Not memoized: replacing a weights file deep inside must change the key at once.
    """
    if not path:
        return ""
    root = Path(path)
    if not root.is_dir():
        return "missing"
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        st = file.stat()
        digest.update(f"{file.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def lora_fingerprint(path: str) -> str:
    """Cheap identity of a LoRA file, like :func:`folder_fingerprint`: its name, size and mtime.

    The name and not the folder: the same file in another Hub cache is the same LoRA. A Hub snapshot
    file is a link to its blob; ``stat`` follows it, so a re-downloaded LoRA changes the key.
    """
    try:
        st = os.stat(path)
    except OSError:
        return f"{Path(path).name}|missing"
    return f"{Path(path).name}|{st.st_size}|{st.st_mtime_ns}"


# Content digests of big files by (real path, size, mtime): a keyframe LoRA is hashed once, not per job key.
_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_content_sha256(path: str) -> str:
    """:func:`file_sha256`, remembered while the file's size and modification time stay the same."""
    st = os.stat(path)
    identity = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    if identity not in _DIGESTS:
        _DIGESTS[identity] = file_sha256(path)
    return _DIGESTS[identity]


def job_key(job: Job, runtime: str = "") -> str:
    """The cache key of a keyframe or clip job.

    ``runtime`` names what else changes the pixels: the device and precision the job runs at.
    """
    if not isinstance(job, KeyframeJob | ClipJob):
        raise TypeError(f"only keyframe and clip jobs have cache keys, not {type(job).__name__}")
    data = job_to_dict(job)
    data.pop("priority", None)
    model = data.pop("model")
    # Fields a backend ignores stay out of its key: editing a shot's prompt doesn't re-render
    # an optical-flow in-between (engine.backend_registry says which).
    for name in get_backend(model["backend"]).ignores:
        data.pop(name, None)
    if not data.get("camera_move"):
        data.pop("camera_move", None)  # no move: the key clips had before moves existed
    if model["backend"] != "sketch":
        data.pop("label", None)  # only sketch cards print it
    data["model"] = {
        "backend": model["backend"],
        "revision": model["revision"],
        "fingerprint": folder_fingerprint(model["path"]),
        "upscale_fingerprint": folder_fingerprint(model["upscale_path"]),
    }
    if model.get("stage3_path"):  # keys without a third stage stay as they were
        data["model"]["stage3_fingerprint"] = folder_fingerprint(model["stage3_path"])
    if isinstance(job, ClipJob):
        data["pins"] = [[p.frame, file_sha256(p.path)] for p in job.pins]
        # By content, like pins: the same picture from another folder is the same reference.
        data["reference_images"] = [file_sha256(p) for p in job.reference_images]
        if job.loras:
            data["loras"] = [[lora_fingerprint(path), weight] for path, weight in job.loras]
        else:
            data.pop("loras", None)  # keys of jobs without LoRAs stay what they were before LoRAs existed
    if isinstance(job, KeyframeJob):
        # Start picture and mask by content, like pins: a sketch redrawn under the same file name is a new
        # job. Jobs without them keep the keys they had before sketch -> keyframe existed.
        for name in ("init_image", "mask_image"):
            path = data.pop(name, "")
            if path:
                data[name] = file_sha256(path)
        if not data.get("strength"):
            data.pop("strength", None)
        # References and LoRAs by content too (the project's copies live in its media folder under names
        # of their own); jobs without them keep the keys they had before references existed.
        if job.references:
            data["references"] = [[file_sha256(path), scale] for path, scale in job.references]
        else:
            data.pop("references", None)
        if job.loras:
            data["loras"] = sorted([file_content_sha256(path), weight] for path, weight in job.loras)
        else:
            data.pop("loras", None)
    data["runtime"] = runtime if job.model.needs_model else ""
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
        results = tuple(result_under(result_from_dict(r), index.parent) for r in data["results"])
        if not all(_files_exist(r) for r in results):
            return None
        os.utime(index)  # least-recently-used eviction reads this
        self.hits += 1
        return results

    def staging(self) -> Path:
        """A fresh folder for a running job's output files, owned by this process."""
        folder = self.root / ".staging" / f"{os.getpid()}-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        return folder

    def commit(self, key: str, staging: Path, results: tuple[Result, ...]) -> tuple[Result, ...]:
        """Move a finished job's files into the cache; returns results with final paths."""
        final = self._entry(key)
        relative = [result_relative_to(r, staging) for r in results]
        (staging / "result.json").write_text(json.dumps({"results": [result_to_dict(r) for r in relative]}))
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(staging, final)
        except OSError:
            # Another engine (the CLI beside the app) stored the same result first: use it.
            self.discard(staging)
            existing = self.get(key)
            if existing is None:
                raise
            return existing
        self._evict(keep=final)
        return tuple(result_under(r, final) for r in relative)

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def clear_stale_staging(self) -> None:
        """Remove staging folders left by processes that are gone (not another engine's live ones)."""
        folder = self.root / ".staging"
        if not folder.is_dir():
            return
        for entry in folder.iterdir():
            pid = entry.name.split("-", 1)[0]
            if not pid.isdigit() or not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)

    def _evict(self, keep: Path) -> None:
        entries = []
        total = 0
        for index in self.root.glob("??/*/result.json"):
            folder = index.parent
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            entries.append((index.stat().st_mtime, size, folder))
            total += size
        young = time.time() - EVICTION_GRACE_SECONDS
        for mtime, size, folder in sorted(entries):
            if total <= self.max_bytes:
                break
            if folder == keep or mtime > young:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            total -= size


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _files_exist(result: Result) -> bool:
    if isinstance(result, KeyframeResult):
        return os.path.isfile(result.path)
    assert isinstance(result, ClipResult)
    return os.path.isfile(result.frame_path(result.frame_count - 1)) and (
        not result.audio_path or os.path.isfile(result.audio_path)
    )
