"""The farm scheduled in GPUs, on a local three-node cluster with fake GPUs (tests/engine/farm_cluster.py).

One actor per GPU that keeps its models and its GPU between jobs; at most one model job per GPU
started, the rest Queued; GPU type and memory filters; nodes with another Pinframe refused by
name; a dead GPU worker's job retried on another node with a notice; clips through a shared
folder byte for byte the same as streamed ones.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
import ray

from engine.backends.sketch import SketchBackend
from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.events import Failed, Finished, Notice, Started
from engine.farm import RayExecutor
from engine.farm.transport import measure
from engine.jobs import KeyframeJob, ModelSpec
from engine.runtime import Engine
from tests.engine import farm_cluster
from tests.engine.farm_cluster import FAKE_GPU, HUBS, add_outdated_node, pickle_by_value, wait_until
from tests.engine.test_farm import entries
from tests.engine.test_runtime import clip_job, run

CPU = DeviceSettings(device="cpu", precision="fp32")
# Where the workers' loaders leave a mark: a folder fixed when this module is imported (the
# loaders travel to the workers by value, this path with them).
MARKS = Path(tempfile.mkdtemp(prefix="pinframe-farm-marks-"))
pickle_by_value(__name__)
gpu_cluster = farm_cluster.gpu_cluster  # the module's cluster, started once


def counting_loader(spec, settings):
    """A "model" that draws sketch cards (quick to load and run), leaving one line per load
    (pid, model) in MARKS/loads."""
    with open(MARKS / "loads", "a") as f:
        f.write(f"{os.getpid()} {spec.model_id}\n")
    return SketchBackend()


class DiesOnce(SketchBackend):
    """Sketch keyframes, except a job labelled ``dies`` kills its worker process the first time."""

    dies, mark_name = "dies once", "died"

    def generate(self, job, out, reporter):
        mark = MARKS / self.mark_name
        if job.label == self.dies and not mark.exists():
            mark.touch()
            reporter.step(1, 4)
            os.kill(os.getpid(), signal.SIGKILL)
        return super().generate(job, out, reporter)


def dies_once_loader(spec, settings):
    return DiesOnce()


def loads_on_workers() -> list[str]:
    path = MARKS / "loads"
    return path.read_text().splitlines() if path.exists() else []


def model_job(model_dir: Path, seed: int, label: str = "") -> KeyframeJob:
    spec = ModelSpec("text2image", str(model_dir), "tiny-sd")
    return KeyframeJob(spec, "a red car", (seed,), 64, 64, steps=2, label=label or f"Shot {seed}")


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-sd"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    return folder


def pids_and_gpus(executor: RayExecutor) -> dict[int, str]:
    """Each GPU actor's process and CUDA_VISIBLE_DEVICES, asked of the actors themselves."""
    infos = ray.get([slot.actor.info.remote() for slot in executor._slots])
    return {info["pid"]: info["cuda_visible_devices"] for info in infos}


def test_model_jobs_run_one_per_gpu_on_actors_that_keep_their_gpu_and_their_model(gpu_cluster, tmp_path, model_dir):
    # Ray's own GPUs (node-2's two): Ray pins each actor to one with CUDA_VISIBLE_DEVICES.
    executor = RayExecutor(None, gpu_resource="GPU", loader=counting_loader)
    engine = Engine(tmp_path / "cache", CPU, preview_every=1, executor=executor)
    try:
        assert executor.nodes() == {"head": 0, "node-1": 0, "node-2": 2}
        assert [(g.node, g.index, g.doing, g.models) for g in executor.gpus()] == [
            ("node-2", 0, "idle", ()),
            ("node-2", 1, "idle", ()),
        ]
        assert "2 GPU(s) for model jobs" in executor.describe() and "3 CPU slot(s)" in executor.describe()
        pinned = pids_and_gpus(executor)
        assert sorted(pinned.values()) == ["0", "1"], pinned

        # As each job starts (listeners run under the engine's lock): jobs on the farm, jobs still Queued.
        at_start: list[tuple[int, int]] = []
        unsubscribe = engine.subscribe(
            lambda e: isinstance(e, Started) and at_start.append((len(executor.running()), len(engine.queued_jobs())))
        )
        stream = engine.events()
        ids = [engine.submit(model_job(model_dir, seed)) for seed in range(4)]
        for event in stream.until_done(set(ids), timeout=240):
            assert not event.terminal or isinstance(event, Finished), getattr(event, "detail", event)
        unsubscribe()
        # Never a third job on the two GPUs; the second started with the last two waiting Queued.
        assert max(on_farm for on_farm, _ in at_start) == 1 and (1, 2) in at_start, at_start

        # A second render with the same connection: the models are still there.
        assert all(isinstance(run(engine, model_job(model_dir, seed), timeout=120)[-1], Finished) for seed in (7,))
        assert executor.model_loads == 2, "one load per (model, GPU), not per job"
        loads = loads_on_workers()
        assert len(loads) == 2 and {line.split()[0] for line in loads} == {str(p) for p in pinned}, loads
        assert [g.models for g in executor.gpus()] == [("tiny-sd",), ("tiny-sd",)]

        # Another model loads on one GPU; its next job goes there, though the other GPU holds less.
        other = tmp_path / "other"
        shutil.copytree(model_dir, other)
        spec = ModelSpec("text2image", str(other), "other")
        for seed in (1, 2):
            job = KeyframeJob(spec, "a car", (seed,), 64, 64)
            assert isinstance(run(engine, job, timeout=120)[-1], Finished)
        assert executor.model_loads == 3
        assert sorted(g.models for g in executor.gpus()) == [("tiny-sd",), ("tiny-sd", "other")]
        assert pids_and_gpus(executor) == pinned, "the same processes on the same GPUs throughout"
        stream.close()
    finally:
        engine.shutdown()


