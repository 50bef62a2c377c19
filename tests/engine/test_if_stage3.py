"""DeepFloyd IF at shot resolution (stage III, the x4 upscaler) and T5 prompt reuse, on tiny models.

The tiny stage I makes 24x16 for 16:9, the tiny stage II doubles it (48x32) and the tiny x4
upscaler quadruples what it gets, all loaded from folders like a user's downloads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.backend_registry import classify_folder
from engine.backends.deepfloyd import IFBackend
from engine.backends.fit import read_rgb
from engine.devices import DeviceSettings
from engine.events import Finished, Progress
from engine.jobs import KeyframeJob, ModelSpec
from engine.progress import StepReporter
from engine.runtime import Engine
from tests.engine.test_runtime import run
from tests.engine.tiny_upscaler import build_tiny_x4_upscaler

CPU = DeviceSettings(device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def tiny_x4_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_x4_upscaler(tmp_path_factory.mktemp("models") / "tiny-x4-upscaler")


@pytest.fixture
def engine(tmp_path: Path):
    e = Engine(tmp_path / "cache", CPU, budget_bytes=1 << 34)
    yield e
    e.shutdown()


def job(spec: ModelSpec, **kw) -> KeyframeJob:
    base = dict(model=spec, prompt="a man walks in the rain", negative_prompt="text", seeds=(1,), steps=2)
    base.update(kw)
    return KeyframeJob(**{"width": 160, "height": 90, **base})


class Steps:
    def __init__(self) -> None:
        self.steps: list[tuple[int, int]] = []

    def __call__(self, step: int, total: int, eta: float | None, preview) -> None:
        self.steps.append((step, total))


def test_stage_three_takes_stage_two_to_the_frame(tmp_path, tiny_if_dir, tiny_if_sr_dir, tiny_x4_dir):
    spec = ModelSpec("if", str(tiny_if_dir), "tiny-if", upscale_path=str(tiny_if_sr_dir))
    backend = IFBackend.load(spec, CPU, stage3_path=str(tiny_x4_dir))
    steps = Steps()
    (result,) = backend.generate(job(spec), tmp_path, StepReporter(steps))
    assert backend.load_order == ["text_encoder", "stage1", "stage2", "stage3"]
    assert "stage II x2 to 48x32, stage III x4 to 192x128" in result.fit
    assert "upscaled" not in result.fit, "stage III covers the 160x90 frame: nothing is blown up"
    assert (result.generated_width, result.generated_height) == (192, 128)
    assert read_rgb(result.path).shape == (90, 160, 3)
    assert [s for s, _ in steps.steps] == [1, 2, 3, 4, 5, 6] and steps.steps[-1][1] == 6


def test_stage_three_is_skipped_when_stage_two_already_covers_the_frame(
    tmp_path, tiny_if_dir, tiny_if_sr_dir, tiny_x4_dir
):
    spec = ModelSpec("if", str(tiny_if_dir), "tiny-if", upscale_path=str(tiny_if_sr_dir))
    backend = IFBackend.load(spec, CPU, stage3_path=str(tiny_x4_dir))
    (result,) = backend.generate(job(spec, width=48, height=27), tmp_path, StepReporter())
    assert "stage III" not in result.fit and "upscaled" not in result.fit
    assert result.generated_width == 48


def test_without_stage_three_the_note_says_how_much_the_picture_was_blown_up(engine, tiny_if_dir, tiny_if_sr_dir):
    spec = ModelSpec("if", str(tiny_if_dir), "tiny-if", upscale_path=str(tiny_if_sr_dir))
    finished = run(engine, job(spec, width=480, height=270))[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    fit = finished.outputs[0].fit
    assert "upscaled 10x from 48x32 px" in fit, fit
    assert "install the x4 upscaler" in fit


def test_the_x4_upscaler_alone_is_if_companion_and_follows_stage_one(engine, tiny_if_dir, tiny_x4_dir):
    found = classify_folder(tiny_x4_dir)
    assert found.backend.name == "if" and found.companion and found.model_kind == "keyframe-upscale"
    spec = ModelSpec("if", str(tiny_if_dir), "tiny-if", upscale_path=str(tiny_x4_dir))
    events = run(engine, job(spec, width=96, height=54))
    finished = events[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    out = finished.outputs[0]
    assert "IF stage I 24x16, stage III x4 to 96x64" in out.fit and out.generated_width == 96
    assert read_rgb(out.path).shape == (54, 96, 3)
    assert [e.step for e in events if isinstance(e, Progress)][-1] == 4


def test_ten_jobs_of_three_variations_encode_the_prompt_once_and_load_if_once(engine, tiny_if_dir, tiny_if_sr_dir):
    spec = ModelSpec("if", str(tiny_if_dir), "tiny-if", upscale_path=str(tiny_if_sr_dir))
    for n in range(10):
        seeds = (3 * n, 3 * n + 1, 3 * n + 2)
        finished = run(engine, job(spec, seeds=seeds, steps=1, width=48, height=27))[-1]
        assert isinstance(finished, Finished) and len(finished.outputs) == 3
    backend = engine.pool._resident[spec.key]
    assert engine.pool.load_counts[spec.key] == 1
    assert backend.encodes == 1 and backend.encoder_loads == 1
    # Everything fits this machine's budget, so T5 stayed loaded: a new prompt doesn't reload it.
    assert backend._encoder is not None
    run(engine, job(spec, prompt="a dog in the snow", steps=1, width=48, height=27))
    assert backend.encodes == 2 and backend.encoder_loads == 1


def test_a_tight_budget_frees_t5_and_recent_prompts_stay_encoded(tmp_path, tiny_if_dir):
    tight = DeviceSettings(device="cpu", precision="fp32", memory_budget_gb=0.000001)
    spec = ModelSpec("if", str(tiny_if_dir), "tiny-if")
    backend = IFBackend.load(spec, tight)
    small = dict(steps=1, width=48, height=27)
    for prompt in ("a man walks", "a dog runs", "a man walks"):
        backend.generate(job(spec, prompt=prompt, **small), tmp_path, StepReporter())
        assert backend._encoder is None, "T5 doesn't fit beside the UNet: freed after each new prompt"
    assert backend.encodes == 2 and backend.encoder_loads == 2, "the first prompt's embeddings were kept"


def test_a_spec_naming_stage_two_and_three_runs_all_three_through_the_engine(
    engine, tiny_if_dir, tiny_if_sr_dir, tiny_x4_dir
):
    """What the app's model list resolves to when both companions are downloaded (app.model_choice._companions)."""
    spec = ModelSpec("if", str(tiny_if_dir), "tiny-if", upscale_path=str(tiny_if_sr_dir), stage3_path=str(tiny_x4_dir))
    finished = run(engine, job(spec))[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    assert "stage III x4 to 192x128" in finished.outputs[0].fit
    assert spec.key.endswith(f"|{tiny_x4_dir}") and "|" + str(tiny_x4_dir) not in ModelSpec("if", "a", "b", "c").key
