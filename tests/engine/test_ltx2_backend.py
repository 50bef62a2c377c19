"""The LTX-2 motion backend on tiny random-weight folders, loaded like a user's download and rendered end to end.

Every render goes through engine.loader.load_backend and engine.runtime.render_clip. Where a test needs to see
what reached the model, it wraps the real pipeline, transformer or vocoder to record their arguments and
still calls through.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import backend_registry
from engine.backend_registry import get_backend
from engine.backends.diffusers_common import to_uint8
from engine.backends.fit import fit_image, read_rgb
from engine.backends.ltx2 import LTX2Backend
from engine.devices import DeviceSettings
from engine.errors import EngineError, JobCancelled, ModelFolderError
from engine.jobs import ClipJob, ClipResult, ModelSpec, PinImage
from engine.loader import load_backend
from engine.progress import StepReporter
from engine.runtime import render_clip
from tests.engine.test_runtime import pin_file
from tests.engine.tiny_ltx2 import build_tiny_ltx2, build_tiny_ltx2_upsampler

# Tiny models run fastest on one thread (see tests/engine/tiny_models.py).
torch.set_num_threads(1)

CPU = DeviceSettings(device="cpu", precision="fp32")
NTSC = (24000, 1001)
SIZE = (96, 64)  # the project frame; also the render size (work_pixels = 96 * 64 is on the 32-pixel grid)
_staging = itertools.count()


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ltx2")
    return {
        "dev": build_tiny_ltx2(root / "LTX-2"),
        # Saved as LTX2Pipeline, as diffusers' conversion script writes the real (distilled) repos.
        "distilled": build_tiny_ltx2(root / "LTX-2-distilled", distilled=True, pipeline="LTX2Pipeline"),
        "upsampler": build_tiny_ltx2_upsampler(root / "ltx-2-latent-upsampler"),
    }


@pytest.fixture(scope="module")
def dev(folders) -> LTX2Backend:
    """The full (dev) model, loaded once for the module like a resident model."""
    return load_backend(ModelSpec("ltx2", str(folders["dev"]), "tiny-ltx2"), CPU)


def clip(tmp_path: Path, spec: ModelSpec, frames: int, pins: tuple[int, ...], fps=NTSC, **kw) -> ClipJob:
    images = tuple(PinImage(f, pin_file(tmp_path, f"pin{f}.png", seed=f + 1, size=SIZE)) for f in pins)
    kw.setdefault("steps", 2)
    return ClipJob(
        spec, frames, *fps, *SIZE, images, prompt="a man walks in the city at night", work_pixels=96 * 64, **kw
    )


def render(backend, job: ClipJob, tmp_path: Path, reporter: StepReporter | None = None) -> ClipResult:
    staging = tmp_path / f"staging{next(_staging)}"
    staging.mkdir()
    return render_clip(backend, job, staging, reporter or StepReporter())


def check_clip(result: ClipResult, job: ClipJob) -> None:
    """The shot's exact frame count and size, and each pin showing its keyframe at its frame."""
    files = sorted(Path(result.frames_dir).glob("frame_*.png"))
    assert result.frame_count == job.frame_count and len(files) == job.frame_count
    assert {read_rgb(f).shape for f in files} == {(SIZE[1], SIZE[0], 3)}
    for pin in job.pins:
        expected, _ = fit_image(read_rgb(pin.path), job.width, job.height)
        assert np.array_equal(read_rgb(result.frame_path(pin.frame)), expected), f"pin at {pin.frame}"


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """The keyword arguments of every LTX2ConditionPipeline call (the real call still runs)."""
    from diffusers import LTX2ConditionPipeline

    seen: list[dict] = []
    real = LTX2ConditionPipeline.__call__

    def recording(self, *args, **kwargs):
        seen.append(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LTX2ConditionPipeline, "__call__", recording)
    return seen