def test_gpu_type_and_memory_choose_which_gpus_get_jobs(gpu_cluster):
    big = RayExecutor(None, gpu_resource=FAKE_GPU, min_vram_gb=40)
    try:
        assert [(g.node, g.name, g.vram_gb) for g in big.gpus()] == [("node-1", "fake GPU", 80.0)] * 2
        assert big.nodes() == {"head": 0, "node-1": 2, "node-2": 0} and big.capacity() == 2 + 3
    finally:
        big.close()
    with pytest.raises(EngineError, match=r"no GPU of type A100 \(its nodes have H100, L4\)"):
        RayExecutor(None, gpu_resource=FAKE_GPU, accelerator_type="A100")
    # Only the L4s are asked (24 GB), not the H100s (80 GB).
    with pytest.raises(EngineError, match=r"no GPU on the farm has 100 GB of memory \(the largest has 24 GB\)"):
        RayExecutor(None, gpu_resource=FAKE_GPU, accelerator_type="L4", min_vram_gb=100)
    # Refused executors let their GPUs go (Ray frees a killed actor's resources shortly after).
    wait_until(lambda: ray.available_resources().get(FAKE_GPU) == 4, 30)


def test_a_node_with_another_pinframe_version_is_refused_by_name(gpu_cluster):
    node = add_outdated_node(gpu_cluster, "0.0.9")
    try:
        with pytest.raises(EngineError) as refused:
            RayExecutor(None, gpu_resource=FAKE_GPU)
        from app import __version__

        assert str(refused.value) == (
            f"node-3 runs Pinframe 0.0.9, this machine {__version__}: install the same version there"
        )
    finally:
        gpu_cluster.remove_node(node)


def test_a_gpu_worker_killed_mid_job_is_retried_on_another_node_with_a_notice(gpu_cluster, tmp_path):
    executor = RayExecutor(None, gpu_resource=FAKE_GPU, loader=dies_once_loader)
    engine = Engine(tmp_path / "cache", CPU, preview_every=1, executor=executor)
    try:
        job = KeyframeJob(ModelSpec("text2image", str(tmp_path), "any"), "a car", (1,), 64, 64, label="dies once")
        events = run(engine, job, timeout=120)
        assert isinstance(events[-1], Finished), events[-1]
        (notice,) = [e for e in events if isinstance(e, Notice)]
        match = re.fullmatch(r"dies once: worker on (node-\d) died, retrying on (node-\d) \(2 of 3\)", notice.text)
        assert match and match.group(1) != match.group(2), notice.text
        assert executor.attempts(events[-1].job_id) == 2
        # Ray restarts the dead GPU's actor; the farm takes it back.
        wait_until(lambda: all(g.doing == "idle" for g in executor.gpus()), 60)
        assert len(executor.gpus()) == 4

        # A model whose copies differ between the nodes' caches is refused before it runs anywhere.
        commit = "c" * 40
        for node, weights in (("node-1", b"one"), ("node-2", b"two")):
            snapshot = HUBS / node / "models--acme--tiny" / "snapshots" / commit
            snapshot.mkdir(parents=True)
            (snapshot / "unet.safetensors").write_bytes(weights)
        spec = ModelSpec("text2image", f"/home/director/hub/models--acme--tiny/snapshots/{commit}", "acme-tiny")
        failed = run(engine, KeyframeJob(spec, "a car", (1,), 64, 64), timeout=60)[-1]
        assert isinstance(failed, Failed) and failed.message == (
            "node-2 has other files for model acme-tiny than node-1: copy the same folder there "
            "(or download the same revision with `pinframe models download`)"
        )
        assert executor.attempts(failed.job_id) == 0
    finally:
        engine.shutdown()


