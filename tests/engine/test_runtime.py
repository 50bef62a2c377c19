"""The engine runtime with its real no-model backends: events, priorities, cancel, cache."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.backends.fit import fit_image, read_rgb, write_png
from engine.devices import DeviceSettings
from engine.events import Cancelled, Failed, Finished, Preview, Progress, Queued, Started
from engine.jobs import (
    ClipJob,
    KeyframeJob,
    ModelSpec,
    PinImage,
    job_from_dict,
    job_to_dict,
    result_from_dict,
    result_to_dict,
)
from engine.runtime import Engine
from tests.helpers import Reports

SKETCH = ModelSpec("sketch")


@pytest.fixture
def engine(tmp_path: Path):
    e = Engine(tmp_path / "cache", DeviceSettings(device="cpu"), budget_bytes=1 << 30, preview_every=1)
    yield e
    e.shutdown()


def pin_file(folder: Path, name: str, seed: int, size=(96, 64)) -> str:
    rng = np.random.default_rng(seed)
    image = cv2.GaussianBlur(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8), (0, 0), 2)
    path = folder / name
    write_png(path, image)
    return str(path)


def run(engine: Engine, job, timeout: float = 60):
    stream = engine.events()
    job_id = engine.submit(job)
    events = [e for e in stream.until_done({job_id}, timeout=timeout) if e.job_id == job_id]
    stream.close()
    return events


def sketch_job(**kw) -> KeyframeJob:
    base = dict(
        model=SKETCH,
        prompt="a lighthouse in a storm",
        seeds=(1, 2, 3),
        width=320,
        height=180,
        shot_size="WS",
        label="Shot 1",
    )
    base.update(kw)
    return KeyframeJob(**base)


def test_keyframe_job_events_in_order_and_outputs(engine):
    events = run(engine, sketch_job())
    kinds = [type(e) for e in events]
    assert kinds[0] is Queued and kinds[1] is Started and kinds[-1] is Finished
    assert all(k in (Progress, Preview) for k in kinds[2:-1])
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.step for p in progress] == [1, 2, 3] and {p.total for p in progress} == {3}
    assert progress[0].eta_seconds is None and progress[-1].eta_seconds is not None
    assert any(isinstance(e, Preview) and max(e.image.shape[:2]) <= 160 for e in events)
    outputs = events[-1].outputs
    assert [o.seed for o in outputs] == [1, 2, 3]
    for out in outputs:
        assert read_rgb(out.path).shape == (180, 320, 3)


def test_same_seed_same_image_different_seed_different_image(tmp_path):
    images = []
    for n in range(2):
        e = Engine(tmp_path / f"cache{n}", DeviceSettings(device="cpu"), budget_bytes=1 << 30)
        try:
            images.append([read_rgb(o.path) for o in run(e, sketch_job(seeds=(7, 8)))[-1].outputs])
        finally:
            e.shutdown()
    assert np.array_equal(images[0][0], images[1][0]), "same model, params and seed: same image"
    assert not np.array_equal(images[0][0], images[0][1]), "another seed gives another image"


def test_seeds_must_fit_32_bits():
    assert sketch_job(seeds=(2**32 - 1,)).seeds == (2**32 - 1,)
    with pytest.raises(ValueError, match="seed"):
        sketch_job(seeds=(2**32,))


def test_jobs_and_results_are_plain_serializable_records(engine, tmp_path):
    clip = ClipJob(ModelSpec("flow"), 12, 24000, 1001, 96, 64, (PinImage(0, "a.png"), PinImage(11, "b.png")))
    for job in (sketch_job(), clip):
        assert job_from_dict(json.loads(json.dumps(job_to_dict(job)))) == job
    result = run(engine, sketch_job(seeds=(5,)))[-1].outputs[0]
    assert result_from_dict(json.loads(json.dumps(result_to_dict(result)))) == result


def clip_job(tmp_path: Path, *, frames=24, backend="flow", size=(96, 64), pins=((0, 1), (23, 2)), **kw) -> ClipJob:
    pin_images = tuple(PinImage(f, pin_file(tmp_path, f"pin{f}_{s}.png", s)) for f, s in pins)
    return ClipJob(ModelSpec(backend), frames, 24, 1, size[0], size[1], pin_images, **kw)


@pytest.mark.parametrize("backend", ["flow", "hold", "crossfade"])
def test_clip_job_has_exact_frames_and_pins(engine, tmp_path, backend):
    job = clip_job(tmp_path, frames=30, backend=backend, size=(128, 72), pins=((0, 1), (14, 2), (29, 3)))
    result = run(engine, job)[-1].outputs[0]
    frames = sorted(Path(result.frames_dir).glob("frame_*.png"))
    assert len(frames) == 30 and result.frame_count == 30
    for pin in job.pins:
        expected, _ = fit_image(read_rgb(pin.path), 128, 72)
        assert np.array_equal(read_rgb(result.frame_path(pin.frame)), expected)


def test_repeated_job_is_a_cache_hit_and_changed_input_is_not(engine, tmp_path):
    job = clip_job(tmp_path)
    first = run(engine, job)[-1]
    again = run(engine, job)[-1]
    assert not first.cached and again.cached and again.outputs == first.outputs
    # New content under the same file name is a different input.
    write_png(job.pins[1].path, np.zeros((64, 96, 3), np.uint8))
    assert not run(engine, job)[-1].cached


def long_job(tmp_path: Path) -> ClipJob:
    # Big enough to keep the worker busy until the test cancels it.
    return clip_job(tmp_path, frames=2000, size=(640, 360), pins=((0, 11), (1999, 12)))


def reports_of(engine: Engine) -> Reports:
    """Every event the engine emits from now on; waits on it wake when one arrives."""
    reports = Reports()
    engine.subscribe(reports)
    return reports


def kinds(reports: Reports, kind: type, job_id: str | None = None) -> list[str]:
    """The job ids of the ``kind`` events reported so far (of one job only, with ``job_id``)."""
    return [e.job_id for e in reports.items if isinstance(e, kind) and job_id in (None, e.job_id)]


def test_interactive_keyframes_go_before_clip_renders(engine, tmp_path):
    reports = reports_of(engine)
    blocker = engine.submit(long_job(tmp_path))
    reports.wait(lambda: kinds(reports, Started) == [blocker], 30, "the long job to start")
    c1 = engine.submit(clip_job(tmp_path, pins=((0, 21), (23, 22))))
    k1 = engine.submit(sketch_job(seeds=(1,)))
    c2 = engine.submit(clip_job(tmp_path, pins=((0, 23), (23, 24))))
    k2 = engine.submit(sketch_job(seeds=(2,)))
    assert engine.queued_jobs() == [k1, k2, c1, c2]
    stream = engine.events()
    engine.cancel(blocker)
    list(stream.until_done({c1, c2, k1, k2}, timeout=60))
    assert kinds(reports, Started) == [blocker, k1, k2, c1, c2]


def test_cancel_a_queued_job_never_stops_the_running_one(engine, tmp_path):
    stream = engine.events()
    reports = reports_of(engine)
    running = engine.submit(clip_job(tmp_path, frames=200, size=(320, 180)))
    # Started first: a sketch job outranks a clip, so submitted before the worker took the clip it would run first.
    reports.wait(lambda: kinds(reports, Started, running), 30, "the clip job's start")
    queued = engine.submit(sketch_job())
    assert engine.cancel(queued)
    events = list(stream.until_done({running, queued}, timeout=60))
    assert [type(e) for e in events if e.job_id == queued] == [Queued, Cancelled]
    assert isinstance([e for e in events if e.job_id == running][-1], Finished)


def test_cancel_the_running_job_stops_it_and_the_engine_goes_on(engine, tmp_path):
    stream = engine.events()
    reports = reports_of(engine)
    running = engine.submit(long_job(tmp_path))
    reports.wait(lambda: kinds(reports, Progress, running), 30, "the long job's first step")
    assert engine.running_job == running
    cancelled_at = time.monotonic()
    assert engine.cancel(running)
    events = list(stream.until_done({running}, timeout=30))
    assert isinstance(events[-1], Cancelled)
    assert time.monotonic() - cancelled_at < 5, "stops within a step, not at the end of the job"
    assert not list((engine.cache.root / ".staging").glob("*")), "a cancelled job leaves no files"
    assert isinstance(run(engine, sketch_job(seeds=(9,)))[-1], Finished)


def test_missing_pin_image_fails_with_its_name_and_the_next_job_runs(engine, tmp_path):
    job = clip_job(tmp_path)
    Path(job.pins[0].path).unlink()
    failed = run(engine, job)[-1]
    assert isinstance(failed, Failed) and Path(job.pins[0].path).name in failed.message
    assert isinstance(run(engine, sketch_job(seeds=(3,)))[-1], Finished)


def test_a_model_folder_with_a_missing_file_fails_naming_it(engine, tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    job = clip_job(tmp_path)
    job = ClipJob(ModelSpec("ltx", str(folder)), job.frame_count, 24, 1, 96, 64, job.pins)
    failed = run(engine, job)[-1]
    assert isinstance(failed, Failed) and "model_index.json" in failed.message


def test_listeners_that_raise_do_not_stop_the_engine(engine, capsys):
    engine.subscribe(lambda e: 1 / 0)
    assert isinstance(run(engine, sketch_job(seeds=(4,)))[-1], Finished)


def test_events_reach_subscribers_from_the_worker_thread(engine):
    threads = set()
    engine.subscribe(lambda e: threads.add(threading.current_thread().name) if not isinstance(e, Queued) else None)
    run(engine, sketch_job(seeds=(6,)))
    assert threads == {"pinframe-engine"}


def test_every_event_survives_a_trip_through_json(engine):
    from engine.events import event_from_dict, event_to_dict

    events = run(engine, sketch_job(seeds=(21, 22)))
    assert {type(e).__name__ for e in events} >= {"Queued", "Started", "Progress", "Preview", "Finished"}
    for event in events:
        back = event_from_dict(json.loads(json.dumps(event_to_dict(event))))
        if isinstance(event, Preview):
            assert np.array_equal(back.image, event.image) and back.step == event.step
        else:
            assert back == event


def test_cache_key_covers_what_changes_pixels_and_nothing_else(tmp_path):
    from dataclasses import replace

    from engine.cache import job_key

    flow = clip_job(tmp_path)
    assert job_key(flow) == job_key(replace(flow, prompt="another prompt", seed=9, label="Shot 9"))
    assert job_key(flow) != job_key(replace(flow, frame_count=25))
    assert job_key(flow) != job_key(replace(flow, model=ModelSpec("crossfade")))
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.safetensors").write_bytes(b"1234")
    ltx = replace(flow, model=ModelSpec("ltx", str(model)))
    assert job_key(ltx, "cuda|torch.float16") != job_key(ltx, "cuda|torch.float32"), "precision changes pixels"
    assert job_key(ltx) != job_key(replace(ltx, prompt="another prompt"))
    before = job_key(ltx)
    weights = model / "weights.safetensors"
    stamp = weights.stat().st_mtime_ns
    weights.write_bytes(b"5678")  # replaced weights, same folder and size
    # Newer, as a real replacement is; set rather than slept for, so a coarse file clock can't tie them.
    os.utime(weights, ns=(stamp + 10**9, stamp + 10**9))
    assert job_key(ltx) != before
    sketch = sketch_job()
    assert job_key(sketch) != job_key(replace(sketch, label="Shot 2")), "sketch cards print the label"


def test_a_repeated_job_returns_at_once_while_a_long_render_runs(engine, tmp_path):
    done = run(engine, sketch_job(seeds=(31,)))[-1]
    stream = engine.events()
    reports = reports_of(engine)
    blocker = engine.submit(long_job(tmp_path))
    reports.wait(lambda: kinds(reports, Started, blocker), 30, "the long render to start")
    assert engine.running_job == blocker
    again = engine.submit(sketch_job(seeds=(31,)))
    events = [e for e in stream.until_done({again}, timeout=30) if e.job_id == again]
    assert events[-1].cached and events[-1].outputs == done.outputs
    assert engine.running_job == blocker, "the long render was not interrupted"
    engine.cancel(blocker)