def record_forward(monkeypatch, module) -> list[dict]:
    """The keyword arguments of every forward of ``module``, which still runs."""
    seen: list[dict] = []
    real = module.forward

    def recording(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "forward", recording)
    return seen


def keyframe_times(forward: dict) -> list[list[float]]:
    """[start, end) in seconds of each appended keyframe (the tokens after the video's own)."""
    base = forward["num_frames"] * forward["height"] * forward["width"]
    per_frame = forward["height"] * forward["width"]
    times = forward["video_coords"][0, 0, base:]  # (tokens, 2): the time axis of the first batch row
    assert times.shape[0] % per_frame == 0
    return [times[i].tolist() for i in range(0, times.shape[0], per_frame)]


def test_pins_are_conditions_at_their_exact_frames_and_the_tail_is_dropped(dev, tmp_path, monkeypatch, calls):
    forwards = record_forward(monkeypatch, dev.pipe.transformer)
    decoded = []
    decode = dev.decode_video
    monkeypatch.setattr(dev, "decode_video", lambda latents: decoded.append(decode(latents)) or decoded[-1])
    previews = []
    reporter = StepReporter(lambda step, total, eta, image: previews.append(image), preview_every=1)
    job = clip(tmp_path, dev.spec, 23, (0, 11, 22))
    result = render(dev, job, tmp_path, reporter)

    check_clip(result, job)
    (call,) = calls
    fps = NTSC[0] / NTSC[1]
    # The smallest 8k+1 covering 23 frames, at the shot's own rate: no resampling, pins stay put.
    assert call["num_frames"] == 25 and call["frame_rate"] == pytest.approx(fps)
    assert "25 frames" in result.notes and "kept the first 23" in result.notes
    # Every frame between the pins is the rendered frame with the same number: the tail went, nothing moved.
    (rendered,) = decoded
    assert rendered.shape[0] == 25
    for index in sorted(set(range(23)) - {0, 11, 22}):
        assert np.array_equal(read_rgb(result.frame_path(index)), to_uint8(rendered[index])), f"frame {index}"
    # Frame 0 replaces latent 0; 11 and 22 go in as keyframes in the latents that hold them (1-8, 9-16, 17-24).
    assert [(c.index, c.strength) for c in call["conditions"]] == [(0, 1.0), (2, 1.0), (3, 1.0)]
    assert len(forwards) == 2, "one transformer pass a step (guidance batched)"
    for forward in forwards:
        # diffusers alone would put them at frames 9 and 17, the first frames of those latents.
        assert keyframe_times(forward) == [
            pytest.approx([11 / fps, 12 / fps]),
            pytest.approx([22 / fps, 23 / fps]),
        ]
    assert "_prepare_keyframe_coords" not in vars(dev.pipe), "the per-call placement is gone afterwards"
    shown = [p for p in previews if p is not None]
    assert len(shown) == 2 and all(max(p.shape[:2]) >= 96 and p.shape[2] == 3 for p in shown), "a readable preview"


def test_pin_strength_setting_reaches_every_condition(dev, tmp_path, calls):
    job = clip(tmp_path, dev.spec, 9, (0, 8), params={"strength": 0.6})
    check_clip(render(dev, job, tmp_path), job)
    assert [c.strength for c in calls[0]["conditions"]] == [0.6, 0.6]


