"""No keyframe backend stretches: each renders near the shot's aspect, then scales evenly and crops.

Random-weight models draw noise, so "not stretched" is checked twice: on the fit itself (a drawn
circle stays round through every aspect change), and on every backend's real output (the size it
rendered at, and the note of how that was fitted: one scale factor for both sides).
"""

from __future__ import annotations

import math
import re

import cv2
import numpy as np
import pytest
import torch

from engine import backend_registry as R
from engine.backends.fit import choose_size, cover_size, fit_image, read_rgb
from engine.backends.prx_pixel import bucket_size
from engine.devices import DeviceSettings
from engine.events import Finished
from engine.jobs import KeyframeJob, ModelSpec
from engine.runtime import Engine
from tests.engine.test_runtime import run
from tests.engine.tiny_prx import PATCH, SAMPLE_SIZE, build_tiny_prx

CPU = DeviceSettings(device="cpu", precision="fp32")
SHOTS = {"16:9": (192, 108), "2.39:1": (239, 100), "4:3": (160, 120)}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    e = Engine(tmp_path_factory.mktemp("aspect-cache"), CPU, budget_bytes=1 << 34)
    yield e
    e.shutdown()


@pytest.fixture(scope="module")
def specs(tiny_if_dir, tiny_sd_dir, tmp_path_factory) -> dict[str, ModelSpec]:
    prx = build_tiny_prx(tmp_path_factory.mktemp("models") / "tiny-prx-pixel")
    return {
        "sketch": ModelSpec("sketch", ""),
        "if": ModelSpec("if", str(tiny_if_dir), "tiny-if"),
        "text2image": ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"),
        "prx-pixel": ModelSpec("prx-pixel", str(prx), "tiny-prx"),
    }


def test_every_keyframe_backend_is_covered_here() -> None:
    assert set(R.backend_names("keyframe")) == {"sketch", "if", "text2image", "prx-pixel"}, (
        "a new keyframe backend: add it to this file's no-stretch checks"
    )


def _round_circle(image: np.ndarray) -> tuple[int, int]:
    """Width and height of the white disc's bounding box."""
    ys, xs = np.nonzero(image[..., 0] > 127)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


@pytest.mark.parametrize("generated", [(84, 48), (24, 8), (48, 48), (1344, 768), (1440, 704), (1152, 896)])
@pytest.mark.parametrize("shot", list(SHOTS.values()) + [(1920, 1080), (2048, 858), (1440, 1080)])
def test_the_fit_keeps_a_circle_round_whatever_the_two_aspects(generated, shot) -> None:
    gw, gh = generated
    picture = np.zeros((gh, gw, 3), np.uint8)
    radius = max(2, min(gw, gh) // 6)  # small enough to survive any crop here whole
    cv2.circle(picture, (gw // 2, gh // 2), radius, (255, 255, 255), -1)
    fitted, note = fit_image(picture, *shot)
    assert fitted.shape == (shot[1], shot[0], 3)
    w, h = _round_circle(fitted)
    scale = max(shot[0] / gw, shot[1] / gh)
    # Round stays round, to within half a source pixel of resampling; a stretch would be far more.
    assert abs(w - h) <= 2 + scale / 2, f"{generated} -> {shot}: disc {w}x{h} ({note})"
    sw, sh = cover_size(gw, gh, *shot)
    assert abs(sw / gw - sh / gh) <= 1 / min(gw, gh), "one scale factor for both sides"
    assert sw >= shot[0] and sh >= shot[1] and (sw == shot[0] or sh == shot[1]), "covers, then crops one way only"


def _scaled(note: str) -> tuple[int, int, int, int] | None:
    match = re.search(r"scaled (\d+)x(\d+) to (\d+)x(\d+)", note)
    return tuple(int(g) for g in match.groups()) if match else None  # type: ignore[return-value]


def _native(backend: str, engine: Engine, spec: ModelSpec) -> tuple[int, int]:
    """(area side, side multiple) the backend's model renders at, read from the loaded model."""
    loaded = engine.pool._resident[spec.key]
    if backend == "if":
        return int(loaded.stage1.unet.config.sample_size), 8
    return loaded.native_size()


@pytest.mark.parametrize("aspect", list(SHOTS))
@pytest.mark.parametrize("backend", ["sketch", "if", "text2image", "prx-pixel"])
def test_each_backend_renders_near_the_shot_aspect_and_crops_without_stretching(engine, specs, backend, aspect):
    width, height = SHOTS[aspect]
    job = KeyframeJob(specs[backend], "a woman on a rooftop at night", (3,), width, height, steps=2)
    finished = run(engine, job)[-1]
    assert isinstance(finished, Finished), getattr(finished, "detail", finished)
    out = finished.outputs[0]
    assert read_rgb(out.path).shape == (height, width, 3)
    gw, gh = out.generated_width, out.generated_height
    if backend == "sketch":
        assert (gw, gh) == (width, height), "cards are drawn at the shot's size"
        return
    side, multiple = _native(backend, engine, specs[backend])
    if backend == "prx-pixel":
        # The nearest of the model's trained aspect buckets (test_prx_pixel checks "nearest").
        assert (gw, gh) == bucket_size(width, height, SAMPLE_SIZE, PATCH)
    else:
        # The model's pixel count at the shot's aspect, each side the nearest multiple it accepts.
        assert (gw, gh) == choose_size(width, height, area=side * side, multiple=multiple)
        ideal_h = math.sqrt(side * side * height / width)
        assert abs(gh - ideal_h) <= multiple / 2 and abs(gw - ideal_h * width / height) <= multiple / 2
    scaled = _scaled(out.fit)
    assert scaled is not None and scaled[:2] == (gw, gh), out.fit
    sw, sh = scaled[2:]
    assert abs(sw / gw - sh / gh) <= 1 / min(gw, gh), f"stretched: {out.fit}"
    assert (sw, sh) == cover_size(gw, gh, width, height)
