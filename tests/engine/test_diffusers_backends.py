"""Real jobs on tiny random-weight diffusers pipelines, loaded from folders like a user's models."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.backends.fit import fit_image, read_rgb
from engine.devices import DeviceSettings
from engine.events import Cancelled, Failed, Finished, Preview, Progress, Started
from engine.jobs import ClipJob, KeyframeJob, ModelSpec, PinImage
from engine.loader import estimate_bytes
from engine.runtime import Engine
from tests.engine.test_runtime import clip_job, kinds, pin_file, reports_of, run

CPU = DeviceSettings(device="cpu", precision="fp32")


@pytest.fixture
def engine(tmp_path: Path):
    e = Engine(tmp_path / "cache", CPU, budget_bytes=1 << 34, preview_every=1)
    yield e
    e.shutdown()


def if_spec(tiny_if_dir, tiny_if_sr_dir=None) -> ModelSpec:
    return ModelSpec("if", str(tiny_if_dir), "tiny-if", upscale_path=str(tiny_if_sr_dir or ""))


def if_job(spec: ModelSpec, **kw) -> KeyframeJob:
    base = dict(
        model=spec,
        prompt="a man walks in the rain at night",
        seeds=(11, 12),
        width=160,
        height=90,
        steps=2,
        negative_prompt="text",
    )
    base.update(kw)
    return KeyframeJob(**base)


def test_if_two_stages_variations_share_one_prompt_encoding(engine, tiny_if_dir, tiny_if_sr_dir):
    spec = if_spec(tiny_if_dir, tiny_if_sr_dir)
    events = run(engine, if_job(spec))
    finished = events[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    outputs = finished.outputs
    assert [o.seed for o in outputs] == [11, 12]
    for out in outputs:
        assert read_rgb(out.path).shape == (90, 160, 3)
        assert "stage II" in out.fit and out.generated_width == 2 * 24  # tiny stage I 24x16 (16:9 of 16x16), x2
    backend = engine.pool._resident[spec.key]
    assert backend.encodes == 1, "one encoding for both variations and both stages"
    assert backend._encoder is not None, "T5 fits beside the tiny UNets, so it stays loaded between jobs"
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.step for p in progress] == list(range(1, 9)) and progress[-1].total == 8
    assert any(isinstance(e, Preview) for e in events)
    # The same prompt again encodes nothing new (embeddings cached), new seeds run the UNets.
    run(engine, if_job(spec, seeds=(13,)))
    assert backend.encodes == 1 and backend.encoder_loads == 1
    # The text encoder was loaded and used before either UNet was loaded.
    assert backend.load_order == ["text_encoder", "stage1", "stage2"]
    run(engine, if_job(spec, prompt="a new prompt", seeds=(14,)))
    assert backend.encodes == 2 and backend.encoder_loads == 1 and backend.load_order[3:] == [], "T5 stayed loaded"


def test_same_model_params_and_seed_give_the_same_image(tmp_path, tiny_if_dir):
    images = []
    for n in range(2):
        e = Engine(tmp_path / f"c{n}", CPU, budget_bytes=1 << 34)
        try:
            images.append([read_rgb(o.path) for o in run(e, if_job(if_spec(tiny_if_dir)))[-1].outputs])
        finally:
            e.shutdown()
    assert np.array_equal(images[0][0], images[1][0])
    assert not np.array_equal(images[0][0], images[0][1])


def test_if_download_with_its_safety_checker_loads_and_generates(engine, tmp_path):
    # Real DeepFloyd folders carry safety_checker/ and feature_extractor/; transformers 5 can't
    # load IF's checker class, so the backend must leave it out rather than fail the model.
    from tests.engine.tiny_models import build_tiny_if

    folder = build_tiny_if(tmp_path / "IF-I-with-checker", safety_checker=True)
    assert (folder / "safety_checker").is_dir() and (folder / "feature_extractor").is_dir()
    finished = run(engine, if_job(if_spec(folder), seeds=(5,)))[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    assert read_rgb(finished.outputs[0].path).shape == (90, 160, 3)


def test_draft_model_through_auto_pipeline(engine, tiny_sd_dir):
    spec = ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd-turbo")
    finished = run(engine, KeyframeJob(spec, "a red car on a wet street", (3,), 200, 100, steps=2))[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    out = finished.outputs[0]
    assert read_rgb(out.path).shape == (100, 200, 3)
    assert out.backend == "text2image" and out.fit.startswith("generated")


def clip(tmp_path, spec: ModelSpec, frames: int, pins, size=(96, 64), **kw) -> ClipJob:
    pin_images = tuple(PinImage(f, pin_file(tmp_path, f"p{f}_{s}.png", s)) for f, s in pins)
    return ClipJob(spec, frames, 24000, 1001, size[0], size[1], pin_images, prompt="a man walks", steps=2, **kw)


def check_pins(result, job: ClipJob) -> None:
    assert result.frame_count == job.frame_count
    assert len(list(Path(result.frames_dir).glob("frame_*.png"))) == job.frame_count
    for pin in job.pins:
        expected, _ = fit_image(read_rgb(pin.path), job.width, job.height)
        assert np.array_equal(read_rgb(result.frame_path(pin.frame)), expected), f"pin at {pin.frame}"


def test_ltx_conditions_on_every_pin_and_returns_the_exact_frame_count(engine, tmp_path, tiny_ltx_dir):
    spec = ModelSpec("ltx", str(tiny_ltx_dir), "tiny-ltx")
    job = clip(tmp_path, spec, 20, ((0, 1), (9, 2), (19, 3)), work_pixels=64 * 32)
    events = run(engine, job)
    assert isinstance(events[-1], Finished), getattr(events[-1], "detail", events[-1])
    result = events[-1].outputs[0]
    check_pins(result, job)
    assert "25 frames" in result.notes  # 8k+1 covering 20
    assert any(isinstance(e, Preview) for e in events)
    backend = engine.pool._resident[spec.key]
    plan, width, height = backend.plan(job, [0, 9, 19])
    (segment,) = plan.segments  # one pass; the tail the 8k+1 rule adds is dropped, so pins keep their frames
    assert (segment.frames, segment.keep, width % 32, height % 32) == (25, 20, 0, 0) and segment.pins == (0, 9, 19)


def test_ltx_with_a_dynamic_shifting_scheduler_renders_with_the_shift_for_its_size(engine, tmp_path, tiny_ltx_dir):
    """LTXConditionPipeline never passes mu; a checkpoint whose scheduler shifts dynamically must still render."""
    import json

    shifted = tmp_path / "tiny-ltx-dynamic"
    shutil.copytree(tiny_ltx_dir, shifted)
    config_path = shifted / "scheduler" / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    # LTXPipeline's shift settings: the token count of this render lies between base and max.
    config.update(use_dynamic_shifting=True, base_image_seq_len=4, max_image_seq_len=64, base_shift=0.5, max_shift=3.0)
    config_path.write_text(json.dumps(config))

    renders = {}
    for name, folder in (("plain", tiny_ltx_dir), ("dynamic", shifted)):
        spec = ModelSpec("ltx", str(folder), f"tiny-ltx-{name}")
        job = clip(tmp_path, spec, 9, ((0, 1), (8, 2)), work_pixels=64 * 32)
        events = run(engine, job)
        assert isinstance(events[-1], Finished), getattr(events[-1], "detail", events[-1])
        check_pins(events[-1].outputs[0], job)
        renders[name] = read_rgb(events[-1].outputs[0].frame_path(4))
        scheduler = engine.pool._resident[spec.key].pipe.scheduler
        assert "set_timesteps" not in vars(scheduler), "the per-call mu is gone after the render"
    assert not np.array_equal(renders["plain"], renders["dynamic"]), "the shift changed the noise schedule"


def test_wan_renders_pin_to_pin_segments_joined_without_duplicates(engine, tmp_path, tiny_wan_dir):
    spec = ModelSpec("wan", str(tiny_wan_dir), "tiny-wan")
    job = clip(tmp_path, spec, 16, ((2, 1), (7, 2), (13, 3)), work_pixels=32 * 16)
    events = run(engine, job)
    assert isinstance(events[-1], Finished), getattr(events[-1], "detail", events[-1])
    result = events[-1].outputs[0]
    check_pins(result, job)
    # A lead-in rendered back from the first pin, two pin-to-pin segments, the frames after the last pin.
    assert result.notes.count("frames") == 4 and "0-2: 5 frames, reversed" in result.notes, result.notes
    frames = [read_rgb(result.frame_path(i)) for i in range(job.frame_count)]
    assert not any(np.array_equal(a, b) for a, b in itertools.pairwise(frames)), "motion everywhere, nothing held"


def test_cancel_stops_a_denoising_loop_within_a_step_and_the_model_stays_usable(engine, tiny_if_dir):
    spec = if_spec(tiny_if_dir)
    stream = engine.events()
    job_id = engine.submit(if_job(spec, steps=400, seeds=(1,)))
    steps_seen = []
    for event in stream.until_done({job_id}, timeout=120):
        if isinstance(event, Progress):
            steps_seen.append(event.step)
            if event.step == 3:
                engine.cancel(job_id)
    assert isinstance(event, Cancelled)
    assert max(steps_seen) <= 4, "stopped within one step of the cancel"
    finished = run(engine, if_job(spec, seeds=(5,)))[-1]
    assert isinstance(finished, Finished)
    assert engine.pool.loads == 1, "cancelling did not throw the model away"


def test_injected_out_of_memory_fails_with_advice_and_the_next_job_runs(engine, tiny_if_dir, monkeypatch):
    spec = if_spec(tiny_if_dir)
    run(engine, if_job(spec, seeds=(1,)))
    unet = engine.pool._resident[spec.key].stage1.unet
    calls = {"n": 0}
    real_forward = unet.forward

    def exploding_forward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(unet, "forward", exploding_forward)
    failed = run(engine, if_job(spec, seeds=(2,)))[-1]
    assert isinstance(failed, Failed)
    assert "ran out of memory" in failed.message and "offload" in failed.message and "resolution" in failed.message
    assert "Tried to allocate" in failed.detail
    assert engine.pool.resident_keys() == [], "memory was freed: every model unloaded"
    assert isinstance(run(engine, if_job(spec, seeds=(3,)))[-1], Finished)
    assert engine.pool.loads == 2


def test_any_backend_exception_fails_only_that_job(engine, tiny_sd_dir, monkeypatch):
    spec = ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd")
    job = KeyframeJob(spec, "x", (1,), 64, 64, steps=1)
    run(engine, job)
    pipe = engine.pool._resident[spec.key].pipe
    monkeypatch.setattr(pipe.unet, "forward", lambda *a, **k: (_ for _ in ()).throw(ValueError("bad shape")))
    failed = run(engine, KeyframeJob(spec, "y", (2,), 64, 64, steps=1))[-1]
    assert isinstance(failed, Failed) and "text2image backend failed: bad shape" in failed.message
    monkeypatch.undo()
    assert isinstance(run(engine, KeyframeJob(spec, "z", (3,), 64, 64, steps=1))[-1], Finished)


def test_queued_jobs_are_grouped_by_model_so_alternating_jobs_do_not_reload(
    tmp_path, tiny_if_dir, tiny_sd_dir, tiny_ltx_dir
):
    specs = {
        "if": if_spec(tiny_if_dir),
        "sd": ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"),
        "ltx": ModelSpec("ltx", str(tiny_ltx_dir), "tiny-ltx"),
    }
    # Room for one model at a time: every switch of model is a reload.
    budget = max(estimate_bytes(s) for s in specs.values()) + 1
    engine = Engine(tmp_path / "cache", CPU, budget_bytes=budget)
    try:
        reports = reports_of(engine)
        blocker = engine.submit(clip_job(tmp_path, frames=2000, size=(640, 360), pins=((0, 1), (1999, 2))))
        reports.wait(lambda: kinds(reports, Started) == [blocker], 30, "the long job to start")
        ids = []
        for n in range(3):
            ids.append(engine.submit(if_job(specs["if"], seeds=(n,))))
            ids.append(engine.submit(KeyframeJob(specs["sd"], "car", (n,), 64, 64, steps=1)))
            ids.append(engine.submit(clip(tmp_path, specs["ltx"], 9, ((0, n), (8, n + 10)), work_pixels=64 * 32)))
        stream = engine.events()
        engine.cancel(blocker)
        ends = [e for e in stream.until_done(set(ids), timeout=300) if e.terminal and e.job_id in ids]
        assert all(isinstance(e, Finished) for e in ends), [getattr(e, "detail", e) for e in ends]
        # Keyframes first (interactive), grouped by model; then the clips: 3 loads, not 9.
        assert [engine.pool.load_counts[s.key] for s in specs.values()] == [1, 1, 1], dict(engine.pool.load_counts)
    finally:
        engine.shutdown()


def test_unload_all_frees_every_model(engine, tiny_sd_dir):
    spec = ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd")
    run(engine, KeyframeJob(spec, "x", (1,), 64, 64, steps=1))
    assert engine.pool.resident_keys() == [spec.key]
    assert isinstance(run(engine, engine_unload_job())[-1], Finished)
    assert engine.pool.resident_keys() == []


def engine_unload_job():
    from engine.jobs import UnloadModels

    return UnloadModels()


def test_a_model_folder_missing_a_weights_file_fails_naming_it(engine, tmp_path, tiny_sd_dir):
    broken = tmp_path / "broken-sd"
    shutil.copytree(tiny_sd_dir, broken)
    weights = next((broken / "unet").glob("*.safetensors"))
    weights.unlink()
    failed = run(engine, KeyframeJob(ModelSpec("text2image", str(broken)), "x", (1,), 64, 64, steps=1))[-1]
    assert isinstance(failed, Failed) and "unet" in failed.message


def test_a_folder_with_only_pickled_weights_is_refused(engine, tmp_path, tiny_sd_dir):
    pickled = tmp_path / "pickled-sd"
    shutil.copytree(tiny_sd_dir, pickled)
    for weights in pickled.rglob("*.safetensors"):
        weights.rename(weights.with_name("diffusion_pytorch_model.bin"))
    failed = run(engine, KeyframeJob(ModelSpec("text2image", str(pickled)), "x", (1,), 64, 64, steps=1))[-1]
    assert isinstance(failed, Failed) and "pickle" in failed.message.lower()


class CountingPipe:
    """Stands in for WanImageToVideoPipeline to check the segment arithmetic exactly: frame k of
    a render of n frames is filled with the value k / (n - 1)."""

    vae_scale_factor_temporal = 4
    vae_scale_factor_spatial = 8

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, *, num_frames, height, width, **kwargs):
        from types import SimpleNamespace

        self.calls.append(num_frames)
        ramp = np.linspace(0.0, 1.0, num_frames, dtype=np.float32)[:, None, None, None]
        return SimpleNamespace(frames=[np.broadcast_to(ramp, (num_frames, height, width, 3)).copy()])


def test_wan_segments_have_valid_lengths_and_join_without_repeating_a_frame(tmp_path):
    from engine.backends.wan import WanBackend
    from engine.progress import StepReporter

    backend = WanBackend(ModelSpec("wan", "x"), CountingPipe())
    job = ClipJob(ModelSpec("wan", "x"), 40, 24, 1, 64, 32, (PinImage(3, "a"), PinImage(14, "b"), PinImage(39, "c")))
    pins = [(f, np.full((32, 64, 3), v, np.uint8)) for f, v in ((3, 10), (14, 20), (39, 30))]
    frames = backend.render(job, pins, StepReporter())
    assert frames.shape == (40, 32, 64, 3)
    # The lead-in (4 frames, rendered at 5, tail dropped), then 4k+1 frames covering 12 and 26 pin to pin.
    assert backend.pipe.calls == [5, 13, 29]
    values = frames[:, 0, 0, 0].astype(int).tolist()
    assert all(a != b for a, b in itertools.pairwise(values)), "no frame shown twice in a row"
    assert values[:4] == [191, 128, 64, 0], "before the first pin, a render from it played backwards"


@pytest.mark.parametrize("which", ["sd", "ltx", "wan"])
def test_every_ml_backend_is_deterministic_for_a_seed(tmp_path, which, tiny_sd_dir, tiny_ltx_dir, tiny_wan_dir):
    def job(seed: int):
        if which == "sd":
            return KeyframeJob(ModelSpec("text2image", str(tiny_sd_dir)), "a car", (seed,), 64, 64, steps=2)
        folder = tiny_ltx_dir if which == "ltx" else tiny_wan_dir
        pins = ((0, 1), (8, 2))
        return clip(tmp_path, ModelSpec(which, str(folder)), 9, pins, work_pixels=64 * 32, seed=seed)

    def pixels(engine, j):
        out = run(engine, j)[-1].outputs[0]
        if hasattr(out, "path"):
            return read_rgb(out.path)
        return np.stack([read_rgb(out.frame_path(i)) for i in range(1, out.frame_count - 1)])

    results = []
    for n in range(2):
        e = Engine(tmp_path / f"c{n}", CPU, budget_bytes=1 << 34)
        try:
            results.append((pixels(e, job(5)), pixels(e, job(6))))
        finally:
            e.shutdown()
    assert np.array_equal(results[0][0], results[1][0]), "same seed, same output"
    assert not np.array_equal(results[0][0], results[0][1]), "another seed, another output"
