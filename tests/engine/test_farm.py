"""The engine on a Ray cluster: one local cluster (2 CPU workers) for the whole module.

Farm renders must be indistinguishable from local ones: the same cache keys and files, the
same clips in the bundle, the same events. Workers that die get their job retried (3 tries in all);
jobs that fail are reported, not retried.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import ray

from app.bundle import Bundle
from app.video import read_frames
from engine.backends.cpu_motion import FlowMotion
from engine.devices import DeviceSettings
from engine.errors import ModelFolderError
from engine.events import Cancelled, Failed, Finished, Notice, Preview, Progress, Queued, Started
from engine.farm import RayExecutor
from engine.farm.worker import locate_model
from engine.jobs import KeyframeJob, ModelSpec
from engine.loader import load_backend
from engine.runtime import Engine
from tests.app.test_cli_engine import small_project
from tests.engine.farm_cluster import wait_until
from tests.engine.test_runtime import clip_job, run, sketch_job

ROOT = Path(__file__).resolve().parents[2]
CPU = DeviceSettings(device="cpu", precision="fp32")
# The loaders below run on the workers, which can't import this module by pytest's name for it.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module", autouse=True)
def cluster():
    if ray.is_initialized():
        ray.shutdown()
    # Workers import Pinframe (and these tests' loaders) from this checkout.
    ray.init(
        address="local",  # a new cluster, never one that happens to run on this machine
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    yield
    ray.shutdown()


def this_cluster() -> dict[str, str]:
    """The environment that makes `--ray auto` in a subprocess join this module's cluster, not
    another one that happens to run on this machine (Ray would pick the newest)."""
    return {"RAY_ADDRESS": ray.get_runtime_context().gcs_address}


def farm_engine(cache: Path, **executor) -> Engine:
    return Engine(cache, CPU, preview_every=1, executor=RayExecutor(None, **executor))


@pytest.fixture
def farm(tmp_path: Path):
    engine = farm_engine(tmp_path / "farm-cache")
    yield engine
    engine.shutdown()


def local_engine(cache: Path) -> Engine:
    return Engine(cache, CPU, budget_bytes=1 << 34, preview_every=1)


def entries(cache: Path) -> dict[str, bytes]:
    """Every file of every cache entry, by path relative to the cache (keys included)."""
    return {
        str(p.relative_to(cache)): p.read_bytes()
        for p in sorted(cache.glob("??/*/**/*"))
        if p.is_file() and p.name != "result.json"
    }


def test_flow_jobs_on_the_farm_make_the_same_cache_entries_as_a_local_engine(farm, tmp_path):
    jobs = [clip_job(tmp_path, frames=20 + 4 * i, pins=((0, i), (10, i + 10), (19 + 4 * i, i + 20))) for i in range(4)]
    stream = farm.events()
    ids = [farm.submit(job) for job in jobs]
    events = list(stream.until_done(set(ids), timeout=120))
    stream.close()
    for job_id in ids:
        mine = [e for e in events if e.job_id == job_id]
        assert type(mine[0]) is Queued and type(mine[1]) is Started and type(mine[-1]) is Finished, mine
        assert all(type(e) in (Progress, Preview) for e in mine[2:-1])
        steps = [e.step for e in mine if isinstance(e, Progress)]
        assert steps and steps == sorted(steps), steps
    assert farm.executor.attempts(ids[0]) == 1

    local = local_engine(tmp_path / "local-cache")
    try:
        for job in jobs:
            assert isinstance(run(local, job)[-1], Finished)
    finally:
        local.shutdown()
    farm_files, local_files = entries(tmp_path / "farm-cache"), entries(tmp_path / "local-cache")
    assert len(farm_files) == sum(j.frame_count for j in jobs)
    assert farm_files.keys() == local_files.keys(), "same cache keys"
    assert farm_files == local_files, "same frames, byte for byte"

    # A farm render is a cache hit for a local engine on the same cache.
    again = local_engine(tmp_path / "farm-cache")
    try:
        assert all(run(again, job)[-1].cached for job in jobs)
    finally:
        again.shutdown()


def test_a_multi_shot_render_through_the_cli_gives_the_same_bundle(tmp_path, monkeypatch, capsys):
    from main import main

    original = small_project(tmp_path / "S.pinframe", tmp_path)
    for name in ("local", "farm", "later"):
        shutil.copytree(original, tmp_path / name / "S.pinframe")
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))

    monkeypatch.setenv("PINFRAME_CACHE_DIR", str(tmp_path / "local-cache"))
    assert main(["render", str(tmp_path / "local" / "S.pinframe")]) == 0
    local_out = capsys.readouterr()

    monkeypatch.setenv("PINFRAME_CACHE_DIR", str(tmp_path / "farm-cache"))
    # "auto": this process is already connected to the module's cluster; the engine uses it.
    assert main(["render", str(tmp_path / "farm" / "S.pinframe"), "--ray", "auto"]) == 0
    farm_out = capsys.readouterr()
    assert farm_out.out == local_out.out == "rendered 2 of 2 shot(s) with Optical flow (CPU)\n"
    assert "farm: Ray cluster 'auto'" in farm_out.err and "Shot 1: done" in farm_out.err

    # The farm's results, in a plain local render afterwards: every shot comes from the cache.
    assert main(["render", str(tmp_path / "later" / "S.pinframe")]) == 0
    later_out = capsys.readouterr()
    assert later_out.err.count("done (from cache)") == 2, later_out.err

    clips, paths = {}, {}
    for name in ("local", "farm", "later"):
        bundle, project, _ = Bundle.open(tmp_path / name / "S.pinframe", readonly=True)
        bundle.close()
        taken = [(s.number, s.current_clip_take) for s in project.shots() if s.current_clip_take is not None]
        clips[name] = [(n, t.inputs_hash, t.frame_count, t.backend) for n, t in taken]
        paths[name] = [tmp_path / name / "S.pinframe" / t.media.relpath for _, t in taken]
    assert len(clips["local"]) == 2
    assert clips["farm"] == clips["local"] == clips["later"], "the same takes of the same inputs"
    # The frames the clips were encoded from are the same files under the same cache keys...
    assert entries(tmp_path / "farm-cache" / "engine") == entries(tmp_path / "local-cache" / "engine")
    # ...but libx264 doesn't always encode the same frames to the same bytes (two local renders
    # can differ too), so the movies are compared by their pictures.
    for farm_clip, local_clip in zip(paths["farm"], paths["local"], strict=True):
        farm_frames, local_frames = list(read_frames(farm_clip)), list(read_frames(local_clip))
        assert len(farm_frames) == len(local_frames)
        for a, b in zip(farm_frames, local_frames, strict=True):
            assert np.abs(a.astype(int) - b.astype(int)).mean() < 3.0  # two encodes at crf 14


def test_an_ltx2_shot_with_sound_renders_on_the_farm_as_it_does_here(tmp_path, monkeypatch, capsys, tiny_ltx2_dir):
    """The director's path for a current video model on the farm: the project's motion model is a
    registered LTX-2 folder, and the farm's clip (picture and sound) is what a local render makes."""
    from main import main

    original = small_project(tmp_path / "S.pinframe", tmp_path)
    for name in ("local", "farm"):
        shutil.copytree(original, tmp_path / name / "S.pinframe")
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    assert main(["models", "add", str(tiny_ltx2_dir), "--kind", "motion"]) == 0
    model_id = capsys.readouterr().out.split()[1]
    args = ["--shots", "1", "--steps", "2", "--work-pixels", "4096", "--set", "sound=true"]
    made = {}
    for name, farm in (("local", []), ("farm", ["--ray", "auto"])):
        path = tmp_path / name / "S.pinframe"
        monkeypatch.setenv("PINFRAME_CACHE_DIR", str(tmp_path / f"{name}-cache"))
        assert main(["motion", str(path), model_id]) == 0
        assert main(["render", str(path), *args, *farm]) == 0
        bundle, project, _ = Bundle.open(path, readonly=True)
        bundle.close()
        clip = next(project.shots()).current_clip_take
        assert clip.backend == "ltx2" and clip.audio is not None and dict(clip.settings)["sound"] is True
        made[name] = (clip, path)
    assert "farm: Ray cluster 'auto'" in capsys.readouterr().err
    (local, local_path), (farm, farm_path) = made["local"], made["farm"]
    assert farm.inputs_hash == local.inputs_hash and farm.settings == local.settings
    assert (farm_path / farm.audio.relpath).read_bytes() == (local_path / local.audio.relpath).read_bytes()
    for a, b in zip(
        read_frames(farm_path / farm.media.relpath), read_frames(local_path / local.media.relpath), strict=True
    ):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 3.0  # two encodes at crf 14


