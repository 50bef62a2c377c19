"""The worker's side of a farm job: one keyframe or clip job inside a Ray worker process.

Runs in a GPU actor (:mod:`engine.farm.gpu_actor`, which keeps its models between jobs) or in a
plain CPU task (the built-in sketch/flow/hold/crossfade backends, or every job on a cluster
without GPUs). The job comes as plain data with its pin images (as bytes, or as paths on the
shared folder); the model folder is found on this node (never shipped with the job); it
renders exactly as a local engine does (same backends, same clip contract, same PNG encoding)
and hands back its files through :mod:`engine.farm.transport`.

Errors in the job come back as a ``failed`` status with the same messages a local engine gives;
only a dead process (or node) reaches Ray as a failure, which is what the executor retries.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import traceback
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.errors import EngineError, JobCancelled, ModelFolderError, OutOfMemory
from engine.farm.versions import node_name
from engine.jobs import (
    ClipJob,
    KeyframeJob,
    ModelSpec,
    PinImage,
    Result,
    job_from_dict,
    result_relative_to,
    result_to_dict,
)

# Models loaded in this worker process, per device settings (and loader): jobs reuse them.
_POOLS: dict = {}
_POOLS_LOCK = threading.Lock()
_LOADS = [0]  # pipelines this process has loaded, all pools together
_SNAPSHOT_RE = re.compile(r"(models--[^/\\]+)[/\\]snapshots[/\\]([0-9a-f]{40})$")


def run_cpu_task(request: dict, hub, *pin_chunks: bytes) -> dict:
    """The body of a CPU task (a plain Ray task): one job, models kept by the worker process."""
    return run_job(request, hub, pin_chunks)


def run_job(request: dict, hub, pin_chunks: tuple[bytes, ...]) -> dict:
    """Run one job; returns {"status": "ok" | "failed" | "cancelled", ...}."""
    import ray

    from engine.devices import DeviceSettings

    job_id = request["job_id"]
    # Waited for: a worker killed right after this still counts as an attempt, on its node.
    ray.get(hub.begin.remote(job_id, os.getpid(), ray.get_runtime_context().get_node_id(), node_name()))
    job = job_from_dict(request["job"])
    cancel = threading.Event()
    stop_watching = threading.Event()
    watcher = threading.Thread(target=_watch_cancel, args=(hub, job_id, cancel, stop_watching), daemon=True)
    watcher.start()
    _share_cores()
    try:
        settings = DeviceSettings(**request["settings"])
        with tempfile.TemporaryDirectory(prefix="pinframe-farm-") as scratch:
            outcome = _run(job, settings, request, pin_chunks, Path(scratch), hub, job_id, cancel)
    finally:
        stop_watching.set()
        # Waited for: every progress message of this job reaches the hub before the result
        # does, so the engine never sees progress after the job ended.
        ray.get(hub.flush.remote(job_id))
    outcome["pid"] = os.getpid()
    outcome["loads"] = _LOADS[0]
    outcome["resident"] = resident_keys()
    return outcome


def resident_keys() -> list[str]:
    with _POOLS_LOCK:
        return [key for pool in _POOLS.values() for key in pool.resident_keys()]


def _run(job, settings, request, pin_chunks, scratch: Path, hub, job_id, cancel) -> dict:
    from engine.progress import StepReporter
    from engine.runtime import OOM_ADVICE, is_out_of_memory, render_clip

    node = node_name()
    pool = None
    try:
        if isinstance(job, ClipJob):
            job = replace(job, pins=_write_pins(job, request["pins"], pin_chunks, scratch))
        reporter = StepReporter(_sink(hub, job_id), cancel, preview_every=request["preview_every"])
        reporter.check()
        runtime = f"{settings.resolve_device()}|{settings.torch_dtype()}" if job.model.needs_model else ""
        spec = locate_model(job.model)
        job = replace(job, model=spec)
        pool = _pool(settings, request.get("loader"))
        backend = pool.get(spec)
        reporter.check()
        out = scratch / "out"
        out.mkdir()
        if isinstance(job, KeyframeJob):
            results: tuple[Result, ...] = backend.generate(job, out, reporter)
        else:
            results = (render_clip(backend, job, out, reporter),)
        relative = [result_to_dict(result_relative_to(r, out)) for r in results]
        return {"status": "ok", "results": relative, "runtime": runtime, "located": spec.key,
                **_hand_back(out, request.get("shared_root"), job_id)}  # fmt: skip
    except JobCancelled:
        return {"status": "cancelled"}
    except FileNotFoundError as exc:
        what = exc.filename or "an input file"
        return _failed(f"{what} is missing on farm node {node}")
    except OutOfMemory as exc:
        _recover(pool)
        return _failed(f"{exc} (farm node {node})")
    except EngineError as exc:
        return _failed(f"{exc} (farm node {node})")
    except Exception as exc:  # noqa: BLE001 - any backend failure fails its job, never the worker
        if is_out_of_memory(exc):
            _recover(pool)
            label = job.label or f"this {job.kind}"
            device = "GPU" if job.model.needs_model and settings.resolve_device() != "cpu" else "computer"
            return _failed(OOM_ADVICE.format(device=f"{device} of farm node {node}", label=label))
        where = f"the {job.model.backend} backend"
        return _failed(f"{where} failed on farm node {node}: {exc}. The job was stopped; others go on.")
    finally:
        from engine.residency import free_memory

        free_memory()


def _hand_back(out: Path, shared_root: str | None, job_id: str) -> dict:
    import ray

    from engine.farm import transport

    manifest = transport.folder_manifest(out)
    if shared_root:
        return {"manifest": manifest, "shared": str(transport.publish(out, shared_root, job_id))}
    # Each chunk its own object, owned by this process (which outlives the engine's fetch:
    # actors live as long as the executor; task workers stay in Ray's pool).
    return {"manifest": manifest, "chunks": [ray.put(c) for c in transport.chunks_of(out, manifest)]}


def locate_model(spec: ModelSpec) -> ModelSpec:
    """``spec`` with its folders as found on this node; a clear error when they aren't here."""
    if not spec.needs_model:
        return spec
    path = _find_folder(spec.path, spec.model_id, spec.revision)
    upscale = _find_folder(spec.upscale_path, "", "") if spec.upscale_path else ""
    stage3 = _find_folder(spec.stage3_path, "", "") if spec.stage3_path else ""
    return replace(spec, path=path, upscale_path=upscale, stage3_path=stage3)


