"""Seamless pins: pinned frames stay exact and the frames around them fade in, so a pin doesn't pop.

The measure throughout: the step into and out of a pin (mean absolute difference of frames p-1 → p
and p → p+1) against the clip's median step between neighbouring frames. The old contract pasted
the keyframe over the model's frame; each test that measures builds that paste too, so it shows
the measure catches the pop the blend removes.
"""

from __future__ import annotations

import statistics

import cv2
import numpy as np
import pytest
import torch

from engine.backends.cpu_motion import CrossfadeMotion, FlowMotion, HoldMotion
from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.jobs import ClipJob, ModelSpec, PinImage
from engine.loader import load_backend
from engine.pin_blend import MAX_WINDOW, blend_pins, plan_fades
from engine.progress import StepReporter
from engine.runtime import enforce_clip_contract

torch.set_num_threads(1)

WIDTH, HEIGHT = 96, 64
DRIFT = 30  # how much brighter than the keyframe the "model" renders, 0..255


def texture(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth RGB noise: structure at a few scales, so a pan changes every frame a little."""
    rng = np.random.default_rng(seed)
    total = np.zeros((height, width, 3), np.float32)
    for sigma in (1.5, 4.0, 10.0):
        layer = cv2.GaussianBlur(rng.random((height, width, 3), dtype=np.float32), (0, 0), sigma)
        total += (layer - layer.mean()) / layer.std()
    return np.clip(128 + 30 * total / total.std(), 0, 255).astype(np.uint8)


def pan(frame_count: int, width: int = WIDTH, height: int = HEIGHT, speed: float = 1.0, seed: int = 1) -> np.ndarray:
    """A camera panning ``speed`` pixels a frame over a still textured scene: the true motion."""
    canvas = texture(height + 8, width + int(speed * frame_count) + 8, seed)
    shifts = [np.float32([[1, 0, -4 - speed * t], [0, 1, -4]]) for t in range(frame_count)]
    return np.stack([cv2.warpAffine(canvas, m, (width, height), flags=cv2.INTER_LINEAR) for m in shifts])


def drifted(truth: np.ndarray, pins: list[int], drift: int = DRIFT) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """What a model might render: the true motion, ``drift`` levels too bright; the pins are the truth."""
    render = np.clip(truth.astype(np.int16) + drift, 0, 255).astype(np.uint8)
    return render, [(p, truth[p].copy()) for p in pins]


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def pin_jump_ratio(frames: np.ndarray, pins: list[int]) -> float:
    """The largest step into or out of a pin, over the clip's median step between neighbours."""
    steps = [mad(frames[i], frames[i + 1]) for i in range(len(frames) - 1)]
    at_pins = [steps[i] for p in pins for i in (p - 1, p) if 0 <= i < len(steps)]
    return max(at_pins) / statistics.median(steps)


def pasted(render: np.ndarray, pins: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """The old contract: the keyframe pasted over the model's frame, nothing else."""
    out = render.copy()
    for frame, image in pins:
        out[frame] = image
    return out


def contract(render: np.ndarray, pins: list[tuple[int, np.ndarray]], backend: str = "ltx") -> np.ndarray:
    """The runtime's clip contract on a copy of ``render`` (the job only gives it sizes and the backend's name)."""
    n, height, width = render.shape[:3]
    job = ClipJob(ModelSpec(backend, "x"), n, 24, 1, width, height, tuple(PinImage(f, f"{f}.png") for f, _ in pins))
    return enforce_clip_contract(render.copy(), job, pins)


def assert_pins_exact(frames: np.ndarray, pins: list[tuple[int, np.ndarray]]) -> None:
    for frame, image in pins:
        assert np.array_equal(frames[frame], image), f"pin at frame {frame} is not its keyframe"


def test_a_drifting_render_leads_into_its_pins_without_a_pop():
    frame_indices = [0, 30, 71]
    render, pins = drifted(pan(72), frame_indices)
    old, new = pasted(render, pins), contract(render, pins)
    assert_pins_exact(new, pins)
    before, after = pin_jump_ratio(old, frame_indices), pin_jump_ratio(new, frame_indices)
    assert before > 3, f"the pasted pins pop ({before:.2f}x the median motion): the measure sees it"
    assert after <= 1.5, f"the step at a pin is {after:.2f}x the median motion after the blend (was {before:.2f}x)"
    # And nowhere else does the fade make a step much bigger than the motion.
    steps = [mad(new[i], new[i + 1]) for i in range(len(new) - 1)]
    assert max(steps) <= 1.5 * statistics.median(steps)


def test_frames_far_from_every_pin_are_untouched_and_near_ones_are_changed():
    render, pins = drifted(pan(80), [0, 79])
    new = contract(render, pins)
    far = slice(MAX_WINDOW, 80 - MAX_WINDOW)
    assert np.array_equal(new[far], render[far]), "frames more than a window from a pin are the model's"
    assert not np.array_equal(new[1], render[1]) and not np.array_equal(new[78], render[78])


def test_pins_at_the_first_and_last_frame_blend_on_their_one_side():
    render, pins = drifted(pan(40), [0, 39])
    new = contract(render, pins)
    assert_pins_exact(new, pins)
    assert pin_jump_ratio(pasted(render, pins), [0, 39]) > 3
    assert pin_jump_ratio(new, [0, 39]) <= 1.5


def test_a_window_grows_with_the_drift_and_never_crosses_the_next_pin():
    truth = pan(60)

    def windows(drift: int, pins: list[int]) -> dict[tuple[int, int], int]:
        render, pinned = drifted(truth, pins, drift)
        return {(f.pin, f.step): f.window for f in plan_fades(render, dict(pinned))}

    small, large = windows(8, [30]), windows(40, [30])
    assert large[(30, 1)] > small[(30, 1)] and large[(30, -1)] > small[(30, -1)]
    near = windows(40, [30, 35])
    assert near[(30, 1)] <= 5 and near[(35, -1)] <= 5


def test_a_fade_stops_at_a_pin_the_model_rendered_exactly():
    render, pins = drifted(pan(40), [10])
    exact = 13
    pins.append((exact, render[exact].copy()))  # the model got this one right: no residual
    new = contract(render, pins)
    assert_pins_exact(new, pins)
    assert not np.array_equal(new[11:13], render[11:13]), "the frames between lead into the drifting pin"
    assert np.array_equal(new[exact:], render[exact:]), "nothing of the first pin's fade crosses the second"


def test_two_close_pins_with_the_same_drift_take_it_out_of_the_frames_between():
    truth = pan(30)
    render, pins = drifted(truth, [10, 12, 20, 21])
    new = contract(render, pins)
    assert_pins_exact(new, pins)
    assert mad(new[11], truth[11]) <= 1.0, "both fades meet at the frame between two close pins"
    assert np.array_equal(new[20], truth[20]) and np.array_equal(new[21], truth[21]), "neighbouring pins"
    assert pin_jump_ratio(new, [10, 12, 20, 21]) <= 1.5


def test_frames_in_a_strided_view_blend_like_a_contiguous_copy():
    render, pins = drifted(pan(30), [12])
    view = render[..., ::-1].copy()[..., ::-1]  # the same pixels, channels stored reversed (a BGR decode)
    assert not view[0].flags.c_contiguous
    assert np.array_equal(blend_pins(view, pins), blend_pins(render.copy(), pins))


def test_one_and_two_frame_clips_are_their_pins():
    truth = pan(2)
    for count, frames in ((1, [0]), (2, [0, 1]), (2, [1])):
        render, pins = drifted(truth[:count], frames)
        new = contract(render, pins)
        assert_pins_exact(new, pins)
    render, pins = drifted(truth, [1])
    assert mad(contract(render, pins)[0], truth[0]) < DRIFT / 2, "the frame before a last-frame pin leads into it"


def test_frames_held_on_the_keyframe_before_the_first_pin_stay_held():
    # Wan holds the first pin's keyframe before it and renders from the pin on.
    render, pins = drifted(pan(30), [6, 29])
    render[:6] = pins[0][1]
    new = contract(render, pins)
    assert np.array_equal(new[:7], np.broadcast_to(pins[0][1], new[:7].shape)), "the hold is untouched"
    assert not np.array_equal(new[7], render[7]), "the rendered side still leads into the pin"


@pytest.mark.parametrize("backend", [FlowMotion, CrossfadeMotion, HoldMotion])
def test_the_model_free_backends_render_their_pins_and_are_left_as_they_are(backend):
    truth = pan(20, seed=3)
    pins = [(0, truth[0]), (9, truth[9]), (19, truth[19])]
    job = ClipJob(ModelSpec(backend.mode), 20, 24, 1, WIDTH, HEIGHT, tuple(PinImage(f, "x.png") for f, _ in pins))
    rendered = backend().render(job, pins, StepReporter())
    assert np.array_equal(enforce_clip_contract(rendered.copy(), job, pins), rendered)


def test_a_tiny_ltx_render_keeps_exact_pins_and_steps_no_bigger_than_its_motion(tiny_ltx_dir):
    spec = ModelSpec("ltx", str(tiny_ltx_dir), "tiny-ltx")
    frame_indices = [0, 9, 19]
    truth = pan(20, seed=4)
    pins = [(f, truth[f]) for f in frame_indices]
    pin_images = tuple(PinImage(f, "x.png") for f in frame_indices)
    job = ClipJob(spec, 20, 24, 1, WIDTH, HEIGHT, pin_images, prompt="a pan", steps=2, work_pixels=64 * 32)
    backend = load_backend(spec, DeviceSettings(device="cpu"))
    try:
        render = backend.render(job, pins, StepReporter())
    finally:
        backend.close()
    new = enforce_clip_contract(render.copy(), job, pins)
    assert_pins_exact(new, pins)
    assert pin_jump_ratio(new, frame_indices) <= 1.5
    assert pin_jump_ratio(new, frame_indices) <= pin_jump_ratio(pasted(render, pins), frame_indices) + 0.05


def test_bad_input_says_which_pin_or_frames_and_what_to_do():
    render, pins = drifted(pan(10), [0])
    with pytest.raises(ValueError, match=r"pin at frame 0 .* fit it to the clip's size"):
        blend_pins(render.copy(), [(0, render[0, :32])])
    with pytest.raises(ValueError, match="frame 10 is outside the clip's frames 0..9"):
        blend_pins(render.copy(), [(10, render[0])])
    readonly = render.copy()
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blend_pins(readonly, pins)
    job = ClipJob(ModelSpec("ltx", "x"), 10, 24, 1, WIDTH, HEIGHT, (PinImage(0, "a.png"),))
    with pytest.raises(EngineError, match="ltx backend returned float32 frames"):
        enforce_clip_contract(render.astype(np.float32), job, pins)
