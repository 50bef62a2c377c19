"""Where jobs run: on the engine's own worker thread (default) or as tasks on a Ray cluster.

The :class:`~engine.runtime.Engine` keeps its queue, priorities, cache and events either way;
an executor only decides where a keyframe or clip job's pixels are made.

- :class:`~engine.executor.LocalExecutor` (the default): one job at a time on the engine's
  worker thread, which owns the device.
- :class:`RayExecutor`: each job is a Ray task asking for one GPU (ML backends) or one CPU (the
  built-in sketch/flow/hold/crossfade backends). The task gets the job as plain data and its
  pin images as Ray objects (bytes, one object per distinct image), finds the model folder on
  its own node by model id and revision (see :mod:`engine.farm_worker`), and returns the output
  files as bytes. The engine stores them in its local result cache under the same key a local
  render would have, so a farm render is a cache hit for a local engine afterwards.

Progress and previews travel through a small Ray actor (:class:`FarmHub`) that tasks push to and
the engine drains; cancel is a flag in the same actor that the task's step callback obeys
(``ray.cancel`` only for a task that hasn't started, or one that ignores the flag). A worker
process that dies mid-job gets the task retried once elsewhere (Ray's ``max_retries``); a task
that raises is never retried (``retry_exceptions=False``): errors in the job are deterministic.

Nothing here imports Ray at module level: a local engine never pays for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.executor import FarmOutput, FarmRequest, LocalExecutor
from engine.jobs import ClipJob, Job, job_to_dict, result_from_dict

if TYPE_CHECKING:
    from engine.devices import DeviceSettings
    from engine.events import Event
    from engine.runtime import Engine

# How often the engine side looks for finished tasks, progress and cancel requests.
POLL_SECONDS = 0.05
# A cancelled task that hasn't stopped by itself after this long has its worker process killed.
CANCEL_GRACE_SECONDS = 20.0
# What a GPU worker resolves "auto" precision to (bf16 on Ampere and newer), until one reports.
_GUESSED_GPU_RUNTIME = "cuda|torch.bfloat16"

__all__ = ["FarmHub", "LocalExecutor", "RayExecutor", "ray_engine"]


# --- the progress/cancel hub (a Ray actor) -----------------------------------------------------
class FarmHub:
    """Tasks push begin/progress messages here; the engine drains them and sets cancel flags."""

    def __init__(self) -> None:
        self._messages: list[tuple] = []
        self._cancelled: set[str] = set()

    def begin(self, job_id: str, pid: int, node: str) -> None:
        self._messages.append(("begin", job_id, pid, node))

    def progress(self, job_id: str, step: int, total: int, eta: float | None, preview_png: bytes | None) -> None:
        self._messages.append(("progress", job_id, step, total, eta, preview_png))

    def flush(self, job_id: str) -> None:
        """Called (and waited for) by a task before it returns: its earlier messages are all here."""

    def cancel(self, job_id: str) -> None:
        self._cancelled.add(job_id)

    def is_cancelled(self, job_id: str) -> bool:
        return job_id in self._cancelled

    def forget(self, job_id: str) -> None:
        self._cancelled.discard(job_id)

    def drain(self) -> list[tuple]:
        messages, self._messages = self._messages, []
        return messages


# --- the Ray executor ---------------------------------------------------------------------------
@dataclass
class _Task:
    request: FarmRequest
    ref: Any
    on_event: Callable[[Event], None]
    on_done: Callable[[Event | FarmOutput], None]
    pins: tuple[str, ...]  # sha256 of each pin image object it holds
    attempts: int = 0
    pid: int | None = None
    node: str = ""
    cancel_sent_at: float | None = None
    ending: bool = False
    started_at: float = field(default_factory=time.monotonic)


class RayExecutor:
    """Run keyframe and clip jobs as Ray tasks.

    ``address``: ``"local"`` starts a cluster on this machine (``num_cpus`` workers, all cores
    by default); ``"auto"`` joins the cluster this machine belongs to (``ray start``);
    ``"ray://HOST:10001"`` connects to a remote head through Ray Client. If this process is
    already connected to Ray (``ray.init`` was called), that connection is used as it is.

    ``gpus_per_job``: GPUs an ML job asks for (default 1 when the cluster has GPUs, else the
    job runs on one CPU). ``max_in_flight``: jobs handed to Ray at once (default: the cluster's
    CPU count); the rest wait in the engine's queue, where priorities still apply.
    ``loader(spec, settings)``: how a worker loads a backend (default
    :func:`engine.loader.load_backend`); must be importable on the workers.
    """

    remote = True

    def __init__(
        self,
        address: str | None = "local",
        *,
        num_cpus: int | None = None,
        gpus_per_job: float | None = None,
        max_in_flight: int | None = None,
        loader: Callable | None = None,
        cancel_grace: float = CANCEL_GRACE_SECONDS,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise EngineError(
                "rendering on a Ray cluster needs Ray, which this installation of Pinframe doesn't include. "
                "Install Pinframe from source with its requirements (see the README, 'Rendering on a Ray "
                "cluster'), or render on this machine."
            ) from None

        self._ray = ray
        self._owns_ray = False
        if not ray.is_initialized():
            _connect(address, num_cpus)
            self._owns_ray = True
        self.address = address or "existing"
        try:
            self._set_up(ray, gpus_per_job, max_in_flight, loader, cancel_grace)
        except BaseException:
            # A half-made executor must not leave this process connected: the next one (perhaps
            # to another address) would silently reuse that connection.
            if self._owns_ray:
                ray.shutdown()
            raise

    def _set_up(self, ray, gpus_per_job, max_in_flight, loader, cancel_grace) -> None:
        resources = ray.cluster_resources()
        self.cluster_cpus = int(resources.get("CPU", 0))
        self.cluster_gpus = int(resources.get("GPU", 0))
        if gpus_per_job is None:
            gpus_per_job = 1.0 if self.cluster_gpus else 0.0
        self.gpus_per_job = gpus_per_job
        self.max_in_flight = max_in_flight or max(1, self.cluster_cpus)
        self.cancel_grace = cancel_grace
        self._loader = loader
        from engine.farm_worker import run_farm_job

        self._remote_fn = ray.remote(run_farm_job)
        self._hub = ray.remote(num_cpus=0)(FarmHub).remote()
        self._lock = threading.Condition()
        self._tasks: dict[str, _Task] = {}
        self._pins: dict[str, list] = {}  # sha256 -> [object ref, users]
        self._runtimes: dict[DeviceSettings, str] = {}
        self._attempts_of_ended: dict[str, int] = {}
        self._closed = False
        self._finisher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pinframe-farm-fetch")
        self._collector = threading.Thread(target=self._collect, name="pinframe-farm", daemon=True)
        self._collector.start()

    # --- what the engine calls ---------------------------------------------------------------
    def capacity(self) -> int:
        return self.max_in_flight

    def describe(self) -> str:
        gpus = f", {self.cluster_gpus} GPU(s)" if self.cluster_gpus else ", no GPUs (ML jobs run on CPU)"
        return f"Ray cluster '{self.address}': {self.cluster_cpus} CPU(s){gpus}"

    def runtime_key(self, settings: DeviceSettings) -> str:
        """The device|dtype an ML job will run at on the farm, for its cache key.

        Learned from the workers once one has run a job with these settings; before that,
        inferred from the settings and whether the cluster has GPUs.
        """
        with self._lock:
            known = self._runtimes.get(settings)
        if known is not None:
            return known
        device = settings.device
        if device == "auto":
            device = "cuda" if self.cluster_gpus and self.gpus_per_job > 0 else "cpu"
        dtype = {"fp16": "torch.float16", "bf16": "torch.bfloat16", "fp32": "torch.float32"}.get(settings.precision)
        if dtype is None:
            dtype = _GUESSED_GPU_RUNTIME.split("|")[1] if device == "cuda" else "torch.float32"
        return f"{device}|{dtype}"

    def start(
        self,
        request: FarmRequest,
        on_event: Callable[[Event], None],
        on_done: Callable[[Event | FarmOutput], None],
    ) -> None:
        """Hand a job to Ray; events arrive through ``on_event``, the outcome through ``on_done``."""
        job = request.job
        pins: list[str] = []
        pin_refs = []
        try:
            if isinstance(job, ClipJob):
                for pin in job.pins:
                    sha, ref = self._put_pin(pin.path)
                    pins.append(sha)
                    pin_refs.append(ref)
            options = self._options(job)
            payload = {
                "job_id": request.job_id,
                "job": job_to_dict(job),
                "settings": _settings_dict(request.settings),
                "preview_every": request.preview_every,
                "loader": self._loader,
            }
            ref = self._remote_fn.options(**options).remote(payload, self._hub, *pin_refs)
        except BaseException:
            self._release_pins(pins)
            raise
        with self._lock:
            self._tasks[request.job_id] = _Task(request, ref, on_event, on_done, tuple(pins))
            self._lock.notify_all()

    def running(self) -> dict[str, tuple[int | None, str, int]]:
        """Job id -> (worker pid, node, attempts so far) for jobs on the farm now."""
        with self._lock:
            return {job_id: (t.pid, t.node, t.attempts) for job_id, t in self._tasks.items()}

    def worker_pid(self, job_id: str) -> int | None:
        with self._lock:
            task = self._tasks.get(job_id)
            return task.pid if task else None

    def attempts(self, job_id: str) -> int:
        """How many times a job started on a worker (2: it was retried after its worker died)."""
        with self._lock:
            task = self._tasks.get(job_id)
            return task.attempts if task else self._attempts_of_ended.get(job_id, 0)

    def close(self, timeout: float = 30.0) -> None:
        """Wait up to ``timeout`` for jobs in flight to end (cancel them first), then let Ray go."""
        deadline = time.monotonic() + timeout
        with self._lock:
            for task in self._tasks.values():
                task.request.cancel.set()
            while self._tasks and time.monotonic() < deadline:
                self._lock.wait(0.1)
            self._closed = True
            self._lock.notify_all()
        self._collector.join(timeout=max(0.0, deadline - time.monotonic()) + 1)
        self._finisher.shutdown(wait=True)
        try:
            self._ray.kill(self._hub)
        except Exception:  # noqa: BLE001 - the cluster may already be gone
            pass
        if self._owns_ray:
            self._ray.shutdown()

    # --- inside ---------------------------------------------------------------------------------
    def _options(self, job: Job) -> dict:
        name = f"pinframe {job.kind}: {job.label or job.model.backend}"
        options: dict[str, Any] = {"max_retries": 1, "retry_exceptions": False, "name": name}
        if job.model.needs_model and self.gpus_per_job > 0:
            options.update(num_gpus=self.gpus_per_job, num_cpus=1)
        else:
            options.update(num_gpus=0, num_cpus=1)
        return options

    def _put_pin(self, path: str) -> tuple[str, Any]:
        # One Ray object per distinct image: a keyframe pinned in ten shots travels once.
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(2, "missing", path) from None
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            held = self._pins.get(sha)
            if held is None:
                held = self._pins[sha] = [self._ray.put(data), 0]
            held[1] += 1
            return sha, held[0]

    def _release_pins(self, shas) -> None:
        with self._lock:
            for sha in shas:
                held = self._pins.get(sha)
                if held is not None:
                    held[1] -= 1
                    if held[1] <= 0:
                        del self._pins[sha]

    def _collect(self) -> None:
        ray = self._ray
        while True:
            with self._lock:
                while not self._tasks and not self._closed:
                    self._lock.wait()
                if self._closed and not self._tasks:
                    return
                live = {t.ref: t for t in self._tasks.values() if not t.ending}
            try:
                ready: list = []
                if live:
                    refs = list(live)
                    ready, _ = ray.wait(refs, num_returns=1, timeout=POLL_SECONDS)
                    if ready:
                        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
                else:
                    time.sleep(POLL_SECONDS)
                self._send_cancels()
                # Drain after ray.wait: a finished task flushed its messages before returning,
                # so every Progress is emitted before that job's terminal event.
                self._route(ray.get(self._hub.drain.remote()))
                for ref in ready:
                    task = live[ref]
                    task.ending = True
                    self._finisher.submit(self._finish, task)
            except Exception:  # noqa: BLE001 - the collector must outlive a hiccup of the cluster
                traceback.print_exc()
                time.sleep(0.5)

    def _send_cancels(self) -> None:
        now = time.monotonic()
        with self._lock:
            tasks = [t for t in self._tasks.values() if t.request.cancel.is_set() and not t.ending]
        for task in tasks:
            if task.cancel_sent_at is None:
                task.cancel_sent_at = now
                self._hub.cancel.remote(task.request.job_id)
                if task.pid is None:
                    # Not started on a worker yet (as far as we know): take it out of Ray's queue.
                    # A task already running takes the flag at its next step instead, which
                    # leaves the worker's loaded models usable.
                    self._ray.cancel(task.ref, force=False)
            elif now - task.cancel_sent_at > self.cancel_grace:
                task.cancel_sent_at = float("inf")
                self._ray.cancel(task.ref, force=True)

    def _route(self, messages: list[tuple]) -> None:
        from engine.events import Preview, Progress

        for message in messages:
            with self._lock:
                task = self._tasks.get(message[1])
            if task is None:
                continue
            if message[0] == "begin":
                _, _, pid, node = message
                with self._lock:
                    task.pid, task.node = pid, node
                    task.attempts += 1
                continue
            _, job_id, step, total, eta, preview_png = message
            task.on_event(Progress(job_id, step, total, eta))
            if preview_png is not None:
                task.on_event(Preview(job_id, _decode_png(preview_png), step))

    def _finish(self, task: _Task) -> None:
        from engine.events import Cancelled, Failed

        job_id = task.request.job_id
        job = task.request.job
        outcome: Event | FarmOutput
        try:
            value = self._ray.get(task.ref)
            outcome = self._outcome(task, value)
        except self._ray.exceptions.TaskCancelledError:
            outcome = Cancelled(job_id)
        except self._ray.exceptions.RayTaskError as exc:
            # The task function itself raised (it catches every job error): Pinframe is
            # missing or broken on that node.
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            outcome = Failed(
                job_id,
                f"{_label(job)} could not run on the farm: {type(cause).__name__}: {cause}. Every Ray worker "
                "needs the same Pinframe version and Python packages as this machine.",
                str(exc),
            )
        except self._ray.exceptions.RayError as exc:
            if task.request.cancel.is_set():
                outcome = Cancelled(job_id)
            else:
                outcome = Failed(job_id, _died_message(job, task, exc), str(exc))
        except Exception as exc:  # noqa: BLE001 - a job's failure must never stop the farm
            outcome = Failed(job_id, f"{_label(job)} failed on the farm: {exc}", traceback.format_exc())
        self._hub.forget.remote(job_id)
        self._release_pins(task.pins)
        with self._lock:
            self._tasks.pop(job_id, None)
            self._attempts_of_ended[job_id] = task.attempts
            self._lock.notify_all()
        try:
            task.on_done(outcome)
        except Exception:  # noqa: BLE001
            traceback.print_exc()

    def _outcome(self, task: _Task, value: dict) -> Event | FarmOutput:
        from engine.events import Cancelled, Failed

        job_id = task.request.job_id
        status = value.get("status")
        if status == "cancelled":
            return Cancelled(job_id)
        if status == "failed":
            return Failed(job_id, value["message"], value.get("detail", ""))
        runtime = value.get("runtime", "")
        if runtime and task.request.job.model.needs_model:
            with self._lock:
                self._runtimes[task.request.settings] = runtime
        results = tuple(result_from_dict(r) for r in value["results"])
        return FarmOutput(results, value["files"], runtime)


def _connect(address: str | None, num_cpus: int | None) -> None:
    import ray

    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    problem = _unreachable(address)
    if problem:
        # Ray itself would retry for 30 s (ray://) or minutes (a head's GCS address) first.
        raise EngineError(
            f"could not connect to the Ray cluster at '{address}': {problem}. Is `ray start --head` running "
            "there, and is the port open from this machine?"
        )
    try:
        if address in (None, "", "local"):
            root = str(Path(__file__).resolve().parents[1])
            # Workers on this machine import Pinframe from where this process does.
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            # address="local": a new cluster, even when this machine is part of one already.
            ray.init("local", num_cpus=num_cpus, runtime_env={"env_vars": {"PYTHONPATH": path}}, **quiet)
        elif address.startswith("ray://"):
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(address=address, **{k: v for k, v in quiet.items() if k != "include_dashboard"})
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        hint = (
            "Start it with `ray start --head` and pass its address (ray://HOST:10001 from another machine, "
            "auto on a cluster node), or 'local'."
        )
        if address and address.startswith("ray://") and os.environ.get("RAY_AUTH_MODE") != "token":
            # Ray 2.59+ clusters started with `ray start` require a token by default; Ray Client
            # then just times out.
            hint = (
                "If the cluster uses token authentication (Ray's default), set RAY_AUTH_MODE=token and give "
                "this machine the head's token (`ray get-auth-token` there) in ~/.ray/auth_token or RAY_AUTH_TOKEN."
            )
        raise EngineError(f"could not connect to the Ray cluster at '{address}': {exc}. {hint}") from None


def _unreachable(address: str | None) -> str:
    """Why HOST:PORT (``ray://HOST:PORT`` or a head's ``HOST:PORT``) can't be reached; '' if it can."""
    import socket

    if not address or address in ("local", "auto"):
        return ""
    target = address.removeprefix("ray://").split("/", 1)[0]
    host, _, port = target.rpartition(":")
    if not host or not port.isdecimal():
        return ""  # Ray explains a malformed address itself
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            return ""
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__


def ray_engine(
    address: str | None,
    cache_dir: str | Path,
    settings: DeviceSettings | None = None,
    *,
    preview_every: int = 4,
    **executor_options,
) -> Engine:
    """An :class:`~engine.runtime.Engine` whose keyframe and clip jobs run on a Ray cluster.

    Shares ``cache_dir`` with a local engine safely: a farm render is then a cache hit locally.
    """
    from engine.runtime import Engine

    executor = RayExecutor(address, **executor_options)
    try:
        return Engine(cache_dir, settings, executor=executor, preview_every=preview_every)
    except BaseException:
        executor.close(5.0)
        raise


def _settings_dict(settings: DeviceSettings) -> dict:
    from dataclasses import asdict

    return asdict(settings)


def _decode_png(data: bytes):
    import cv2
    import numpy as np

    image = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    image.setflags(write=False)
    return image


def _label(job: Job) -> str:
    return job.label or f"this {job.kind} job"


def _died_message(job: Job, task: _Task, exc: BaseException) -> str:
    where = f" on node {task.node}" if task.node else ""
    kind = type(exc).__name__
    if task.attempts >= 2:
        told = f"its Ray worker process died{where} on both tries ({kind})"
        after = "It was retried once on another worker and failed the same way, so it was not retried again."
    else:
        told = f"its Ray worker or node was lost{where} ({kind})"
        after = "Ray gave up on it."
    return (
        f"{_label(job)} failed on the farm: {told}. {after} Usual causes are the node running out of memory or "
        "a crash in the model; see that node's logs under /tmp/ray/session_latest/logs."
    )
