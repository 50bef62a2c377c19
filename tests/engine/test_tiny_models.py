"""The tiny pipelines load back from their folders like real downloads and run 2 steps on CPU.

Run with ``-s`` to see the build/load/run timings.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch
from PIL import Image

PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".msgpack", ".h5", ".onnx"}
PROMPT = "A man walks on the rooftop at night, slow pan"


class Stop(Exception):
    """Raised from a step callback to cancel a run."""


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread is fastest, and steady when other processes load the CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _build(request: pytest.FixtureRequest, fixture: str) -> tuple[Path, float]:
    """The fixture's folder and the seconds it took (about 0 if another test built it first)."""
    start = time.perf_counter()
    folder = request.getfixturevalue(fixture)
    return folder, time.perf_counter() - start


def _load(cls: type, folder: Path) -> tuple[object, float]:
    start = time.perf_counter()
    pipe = cls.from_pretrained(folder, dtype=torch.float32, use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe, time.perf_counter() - start


def _run(call: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = call()
    return out, time.perf_counter() - start


def _report(name: str, build: float, load: float, run: float) -> None:
    print(f"\n{name}: build {build:.2f}s, load {load:.2f}s, run {run:.2f}s, total {build + load + run:.2f}s")


def _assert_safetensors_only(folder: Path, components: tuple[str, ...]) -> None:
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert (folder / "model_index.json").is_file()
    assert not [p for p in files if p.suffix in PICKLE_SUFFIXES], "pickled weights written"
    for component in components:
        assert list((folder / component).glob("*.safetensors")), f"{component} has no .safetensors"


def _assert_frames(frames: object, shape: tuple[int, ...]) -> None:
    assert isinstance(frames, np.ndarray)
    assert frames.shape == shape
    assert np.isfinite(frames).all()
    assert frames.min() >= 0.0 and frames.max() <= 1.0


def _generator() -> torch.Generator:
    return torch.Generator("cpu").manual_seed(0)


def _cancel_on_first_step(*args: object) -> None:
    raise Stop


def _image(width: int, height: int, color: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGB", (width, height), color)


def test_tiny_if(request: pytest.FixtureRequest, no_network: None) -> None:
    from diffusers import IFPipeline

    folder, build = _build(request, "tiny_if_dir")
    _assert_safetensors_only(folder, ("text_encoder", "unet"))
    pipe, load = _load(IFPipeline, folder)
    seen: list[tuple[int, tuple[int, ...]]] = []

    def record(step: int, timestep: torch.Tensor, sample: torch.Tensor) -> None:
        seen.append((step, tuple(sample.shape)))

    kwargs = dict(num_inference_steps=2, height=16, width=24, clean_caption=False, generator=_generator())
    out, run = _run(lambda: pipe(PROMPT, output_type="np", callback=record, **kwargs))
    _report("IF stage I", build, load, run)

    _assert_frames(out.images, (1, 16, 24, 3))
    assert seen == [(0, (1, 3, 16, 24)), (1, (1, 3, 16, 24))]  # pixel-space sample, old-style callback
    with pytest.raises(Stop):
        pipe(PROMPT, output_type="np", callback=_cancel_on_first_step, **kwargs)


def test_tiny_if_sr(request: pytest.FixtureRequest, no_network: None) -> None:
    from diffusers import IFSuperResolutionPipeline

    folder, build = _build(request, "tiny_if_sr_dir")
    _assert_safetensors_only(folder, ("text_encoder", "unet"))
    pipe, load = _load(IFSuperResolutionPipeline, folder)
    low_res = _image(24, 16, (200, 40, 40))

    out, run = _run(
        lambda: pipe(
            PROMPT,
            image=low_res,
            num_inference_steps=2,
            height=32,
            width=48,
            clean_caption=False,
            generator=_generator(),
            output_type="np",
        )
    )
    _report("IF stage II", build, load, run)

    _assert_frames(out.images, (1, 32, 48, 3))


def test_tiny_sd(request: pytest.FixtureRequest, no_network: None) -> None:
    from diffusers import AutoPipelineForText2Image, StableDiffusionPipeline

    folder, build = _build(request, "tiny_sd_dir")
    _assert_safetensors_only(folder, ("text_encoder", "unet", "vae"))
    pipe, load = _load(AutoPipelineForText2Image, folder)
    assert isinstance(pipe, StableDiffusionPipeline)
    seen: list[tuple[int, tuple[int, ...]]] = []

    def record(p: object, step: int, timestep: torch.Tensor, tensors: dict) -> dict:
        seen.append((step, tuple(tensors["latents"].shape)))
        return tensors

    kwargs = dict(num_inference_steps=2, height=32, width=48, generator=_generator(), output_type="np")
    out, run = _run(lambda: pipe(PROMPT, callback_on_step_end=record, **kwargs))
    _report("SD (AutoPipelineForText2Image)", build, load, run)

    _assert_frames(out.images, (1, 32, 48, 3))
    assert seen == [(0, (1, 4, 4, 6)), (1, (1, 4, 4, 6))]
    with pytest.raises(Stop):
        pipe(PROMPT, callback_on_step_end=_cancel_on_first_step, **kwargs)

    direct, _ = _load(StableDiffusionPipeline, folder)
    kwargs["generator"] = _generator()
    np.testing.assert_allclose(direct(PROMPT, **kwargs).images, out.images, atol=1e-5)


def test_tiny_ltx(request: pytest.FixtureRequest, no_network: None) -> None:
    from diffusers import LTXConditionPipeline
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    folder, build = _build(request, "tiny_ltx_dir")
    _assert_safetensors_only(folder, ("text_encoder", "transformer", "vae"))
    pipe, load = _load(LTXConditionPipeline, folder)
    assert (pipe.vae_spatial_compression_ratio, pipe.vae_temporal_compression_ratio) == (32, 8)
    height, width, num_frames = 32, 64, 9
    conditions = [
        LTXVideoCondition(image=_image(width, height, (200, 40, 40)), frame_index=0),
        LTXVideoCondition(image=_image(width, height, (40, 40, 200)), frame_index=num_frames - 1),
    ]
    seen: list[tuple[int, tuple[int, ...]]] = []

    def record(p: object, step: int, timestep: torch.Tensor, tensors: dict) -> dict:
        seen.append((step, tuple(tensors["latents"].shape)))
        return tensors

    kwargs = dict(
        prompt=PROMPT,
        negative_prompt="",
        height=height,
        width=width,
        num_frames=num_frames,
        num_inference_steps=2,
        max_sequence_length=16,
        decode_timestep=0.05,
        decode_noise_scale=0.025,
        generator=_generator(),
        output_type="np",
    )
    out, run = _run(lambda: pipe(conditions=conditions, callback_on_step_end=record, **kwargs))
    _report("LTX condition (first + last frame)", build, load, run)

    _assert_frames(out.frames, (1, num_frames, height, width, 3))
    # Packed tokens: 1 extra token block for the last-frame condition (1 x 1x2) + 2 latent frames x 1x2.
    assert seen == [(0, (1, 6, 128)), (1, (1, 6, 128))]
    with pytest.raises(Stop):
        pipe(conditions=conditions, callback_on_step_end=_cancel_on_first_step, **kwargs)


def _wan_prompt_embeds(pipe: object, text: str, max_sequence_length: int) -> torch.Tensor:
    """What WanImageToVideoPipeline.encode_prompt computes, minus ftfy (not installed)."""
    tokens = pipe.tokenizer(
        [text],
        padding="max_length",
        max_length=max_sequence_length,
        truncation=True,
        add_special_tokens=True,
        return_attention_mask=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        embeds = pipe.text_encoder(tokens.input_ids, tokens.attention_mask).last_hidden_state
    return embeds * tokens.attention_mask.unsqueeze(-1).to(embeds.dtype)


def test_tiny_wan(request: pytest.FixtureRequest, no_network: None) -> None:
    from diffusers import WanImageToVideoPipeline

    folder, build = _build(request, "tiny_wan_dir")
    _assert_safetensors_only(folder, ("text_encoder", "image_encoder", "transformer", "vae"))
    pipe, load = _load(WanImageToVideoPipeline, folder)
    height, width, num_frames = 16, 32, 5
    seen: list[tuple[int, tuple[int, ...]]] = []

    def record(p: object, step: int, timestep: torch.Tensor, tensors: dict) -> dict:
        seen.append((step, tuple(tensors["latents"].shape)))
        return tensors

    def call(**extra: object) -> object:
        return pipe(
            image=_image(width, height, (200, 40, 40)),
            last_image=_image(width, height, (40, 40, 200)),
            prompt_embeds=_wan_prompt_embeds(pipe, PROMPT, 16),
            negative_prompt_embeds=_wan_prompt_embeds(pipe, "", 16),
            height=height,
            width=width,
            num_frames=num_frames,
            num_inference_steps=2,
            generator=_generator(),
            output_type="np",
            **extra,
        )

    out, run = _run(lambda: call(callback_on_step_end=record))
    _report("Wan 2.1 first/last frame", build, load, run)

    _assert_frames(out.frames, (1, num_frames, height, width, 3))
    assert seen == [(0, (1, 16, 2, 2, 4)), (1, (1, 16, 2, 2, 4))]
    with pytest.raises(Stop):
        call(callback_on_step_end=_cancel_on_first_step)
    np.testing.assert_array_equal(call().frames, out.frames)  # a cancelled run leaves no trace
