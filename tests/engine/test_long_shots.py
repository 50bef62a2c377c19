"""Long shots and handles on every model backend: overlapping segments carried across each seam, motion everywhere.

Tiny random-weight pipelines, loaded like a user's download and rendered through ``engine.runtime.render_clip``.
To make a short tiny shot need several segments, a test lowers the backend's longest segment in the registry
(the one table every backend reads its frame rule from). What reached each pipeline is recorded by wrapping the
pipeline class's ``__call__``, which still runs.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine import backend_registry
from engine.backends.diffusers_common import to_uint8
from engine.backends.fit import fit_image, read_rgb
from engine.devices import DeviceSettings
from engine.jobs import ClipJob, ModelSpec, PinImage
from engine.loader import load_backend
from engine.progress import StepReporter
from engine.runtime import render_clip
from tests.engine.test_runtime import pin_file

CPU = DeviceSettings(device="cpu", precision="fp32")
SIZE = (96, 64)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Tiny tensors: one thread is fastest, and steady when other processes load the CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def backends(tiny_ltx_dir, tiny_ltx2_dir, tiny_wan_dir, tiny_wan22_dir, tiny_vace_dir) -> dict[str, Any]:
    folders = {
        "ltx": tiny_ltx_dir,
        "ltx2": tiny_ltx2_dir,
        "wan": tiny_wan_dir,
        "wan22": tiny_wan22_dir,
        "wan-vace": tiny_vace_dir,
    }
    return {name: load_backend(ModelSpec(name, str(folder), f"tiny-{name}"), CPU) for name, folder in folders.items()}


def shorten(monkeypatch: pytest.MonkeyPatch, backend: str, longest: int) -> None:
    """Lower a backend's longest segment for one test, so a tiny shot needs several."""
    info = backend_registry.get_backend(backend)
    rule = dataclasses.replace(info.frame_rule, maximum=longest)
    monkeypatch.setitem(backend_registry._BY_NAME, backend, dataclasses.replace(info, frame_rule=rule))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every pipeline call's keyword arguments and, under "returned", the frames it made as uint8.

    LTX-2 returns latents (the backend decodes them itself), so its frames are recorded where they are decoded.
    """
    from diffusers import LTX2ConditionPipeline, LTXConditionPipeline, WanImageToVideoPipeline, WanVACEPipeline

    from engine.backends.ltx2 import LTX2Backend

    recorded: list[dict[str, Any]] = []
    for cls in (LTXConditionPipeline, LTX2ConditionPipeline, WanImageToVideoPipeline, WanVACEPipeline):
        real = cls.__call__

        def recording(self: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            recorded.append(dict(kwargs))
            result = _real(self, *args, **kwargs)
            if kwargs.get("output_type") == "np":
                recorded[-1]["returned"] = to_uint8(np.asarray(result.frames[0]))
            return result

        monkeypatch.setattr(cls, "__call__", recording)
    decode = LTX2Backend.decode_video

    def decoding(self: Any, latents: Any) -> np.ndarray:
        video = decode(self, latents)
        recorded[-1]["returned"] = to_uint8(video)
        return video

    monkeypatch.setattr(LTX2Backend, "decode_video", decoding)
    return recorded


def clip(tmp_path: Path, backend: str, frames: int, pins: tuple[int, ...], **kw: Any) -> ClipJob:
    images = tuple(PinImage(f, pin_file(tmp_path, f"pin{f}.png", seed=f + 1, size=SIZE)) for f in pins)
    kw = {"prompt": "a man walks along a harbour wall", "steps": 2, "work_pixels": 64 * 32, **kw}
    spec = ModelSpec(backend, "", f"tiny-{backend}")
    return ClipJob(spec, frames, 24, 1, *SIZE, images, **kw)


def render(backend: Any, job: ClipJob, tmp_path: Path) -> tuple[Any, np.ndarray]:
    """Render through the runtime; the clip's frames, checked: the exact count and size, each pin exact."""
    staging = tmp_path / f"staging-{len(list(tmp_path.glob('staging-*')))}"
    staging.mkdir()
    job = dataclasses.replace(job, model=backend.spec)
    result = render_clip(backend, job, staging, StepReporter())
    files = sorted(Path(result.frames_dir).glob("frame_*.png"))
    assert result.frame_count == len(files) == job.frame_count, "exactly the shot's frames"
    frames = np.stack([read_rgb(f) for f in files])
    assert frames.shape == (job.frame_count, SIZE[1], SIZE[0], 3)
    for pin in job.pins:
        expected = fit_image(read_rgb(pin.path), *SIZE)[0]
        assert np.array_equal(frames[pin.frame], expected), f"pin at frame {pin.frame}"
    repeats = [i for i, (a, b) in enumerate(itertools.pairwise(frames)) if np.array_equal(a, b)]
    assert not repeats, f"frames {repeats} are shown twice in a row: held or stretched, not rendered"
    return result, frames


def pixels(image: Any) -> np.ndarray:
    return np.asarray(image.convert("RGB")) if hasattr(image, "convert") else np.asarray(image)


