"""Quality and speed of flow in-betweens on real photographs under real camera moves, against ffmpeg.

Each shot is one of scikit-image's bundled photographs seen by a virtual 1920x1080 camera that
moves at constant speed (the photograph is a flat scene, so every move is an exact homography and
every in-between frame has a known true image):

- pan: the camera turns about its vertical axis (a perspective change, not a shift);
- push: the camera moves toward the scene (magnification Z / (Z - d), not linear in time);
- roll: the camera rotates about its optical axis;
- truck: the camera slides sideways, parallel to the scene (a parallax-free translation).

Four pins one second apart (``--span`` frames, 24 by default) are rendered at camera times -1, 0, 1
and 2. Pinframe's flow backend in-betweens the pins at 0 and 1; ffmpeg's ``minterpolate`` gets all
four as a 1 fps video, so it has the motion context it expects, and its frames between the same two
pins are scored. It runs with two motion-compensated settings (bidirectional search with adaptive
OBMC, and its default bilateral search with OBMC; neither wins every shot), a search range of
``--search`` pixels (its default 32 loses a 100-pixel pan) and scene-change detection off.

Scores: PSNR (dB, RGB, 8-bit) of the middle frame (t = 0.5) and the mean PSNR over every
in-between; in-betweens per second, wall clock (best of ``--repeats`` for Pinframe; minterpolate
once, with the time of a pass-through run through the same pipe taken off to favour it); and CPU
milliseconds per in-between, all threads, which other work on the machine sways much less than the
wall clock. The summary sets Pinframe against minterpolate's best setting on each measure. ffmpeg
is optional: without it the comparison is skipped and the output says so.

``--reference path/to/flow.py`` also scores another copy of the flow backend in the same run (e.g.
``git show <commit>:engine/backends/flow.py > /tmp/flow_before.py``), for before/after figures.

Run: .venv/bin/python benchmarks/flow_quality.py [--span 24] [--repeats 3] [--reference FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backends import flow

WIDTH, HEIGHT = 1920, 1080
# Focal length in pixels: a horizontal field of view of about 53 degrees (a 36 mm lens on full frame).
FOCAL = 1920.0
PIN_TIMES = (-1.0, 0.0, 1.0, 2.0)

# Every frame point u (centred pixels) -> the point of the camera-at-time-0 image it shows at camera time tau.
CameraMove = Callable[[np.ndarray, float], np.ndarray]


def pan(degrees_per_pin: float) -> CameraMove:
    def move(u: np.ndarray, tau: float) -> np.ndarray:
        angle = np.radians(degrees_per_pin * tau)
        rays = np.stack([u[:, 0], u[:, 1], np.full(len(u), FOCAL)], axis=1)
        cos, sin = np.cos(angle), np.sin(angle)
        x = cos * rays[:, 0] + sin * rays[:, 2]
        z = -sin * rays[:, 0] + cos * rays[:, 2]
        return np.stack([FOCAL * x / z, FOCAL * rays[:, 1] / z], axis=1)

    return move


def push(magnification_per_pin: float) -> CameraMove:
    closing = 1.0 - 1.0 / magnification_per_pin  # distance covered per pin, as a fraction of the scene depth

    def move(u: np.ndarray, tau: float) -> np.ndarray:
        return u * (1.0 - closing * tau)

    return move


def roll(degrees_per_pin: float) -> CameraMove:
    def move(u: np.ndarray, tau: float) -> np.ndarray:
        angle = np.radians(degrees_per_pin * tau)
        cos, sin = np.cos(angle), np.sin(angle)
        return np.stack([cos * u[:, 0] - sin * u[:, 1], sin * u[:, 0] + cos * u[:, 1]], axis=1)

    return move


def truck(pixels_per_pin: tuple[float, float]) -> CameraMove:
    def move(u: np.ndarray, tau: float) -> np.ndarray:
        return u + np.asarray(pixels_per_pin) * tau

    return move


@dataclass(frozen=True)
class Shot:
    name: str
    photo: str  # a skimage.data function name
    move: CameraMove
    motion: str  # what the move is per pin, for the table


SHOTS = (
    Shot("pan", "coffee", pan(3.0), "3 deg yaw"),
    Shot("push", "astronaut", push(1.08), "x1.08 zoom"),
    Shot("roll", "chelsea", roll(2.0), "2 deg roll"),
    Shot("truck", "rocket", truck((72.0, 16.0)), "74 px"),
)


class Camera:
    """Renders a shot's frame at any camera time from the photograph in one resampling (no upscaled canvas)."""

    def __init__(self, photo: np.ndarray, move: CameraMove) -> None:
        self._photo = photo
        self._move = move
        corners = np.array([[x, y] for x in (-WIDTH / 2, WIDTH / 2) for y in (-HEIGHT / 2, HEIGHT / 2)], np.float64)
        reach = np.abs(np.concatenate([move(corners, tau) for tau in np.linspace(-1, 2, 31)]))
        photo_h, photo_w = photo.shape[:2]
        # Photo pixels per frame pixel: as large as keeps every frame of the move inside the photograph.
        self._scale = min((photo_w / 2 - 2) / reach[:, 0].max(), (photo_h / 2 - 2) / reach[:, 1].max())

    def frame(self, tau: float) -> np.ndarray:
        # Four exact point pairs fix the homography; the moves are homographies, so it is exact everywhere.
        frame_pts = np.array([[0, 0], [WIDTH - 1, 0], [0, HEIGHT - 1], [WIDTH - 1, HEIGHT - 1]], np.float64)
        centred = frame_pts - np.array([(WIDTH - 1) / 2, (HEIGHT - 1) / 2])
        photo_h, photo_w = self._photo.shape[:2]
        photo_pts = self._move(centred, tau) * self._scale + np.array([(photo_w - 1) / 2, (photo_h - 1) / 2])
        to_photo = cv2.getPerspectiveTransform(frame_pts.astype(np.float32), photo_pts.astype(np.float32))
        return cv2.warpPerspective(self._photo, to_photo, (WIDTH, HEIGHT), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP)


