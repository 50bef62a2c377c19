"""How pixels travel between the engine and the farm's workers.

Two ways, chosen per executor:

- **Shared storage** (``shared_root``, a folder every worker mounts at the same path): workers
  write a job's output files under ``shared_root/outputs/<job>/`` and send back only their
  metadata (relative path, size, sha256); the engine copies them into its cache, checks each
  against its size and hash, and removes the job's folder. Pin images go the other way under
  ``shared_root/pins/<sha256>.<ext>`` (content-addressed, so a keyframe pinned in ten shots is
  written once).
- **Streaming** (no shared folder): a job's files are packed into one byte stream, cut into
  :data:`CHUNK_BYTES` pieces, each its own Ray object; the engine fetches them one at a time
  (progress per chunk) and writes the files as their bytes arrive. Nothing is ever one object
  as large as the whole clip, which Ray Client (``ray://``) handles badly.

:func:`measure` reports MB/s both ways for the benchmark.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypedDict

from engine.errors import EngineError

CHUNK_BYTES = 8 << 20

# (relative path, size, sha256) for each file of a job's output folder
Manifest = list[tuple[str, int, str]]


def folder_manifest(folder: Path) -> Manifest:
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        out.append((path.relative_to(folder).as_posix(), path.stat().st_size, _sha256_file(path)))
    return out


def chunks_of(folder: Path, manifest: Manifest, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The files of ``manifest``, one after another, as pieces of at most ``size`` bytes."""
    buffer = bytearray()
    for relative, _, _ in manifest:
        with open(folder / relative, "rb") as f:
            while block := f.read(size):
                buffer += block
                while len(buffer) >= size:
                    yield bytes(buffer[:size])
                    del buffer[:size]
    if buffer:
        yield bytes(buffer)