def _find_folder(path: str, model_id: str, revision: str) -> str:
    # 1. Shared storage mounted at the same place on every node (or the same machine).
    if path and Path(path).is_dir():
        return path
    # 2. A Hugging Face cache snapshot on the client: the same repo and commit in this node's cache.
    match = _SNAPSHOT_RE.search(path.rstrip("/\\")) if path else None
    if match:
        from huggingface_hub import constants

        here = Path(constants.HF_HUB_CACHE) / match.group(1) / "snapshots" / match.group(2)
        if here.is_dir():
            return str(here)
        revision = revision or match.group(2)
    # 3. The model id in this node's model list (a downloaded known model, or a local folder).
    if model_id:
        found = _from_registry(model_id, revision)
        if found:
            return found
    name = model_id or path
    at = f" at revision {revision[:12]}" if revision else ""
    hint = f"run `pinframe models download {model_id}` on that node" if model_id else "copy the folder there"
    raise ModelFolderError(
        f"model {name}{at} is not on farm node {node_name()}: {hint}, or put it on storage every node "
        f"mounts at {path or 'the same path'}"
    )


def _from_registry(model_id: str, revision: str) -> str:
    from engine.models.registry import KnownModel, ModelRegistry

    try:
        model = ModelRegistry(_models_json()).get(model_id)
    except EngineError:
        return ""
    if isinstance(model, KnownModel):
        from huggingface_hub import constants
        from huggingface_hub.file_download import repo_folder_name

        storage = Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=model.repo_id, repo_type="model")
        if revision and re.fullmatch(r"[0-9a-f]{40}", revision):
            snapshot = storage / "snapshots" / revision
            return str(snapshot) if snapshot.is_dir() else ""
        from engine.models.registry import find_in_cache

        status = find_in_cache(model)
        return str(status.path) if status.complete and status.path else ""
    return str(model.path) if Path(model.path).is_dir() else ""


