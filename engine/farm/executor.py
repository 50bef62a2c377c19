"""The Ray executor: the engine's jobs on a Ray cluster, scheduled in GPUs.

- **Model jobs** go to one long-lived actor per GPU (:class:`~engine.farm.gpu_actor.GpuWorker`),
  created when the executor connects and kept until it closes. A job goes to an idle actor that
  already holds its model when there is one, else to the idle actor holding the fewest models
  (then the one that ran the fewest jobs). An actor runs one job at a time, so the engine starts
  at most as many model jobs as there are GPUs; the rest stay Queued in the engine, where
  priorities still apply.
- **CPU jobs** (sketch/flow/hold/crossfade, and model jobs on a cluster without GPUs) run as
  plain Ray tasks with ``num_cpus=1``, at most one per cluster CPU.

Pin images and output files travel as :mod:`engine.farm.transport` says (a shared folder, or
8 MiB chunks). Progress and previews come through a small hub actor (:mod:`engine.farm.hub`);
cancel is a flag there that the job's step callback obeys. A worker that dies mid-job gets the
job retried, up to :data:`~engine.farm.collect.MAX_TRIES` tries in all, each retry announced by a
:class:`~engine.events.Notice`; a job that raises is never retried (errors in a job are
deterministic). On connect, every node's versions are checked (:mod:`engine.farm.versions`),
and each model's folders the first time a job of it is sent.

Residency lasts as long as the executor: the window's farm connection keeps its actors and so
their models from one render to the next. The actors are *not* detached: a `pinframe render
--ray` ends by letting its GPUs go. Detached actors outliving the command would hold the GPUs
and their memory with nobody left to release them (a crashed command would leave them held
for good) and would go on running the old code after an upgrade; a model load per GPU per
command is the price, and the farm dialog's connection is the place for repeated renders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.executor import FarmOutput, FarmRequest, ModelJob
from engine.farm import versions
from engine.farm.collect import FarmJobs
from engine.farm.pins import PinStore
from engine.farm.slots import GpuSlot, Slot, Task
from engine.farm.startup import check_versions, kill, on_node, start_gpu_actors
from engine.jobs import ClipJob, job_to_dict

if TYPE_CHECKING:
    from engine.devices import DeviceSettings
    from engine.events import Event
    from engine.runtime import Engine

# A cancelled job that hasn't stopped by itself after this long has its worker process killed.
CANCEL_GRACE_SECONDS = 20.0
# What a GPU worker resolves "auto" precision to (bf16 on Ampere and newer), until one reports.
_GUESSED_GPU_RUNTIME = "cuda|torch.bfloat16"


class RayExecutor(FarmJobs):
    """Run keyframe and clip jobs on a Ray cluster.

    ``address``: ``"local"`` starts a cluster on this machine (``num_cpus`` workers, all cores
    by default); ``"auto"`` joins the cluster this machine belongs to (``ray start``);
    ``"ray://HOST:10001"`` connects to a remote head through Ray Client. If this process is
    already connected to Ray (``ray.init`` was called), that connection is used as it is.

    ``gpu_resource``: the Ray resource that counts GPUs (``"GPU"``; a custom resource for GPUs
    Ray doesn't detect, or fake ones in tests). ``accelerator_type``: only GPUs of this type
    (Ray's ``accelerator_type``, e.g. ``"H100"``). ``min_vram_gb``: only GPUs with at least this
    much memory. ``shared_root``: a folder every node mounts at the same path; output files and
    pin images travel through it instead of through Ray. ``gpus_per_job=0``: no GPU actors,
    model jobs run as CPU tasks. ``max_in_flight``: a cap on jobs on the farm at once (default:
    its GPUs plus its CPUs). ``loader(spec, settings)``: how a worker loads a backend (default
    :func:`engine.loader.load_backend`); must be importable on the workers.
    """

    remote = True

    def __init__(
        self,
        address: str | None = "local",
        *,
        num_cpus: int | None = None,
        shared_root: str | Path | None = None,
        accelerator_type: str | None = None,
        min_vram_gb: float | None = None,
        gpu_resource: str = "GPU",
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
        from engine.farm.connect import connect

        if shared_root is not None and not Path(shared_root).is_dir():
            raise EngineError(
                f"the farm's shared folder {shared_root} is not a folder on this machine: mount it here at the "
                "same path as on the workers, or leave it out"
            )
        self._ray = ray
        self._owns_ray = False
        if not ray.is_initialized():
            connect(address, num_cpus)
            self._owns_ray = True
        self.address = address or "existing"
        self.shared_root = Path(shared_root) if shared_root is not None else None
        self.accelerator_type = accelerator_type
        self.min_vram_gb = min_vram_gb
        self.gpu_resource = gpu_resource
        self.max_in_flight = max_in_flight
        self.cancel_grace = cancel_grace
        self._loader = loader
        self._slots: list[Slot] = []
        self._hub = None
        try:
            self._set_up(ray, gpus_per_job)
        except BaseException:
            # A half-made executor must not leave this process connected (the next one, perhaps
            # to another address, would silently reuse that connection), nor hold GPUs.
            for slot in self._slots:
                kill(self._ray, slot.actor)
            if self._hub is not None:
                kill(self._ray, self._hub)
            if self._owns_ray:
                ray.shutdown()
            raise

    # --- connecting ------------------------------------------------------------------------------
    def _set_up(self, ray, gpus_per_job) -> None:
        from engine.farm.hub import FarmHub
        from engine.farm.worker import run_cpu_task

        resources = ray.cluster_resources()
        self.cluster_cpus = int(resources.get("CPU", 0))
        self.cluster_gpus = int(resources.get("GPU", 0))
        self._nodes = {n["NodeID"]: n for n in ray.nodes() if n.get("Alive")}
        self._names = check_versions(ray, self._nodes)
        self.gpus_per_job = 0.0 if gpus_per_job == 0 else 1.0
        if self.gpus_per_job:
            self._slots = start_gpu_actors(
                ray,
                self._nodes,
                self._names,
                gpu_resource=self.gpu_resource,
                accelerator_type=self.accelerator_type,
                min_vram_gb=self.min_vram_gb,
            )
        self._lock = threading.Condition()
        self._last_gpus: list[GpuSlot] = []  # what gpus() said last
        self._tasks: dict[str, Task] = {}
        self._pins = PinStore(ray, self.shared_root)
        self._runtimes: dict[DeviceSettings, str] = {}
        self._attempts_of_ended: dict[str, int] = {}
        self._model_checks: dict[str, str] = {}  # model key -> "" (fine) or why it was refused
        self._loads_by_pid: dict[int, int] = {}
        self._reviving: dict[Any, Slot] = {}
        self.transferred = {"streamed_bytes": 0, "shared_bytes": 0}
        self._wakeup: Callable[[], None] = lambda: None
        self._closed = False
        self._remote_fn = ray.remote(run_cpu_task)
        self._hub = ray.remote(num_cpus=0)(FarmHub).remote()
        self._finisher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pinframe-farm-fetch")
        self._collector = threading.Thread(target=self._collect, name="pinframe-farm", daemon=True)
        self._collector.start()

    # --- what the engine and the farm dialog call ------------------------------------------------
    def capacity(self) -> int:
        """Jobs the farm runs at once: one per GPU for model jobs, plus one per CPU for CPU jobs."""
        total = len(self._slots) + self.cluster_cpus
        return total if self.max_in_flight is None else min(total, self.max_in_flight)

    def has_room(self, job: ModelJob) -> bool:
        """Whether ``job`` would start on a worker now (else it stays Queued in the engine)."""
        with self._lock:
            if self.max_in_flight is not None and len(self._tasks) >= self.max_in_flight:
                return False
            if self._on_gpu(job):
                if any(t.waiting for t in self._tasks.values()):
                    return False  # retries first
                return any(s.up and s.task is None for s in self._slots)
            return sum(1 for t in self._tasks.values() if t.slot is None and not t.waiting) < self.cluster_cpus

    def set_wakeup(self, wakeup: Callable[[], None]) -> None:
        """``wakeup()`` is called when a GPU comes free without a job ending (a restarted worker)."""
        self._wakeup = wakeup

    def gpus(self) -> list[GpuSlot]:
        """The farm's GPUs, what each is doing and which models it holds (no round trip to Ray).

        Never waits: the window asks every second on its GUI thread, and the lock can be held while a
        retried job is handed to a GPU (a call over a slow ``ray://`` link). Then the last view is given."""
        if not self._lock.acquire(blocking=False):
            return list(self._last_gpus)
        try:
            self._last_gpus = [s.snapshot() for s in self._slots]
        finally:
            self._lock.release()
        return list(self._last_gpus)

    def nodes(self) -> dict[str, int]:
        """Every node by name, with the GPUs the farm uses on it (0: CPU jobs only)."""
        counts = dict.fromkeys(sorted(self._names.values()), 0)
        for slot in self._slots:
            counts[slot.node] = counts.get(slot.node, 0) + 1
        return counts

    @property
    def model_loads(self) -> int:
        """Pipelines the farm's GPU actors loaded since this executor connected."""
        with self._lock:
            return sum(self._loads_by_pid.values())

    def describe(self) -> str:
        nodes = len(self._names)
        where = f"Ray cluster '{self.address}', {nodes} node{'s' if nodes != 1 else ''}"
        cpus = f"{self.cluster_cpus} CPU slot(s) for flow/crossfade/hold/sketch"
        if not self._slots:
            return f"{where}: no GPUs (model jobs run on CPU), {cpus}"
        kinds = sorted({s.name for s in self._slots})
        return f"{where}: {len(self._slots)} GPU(s) for model jobs ({', '.join(kinds)}), {cpus}"

    def runtime_key(self, settings: DeviceSettings) -> str:
        """The device|dtype a model job will run at on the farm, for its cache key.

        Learned from the workers once one has run a job with these settings; before that,
        inferred from the settings and whether the cluster has GPUs.
        """
        with self._lock:
            known = self._runtimes.get(settings)
        if known is not None:
            return known
        device = settings.device
        if device == "auto":
            device = "cuda" if self.cluster_gpus and self._slots and self.gpu_resource == "GPU" else "cpu"
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
        """Hand a job to a worker; events arrive through ``on_event``, the outcome through ``on_done``."""
        job = request.job
        self._check_model(job)
        pins: list[str] = []
        metas: list[dict] = []
        refs: list = []
        try:
            if isinstance(job, ClipJob):
                for pin in job.pins:
                    sha, meta, pin_refs = self._pins.put(pin.path)
                    pins.append(sha)
                    metas.append(meta)
                    refs.extend(pin_refs)
            payload = {
                "job_id": request.job_id,
                "job": job_to_dict(job),
                "settings": asdict(request.settings),
                "preview_every": request.preview_every,
                "loader": self._loader,
                "pins": metas,
                "shared_root": str(self.shared_root) if self.shared_root else None,
            }
            task = Task(request, on_event, on_done, payload, refs, tuple(pins))
            with self._lock:
                if self._on_gpu(job):
                    task.slot = self._pick(job)
                    if task.slot is None:
                        task.waiting = True  # only when the engine didn't ask has_room first
                    else:
                        task.slot.task = task
                if not task.waiting:
                    self._submit(task)
                self._tasks[request.job_id] = task
                self._lock.notify_all()
        except BaseException:
            self._pins.release(pins)
            raise

    def running(self) -> dict[str, tuple[int | None, str, int]]:
        """Job id -> (worker pid, node, attempts so far) for jobs on the farm now."""
        with self._lock:
            return {job_id: (t.pid, t.node, t.attempts) for job_id, t in self._tasks.items()}

    def worker_pid(self, job_id: str) -> int | None:
        with self._lock:
            task = self._tasks.get(job_id)
            return task.pid if task else None

    def attempts(self, job_id: str) -> int:
        """How many times a job began on a worker (2: it was retried once after its worker died)."""
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
        for slot in self._slots:
            kill(self._ray, slot.actor)
        kill(self._ray, self._hub)
        if self._owns_ray:
            self._ray.shutdown()

    # --- inside (following the jobs: engine.farm.collect) -----------------------------------------
    def _check_model(self, job: ModelJob) -> None:
        """The first time a model is used: every node that may run it has the same files as here."""
        spec = job.model
        if not spec.needs_model:
            return
        with self._lock:
            known = self._model_checks.get(spec.key)
        if known is None:
            nodes = {s.node_id for s in self._slots} if self._on_gpu(job) else set(self._names)
            node_ids = sorted(nodes, key=lambda n: self._names[n])  # messages name nodes in a stable order
            hashes = self._ray.remote(versions.node_model_hashes)
            refs = {self._names[n]: hashes.options(**on_node(n)).remote(asdict(spec)) for n in node_ids}
            try:
                versions.check_model(spec, {name: self._ray.get(ref, timeout=600) for name, ref in refs.items()})
                known = ""
            except EngineError as exc:
                known = str(exc)
            with self._lock:
                self._model_checks[spec.key] = known
        if known:
            raise EngineError(known)


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