def unpack(manifest: Manifest, chunks: Iterable[bytes], into: Path) -> int:
    """Write the files of a packed stream under ``into``, checking sizes and hashes; returns bytes."""
    stream = iter(chunks)
    pending = b""
    total = 0
    for relative, size, sha in manifest:
        target = _inside(into, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        left = size
        with open(target, "wb") as f:
            while left:
                if not pending:
                    pending = next(stream, b"")
                    if not pending:
                        raise EngineError(f"a farm worker's output ended early, in {relative}")
                piece, pending = pending[:left], pending[left:]
                f.write(piece)
                digest.update(piece)
                left -= len(piece)
        _check(relative, digest.hexdigest(), sha)
        total += size
    return total


def copy_shared(manifest: Manifest, source: Path, into: Path) -> int:
    """Copy a job's files from the shared folder into ``into``, checking sizes and hashes."""
    total = 0
    for relative, size, sha in manifest:
        src = source / relative
        if not src.is_file():
            raise EngineError(
                f"a farm worker wrote {relative} under {source}, but this machine doesn't see it there: "
                "is the shared folder mounted at the same path here as on the workers?"
            )
        target = _inside(into, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        if target.stat().st_size != size:
            raise EngineError(f"{src} is {target.stat().st_size} bytes here but {size} on the worker")
        _check(relative, _sha256_file(target), sha)
        total += size
    return total


def publish(folder: Path, shared_root: str, job_id: str) -> Path:
    """Move a job's output folder onto the shared storage (worker side); returns where it is."""
    root = Path(shared_root)
    if not root.is_dir():
        raise EngineError(
            f"the shared folder {shared_root} is not on this farm node: mount it at the same path on every "
            "node, or render without a shared folder"
        )
    target = root / "outputs" / f"{job_id}-{uuid.uuid4().hex[:8]}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder, target)
    return target


def put_pin_shared(data: bytes, sha: str, suffix: str, shared_root: str) -> str:
    """Write a pin image under ``shared_root/pins`` once (engine side); returns its path."""
    folder = Path(shared_root) / "pins"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sha}{suffix}"
    if not path.is_file() or path.stat().st_size != len(data):
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    return str(path)


def writer(ray, value: dict, transferred: dict[str, int], say: Callable[[str], None]) -> Callable[[Path], None]:
    """How the engine gets a finished job's files (``value``: what the worker returned) into a folder.

    From the shared folder (then removed there), or chunk by chunk from the worker's Ray objects,
    never the whole clip in memory at once; a transfer of several chunks ``say``s how far it got
    about every quarter. ``transferred`` counts the bytes each way came.
    """
    manifest = [tuple(entry) for entry in value["manifest"]]
    if value.get("shared"):
        folder = Path(value["shared"])

        def copy(into: Path) -> None:
            try:
                transferred["shared_bytes"] += copy_shared(manifest, folder, into)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        return copy
    chunks = value["chunks"]
    total = sum(size for _, size, _ in manifest)

    def pieces():
        said = -1
        for index, ref in enumerate(chunks):
            if len(chunks) > 1 and index * 4 // len(chunks) > said:
                said = index * 4 // len(chunks)
                say(progress_text(index * CHUNK_BYTES, total))
            yield ray.get(ref)

    def fetch(into: Path) -> None:
        transferred["streamed_bytes"] += unpack(manifest, pieces(), into)

    return fetch


def split(data: bytes, size: int = CHUNK_BYTES) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def _inside(root: Path, relative: str) -> Path:
    target = root / relative
    if not target.resolve().is_relative_to(root.resolve()):
        raise EngineError(f"a farm worker returned a file outside its output folder: {relative}")
    return target


def _check(relative: str, got: str, expected: str) -> None:
    if got != expected:
        raise EngineError(f"{relative} arrived from the farm damaged (its sha256 differs); render it again")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# --- the benchmark's figure ------------------------------------------------------------------------
def _make_chunks(megabytes: int, shared_root: str | None) -> Any:
    import ray

    data = os.urandom(1 << 20) * megabytes
    if shared_root:
        path = Path(shared_root) / "outputs" / f"measure-{uuid.uuid4().hex[:8]}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return str(path)
    return [ray.put(c) for c in split(data)]


def _take(shared_path: str | None, *chunks: bytes) -> int:
    if shared_path:
        return len(Path(shared_path).read_bytes())
    return sum(len(c) for c in chunks)


class TransferSpeed(TypedDict):
    to_workers: float  # MB/s
    from_workers: float  # MB/s
    megabytes: float
    via: str  # "shared folder" or "Ray objects"


def measure(executor, megabytes: int = 64, *, on_node: str | None = None) -> TransferSpeed:
    """MB/s from this machine to a worker and back, the way ``executor`` moves job files.

    Runs two small tasks on a worker node (``on_node``: a Ray node id; default any other node than
    this one when there is one). With a shared folder the bytes go through it (written on one side,
    read on the other); without one, as :data:`CHUNK_BYTES` Ray objects, as job files do.
    Returns ``{"to_workers": MB/s, "from_workers": MB/s, "megabytes": n, "via": ...}``.
    """
    import ray

    shared = str(executor.shared_root) if executor.shared_root else None
    options: dict[str, Any] = {"num_cpus": 0}
    if on_node:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(on_node, soft=False)
    take = ray.remote(_take).options(**options)
    make = ray.remote(_make_chunks).options(**options)
    ray.get(take.remote(None, b""))  # a worker process ready on that node: its start-up is not transfer
    data = os.urandom(1 << 20) * megabytes

    started = time.perf_counter()
    if shared:
        path = Path(shared) / "pins" / f"measure-{uuid.uuid4().hex[:8]}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        got = ray.get(take.remote(str(path)))
        path.unlink()
    else:
        got = ray.get(take.remote(None, *[ray.put(c) for c in split(data)]))
    up = time.perf_counter() - started
    if got != len(data):
        raise EngineError(f"the transfer test sent {len(data)} bytes but the worker got {got}")

    started = time.perf_counter()
    made = ray.get(make.remote(megabytes, shared))
    if shared:
        back = len(Path(made).read_bytes())
        Path(made).unlink()
    else:
        back = sum(len(ray.get(ref)) for ref in made)
    down = time.perf_counter() - started
    if back != len(data):
        raise EngineError(f"the transfer test expected {len(data)} bytes back but got {back}")
    return {
        "to_workers": megabytes / up,
        "from_workers": megabytes / down,
        "megabytes": float(megabytes),
        "via": "shared folder" if shared else "Ray objects",
    }


def progress_text(done: int, total: int) -> str:
    return f"receiving {done / 1e6:.0f} of {total / 1e6:.0f} MB"
