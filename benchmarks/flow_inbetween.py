"""Speed and quality of the model-free in-betweener at 1920x1080.

Two synthetic shots with a known true in-between frame:

- pan: the camera pans over a still textured scene;
- object: a textured card slides one way while the camera pans the other (occlusion and reveal).

For each, two pins ``--frames`` + 1 frames apart are in-betweened in every mode. Prints frames per
second (in-between frames only; flow includes its once-per-pair optical flow), peak Python-heap
memory on top of the output array, and the mean absolute error (0..255) of the middle frame against
the true middle frame for flow and crossfade.

``--reference path/to/flow.py`` adds a row for another copy of the flow backend (before/after).
benchmarks/flow_quality.py scores photographs under real camera moves and against ffmpeg.

Run: .venv/bin/python benchmarks/flow_inbetween.py [--frames 24] [--repeats 3] [--reference FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backends.flow import MODES, inbetween

WIDTH, HEIGHT = 1920, 1080
MARGIN = 200


def texture(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth RGB noise with detail from fine to coarse, a stand-in for a real frame's structure."""
    rng = np.random.default_rng(seed)
    total = np.zeros((height, width, 3), np.float32)
    for sigma in (1.5, 4.0, 12.0, 40.0):
        layer = cv2.GaussianBlur(rng.random((height, width, 3), dtype=np.float32), (0, 0), sigma)
        total += (layer - layer.mean()) / layer.std()
    total = (total - total.mean()) / total.std()
    return np.clip(128 + 45 * total, 0, 255).astype(np.uint8)


def window(image: np.ndarray, x: float, y: float, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """The width x height window of ``image`` whose top-left corner is at (x, y), sub-pixel."""
    shift = np.float32([[1, 0, -x], [0, 1, -y]])
    return cv2.warpAffine(image, shift, (width, height), flags=cv2.INTER_LINEAR)


def pan_scene() -> Callable[[float], np.ndarray]:
    canvas = texture(HEIGHT + 2 * MARGIN, WIDTH + 2 * MARGIN, seed=1)
    return lambda t: window(canvas, MARGIN + 48 * t, MARGIN + 20 * t)


def object_scene() -> Callable[[float], np.ndarray]:
    canvas = texture(HEIGHT + 2 * MARGIN, WIDTH + 2 * MARGIN, seed=2)
    card = texture(360, 480, seed=3)
    ones = np.ones(card.shape[:2], np.float32)

    def frame(t: float) -> np.ndarray:
        background = window(canvas, MARGIN - 24 * t, MARGIN - 8 * t)
        place = np.float32([[1, 0, 600 + 96 * t], [0, 1, 300 + 40 * t]])
        cover = cv2.warpAffine(ones, place, (WIDTH, HEIGHT))[..., None]
        moved = cv2.warpAffine(card, place, (WIDTH, HEIGHT))
        return np.rint(background * (1 - cover) + moved * cover).astype(np.uint8)

    return frame


def mean_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


Inbetween = Callable[..., np.ndarray]


def timed(
    render: Inbetween, pins: list[tuple[int, np.ndarray]], frame_count: int, mode: str, repeats: int
) -> tuple[float, np.ndarray]:
    """Best wall time of ``repeats`` runs, and the frames of the last one."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        out = render(pins, frame_count, mode=mode)
        best = min(best, time.perf_counter() - started)
    return best, out


def peak_extra_memory(render: Inbetween, pins: list[tuple[int, np.ndarray]], frame_count: int, mode: str) -> float:
    """Peak traced allocation (MiB) beyond the output array, i.e. the temporaries."""
    tracemalloc.start()
    out = render(pins, frame_count, mode=mode)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - out.nbytes) / 2**20


def bench(
    name: str, scene: Callable[[float], np.ndarray], frames: int, repeats: int, reference: Inbetween | None
) -> None:
    span = frames + 1
    pins = [(0, scene(0.0)), (span, scene(1.0))]
    middle = span // 2
    truth = scene(middle / span)
    print(f"\n{name}: {WIDTH}x{HEIGHT}, {frames} in-between frames; error at frame {middle} (t={middle / span:.3f})")
    errors = {}
    runs = [(mode, inbetween, mode) for mode in MODES]
    if reference is not None:
        runs.append(("ref flow", reference, "flow"))
    for label, render, mode in runs:
        seconds, out = timed(render, pins, span + 1, mode, repeats)
        errors[label] = mean_abs_error(out[middle], truth)
        memory = peak_extra_memory(render, pins, span + 1, mode)
        print(
            f"  {label:9s} {frames / seconds:7.1f} fps  ({1000 * seconds / frames:6.1f} ms/frame)"
            f"  temporaries {memory:6.1f} MiB  middle-frame MAE {errors[label]:6.2f}"
        )
    print(f"  flow / crossfade error ratio: {errors['flow'] / errors['crossfade']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24, help="in-between frames between the two pins")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per mode (best is reported)")
    parser.add_argument("--reference", help="another copy of engine/backends/flow.py to time alongside")
    args = parser.parse_args()
    reference = load_reference(args.reference) if args.reference else None
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads")
    bench("pan", pan_scene(), args.frames, args.repeats, reference)
    bench("object", object_scene(), args.frames, args.repeats, reference)


def load_reference(path: str) -> Inbetween:
    spec = importlib.util.spec_from_file_location("reference_flow", path)
    if spec is None or spec.loader is None:
        sys.exit(f"--reference {path}: not a Python file; give the path of a copy of engine/backends/flow.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.inbetween


if __name__ == "__main__":
    main()
