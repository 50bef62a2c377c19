"""PRXPixel keyframes on a tiny random-weight twin, loaded from a folder like a user's download."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import backend_registry as R
from engine.backends.fit import read_rgb
from engine.backends.prx_pixel import bucket_size, buckets
from engine.devices import DeviceSettings
from engine.events import Cancelled, Finished, Preview, Progress
from engine.jobs import KeyframeJob, ModelSpec
from engine.runtime import Engine
from tests.engine.test_runtime import run
from tests.engine.tiny_prx import PATCH, SAMPLE_SIZE, build_tiny_prx

CPU = DeviceSettings(device="cpu", precision="fp32")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Tiny models on a busy 2-core machine: one thread is many times faster (see tiny_models.py).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_prx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_prx(tmp_path_factory.mktemp("models") / "tiny-prx-pixel")


@pytest.fixture
def engine(tmp_path: Path):
    e = Engine(tmp_path / "cache", CPU, budget_bytes=1 << 34, preview_every=1)
    yield e
    e.shutdown()


def prx_job(folder: Path, **kw) -> KeyframeJob:
    base = dict(
        model=ModelSpec("prx-pixel", str(folder), "tiny-prx"),
        prompt="a man runs in the rain at night",
        seeds=(21, 22),
        width=160,
        height=90,
        steps=2,
        negative_prompt="text",
    )
    base.update(kw)
    return KeyframeJob(**base)


def test_a_prx_pixel_folder_is_recognised_as_its_keyframe_backend(tiny_prx_dir):
    kind = R.classify_folder(tiny_prx_dir)
    assert kind.backend.name == "prx-pixel" and kind.model_kind == "keyframe" and not kind.companion
    info = R.get_backend("prx-pixel")
    assert info.resolved_settings() == {"steps": 28, "guidance": 5.0}
    with pytest.raises(ValueError, match="guidance"):
        info.check_settings({"guidance": 0.5})  # the pipeline refuses guidance below 1: the table says so first


@pytest.mark.parametrize(
    ("shot", "bucket"),
    [
        ((1920, 1080), (1344, 768)),
        ((2390, 1000), (1440, 704)),
        ((1440, 1080), (1152, 896)),
        ((1080, 1920), (768, 1344)),
    ],
)
def test_the_shot_aspect_maps_to_the_nearest_1024_bucket(shot, bucket):
    assert bucket_size(*shot, native=1024, multiple=32) == bucket
    aspect = math.log(shot[0] / shot[1])
    best = min(abs(math.log(w / h) - aspect) for w, h in buckets())
    assert abs(math.log(bucket[0] / bucket[1]) - aspect) == pytest.approx(best)


def test_two_seeds_render_at_the_bucket_and_are_cropped_to_the_shot(engine, tiny_prx_dir):
    events = run(engine, prx_job(tiny_prx_dir))
    finished = events[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    assert [o.seed for o in finished.outputs] == [21, 22]
    # 16:9 -> the 1344x768 bucket (1.75), scaled to the tiny model's 64 px and its patch multiple.
    expected = bucket_size(160, 90, SAMPLE_SIZE, PATCH)
    assert expected == (84, 48)
    for out in finished.outputs:
        assert read_rgb(out.path).shape == (90, 160, 3)
        assert (out.generated_width, out.generated_height) == expected
        assert out.backend == "prx-pixel" and out.fit.startswith("PRXPixel 84x48") and "cropped to 160x90" in out.fit
    images = [read_rgb(o.path) for o in finished.outputs]
    assert not np.array_equal(images[0], images[1]), "each seed its own picture"
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.step for p in progress] == [1, 2, 3, 4] and progress[-1].total == 4
    preview = next(e for e in events if isinstance(e, Preview))
    assert preview.image.ndim == 3 and preview.image.shape[2] == 3
    backend = engine.pool._resident[prx_job(tiny_prx_dir).model.key]
    assert backend.encodes == 1, "the prompt is encoded once for both seeds"


def test_the_same_seed_gives_the_same_picture(tmp_path, tiny_prx_dir):
    pictures = []
    for n in range(2):
        e = Engine(tmp_path / f"c{n}", CPU, budget_bytes=1 << 34)
        try:
            finished = run(e, prx_job(tiny_prx_dir, seeds=(7,), width=96, height=96))[-1]
            assert isinstance(finished, Finished), getattr(finished, "detail", finished)
            pictures.append(read_rgb(finished.outputs[0].path))
        finally:
            e.shutdown()
    assert pictures[0].shape == (96, 96, 3)
    assert np.array_equal(pictures[0], pictures[1])


def test_cancel_stops_within_a_step_and_the_model_stays_loaded(engine, tiny_prx_dir):
    stream = engine.events()
    job_id = engine.submit(prx_job(tiny_prx_dir, steps=400, seeds=(1,)))
    steps_seen = []
    for event in stream.until_done({job_id}, timeout=120):
        if isinstance(event, Progress):
            steps_seen.append(event.step)
            if event.step == 3:
                engine.cancel(job_id)
    stream.close()
    assert isinstance(event, Cancelled)
    assert max(steps_seen) <= 4, "stopped within one step of the cancel"
    finished = run(engine, prx_job(tiny_prx_dir, seeds=(5,)))[-1]
    assert isinstance(finished, Finished)
    assert engine.pool.loads == 1, "cancelling did not throw the model away"