def test_the_cli_connects_to_a_running_cluster_by_address(tmp_path):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    env = {
        **os.environ,
        **this_cluster(),
        "PINFRAME_CACHE_DIR": str(tmp_path / "cache"),
        "PINFRAME_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "main.py", "keyframes", str(path), "--shot", "3", "--variations", "2", "--seed", "4"]
        + ["--pin", "0", "--ray", "auto"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "seeds 4, 5" in done.stdout and "farm: Ray cluster" in done.stderr
    bad = subprocess.run(
        [sys.executable, "main.py", "render", str(path), "--ray", "ray://127.0.0.1:1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "could not connect to the Ray cluster at 'ray://127.0.0.1:1'" in bad.stderr
    assert "ray start --head" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_tiny_model_keyframe_job_on_the_farm_matches_a_local_one(farm, tmp_path, tiny_sd_dir):
    job = KeyframeJob(ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"), "a red car", (3, 4), 96, 64, steps=2)
    finished = run(farm, job, timeout=120)[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    local = local_engine(tmp_path / "local-cache")
    try:
        mine = run(local, job, timeout=120)[-1]
    finally:
        local.shutdown()
    assert entries(tmp_path / "farm-cache") == entries(tmp_path / "local-cache")
    assert [Path(o.path).read_bytes() for o in finished.outputs] == [Path(o.path).read_bytes() for o in mine.outputs]
    again = local_engine(tmp_path / "farm-cache")
    try:
        assert run(again, job)[-1].cached
    finally:
        again.shutdown()


# --- workers that die, jobs that fail ---------------------------------------------------------
class KillsItsWorker(FlowMotion):
    """Renders like flow, except a job labelled "crash" kills its own worker process mid-job."""

    def render(self, job, pins, reporter):
        if job.label == "crash":
            reporter.step(1, 10)
            time.sleep(0.3)  # let the progress reach the engine
            os.kill(os.getpid(), signal.SIGKILL)
        return super().render(job, pins, reporter)


def crashing_loader(spec, settings):
    return KillsItsWorker() if spec.backend == "flow" else load_backend(spec, settings)


def raising_loader(spec, settings):
    raise RuntimeError("weights are corrupt")


def long_clip(tmp_path: Path, **kw):
    # About 3-6 s of optical flow on one core: long enough to act on mid-job.
    return clip_job(tmp_path, frames=160, size=(480, 270), pins=((0, 51), (159, 52)), **kw)


def test_a_worker_killed_mid_job_gets_the_job_retried_and_it_finishes(farm, tmp_path):
    job = long_clip(tmp_path, label="Shot 1")
    stream = farm.events()
    job_id = farm.submit(job)
    wait_until(lambda: any(isinstance(e, Progress) and e.job_id == job_id for e in list(stream._queue.queue)), 60)
    pid = farm.executor.worker_pid(job_id)
    assert pid is not None and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    events = [e for e in stream.until_done({job_id}, timeout=120) if e.job_id == job_id]
    stream.close()
    assert isinstance(events[-1], Finished), events[-1]
    assert farm.executor.attempts(job_id) == 2, "retried once, on a fresh worker"
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert re.fullmatch(r"Shot 1: worker on .+ died, retrying on .+ \(2 of 3\)", notices[0]), notices
    local = local_engine(tmp_path / "local-cache")
    try:
        assert isinstance(run(local, job)[-1], Finished)
    finally:
        local.shutdown()
    assert entries(tmp_path / "farm-cache") == entries(tmp_path / "local-cache"), "the retry's frames are whole"


def test_a_job_that_kills_its_worker_on_every_try_is_reported_failed_not_retried_forever(tmp_path):
    engine = farm_engine(tmp_path / "cache", loader=crashing_loader)
    try:
        crash = clip_job(tmp_path, label="crash")
        failed = run(engine, crash, timeout=120)[-1]
        assert isinstance(failed, Failed), failed
        assert "crash" in failed.message and "died" in failed.message and "all 3 tries" in failed.message
        assert "not retried again" in failed.message
        assert engine.executor.attempts(failed.job_id) == 3
        # The farm goes on.
        assert isinstance(run(engine, clip_job(tmp_path, label="fine"), timeout=60)[-1], Finished)
    finally:
        engine.shutdown()


def test_an_error_in_the_job_fails_it_at_once_with_the_local_message(tmp_path):
    engine = farm_engine(tmp_path / "cache", loader=raising_loader)
    try:
        failed = run(engine, clip_job(tmp_path), timeout=60)[-1]
        assert isinstance(failed, Failed)
        assert "the flow backend failed on farm node" in failed.message and "weights are corrupt" in failed.message
        assert "RuntimeError" in failed.detail
        assert engine.executor.attempts(failed.job_id) == 1, "errors in the job are not retried"
    finally:
        engine.shutdown()


def test_a_model_missing_on_the_workers_fails_naming_it_and_what_to_do(farm, tmp_path):
    spec = ModelSpec("text2image", str(tmp_path / "nowhere" / "sd"), "if-i-xl", revision="main")
    failed = run(farm, KeyframeJob(spec, "a car", (1,), 64, 64), timeout=60)[-1]
    assert isinstance(failed, Failed)
    assert "if-i-xl" in failed.message and "is not on farm node" in failed.message
    assert "pinframe models download if-i-xl" in failed.message


def test_a_missing_pin_image_fails_before_it_is_sent(farm, tmp_path):
    job = clip_job(tmp_path)
    Path(job.pins[0].path).unlink()
    failed = run(farm, job)[-1]
    assert isinstance(failed, Failed) and Path(job.pins[0].path).name in failed.message


def test_cancel_a_running_farm_job_stops_it_within_a_step_and_the_worker_lives_on(farm, tmp_path):
    stream = farm.events()
    job_id = farm.submit(long_clip(tmp_path))
    wait_until(lambda: any(isinstance(e, Progress) and e.job_id == job_id for e in list(stream._queue.queue)), 60)
    pid = farm.executor.worker_pid(job_id)
    assert farm.running_jobs() == [job_id]
    cancelled_at = time.monotonic()
    assert farm.cancel(job_id)
    events = [e for e in stream.until_done({job_id}, timeout=30) if e.job_id == job_id]
    stream.close()
    assert isinstance(events[-1], Cancelled)
    assert time.monotonic() - cancelled_at < 5, "the step callback took the flag"
    assert not list((farm.cache.root / ".staging").glob("*")) and not list(farm.cache.root.glob("??"))
    os.kill(pid, 0)  # the worker process (and any model it holds) is still there
    assert farm.running_jobs() == []
    assert isinstance(run(farm, clip_job(tmp_path), timeout=60)[-1], Finished)


def test_jobs_wait_in_the_engine_past_the_farm_capacity_and_cancel_anywhere(tmp_path):
    # Two CPUs: two jobs run, the rest wait Queued in the engine (none "started" in Ray's queue).
    engine = farm_engine(tmp_path / "cache")
    try:
        assert engine.executor.capacity() == 2
        stream = engine.events()
        # Distinct and long (they are cancelled long before they'd end).
        farmed = [
            engine.submit(clip_job(tmp_path, frames=800, size=(480, 270), pins=((0, 60 + i), (799, 70 + i))))
            for i in range(3)
        ]
        in_engine = engine.submit(clip_job(tmp_path, label="in the engine's queue"))
        wait_until(lambda: sum(engine.executor.worker_pid(j) is not None for j in farmed) == 2, 60)
        running, waiting = farmed[:2], farmed[2]
        assert engine.queued_jobs() == [waiting, in_engine] and sorted(engine.running_jobs()) == sorted(running)
        assert engine.cancel(waiting) and engine.cancel(in_engine)
        events = list(stream.until_done({waiting, in_engine}, timeout=30))
        assert [type(e) for e in events if e.job_id == in_engine] == [Queued, Cancelled]
        assert [type(e) for e in events if e.job_id == waiting] == [Queued, Cancelled]
        assert sorted(engine.running_jobs()) == sorted(running), "the running jobs were not touched"
        for job_id in running:
            engine.cancel(job_id)
        events = list(stream.until_done(set(running), timeout=30))
        assert all(isinstance([e for e in events if e.job_id == j][-1], Cancelled) for j in running)
    finally:
        engine.shutdown()


# --- finding the model on a worker (no cluster needed) ---------------------------------------------
def test_locate_model_uses_shared_storage_then_the_nodes_hub_cache_then_says_what_to_do(tmp_path, monkeypatch):
    from huggingface_hub import constants

    shared = tmp_path / "shared" / "ltx"
    shared.mkdir(parents=True)
    spec = ModelSpec("ltx", str(shared), "ltx-video")
    assert locate_model(spec) == spec, "a folder every node mounts at the same place is used as it is"
    assert locate_model(ModelSpec("flow")) == ModelSpec("flow")

    commit = "a" * 40
    elsewhere = f"/home/director/.cache/huggingface/hub/models--Lightricks--LTX-Video/snapshots/{commit}"
    here = tmp_path / "hub" / "models--Lightricks--LTX-Video" / "snapshots" / commit
    here.mkdir(parents=True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    found = locate_model(ModelSpec("ltx", elsewhere, "ltx-video", revision=commit))
    assert found.path == str(here), "the same repo and commit in this node's Hugging Face cache"

    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(ModelFolderError, match="pinframe models download ltx-video"):
        locate_model(ModelSpec("ltx", "/nowhere/ltx", "ltx-video", revision="b" * 40))


def test_the_farm_ships_each_distinct_pin_image_once(tmp_path):
    executor = RayExecutor(None)
    try:
        job = clip_job(tmp_path)
        a = executor._pins.put(job.pins[0].path)
        b = executor._pins.put(job.pins[0].path)
        assert a == b and executor._pins.held[a[0]][2] == 2
        executor._pins.release([a[0], b[0]])
        assert executor._pins.held == {}
        sha, meta, refs = a
        assert meta == {"sha": sha, "chunks": len(refs)}
        assert b"".join(ray.get(refs)) == Path(job.pins[0].path).read_bytes()
    finally:
        executor.close()


def test_sketch_keyframes_on_the_farm_send_progress_and_previews(farm):
    events = run(farm, sketch_job(seeds=(1, 2)))
    assert isinstance(events[-1], Finished) and [o.seed for o in events[-1].outputs] == [1, 2]
    assert [e.step for e in events if isinstance(e, Progress)] == [1, 2]
    previews = [e for e in events if isinstance(e, Preview)]
    assert previews and all(max(p.image.shape[:2]) <= 160 and p.image.shape[2] == 3 for p in previews)


def test_ctrl_c_during_a_farm_render_keeps_the_finished_clip_and_stops_at_once(tmp_path):
    """Ctrl-C (to the whole process group, as a terminal sends it) right as shot 1's clip arrives from
    the farm: that clip is saved, shot 2 is cancelled, and the command ends without a minute's wait."""
    path = small_project(tmp_path / "S.pinframe", tmp_path, size=(640, 360), duration=240, second=2400)
    env = {
        **os.environ,
        **this_cluster(),
        "PINFRAME_CACHE_DIR": str(tmp_path / "c"),
        "PINFRAME_DATA_DIR": str(tmp_path / "d"),
    }
    proc = subprocess.Popen(
        [sys.executable, "main.py", "render", str(path), "--model", "crossfade", "--ray", "auto"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    seen, deadline = "", time.monotonic() + 180
    while "Shot 1: done" not in seen:
        assert time.monotonic() < deadline and proc.poll() is None, seen
        seen += proc.stderr.readline()
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 30 and "within a minute" not in err, err
    assert "kept clips for shot(s) 1" in err and err.splitlines()[-1] == "pinframe: cancelled Shot 2", err
    bundle, project, _ = Bundle.open(path, readonly=True)
    bundle.close()
    first, second, _ = project.shots()
    assert first.current_clip is not None and second.current_clip is None
