"""Storing a rendered clip: from the engine's frames on disk to the clip in the bundle.

One run, the same frames for every path: a 1080p, 120-frame (5 s at 24 fps) camera pan across
an OpenCV-drawn scene (sky, hills with cloudy texture, lit buildings, text), optionally with
film grain. It measures

- old: the engine's former frames (PNG, zlib 1, adaptive filters) read back one by one and
  encoded H.264 4:2:0 crf 14 (preset medium), then copied into the bundle;
- new: the engine's frames now (engine.clip_frames) stored by app.engine_service.store_clip;
- reference: the same frames, already in memory, encoded by PyAV with the new store's codec
  settings and nothing else: the floor for what the new store can take.

For each: wall seconds, CPU seconds (all threads; the honest figure on a shared machine),
the pinned frames' PSNR read back through app.video.read_frames (the viewer's and export's
reader; pins at the first, middle and last frame), the worst frame's PSNR, the file's size
per second of clip and the read-back (decode) time. Also the engine's frame-writing time,
old and new. The target: new store under 5 s on two cores; pins >= 45 dB.

Run: .venv/bin/python benchmarks/clip_store.py [--frames 120] [--grain 0] [--fps 24]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import engine_service as S
from app.bundle import Bundle
from app.document import Project
from app.timecode import FrameRate
from app.video import CLIP_ENCODER, CLIP_OPTIONS, CLIP_PIX_FMT, clip_keyframe_interval, encode_frames, read_frames
from engine.backends.fit import read_rgb, write_png
from engine.clip_frames import write_clip_frame
from engine.jobs import ClipResult, frame_name

WIDTH, HEIGHT = 1920, 1080


def scene(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A wide picture to pan across: sky, hills with cloudy texture, buildings with windows, text."""
    h, w = height + height // 5, width * 2
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = np.array([95, 150, 205], np.float32) * (1 - 0.35 * y) + np.array([40, 30, 10], np.float32) * y
    picture = np.broadcast_to(sky, (h, w, 3)).copy()
    texture = _clouds(rng, h, w, octaves=8)
    horizon = (0.45 * h + 0.1 * h * _clouds(rng, 1, w, octaves=4)[0]).astype(int)
    ground = np.arange(h)[:, None] >= horizon[None, :]
    grass = np.array([60, 110, 50], np.float32) + 45 * texture[..., None] * np.array([1.0, 1.3, 0.6], np.float32)
    picture[ground] = grass[ground]
    picture += 10 * texture[..., None]
    canvas = np.clip(picture, 0, 255).astype(np.uint8)
    base = int(0.55 * h)
    for _ in range(40):
        x, bw, bh = int(rng.integers(0, w)), int(rng.integers(40, 200)), int(rng.integers(100, h // 2))
        color = tuple(int(c) for c in rng.integers(60, 200, 3))
        cv2.rectangle(canvas, (x, base - bh), (x + bw, base + 60), color, -1)
        for wy in range(base - bh + 10, base, 30):
            for wx in range(x + 8, x + bw - 10, 24):
                lit = (240, 230, 150) if rng.random() < 0.4 else (40, 40, 50)
                cv2.rectangle(canvas, (wx, wy), (wx + 10, wy + 14), lit, -1)
    for _ in range(60):
        centre = (int(rng.integers(0, w)), int(rng.integers(int(0.6 * h), h)))
        color = tuple(int(c) for c in rng.integers(20, 120, 3))
        cv2.circle(canvas, centre, int(rng.integers(10, 60)), color, -1, lineType=cv2.LINE_AA)
    for i in range(6):
        cv2.putText(canvas, f"SHOT 12A  TAKE {i + 1}", (200 + i * 600, int(0.8 * h)), cv2.FONT_HERSHEY_DUPLEX,
                    2.5, (245, 245, 235), 4, cv2.LINE_AA)  # fmt: skip
    return cv2.GaussianBlur(canvas, (0, 0), 0.8)  # a lens, not a pixel-sharp drawing


def _clouds(rng: np.random.Generator, h: int, w: int, *, octaves: int) -> np.ndarray:
    """Smooth fractal noise in about -1..1 (clouds, grass), made by upsizing random grids."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.standard_normal((max(2, cells * h // w + 2), cells + 2)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.6
    return out / total


def pan(canvas: np.ndarray, count: int, width: int, height: int, grain: float, seed: int) -> np.ndarray:
    """``count`` frames of a camera panning right (with a little bob) across ``canvas``."""
    rng = np.random.default_rng(seed)
    frames = np.empty((count, height, width, 3), np.uint8)
    reach_x, reach_y = canvas.shape[1] - width, canvas.shape[0] - height
    for i in range(count):
        t = i / max(1, count - 1)
        shift = np.float32([[1, 0, -t * reach_x], [0, 1, -(0.5 + 0.4 * np.sin(6 * t)) * reach_y]])
        frame = cv2.warpAffine(canvas, shift, (width, height), flags=cv2.INTER_LINEAR)
        if grain:
            frame = np.clip(frame + rng.normal(0, grain, frame.shape), 0, 255).astype(np.uint8)
        frames[i] = frame
    return frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


@dataclass
class Row:
    name: str
    wall: float
    cpu: float
    path: Path


def timed(name: str, work: Callable[[], Path]) -> Row:
    wall, cpu = time.perf_counter(), time.process_time()
    path = work()
    return Row(name, time.perf_counter() - wall, time.process_time() - cpu, path)


def write_frames(frames: np.ndarray, folder: Path, writer: Callable[[Path, np.ndarray], None]) -> tuple[float, float]:
    folder.mkdir()
    wall, cpu = time.perf_counter(), time.process_time()
    for index, frame in enumerate(frames):
        writer(folder / frame_name(index), frame)
    return time.perf_counter() - wall, time.process_time() - cpu


def old_store(bundle: Bundle, result: ClipResult) -> Path:
    """store_clip as it was: PNGs read one at a time, H.264 4:2:0 crf 14, then into the bundle."""
    tmp = bundle.path / "media" / ".render-old.mp4"
    try:
        frames = (read_rgb(result.frame_path(i)) for i in range(result.frame_count))
        encode_frames(frames, tmp, Fraction(result.fps_num, result.fps_den))
        return bundle.media.path(bundle.media.put_file(tmp, "mp4"))
    finally:
        tmp.unlink(missing_ok=True)


def reference_encode(frames: np.ndarray, path: Path, rate: Fraction) -> Path:
    """The new store's codec and settings on frames already in memory, and nothing else."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(CLIP_ENCODER, rate=rate)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = CLIP_PIX_FMT
        stream.time_base = 1 / rate
        stream.options = dict(CLIP_OPTIONS)
        stream.codec_context.gop_size = clip_keyframe_interval(rate)
        for index, frame in enumerate(frames):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = index
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))
    return path