def test_clips_through_a_shared_folder_are_the_same_bytes_as_streamed_ones(gpu_cluster, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    jobs = [clip_job(tmp_path, frames=12, pins=((0, i), (11, i + 5))) for i in range(2)]
    made = {}
    for name, options in (("shared", {"shared_root": shared}), ("streamed", {})):
        executor = RayExecutor(None, gpus_per_job=0, **options)
        engine = Engine(tmp_path / f"{name}-cache", CPU, executor=executor)
        try:
            assert all(isinstance(run(engine, job, timeout=120)[-1], Finished) for job in jobs)
            made[name] = dict(executor.transferred)
            if name == "shared":
                assert len(list((shared / "pins").iterdir())) == 4, "each pin image written there once"
                assert list((shared / "outputs").iterdir()) == [], "clips taken into the cache, then cleared"
            speed = measure(executor, 2)
            via = "shared folder" if name == "shared" else "Ray objects"
            assert speed["to_workers"] > 0 and speed["from_workers"] > 0 and speed["via"] == via
        finally:
            engine.shutdown()
    assert made["shared"]["streamed_bytes"] == 0 and made["streamed"]["shared_bytes"] == 0
    assert made["shared"]["shared_bytes"] == made["streamed"]["streamed_bytes"] > 0
    assert entries(tmp_path / "shared-cache") == entries(tmp_path / "streamed-cache")


class CountsAndDiesOnce(DiesOnce):
    """counting_loader's model, except shot 7 kills its worker process the first time it runs."""

    dies, mark_name = "Shot 7", "shot-7-died"


def counts_and_dies_once_loader(spec, settings):
    counting_loader(spec, settings)
    return CountsAndDiesOnce()


def test_twenty_shots_on_four_gpus_load_each_model_once_per_worker_and_a_killed_worker_is_retried(
    gpu_cluster, tmp_path
):
    """Issue 19's done-when: 20 shots with two models on a 4-GPU cluster; each worker process loads each
    model at most once; the shot whose worker is killed is retried elsewhere with a message; all 20 finish."""
    (MARKS / "loads").unlink(missing_ok=True)
    executor = RayExecutor(None, gpu_resource=FAKE_GPU, loader=counts_and_dies_once_loader)
    engine = Engine(tmp_path / "cache", CPU, preview_every=1, executor=executor)
    try:
        assert len(executor.gpus()) == 4 and executor.nodes() == {"head": 0, "node-1": 2, "node-2": 2}
        models = [tmp_path / "model-a", tmp_path / "model-b"]
        for folder in models:
            folder.mkdir()
            (folder / "model_index.json").write_text("{}")
        jobs = [
            KeyframeJob(ModelSpec("text2image", str(models[n % 2]), f"model-{'ab'[n % 2]}"), f"shot {n}", (n,), 64, 64,
                        steps=2, label=f"Shot {n}")
            for n in range(1, 21)
        ]  # fmt: skip
        stream = engine.events()
        ids = [engine.submit(job) for job in jobs]
        events = list(stream.until_done(set(ids), timeout=300))
        ended = [e for e in events if e.terminal]
        assert all(isinstance(e, Finished) for e in ended) and len(ended) == 20, [
            e for e in ended if not isinstance(e, Finished)
        ]
        notices = [e.text for e in events if isinstance(e, Notice) and "died" in e.text]
        assert len(notices) == 1 and re.fullmatch(
            r"Shot 7: worker on node-\d died, retrying on node-\d \(2 of 3\)", notices[0]
        ), notices
        loads = loads_on_workers()
        assert len(loads) == len(set(loads)), f"a worker loaded a model twice: {loads}"
        # At most one load per (model, GPU) plus the restarted worker's: never one per job.
        assert len(loads) <= 2 * 4 + 2 and executor.model_loads == len(loads), loads
    finally:
        engine.shutdown()


def test_the_gpu_view_never_waits_for_the_farm(gpu_cluster, tmp_path):
    """The window asks for the GPUs every second on its GUI thread: while the farm holds its lock (handing
    a retried job to a GPU over a slow link) the last view comes back instead of a wait."""
    import threading

    executor = RayExecutor(None, gpu_resource=FAKE_GPU, loader=counting_loader)
    try:
        before = executor.gpus()
        assert len(before) == 4
        held, released, asked = threading.Event(), threading.Event(), threading.Event()

        def hold() -> None:
            with executor._lock:
                held.set()
                asked.wait(30)  # until the view came back (or a blocking gpus() would have hung here)
            released.set()

        holder = threading.Thread(target=hold)
        holder.start()
        assert held.wait(10)
        during = executor.gpus()
        assert not released.is_set(), "gpus() came back only once the lock was let go"
        asked.set()
        holder.join(10)
        assert during == before
    finally:
        executor.close()
