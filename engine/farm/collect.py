"""Following the farm's jobs: which GPU takes a job, sending it, and everything after.

The collector thread waits on Ray for jobs that end and GPU actors that come back, routes each
job's progress and previews from the hub, passes cancels on (killing a worker that ignores
one), turns a job's return value into its outcome, and retries a job whose worker died, up to
:data:`MAX_TRIES` tries in all. :class:`~engine.farm.executor.RayExecutor` is the rest: connecting,
and what the engine and the farm dialog call.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from engine.executor import FarmOutput, ModelJob
from engine.farm import transport
from engine.farm.pins import PinStore
from engine.farm.slots import Slot, Task, label
from engine.jobs import result_from_dict

if TYPE_CHECKING:
    from engine.devices import DeviceSettings
    from engine.events import Event

# How often the engine side looks for finished jobs, progress and cancel requests.
POLL_SECONDS = 0.05
# Tries in all for a job whose worker process dies (the first and two retries).
MAX_TRIES = 3
# A GPU actor whose process died is asked whether Ray has restarted it this often, this many times.
REVIVE_EVERY_SECONDS = 0.5
REVIVE_ASKS = 240


class FarmJobs:
    """The job-following half of :class:`~engine.farm.executor.RayExecutor`, which sets all of these up."""

    _ray: Any  # the ray module (read as Any: its stubs are skipped)
    _hub: Any  # the FarmHub actor's handle
    _remote_fn: Any  # run_cpu_task as a Ray remote function
    _lock: threading.Condition
    _closed: bool
    _slots: list[Slot]
    _tasks: dict[str, Task]
    _reviving: dict[Any, Slot]  # an actor's info() ref -> the slot waiting for Ray to restart it
    _names: dict[str, str]  # node id -> node name
    _pins: PinStore
    _runtimes: dict[DeviceSettings, str]
    _attempts_of_ended: dict[str, int]
    _loads_by_pid: dict[int, int]
    _finisher: ThreadPoolExecutor
    _wakeup: Callable[[], None]
    cancel_grace: float
    transferred: dict[str, int]

    def _on_gpu(self, job: ModelJob) -> bool:
        return bool(self._slots) and job.model.needs_model

    def _pick(self, job: ModelJob, avoid_node: str = "") -> Slot | None:
        idle = [s for s in self._slots if s.up and s.task is None]
        holders = [s for s in idle if job.model.key in s.engine_keys()]
        choices = holders or idle
        if not choices:
            return None
        return min(choices, key=lambda s: (s.node == avoid_node, len(s.resident), s.jobs, s.node, s.index))

    def _submit(self, task: Task) -> None:
        """Send a task to its GPU actor, or to Ray as a CPU task (under the lock)."""
        task.tries += 1
        task.waiting = False
        task.state = "starting"
        task.ending = False
        if task.slot is not None:
            task.ref = task.slot.actor.run.remote(task.payload, self._hub, *task.pin_refs)
            return
        job = task.request.job
        name = f"pinframe {job.kind}: {job.label or job.model.backend}"
        options = {"max_retries": 0, "num_gpus": 0, "num_cpus": 1, "name": name}
        task.ref = self._remote_fn.options(**options).remote(task.payload, self._hub, *task.pin_refs)

    def _collect(self) -> None:
        ray = self._ray
        while True:
            with self._lock:
                while not self._tasks and not self._reviving and not self._closed:
                    self._lock.wait()
                if self._closed and not self._tasks:
                    return
                live = {t.ref: t for t in self._tasks.values() if not t.ending and not t.waiting}
                reviving = dict(self._reviving)
            try:
                ready: list = []
                refs = list(live) + list(reviving)
                if refs:
                    ready, _ = ray.wait(refs, num_returns=1, timeout=POLL_SECONDS)
                    if ready:
                        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
                else:
                    time.sleep(POLL_SECONDS)
                self._send_cancels()
                # Drain after ray.wait: a finished job flushed its messages before returning,
                # so every Progress is emitted before that job's terminal event.
                if self._tasks:
                    self._route(ray.get(self._hub.drain.remote()))
                for ref in ready:
                    if ref in reviving:
                        self._revived(ref, reviving[ref])
                        continue
                    task = live[ref]
                    task.ending = True
                    self._finisher.submit(self._finish, task)
            except Exception:  # noqa: BLE001 - the collector must outlive a hiccup of the cluster
                traceback.print_exc()
                time.sleep(0.5)

    def _revived(self, ref, slot: Slot) -> None:
        try:
            info = self._ray.get(ref)
        except self._ray.exceptions.RayError:
            info = None
        with self._lock:
            self._reviving.pop(ref, None)
            if info is None:
                # Still restarting (Ray answers a call to a restarting actor with an error), or
                # gone for good (its node left): ask again for a while, then stop counting it.
                slot.revive_asks += 1
                if slot.revive_asks < REVIVE_ASKS and not self._closed:
                    threading.Timer(REVIVE_EVERY_SECONDS, self._ask_revived, (slot,)).start()
                else:
                    self._slots.remove(slot)
                return
            slot.up, slot.pid, slot.resident, slot.revive_asks = True, info["pid"], (), 0
            self._dispatch_waiting()
        self._wakeup()

    def _ask_revived(self, slot: Slot) -> None:
        with self._lock:
            if not self._closed:
                self._reviving[slot.actor.info.remote()] = slot
                self._lock.notify_all()

    def _dispatch_waiting(self) -> None:
        """Retries waiting for a GPU go first to one that came free (under the lock)."""
        for task in [t for t in self._tasks.values() if t.waiting]:
            if task.request.cancel.is_set():
                continue  # _send_cancels ends it
            slot = self._pick(task.request.job, avoid_node=task.died_on)
            if slot is None:
                return
            task.slot, slot.task = slot, task
            self._submit(task)

    def _send_cancels(self) -> None:
        from engine.events import Cancelled

        now = time.monotonic()
        with self._lock:
            tasks = [t for t in self._tasks.values() if t.request.cancel.is_set() and not t.ending]
        for task in tasks:
            if task.waiting:
                task.ending = True
                self._end(task, Cancelled(task.request.job_id))
            elif task.cancel_sent_at is None:
                task.cancel_sent_at = now
                self._hub.cancel.remote(task.request.job_id)
                if task.pid is None and task.slot is None:
                    # Not started on a worker yet (as far as we know): take it out of Ray's queue.
                    # A job already running takes the flag at its next step instead, which
                    # leaves the worker's loaded models usable.
                    self._ray.cancel(task.ref, force=False)
            elif now - task.cancel_sent_at > self.cancel_grace:
                task.cancel_sent_at = float("inf")
                if task.slot is not None:
                    self._ray.kill(task.slot.actor, no_restart=False)  # Ray restarts it, without models
                else:
                    self._ray.cancel(task.ref, force=True)

    def _route(self, messages: list[tuple]) -> None:
        from engine.events import Notice, Preview, Progress

        for message in messages:
            with self._lock:
                task = self._tasks.get(message[1])
            if task is None:
                continue
            if message[0] == "begin":
                _, _, pid, node_id, node = message
                with self._lock:
                    task.pid, task.node = pid, self._names.get(node_id, node)
                    task.attempts += 1
                if task.died_on:
                    text = (
                        f"{label(task.request.job)}: worker on {task.died_on} died, "
                        f"retrying on {task.node} ({task.tries} of {MAX_TRIES})"
                    )
                    task.on_event(Notice(task.request.job_id, text))
                continue
            _, job_id, step, total, eta, preview_png = message
            task.state = f"step {step}/{total}"
            task.on_event(Progress(job_id, step, total, eta))
            if preview_png is not None:
                task.on_event(Preview(job_id, _decode_png(preview_png), step))

    def _finish(self, task: Task) -> None:
        from engine.events import Cancelled, Failed

        ray = self._ray
        job = task.request.job
        job_id = task.request.job_id
        outcome: Event | FarmOutput
        try:
            outcome = self._outcome(task, ray.get(task.ref))
        except ray.exceptions.TaskCancelledError:
            outcome = Cancelled(job_id)
        except ray.exceptions.RayTaskError as exc:
            # The job function itself raised (it catches every job error): Pinframe is
            # missing or broken on that node.
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            outcome = Failed(
                job_id,
                f"{label(job)} could not run on the farm: {type(cause).__name__}: {cause}. Every Ray worker "
                "needs the same Pinframe version and Python packages as this machine.",
                str(exc),
            )
        except ray.exceptions.RayError as exc:
            # The worker process (or its node) died under the job.
            if task.request.cancel.is_set():
                outcome = Cancelled(job_id)
            elif task.tries < MAX_TRIES:
                self._retry(task)
                return
            else:
                outcome = Failed(job_id, _died_message(job, task, exc), str(exc))
        except Exception as exc:  # noqa: BLE001 - a job's failure must never stop the farm
            outcome = Failed(job_id, f"{label(job)} failed on the farm: {exc}", traceback.format_exc())
        self._end(task, outcome)

    def _retry(self, task: Task) -> None:
        with self._lock:
            task.died_on = task.node or (task.slot.node if task.slot else "an unknown node")
            task.pid = None
            if task.slot is None:
                self._submit(task)  # a CPU task: Ray places it
                return
            self._lose(task.slot)
            task.slot = self._pick(task.request.job, avoid_node=task.died_on)
            if task.slot is None:
                task.waiting = True
            else:
                task.slot.task = task
                self._submit(task)
            self._lock.notify_all()

    def _lose(self, slot: Slot) -> None:
        """A GPU actor's process died: it takes no jobs until Ray has restarted it (under the lock)."""
        slot.task, slot.up, slot.resident = None, False, ()
        self._reviving[slot.actor.info.remote()] = slot

    def _end(self, task: Task, outcome: Event | FarmOutput) -> None:
        job_id = task.request.job_id
        self._hub.forget.remote(job_id)
        self._pins.release(task.pins)
        with self._lock:
            slot = task.slot
            if slot is not None and slot.task is task:
                slot.task = None
                if task.cancel_sent_at == float("inf"):
                    self._lose(slot)  # killed to stop it
                self._dispatch_waiting()
            self._tasks.pop(job_id, None)
            self._attempts_of_ended[job_id] = task.attempts
            self._lock.notify_all()
        try:
            task.on_done(outcome)
        except Exception:  # noqa: BLE001
            traceback.print_exc()

    def _outcome(self, task: Task, value: dict) -> Event | FarmOutput:
        from engine.events import Cancelled, Failed, Notice

        job_id = task.request.job_id
        job = task.request.job
        slot = task.slot
        if slot is not None:
            with self._lock:
                self._loads_by_pid[value["pid"]] = value["loads"]
                slot.jobs += 1
                slot.resident = tuple(value.get("resident", ()))
                if value.get("located"):
                    slot.known[value["located"]] = (job.model.key, job.model.model_id or job.model.backend)
        status = value.get("status")
        if status == "cancelled":
            return Cancelled(job_id)
        if status == "failed":
            return Failed(job_id, value["message"], value.get("detail", ""))
        runtime = value.get("runtime", "")
        if runtime and job.model.needs_model:
            with self._lock:
                self._runtimes[task.request.settings] = runtime
        results = tuple(result_from_dict(r) for r in value["results"])

        def say(text: str) -> None:
            task.on_event(Notice(job_id, f"{label(job)}: {text} from {task.node}"))

        return FarmOutput(results, transport.writer(self._ray, value, self.transferred, say), runtime)


def _decode_png(data: bytes):
    import cv2
    import numpy as np

    image = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    image.setflags(write=False)
    return image


def _died_message(job: ModelJob, task: Task, exc: BaseException) -> str:
    where = f" on node {task.node}" if task.node else ""
    return (
        f"{label(job)} failed on the farm: its Ray worker process died{where} on all {MAX_TRIES} tries "
        f"({type(exc).__name__}), so it was not retried again. Usual causes are the node running out of memory "
        "or a crash in the model; see that node's logs under /tmp/ray/session_latest/logs."
    )