def pin_at(job: ClipJob, frame: int, size: tuple[int, int]) -> np.ndarray:
    """The pin's keyframe as the pipeline gets it: fitted to the render size."""
    path = next(p.path for p in job.pins if p.frame == frame)
    return fit_image(fit_image(read_rgb(path), *SIZE)[0], *size)[0]


# --- LTX-Video 0.9 -------------------------------------------------------------------------------------
def test_ltx_long_shot_renders_segments_each_conditioned_on_the_frames_before_it(
    backends, calls, tmp_path, monkeypatch
):
    shorten(monkeypatch, "ltx", 25)
    job = clip(tmp_path, "ltx", 56, (30, 55))
    result, _ = render(backends["ltx"], job, tmp_path)

    # 56 frames: three passes of 25 sharing 9 frames (0-24, 16-40, 32-56). The one holding the first pin
    # renders first, then onward from it, then back to frame 0.
    assert [c["num_frames"] for c in calls] == [25, 25, 25]
    anchor, onward, back = calls
    size = (anchor["width"], anchor["height"])
    assert [(c.frame_index, c.video) for c in anchor["conditions"]] == [(30 - 16, None)]
    assert np.array_equal(pixels(anchor["conditions"][0].image), pin_at(job, 30, size))

    carried, pin = onward["conditions"]
    assert (carried.frame_index, len(carried.video), pin.frame_index) == (0, 9, 55 - 32)
    for i, frame in enumerate(carried.video):  # shot frames 32-40, as the anchor pass made them
        assert np.array_equal(pixels(frame), anchor["returned"][16 + i]), f"carried frame {i}"
    assert np.array_equal(pixels(pin.image), pin_at(job, 55, size))

    (lead_in,) = back["conditions"]
    assert (lead_in.frame_index, len(lead_in.video)) == (16, 9), "carried at its end: it leads into the anchor"
    for i, frame in enumerate(lead_in.video):  # shot frames 16-24
        assert np.array_equal(pixels(frame), anchor["returned"][i]), f"carried frame {i}"
    assert "rendered in 3 segments of 25 frames, seams at 16 and 32" in result.notes, result.notes


# --- LTX-2 ---------------------------------------------------------------------------------------------
def test_ltx2_long_shot_carries_the_overlap_as_a_video_condition(backends, calls, tmp_path, monkeypatch):
    backend = backends["ltx2"]
    shorten(monkeypatch, "ltx2", 25)
    forwards: list[dict] = []
    transformer_forward = backend.pipe.transformer.forward

    def recording(*args: Any, **kwargs: Any) -> Any:
        forwards.append(kwargs)
        return transformer_forward(*args, **kwargs)

    monkeypatch.setattr(backend.pipe.transformer, "forward", recording)
    job = clip(tmp_path, "ltx2", 56, (30, 55), work_pixels=96 * 64)
    result, _ = render(backend, job, tmp_path)

    assert [(c["num_frames"], c["frame_rate"]) for c in calls] == [(25, 24.0)] * 3, "the shot's own rate"
    anchor, onward, back = calls
    # LTX-2 reads a condition's index as a latent frame: 1 holds frames 1-8, 2 holds 9-16, 3 holds 17-24.
    assert [c.index for c in anchor["conditions"]] == [2], "the pin at 30 is frame 14 of the pass from 16"
    carried, pin = onward["conditions"]
    assert (carried.index, carried.strength, pin.index) == (0, 1.0, 3), "overlap at latent 0, pin at frame 23"
    assert np.array_equal(carried.frames, anchor["returned"][16:25]), "shot frames 32-40, as the anchor made them"
    (lead_in,) = back["conditions"]
    assert np.array_equal(lead_in.frames, anchor["returned"][0:9]), "shot frames 16-24, as the anchor made them"
    assert lead_in.index == 2, "the latent that holds frame 16, where the pass's last 9 frames start"
    # The keyframe tokens of the lead-in's carried frames start at frame 16 of its pass (diffusers alone: 9).
    last = forwards[-1]
    tokens = last["num_frames"] * last["height"] * last["width"]
    start = last["video_coords"][0, 0, tokens, 0].item()
    assert start == pytest.approx(16 / 24)
    assert "rendered in 3 segments of 25 frames, seams at 16 and 32" in result.notes, result.notes