def read_back(path: Path) -> float:
    """Seconds to decode the whole clip, as the viewer's frame cache and the exporters do."""
    wall = time.perf_counter()
    for _ in read_frames(path):
        pass
    return time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--grain", type=float, default=0.0, help="film grain, std dev in 8-bit levels (e.g. 2)")
    parser.add_argument("--fps", default="24", help="frame rate, e.g. 24 or 24000/1001")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rate = Fraction(args.fps)
    canvas = scene(np.random.default_rng(args.seed), WIDTH, HEIGHT)
    frames = pan(canvas, args.frames, WIDTH, HEIGHT, args.grain, args.seed)
    pins = sorted({0, args.frames // 2, args.frames - 1})
    work = Path(tempfile.mkdtemp(prefix="clip-store-"))
    try:
        old_dir, new_dir = work / "old-frames", work / "new-frames"
        old_write = write_frames(frames, old_dir, lambda p, f: write_png(p, f, compression=1))
        new_write = write_frames(frames, new_dir, write_clip_frame)
        sizes = {d: sum(f.stat().st_size for f in d.iterdir()) / args.frames / 1e6 for d in (old_dir, new_dir)}

        def result(folder: Path) -> ClipResult:
            return ClipResult(str(folder), args.frames, WIDTH, HEIGHT, rate.numerator, rate.denominator, "flow")

        bundle = Bundle.create(work / "bench.pinframe", Project("bench", FrameRate(rate.numerator, rate.denominator)))
        try:
            rows = [
                timed("old: PNG readback + crf 14", lambda: old_store(bundle, result(old_dir))),
                timed("new: store_clip", lambda: bundle.media.path(S.store_clip(bundle, result(new_dir)).ref)),
                timed(f"reference: PyAV {CLIP_ENCODER}", lambda: reference_encode(frames, work / "ref.mp4", rate)),
            ]
        finally:
            bundle.close()
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{args.frames} frames of {WIDTH}x{HEIGHT} at {rate} fps, grain {args.grain}")
        print(f"machine: {os.cpu_count()} cores, load average {load:.1f} (wall times stretch with load; CPU doesn't)")
        for name, (wall, cpu), folder in (("old", old_write, old_dir), ("new", new_write, new_dir)):
            print(f"engine writes {name} frames: {wall:.2f} s ({cpu:.2f} s CPU), {sizes[folder]:.2f} MB a frame")
        header = ("path", "wall s", "CPU s", "pins dB", "worst dB", "MB/s clip", "read s")
        print("{:34s} {:>7s} {:>7s} {:>20s} {:>8s} {:>9s} {:>7s}".format(*header))
        for row in rows:
            read_wall = read_back(row.path)
            scores = [psnr(a, b) for a, b in zip(read_frames(row.path), frames, strict=True)]
            pin_text = " ".join(f"{scores[p]:.1f}" for p in pins)
            per_second = row.path.stat().st_size / float(args.frames / rate) / 1e6
            numbers = f"{row.wall:7.2f} {row.cpu:7.2f} {pin_text:>20s} {min(scores):8.1f} {per_second:9.1f}"
            print(f"{row.name:34s} {numbers} {read_wall:7.2f}")
        old, new, ref = rows
        print(
            f"new store: {old.wall / new.wall:.1f}x faster than the old path ({old.cpu / new.cpu:.1f}x less CPU); "
            f"{new.wall / ref.wall:.2f}x the reference encode's time ({new.cpu / ref.cpu:.2f}x its CPU)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
