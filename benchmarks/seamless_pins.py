"""Seamless pins: how big the step at a pin is against the clip's motion, and what the blend costs.

The figure is the largest step into or out of a pin (mean absolute difference of frames p-1 → p and
p → p+1) over the clip's median step between neighbouring frames: about 1 means the pin arrives like
any other frame, 5 means it pops. "before" is the old contract (the keyframe pasted over the model's
frame), "after" is :func:`engine.runtime.enforce_clip_contract` with :mod:`engine.pin_blend`.

- tiny models: real random-weight LTX and Wan pipelines (tests/engine/tiny_models.py) render a
  96x64 clip through their backends. Random weights give frame-to-frame noise, so the pins sit in
  noise as large as the pin's own residual: expect about 1 before and after.
- drifting pan: a 1920x1080 pan (2 px a frame) rendered 30 levels too bright (a model's drift), pinned to the true
  frames at 0, 60 and 119 of 120.
- cost: the blend's wall time on that 1080p clip, against two references timed in the same run:
  the old paste, and writing the 120 frames as PNGs the way the runtime stores a clip. "worst" is a
  still shot with the same drift, where every fade runs to its longest window.

Run: .venv/bin/python benchmarks/seamless_pins.py [--repeats 3] [--skip-models]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backends.fit import write_png
from engine.devices import DeviceSettings
from engine.jobs import ClipJob, ModelSpec, PinImage
from engine.loader import load_backend
from engine.pin_blend import MAX_WINDOW, blend_pins, plan_fades
from engine.progress import StepReporter
from engine.runtime import enforce_clip_contract

# One definition of the measure and of the synthetic shots: the tests' own.
from tests.engine.test_pin_blend import drifted, pan, pasted, pin_jump_ratio

FRAMES = 120
PINS = [0, 60, 119]


def tiny_model_ratios(folder: Path) -> None:
    from tests.engine import tiny_models

    builders = {"ltx": tiny_models.build_tiny_ltx, "wan": tiny_models.build_tiny_wan}
    print("tiny random-weight models, 96x64, 20 frames pinned at 0, 9, 19 (step at a pin / median step):")
    for backend_name, build in builders.items():
        spec = ModelSpec(backend_name, str(build(folder / backend_name)), f"tiny-{backend_name}")
        indices = [0, 9, 19]
        truth = pan(20, seed=4)
        pins = [(f, truth[f]) for f in indices]
        images = tuple(PinImage(f, f"{f}.png") for f in indices)
        job = ClipJob(spec, 20, 24, 1, 96, 64, images, prompt="a pan", steps=2, work_pixels=64 * 32)
        backend = load_backend(spec, DeviceSettings(device="cpu"))
        try:
            render = backend.render(job, pins, StepReporter())
        finally:
            backend.close()
        before = pin_jump_ratio(pasted(render, pins), indices)
        after = pin_jump_ratio(enforce_clip_contract(render.copy(), job, pins), indices)
        print(f"  {backend_name:4s} before {before:5.2f}x  after {after:5.2f}x")


def best_time(run: Callable[[np.ndarray], object], frames: np.ndarray, repeats: int) -> float:
    """Best wall time of ``run`` on a fresh copy of ``frames`` (the copy isn't timed)."""
    best = float("inf")
    for _ in range(repeats):
        work = frames.copy()
        started = time.perf_counter()
        run(work)
        best = min(best, time.perf_counter() - started)
    return best


def paste_in_place(frames: np.ndarray, pins: list[tuple[int, np.ndarray]]) -> None:
    """The old contract, timed as it ran: each keyframe copied over its frame."""
    for frame, image in pins:
        frames[frame] = image


def png_write_time(frames: np.ndarray) -> float:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        for index, frame in enumerate(frames):
            write_png(Path(folder) / f"{index:05d}.png", frame, compression=1)
        return time.perf_counter() - started


def cost_1080p(repeats: int) -> None:
    truth = pan(FRAMES, width=1920, height=1080, speed=2.0)
    # A locked-off shot: the first frame with a little sensor grain that changes every frame.
    grain = np.random.default_rng(0).integers(-2, 3, truth.shape[1:], dtype=np.int16)
    still = np.stack([np.clip(truth[0] + np.roll(grain, i, axis=0), 0, 255).astype(np.uint8) for i in range(FRAMES)])
    png = png_write_time(truth)
    print(f"\n1920x1080, {FRAMES} frames pinned at {PINS}; writing its PNGs (compression 1): {png:.2f} s")
    for name, clip in (("drifting pan", truth), ("worst (still)", still)):
        render, pins = drifted(clip, PINS, 30)
        fades = plan_fades(render, dict(pins))
        touched = len({f for fade in fades for f in fade.frames(FRAMES)})
        paste = best_time(lambda frames, p=pins: paste_in_place(frames, p), render, repeats)
        blend = best_time(lambda frames, p=pins: blend_pins(frames, p), render, repeats)
        ratio_before = pin_jump_ratio(pasted(render, pins), PINS)
        ratio_after = pin_jump_ratio(blend_pins(render.copy(), pins), PINS)
        print(
            f"  {name:14s} step at a pin / median step: before {ratio_before:5.2f}x  after {ratio_after:5.2f}x\n"
            f"  {'':14s} windows {[f.window for f in fades]} (max {MAX_WINDOW}), {touched} frames touched\n"
            f"  {'':14s} blend {1000 * blend:7.1f} ms ({1000 * blend / max(touched, 1):.1f} ms a touched frame)"
            f"  paste {1000 * paste:6.1f} ms  blend / PNG writing {blend / png:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (best is reported)")
    parser.add_argument("--skip-models", action="store_true", help="leave out the tiny-model renders")
    args = parser.parse_args()
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads")
    if not args.skip_models:
        with tempfile.TemporaryDirectory() as folder:
            tiny_model_ratios(Path(folder))
    cost_1080p(args.repeats)


if __name__ == "__main__":
    main()