# --- Wan 2.1 first/last frame ----------------------------------------------------------------------------
def test_wan_pin_to_pin_longer_than_a_segment_chains_from_each_last_frame_to_the_next_pin(
    backends, calls, tmp_path, monkeypatch
):
    from diffusers import WanImageToVideoPipeline

    encoded: list[int] = []
    encode = WanImageToVideoPipeline.encode_image

    def counting(self: Any, image: Any, device: Any = None) -> Any:
        encoded.append(len(image) if isinstance(image, list) else 1)
        return encode(self, image, device)

    monkeypatch.setattr(WanImageToVideoPipeline, "encode_image", counting)
    shorten(monkeypatch, "wan", 17)
    job = clip(tmp_path, "wan", 40, (0, 39), work_pixels=32 * 16)
    result, _ = render(backends["wan"], job, tmp_path)

    # 40 frames pin to pin: three passes of 17, the last one ending exactly on the second pin.
    first, middle, last = calls
    assert [c["num_frames"] for c in calls] == [17, 17, 17]
    size = (first["width"], first["height"])
    assert np.array_equal(pixels(first["image"]), pin_at(job, 0, size))
    assert "last_image" not in first and "last_image" not in middle
    assert np.array_equal(pixels(middle["image"]), first["returned"][16]), "from frame 16, as the first pass made it"
    assert np.array_equal(pixels(last["image"]), middle["returned"][23 - 16]), "from frame 23, as the second made it"
    assert np.array_equal(pixels(last["last_image"]), pin_at(job, 39, size))
    # Wan 2.1's first/last-frame model reads two images' CLIP tokens: a pass without a last image gets the
    # first image's tokens twice.
    assert encoded == [2, 2, 2]
    assert "0-39: rendered in 3 segments of 17 frames, seams at 16 and 23" in result.notes, result.notes


# --- Wan 2.2 A14B -------------------------------------------------------------------------------------------
def test_wan22_handles_longer_than_a_segment_move_onward_and_lead_into_the_pin(backends, calls, tmp_path, monkeypatch):
    shorten(monkeypatch, "wan22", 17)
    job = clip(tmp_path, "wan22", 40, (20,), work_pixels=48 * 32)
    result, _ = render(backends["wan22"], job, tmp_path)

    # Before the pin: 21 frames rendered onward from it in two passes and played backwards; after it, 20.
    assert [c["num_frames"] for c in calls] == [13, 13, 13, 13]
    assert not any("last_image" in c for c in calls), "nothing to end on: image to video from the pin"
    size = (calls[0]["width"], calls[0]["height"])
    for first, second in (calls[:2], calls[2:]):
        assert np.array_equal(pixels(first["image"]), pin_at(job, 20, size))
        assert np.array_equal(pixels(second["image"]), first["returned"][12]), (
            "the second pass starts where the first ends"
        )
    assert "0-20: rendered in 2 segments of 13 frames, seam at 8, reversed" in result.notes, result.notes
    assert "20-39: rendered in 2 segments of 13 frames, seam at 32" in result.notes, result.notes


# --- Wan VACE -------------------------------------------------------------------------------------------------
def test_vace_long_shot_keeps_the_carried_frames_and_leads_into_a_late_first_pin(
    backends, calls, tmp_path, monkeypatch
):
    shorten(monkeypatch, "wan-vace", 17)
    job = clip(tmp_path, "wan-vace", 41, (20, 40), work_pixels=48 * 32)
    result, _ = render(backends["wan-vace"], job, tmp_path)

    # Passes 0-16, 12-28 and 24-40 sharing 5 frames; the one holding the first pin (12-28) renders first.
    assert [c["num_frames"] for c in calls] == [17, 17, 17]
    anchor, onward, back = calls

    def kept(call: dict) -> list[int]:
        return [i for i, m in enumerate(call["mask"]) if (np.asarray(m) == 0).all()]

    assert kept(anchor) == [20 - 12]
    assert kept(onward) == [0, 1, 2, 3, 4, 40 - 24], "the 5 carried frames, then the last pin"
    assert kept(back) == [12, 13, 14, 15, 16], "carried at its end: it leads into the anchor"
    for i in range(5):
        assert np.array_equal(pixels(onward["video"][i]), anchor["returned"][12 + i]), f"shot frame {24 + i}"
        assert np.array_equal(pixels(back["video"][12 + i]), anchor["returned"][i]), f"shot frame {12 + i}"
    assert "rendered in 3 segments of 17 frames, seams at 12 and 24" in result.notes, result.notes


# --- one pin, handles ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ltx", "ltx2", "wan", "wan22", "wan-vace"])
def test_a_one_pin_shot_moves_before_and_after_the_pin_on_every_model(backends, calls, tmp_path, name):
    job = clip(tmp_path, name, 17, (8,), work_pixels=64 * 32 if name.startswith("ltx") else 32 * 32)
    _, frames = render(backends[name], job, tmp_path)  # no frame repeated: the handles are not held

    assert not np.array_equal(frames[0], frames[8]) and not np.array_equal(frames[16], frames[8])
    if name.startswith("wan2") or name == "wan":
        # Image to video from the pin both ways: the lead-in played backwards, then onward.
        assert [("last_image" in c, c["num_frames"]) for c in calls] == [(False, 9), (False, 9)]
    elif name == "wan-vace":
        (call,) = calls
        assert [i for i, m in enumerate(call["mask"]) if (np.asarray(m) == 0).all()] == [8]
    else:
        (call,) = calls
        (condition,) = call["conditions"]
        at = condition.frame_index if name == "ltx" else condition.index
        assert at == (8 if name == "ltx" else 1), "the pin a condition at its frame, the model renders around it"