def load_photo(name: str) -> np.ndarray:
    try:
        from skimage import data
    except ImportError:
        sys.exit(
            "scikit-image is needed for the photographs: "
            ".venv/bin/pip install -r requirements-dev.txt -c constraints.txt"
        )
    return np.ascontiguousarray(getattr(data, name)()[..., :3])


def psnr(image: np.ndarray, truth: np.ndarray) -> float:
    mse = float(np.mean((image.astype(np.float32) - truth.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@dataclass(frozen=True)
class Score:
    middle_psnr: float
    mean_psnr: float
    per_second: float | None  # in-betweens per second, wall clock
    cpu_ms: float | None = None  # CPU time per in-between, all threads: less swayed by other load


def score(frames: np.ndarray, truths: list[np.ndarray], seconds: float | None, cpu: float | None = None) -> Score:
    """``frames`` and ``truths`` are the in-betweens only, in order; ``seconds`` and ``cpu`` their cost."""
    values = [psnr(frame, truth) for frame, truth in zip(frames, truths, strict=True)]
    per_second = None if seconds is None else len(truths) / seconds
    cpu_ms = None if cpu is None else 1000 * cpu / len(truths)
    return Score(values[len(values) // 2], float(np.mean(values)), per_second, cpu_ms)


def run_backend(
    module: ModuleType, pins: list[np.ndarray], span: int, repeats: int, mode: str = "flow"
) -> tuple[np.ndarray, float, float]:
    """In-betweens of the pins at times 0 and 1, and the best wall and CPU times of ``repeats`` runs."""
    keyed = [(0, pins[1]), (span, pins[2])]
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        out = module.inbetween(keyed, span + 1, mode=mode)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    return out[1:span], best, best_cpu


# minterpolate's motion-compensated settings worth trying: neither wins every shot. Scene-change
# detection is off (a fast move would otherwise be cut to a blend) and search_param is --search.
MINTERPOLATE = {
    "minterpolate bidir": "mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1",
    "minterpolate bilat": "mi_mode=mci:mc_mode=obmc:me_mode=bilat",
}


def run_ffmpeg(pins: list[np.ndarray], video_filter: str) -> tuple[np.ndarray, float, float]:
    """All output frames of ``video_filter`` applied to the pins as a 1 fps clip, its wall and CPU seconds."""
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", "1", "-i", "pipe:0",
        "-vf", f"format=yuv444p,{video_filter}", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ]  # fmt: skip
    payload = b"".join(pin.tobytes() for pin in pins)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, input=payload, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed on {video_filter!r}: {done.stderr.decode(errors='replace').strip()}")
    frames = np.frombuffer(done.stdout, np.uint8).reshape(-1, HEIGHT, WIDTH, 3)
    return frames, seconds, cpu


def run_minterpolate(
    pins: list[np.ndarray], span: int, search: int, options: str
) -> tuple[np.ndarray, float, float, float]:
    """minterpolate's in-betweens of the pins at times 0 and 1, its net wall and CPU seconds for that many, and the
    PSNR ceiling of ffmpeg's RGB -> YUV 4:4:4 -> RGB pipe (a pin that went through it unchanged).

    It interpolates all three pin pairs; its times, less a pass-through run's, are prorated to one pair.
    """
    frames, seconds, cpu = run_ffmpeg(pins, f"minterpolate=fps={span}:{options}:me=epzs:search_param={search}:scd=none")
    _, overhead, cpu_overhead = run_ffmpeg(pins, f"fps={span}")
    # Output frame k is camera time -1 + k / span; frames span and 2 * span are the pins at 0 and 1.
    start = span
    ceiling = psnr(frames[start], pins[1])
    if frames.shape[0] < 2 * span + 1 or ceiling < 40 or psnr(frames[2 * span], pins[2]) < 40:
        raise RuntimeError(f"minterpolate's frames don't line up with the pins ({frames.shape[0]} frames)")
    share = (span - 1) / ((len(pins) - 1) * (span - 1))  # one pair's part of all the in-betweens it made
    net, net_cpu = max(seconds - overhead, 1e-6) * share, max(cpu - cpu_overhead, 1e-6) * share
    return frames[start + 1 : start + span], net, net_cpu, ceiling


def load_reference(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference_flow", path)
    if spec is None or spec.loader is None:
        sys.exit(f"--reference {path}: not a Python file; give the path of a copy of engine/backends/flow.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fmt(value: float | None, width: int, digits: int = 2) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--span", type=int, default=24, help="frames from pin to pin (even, so t=0.5 is a frame)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of Pinframe's backends (best is reported)")
    parser.add_argument("--search", type=int, default=128, help="minterpolate's search_param (pixels)")
    parser.add_argument("--reference", help="another copy of engine/backends/flow.py to score alongside")
    parser.add_argument("--shots", default=",".join(shot.name for shot in SHOTS), help="comma-separated shot names")
    args = parser.parse_args()
    if args.span < 4 or args.span % 2:
        sys.exit(f"--span {args.span}: use an even number of frames >= 4, so the middle in-between is at t=0.5")
    reference = load_reference(args.reference) if args.reference else None
    ffmpeg = shutil.which("ffmpeg")
    known = {shot.name: shot for shot in SHOTS}
    unknown = [name for name in args.shots.split(",") if name not in known]
    if unknown:
        sys.exit(f"--shots: no shot named {', '.join(unknown)}; choose from {', '.join(known)}")
    chosen = [known[name] for name in args.shots.split(",")]

    print(f"{WIDTH}x{HEIGHT}, pins {args.span} frames apart ({args.span - 1} in-betweens), {os.cpu_count()} CPUs,")
    print(f"OpenCV {cv2.__version__} with {cv2.getNumThreads()} threads, load average {os.getloadavg()[0]:.2f}")
    if ffmpeg is None:
        print("ffmpeg not found: the minterpolate comparison is SKIPPED (apt-get install ffmpeg to run it)")
    else:
        version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
        print(f"{version}; minterpolate search_param={args.search}")
        for name, options in MINTERPOLATE.items():
            print(f"  {name}: {options}")

    rows: list[tuple[str, str, Score]] = []
    for shot in chosen:
        camera = Camera(load_photo(shot.photo), shot.move)
        pins = [camera.frame(tau) for tau in PIN_TIMES]
        truths = [camera.frame(k / args.span) for k in range(1, args.span)]
        label = f"{shot.name} ({shot.photo}, {shot.motion})"
        frames, seconds, cpu = run_backend(flow, pins, args.span, args.repeats)
        rows.append((label, "pinframe flow", score(frames, truths, seconds, cpu)))
        if reference is not None:
            frames, seconds, cpu = run_backend(reference, pins, args.span, args.repeats)
            rows.append((label, "reference flow", score(frames, truths, seconds, cpu)))
        if ffmpeg is not None:
            for name, options in MINTERPOLATE.items():
                frames, seconds, cpu, ceiling = run_minterpolate(pins, args.span, args.search, options)
                rows.append((label, name, score(frames, truths, seconds, cpu)))
            rows.append((label, "  (yuv444p pipe ceiling)", Score(ceiling, ceiling, None)))
        frames, seconds, cpu = run_backend(flow, pins, args.span, args.repeats, mode="crossfade")
        rows.append((label, "crossfade", score(frames, truths, seconds, cpu)))
        del frames, truths, pins

    cores = os.cpu_count() or 1
    print(f"\nload average now {os.getloadavg()[0]:.2f} ({cores} cores: above {cores}, other work shares them)")
    header = (
        f"{'shot':34s} {'method':26s} {'mid PSNR':>9s} {'mean PSNR':>10s} {'in-betweens/s':>14s} {'CPU ms each':>12s}"
    )
    print(f"\n{header}")
    for label, method, result in rows:
        print(
            f"{label:34s} {method:26s} {fmt(result.middle_psnr, 9)} {fmt(result.mean_psnr, 10)}"
            f" {fmt(result.per_second, 14, 1)} {fmt(result.cpu_ms, 12, 1)}"
        )
    if ffmpeg is None:
        print("(minterpolate: skipped, ffmpeg not installed)")
    summarize(rows)


def summarize(rows: list[tuple[str, str, Score]]) -> None:
    """Pinframe's flow against minterpolate (its best setting per shot) and the reference, and its slowest rate."""
    by_shot: dict[str, dict[str, Score]] = {}
    for label, method, result in rows:
        by_shot.setdefault(label, {})[method] = result
    print()
    for label, methods in by_shot.items():
        ours = methods["pinframe flow"]
        rivals = {}
        settings = [methods[name] for name in MINTERPOLATE if name in methods]
        if settings:
            # The best of minterpolate's settings on each measure, even where no one setting has both.
            rivals["minterpolate"] = Score(
                max(score.middle_psnr for score in settings),
                max(score.mean_psnr for score in settings),
                max(score.per_second for score in settings if score.per_second is not None),
                min(score.cpu_ms for score in settings if score.cpu_ms is not None),
            )
        if "reference flow" in methods:
            rivals["reference flow"] = methods["reference flow"]
        for rival, theirs in rivals.items():
            print(
                f"{label}: vs {rival} {ours.middle_psnr - theirs.middle_psnr:+.2f} dB middle,"
                f" {ours.mean_psnr - theirs.mean_psnr:+.2f} dB mean,"
                f" x{ours.per_second / theirs.per_second:.2f} in-betweens/s,"
                f" x{theirs.cpu_ms / ours.cpu_ms:.2f} less CPU"
            )
    slowest = min(methods["pinframe flow"].per_second for methods in by_shot.values())
    verdict = "real time" if slowest >= 24 else "below real time"
    print(f"slowest shot: {slowest:.1f} in-betweens/s at {WIDTH}x{HEIGHT} ({verdict}: 24 fps)")


if __name__ == "__main__":
    main()