def _models_json() -> Path:
    # The same place the app keeps it (app.paths.user_data_dir), without importing the app.
    data = os.environ.get("PINFRAME_DATA_DIR")
    if data:
        return Path(data) / "models.json"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pinframe" / "models.json"


def _pool(settings, loader):
    from engine.loader import estimate_bytes, load_backend
    from engine.residency import ModelPool

    with _POOLS_LOCK:
        # By name: a loader pickled by value arrives as a new function object with every job.
        key = (settings, f"{loader.__module__}.{loader.__qualname__}" if loader else "")
        pool = _POOLS.get(key)
        if pool is None:
            for old in _POOLS.values():
                old.unload_all()  # one device's worth of models per worker process
            _POOLS.clear()
            load = loader or load_backend

            def counted(spec):
                backend = load(spec, settings)
                _LOADS[0] += 1
                return backend

            pool = _POOLS[key] = ModelPool(counted, settings.budget_bytes(), estimate=estimate_bytes)
        return pool


def _recover(pool) -> None:
    from engine.residency import free_memory

    if pool is not None:
        pool.unload_all()
    free_memory(full=True)


def _write_pins(job: ClipJob, pins: list[dict], chunks: tuple[bytes, ...], scratch: Path) -> tuple[PinImage, ...]:
    if len(pins) != len(job.pins):
        raise EngineError(f"the farm sent {len(pins)} pin images for {len(job.pins)} pins")
    folder = scratch / "pins"
    folder.mkdir()
    out = []
    at = 0
    for index, (pin, sent) in enumerate(zip(job.pins, pins, strict=True)):
        if sent.get("shared"):
            data = Path(sent["shared"]).read_bytes()  # FileNotFoundError: "missing on farm node"
        else:
            data = b"".join(chunks[at : at + sent["chunks"]])
            at += sent["chunks"]
        if hashlib.sha256(data).hexdigest() != sent["sha"]:
            raise EngineError(f"pin image {Path(pin.path).name} arrived damaged")
        path = folder / f"pin_{index:03d}{Path(pin.path).suffix or '.png'}"
        path.write_bytes(data)
        out.append(PinImage(pin.frame, str(path)))
    return tuple(out)


def _sink(hub, job_id: str):
    def sink(step: int, total: int, eta: float | None, preview: np.ndarray | None) -> None:
        png = None
        if preview is not None:
            import cv2

            from engine.backends.fit import thumbnail

            ok, data = cv2.imencode(".png", cv2.cvtColor(thumbnail(preview), cv2.COLOR_RGB2BGR))
            png = data.tobytes() if ok else None
        hub.progress.remote(job_id, step, total, eta, png)

    return sink


def _watch_cancel(hub, job_id: str, cancel: threading.Event, stop: threading.Event) -> None:
    import ray

    while not stop.wait(0.1):
        try:
            if ray.get(hub.is_cancelled.remote(job_id), timeout=10):
                cancel.set()
                return
        except Exception:  # noqa: BLE001 - the engine went away: Ray ends the job itself
            return


def _share_cores() -> None:
    # Ray gives the task N CPUs; OpenCV and torch would otherwise each take every core of the
    # node and fight the node's other jobs.
    try:
        import ray

        cpus = max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)))
        import cv2
        import torch

        cv2.setNumThreads(cpus)
        if torch.get_num_threads() != cpus:
            torch.set_num_threads(cpus)
    except Exception:  # noqa: BLE001 - only a performance hint
        pass


def _failed(message: str) -> dict:
    return {"status": "failed", "message": message, "detail": traceback.format_exc()}