def test_sound_on_writes_the_clip_length_of_sound_and_off_decodes_none(dev, tmp_path, monkeypatch, calls):
    vocoded = record_forward(monkeypatch, dev.pipe.vocoder)
    fps = (25, 1)
    silent = render(dev, clip(tmp_path, dev.spec, 20, (0, 19), fps=fps), tmp_path)
    assert silent.audio_path == "" and dev.last_audio is None
    assert vocoded == [], "no audio decode when sound is off"

    job = clip(tmp_path, dev.spec, 20, (0, 19), fps=fps, params={"sound": True})
    result = render(dev, job, tmp_path)
    check_clip(result, job)
    assert len(vocoded) == 1 and "with sound" in result.notes
    rate = dev.pipe.vocoder.config.output_sampling_rate
    with wave.open(result.audio_path) as wav:
        assert wav.getframerate() == rate and wav.getnchannels() == 2
        assert wav.getnframes() == round(20 / 25 * rate), "exactly the clip's duration"
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)
    samples, backend_rate = dev.last_audio
    assert backend_rate == rate
    assert max(samples.shape) >= 20 / 25 * rate, "the model's own sound covers the clip, not padding"
    assert np.abs(pcm[-len(pcm) // 10 :]).max() > 0, "sound up to the last frame"
    # Sound is guided harder than picture (only when guidance is on at all).
    assert [(c["guidance_scale"], c["audio_guidance_scale"]) for c in calls] == [(3.0, 3.0), (3.0, 7.0)]


@pytest.mark.parametrize("where", ["second stage folder", "inside the model folder", "upsample pipeline folder"])
def test_latent_upsampler_renders_half_size_then_refines_at_full_size(folders, tmp_path, monkeypatch, calls, where):
    from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel
    from diffusers.pipelines.ltx2.utils import STAGE_2_DISTILLED_SIGMA_VALUES

    if where == "second stage folder":
        spec = ModelSpec("ltx2", str(folders["dev"]), upscale_path=str(folders["upsampler"]))
    elif where == "inside the model folder":  # as Lightricks/LTX-2 ships it
        model = tmp_path / "LTX-2"
        shutil.copytree(folders["dev"], model)
        shutil.copytree(folders["upsampler"], model / "latent_upsampler")
        spec = ModelSpec("ltx2", str(model))
    else:
        upsample_pipe = build_tiny_ltx2_upsampler(tmp_path / "upsample-pipeline", pipeline=True)
        spec = ModelSpec("ltx2", str(folders["dev"]), upscale_path=str(upsample_pipe))
    backend = load_backend(spec, CPU)
    upsampled = record_forward(monkeypatch, LTX2LatentUpsamplerModel)  # class-level: loaded during the render
    forwards = record_forward(monkeypatch, backend.pipe.transformer)
    steps = []
    job = clip(tmp_path, spec, 23, (0, 11, 22), params={"upsample": True})
    result = render(backend, job, tmp_path, StepReporter(lambda step, total, eta, image: steps.append((step, total))))

    check_clip(result, job)
    first, second = calls
    # Upsampling doubles each side, so the render is on a 64-pixel grid: 96x64 becomes 128x64.
    assert (first["width"], first["height"], first["latents"]) == (64, 32, None)
    assert (second["width"], second["height"]) == (128, 64) and second["latents"].shape[-2:] == (2, 4)
    assert second["sigmas"] == list(STAGE_2_DISTILLED_SIGMA_VALUES)
    assert second["noise_scale"] == STAGE_2_DISTILLED_SIGMA_VALUES[0]
    assert second["audio_latents"] is not None, "the sound is refined with the picture"
    assert len(upsampled) == 1 and "upsampled 2x from 64x32" in result.notes
    assert steps == [(n, 5) for n in range(1, 6)], "2 steps, then 3 refining steps, counted as one job"
    fps = NTSC[0] / NTSC[1]
    for forward in forwards:  # both passes hold the pins at their frames
        assert keyframe_times(forward) == [pytest.approx([11 / fps, 12 / fps]), pytest.approx([22 / fps, 23 / fps])]
    assert backend.pipe.scheduler.config.use_dynamic_shifting, "the full model's scheduler is back"


def test_upsample_without_an_upsampler_says_where_it_looked(dev, folders, tmp_path, calls):
    job = clip(tmp_path, dev.spec, 9, (0, 8), params={"upsample": True})
    with pytest.raises(ModelFolderError) as failure:
        render(dev, job, tmp_path)
    message = str(failure.value)
    assert str(folders["dev"] / "latent_upsampler") in message and "turn the setting off" in message
    assert calls == [], "it failed before rendering anything"


def test_a_damaged_upsampler_folder_is_refused_naming_it(folders, tmp_path):
    broken = tmp_path / "upsampler"
    shutil.copytree(folders["upsampler"], broken)
    (broken / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ModelFolderError, match="safetensors") as failure:
        load_backend(ModelSpec("ltx2", str(folders["dev"]), upscale_path=str(broken)), CPU)
    assert str(broken) in str(failure.value)


def test_a_distilled_folder_defaults_to_its_few_step_schedule(folders, tmp_path, monkeypatch, calls):
    from diffusers.pipelines.ltx2.utils import DISTILLED_SIGMA_VALUES

    assert json.loads((folders["distilled"] / "model_index.json").read_text())["_class_name"] == "LTX2Pipeline"
    backend = load_backend(ModelSpec("ltx2", str(folders["distilled"]), "tiny-ltx2-distilled"), CPU)
    forwards = record_forward(monkeypatch, backend.pipe.transformer)
    steps = []
    job = clip(tmp_path, backend.spec, 12, (0, 6, 11), steps=0)
    result = render(backend, job, tmp_path, StepReporter(lambda step, total, eta, image: steps.append((step, total))))

    check_clip(result, job)
    assert backend.distilled and "LTX-2 distilled" in result.notes and "in 8 steps" in result.notes
    # The clip records what really ran, not the full model's registry defaults.
    assert dict(result.params)["steps"] == 8 and dict(result.params)["guidance"] == 1.0
    assert steps == [(n, 8) for n in range(1, 9)]
    (call,) = calls
    assert call["sigmas"] == DISTILLED_SIGMA_VALUES and call["guidance_scale"] == 1.0
    # Unguided: one unbatched transformer pass a step; the schedule was used as given, not shifted.
    assert len(forwards) == 8 and {f["hidden_states"].shape[0] for f in forwards} == {1}
    assert backend.pipe.scheduler.sigmas[:-1].tolist() == pytest.approx(DISTILLED_SIGMA_VALUES)
    # Asked for fewer steps, the distilled curve is sampled more coarsely.
    assert backend.schedule(clip(tmp_path, backend.spec, 12, (0,), steps=2))[2] == pytest.approx([1.0, 0.421875])


def test_the_full_model_defaults_to_the_registry_settings(dev, tmp_path):
    full = get_backend("ltx2")
    assert not dev.distilled
    assert dev.schedule(clip(tmp_path, dev.spec, 12, (0,), steps=0)) == (
        full.setting("steps").default,
        full.setting("guidance").default,
        None,  # the scheduler's own (dynamically shifted) schedule
    )
    assert dev.schedule(clip(tmp_path, dev.spec, 12, (0,), steps=5, guidance=4.5)) == (5, 4.5, None)


def test_cancel_stops_within_a_step_and_the_model_renders_again(dev, tmp_path, monkeypatch):
    forwards = record_forward(monkeypatch, dev.pipe.transformer)
    cancel = threading.Event()
    steps = []

    def sink(step, total, eta, image):
        steps.append((step, total))
        if step == 2:
            cancel.set()

    job = clip(tmp_path, dev.spec, 17, (0, 16), steps=0)  # the full model's default: 30 steps
    with pytest.raises(JobCancelled):
        render(dev, job, tmp_path, StepReporter(sink, cancel))
    assert steps == [(1, 30), (2, 30)] and len(forwards) == 2, "stopped in the step it was cancelled in"
    assert "_prepare_keyframe_coords" not in vars(dev.pipe)

    again = clip(tmp_path, dev.spec, 17, (0, 16))
    check_clip(render(dev, again, tmp_path), again)


@pytest.mark.parametrize(
    ("remove", "named"),
    [("transformer/diffusion_pytorch_model.safetensors", "transformer"), ("vocoder/config.json", "config.json")],
)
def test_a_folder_missing_a_component_file_is_refused_naming_it(folders, tmp_path, remove, named):
    broken = tmp_path / "LTX-2-broken"
    shutil.copytree(folders["dev"], broken)
    (broken / remove).unlink()
    with pytest.raises(ModelFolderError) as failure:
        load_backend(ModelSpec("ltx2", str(broken)), CPU)
    message = str(failure.value)
    assert str(broken / remove.split("/")[0]) in message and named in message


def test_a_frame_rate_ltx2_cant_time_is_refused_with_what_to_do(dev, tmp_path, calls):
    job = clip(tmp_path, dev.spec, 9, (0, 8), fps=(120, 1))
    with pytest.raises(EngineError, match="12 to 60") as failure:
        render(dev, job, tmp_path)
    assert "120.000" in str(failure.value) and "24, 25, 30" in str(failure.value)
    assert calls == []


def test_a_shot_longer_than_one_pass_renders_in_segments_at_its_own_rate_with_sound_throughout(
    dev, tmp_path, calls, monkeypatch
):
    info = get_backend("ltx2")
    longest = info.frame_rule.maximum
    fitting = dev.plan(clip(tmp_path, dev.spec, longest, (0,), fps=(24, 1)), [0, longest - 1])
    assert not fitting.segments.split and fitting.frames == longest

    # A 25-frame longest segment makes a 40-frame shot two segments (overlapping by 9) on the tiny model.
    shorter = dataclasses.replace(info, frame_rule=dataclasses.replace(info.frame_rule, maximum=25))
    monkeypatch.setitem(backend_registry._BY_NAME, "ltx2", shorter)
    job = clip(tmp_path, dev.spec, 40, (0, 20, 39), fps=(24, 1), params={"sound": True})
    result = render(dev, job, tmp_path)
    check_clip(result, job)
    # Each segment at the shot's own rate, nothing resampled.
    assert [(c["num_frames"], c["frame_rate"]) for c in calls] == [(25, 24.0), (25, 24.0)]
    assert "rendered in 2 segments of 25 frames, seam at 16" in result.notes, result.notes
    # The sound is the segments' sound placed end to end at their times: the whole shot, sound to the end.
    samples, rate = dev.last_audio
    assert samples.shape[-1] == round(40 / 24 * rate)
    tenth = samples.shape[-1] // 10
    assert np.abs(samples[:, -tenth:]).max() > 0 and np.abs(samples[:, :tenth]).max() > 0
    with wave.open(result.audio_path) as wav:
        assert wav.getnframes() == round(40 / 24 * rate)


def test_the_full_model_refuses_a_single_step_with_what_to_do(dev, tmp_path, calls):
    assert get_backend("ltx2").setting("steps").minimum == 2
    with pytest.raises(EngineError, match="at least 2 steps"):
        render(dev, clip(tmp_path, dev.spec, 9, (0, 8), steps=1), tmp_path)
    assert calls == []


def test_a_frame_that_leaves_a_one_row_vae_tile_still_decodes(dev, tmp_path):
    """480 px is 15 latent rows: the tiled VAE's 14-row stride would leave a last tile one row high,
    which LTX-2's reflect padding can't take. A 16:9 render at the default size is exactly that."""
    from engine.backends.fit import choose_size

    assert dev.pipe.vae.use_tiling, "VAE tiling is on by default (DeviceSettings)"
    assert choose_size(160, 90, area=832 * 480, multiple=32) == (832, 480)
    images = (PinImage(0, pin_file(tmp_path, "a.png", seed=1, size=(160, 90))),)
    job = ClipJob(dev.spec, 9, 24, 1, 160, 90, images, steps=2, work_pixels=832 * 480)
    result = render(dev, job, tmp_path)
    assert result.frame_count == 9 and "832x480" in result.notes
    assert dev.pipe.vae.tile_sample_stride_height == 448, "the VAE's own tiling is back after the render"
