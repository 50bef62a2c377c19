"""What each farm node runs, and whether it matches this machine.

On connect the executor asks every node (one tiny task pinned to it) for its Pinframe, diffusers
and torch versions; any difference is refused with a message naming the node. The first time a
model is used, the nodes that will run it report a hash of its folder, compared with this
machine's copy (or, when this machine has none, with each other's).

The folder hash is a *manifest* hash: for every file, its relative path, its size and the
sha256 of its first and last 64 KiB (the whole file when smaller). Not modification times:
they differ between two correct copies (a download, an rsync, a copy on a share). Not the
safetensors headers alone: a fine-tune of the same architecture has the same header. Reading
128 KiB per file stays cheap for a 20 GB model while catching another checkpoint, a truncated
download or a missing file.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from engine.errors import EngineError, ModelFolderError

EDGE_BYTES = 64 << 10
# Set on a node (in the environment `ray start` runs in) to give it a readable name in messages.
NODE_NAME_ENV = "PINFRAME_NODE_NAME"
# Set on a node to make it report another Pinframe version: how the tests fake an out-of-date node.
REPORTED_VERSION_ENV = "PINFRAME_REPORTED_VERSION"


def node_name() -> str:
    return os.environ.get(NODE_NAME_ENV) or socket.gethostname()


def pinframe_version() -> str:
    # The one place the engine reads the app's version: it belongs to the whole installation.
    override = os.environ.get(REPORTED_VERSION_ENV)
    if override:
        return override
    from app import __version__

    return __version__


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """This process's Pinframe, diffusers and torch versions (without importing torch)."""
    return {"Pinframe": pinframe_version(), "diffusers": _package("diffusers"), "torch": _package("torch")}


def probe_node() -> dict:
    """Run on a node: who it is and what it runs."""
    import ray

    return {"node_id": ray.get_runtime_context().get_node_id(), "name": node_name(), "versions": versions()}


def mismatch(name: str, theirs: dict[str, str], mine: dict[str, str]) -> str:
    """The refusal for a node whose versions differ from this machine's; '' when they match."""
    for package, version in mine.items():
        if theirs.get(package) != version:
            return (
                f"{name} runs {package} {theirs.get(package, 'unknown')}, this machine {version}: "
                "install the same version there"
            )
    return ""


def folder_hash(folder: str | Path) -> str:
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(root).as_posix()}\0{size}\0".encode())
        with open(path, "rb") as f:
            if size <= 2 * EDGE_BYTES:
                digest.update(f.read())
            else:
                digest.update(f.read(EDGE_BYTES))
                f.seek(size - EDGE_BYTES)
                digest.update(f.read(EDGE_BYTES))
    return digest.hexdigest()


def spec_folders(spec) -> dict[str, str]:
    return {role: path for role, path in (("model", spec.path), ("upscaler", spec.upscale_path),
                                          ("stage 3", spec.stage3_path)) if path}  # fmt: skip


def local_model_hashes(spec) -> dict[str, str] | None:
    """Hashes of the model's folders on this machine; None when this machine hasn't got them all."""
    folders = spec_folders(spec)
    if not folders or not all(Path(p).is_dir() for p in folders.values()):
        return None
    return {role: folder_hash(p) for role, p in folders.items()}


def node_model_hashes(spec_dict: dict) -> dict:
    """Run on a node: its copy of the model's folders, hashed; or why it hasn't got them."""
    from engine.farm.worker import locate_model
    from engine.jobs import ModelSpec

    try:
        spec = locate_model(ModelSpec(**spec_dict))
    except ModelFolderError as exc:
        return {"error": str(exc)}
    return {"hashes": {role: folder_hash(p) for role, p in spec_folders(spec).items()}}


def check_model(spec, reports: dict[str, dict]) -> None:
    """Raise EngineError naming the first node whose copy of ``spec`` differs (``reports``: name -> report)."""
    mine = local_model_hashes(spec)
    reference, where = mine, "this machine"
    for name, report in reports.items():
        if "error" in report:
            raise EngineError(report["error"])
        theirs = report["hashes"]
        if reference is None:
            reference, where = theirs, name
            continue
        for role, value in theirs.items():
            if reference.get(role) != value:
                what = spec.model_id or spec.path
                part = "" if role == "model" else f" ({role})"
                raise EngineError(
                    f"{name} has other files for model {what}{part} than {where}: copy the same folder there "
                    f"(or download the same revision with `pinframe models download`)"
                )


def spec_to_dict(spec) -> dict:
    return asdict(spec)
