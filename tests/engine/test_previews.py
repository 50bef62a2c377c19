"""Live previews of clip renders: readable pictures from the latents while the video models denoise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.backends.diffusers_common import PREVIEW_LONG_SIDE, latent_preview
from engine.devices import DeviceSettings
from engine.events import Finished, Preview, Progress
from engine.jobs import ModelSpec
from engine.runtime import Engine
from tests.engine.test_diffusers_backends import clip
from tests.engine.test_runtime import run

CPU = DeviceSettings(device="cpu", precision="fp32")


@pytest.fixture
def engine(tmp_path: Path):
    e = Engine(tmp_path / "cache", CPU, budget_bytes=1 << 34, preview_every=1)
    yield e
    e.shutdown()


@pytest.mark.parametrize("which", ["ltx", "wan"])
def test_a_clip_render_sends_readable_previews_while_it_denoises(engine, tmp_path, which, tiny_ltx_dir, tiny_wan_dir):
    folder = tiny_ltx_dir if which == "ltx" else tiny_wan_dir
    spec = ModelSpec(which, str(folder), f"tiny-{which}")
    job = clip(tmp_path, spec, 9, ((0, 1), (8, 2)), work_pixels=64 * 32)
    events = run(engine, job)
    assert isinstance(events[-1], Finished), getattr(events[-1], "detail", events[-1])
    previews = [e for e in events if isinstance(e, Preview)]
    steps = [e for e in events if isinstance(e, Progress)]
    assert previews and len(previews) == len(steps), "a preview each step at preview_every=1"
    for preview in previews:
        image = preview.image
        # The tiny models' latent grid is a few cells; the preview is scaled to a size a person can read.
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert max(image.shape[:2]) >= 96, image.shape
        assert image.std() > 1, "a picture, not a flat fill"


def test_the_preview_keeps_the_frame_shape_and_holds_still_between_steps():
    torch.manual_seed(0)
    base = torch.randn(1, 16, 5, 12, 20)
    first = latent_preview(base)
    assert first.shape == (96, PREVIEW_LONG_SIDE, 3), "20x12 latents: a 5:3 picture, 160 wide"
    # One more small denoising step: the picture barely moves (no colour flips from the projection's signs).
    second = latent_preview(base + 0.02 * torch.randn_like(base))
    assert np.abs(first.astype(int) - second.astype(int)).mean() < 12
    # Works on the half-precision latents a GPU denoises in, and on single-image (4-D) latents.
    assert latent_preview(base.to(torch.bfloat16)).shape == first.shape
    assert latent_preview(base[:, :, 0]).shape == first.shape


def test_a_flow_render_previews_a_finished_frame_now_and_then(engine, tmp_path):
    job = clip(tmp_path, ModelSpec("flow"), 48, ((0, 1), (47, 2)))
    events = run(engine, job)
    assert isinstance(events[-1], Finished), getattr(events[-1], "detail", events[-1])
    previews = [e for e in events if isinstance(e, Preview)]
    # preview_every=1: a frame every 6 of 48, not all 48 (a flow frame takes milliseconds).
    assert len(previews) == 48 // 6
    assert all(p.image.dtype == np.uint8 and p.image.ndim == 3 and p.image.std() > 1 for p in previews)
