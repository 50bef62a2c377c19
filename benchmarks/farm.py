"""Render farm: N flow shots on the local worker thread vs 1 and 2 local Ray workers.

1. Wall time to render N optical-flow shots (distinct pins, so nothing is a cache hit) on the
   engine's own worker thread, then through a Ray cluster on this machine with one job at a
   time (1 worker) and two at a time (2 workers). Each Ray configuration is warmed up first
   (worker processes started, Pinframe imported); the cold start is printed separately.
2. Scheduling overhead per job: tiny jobs (a 2-frame 32x32 clip) one after another, submit to
   Finished, on the thread and on Ray; the difference is what the farm costs per job.

Run: .venv/bin/python benchmarks/farm.py [--shots 8] [--frames 48] [--size 640x360]
On a machine with fewer than 3 cores the 2-worker figure is bounded by the cores, not Ray.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backends.fit import write_png
from engine.devices import DeviceSettings
from engine.events import Failed, Finished
from engine.farm import RayExecutor
from engine.jobs import ClipJob, ModelSpec, PinImage
from engine.runtime import Engine

CPU = DeviceSettings(device="cpu")


def pin(folder: Path, name: str, seed: int, size: tuple[int, int]) -> str:
    rng = np.random.default_rng(seed)
    w, h = size
    canvas = cv2.GaussianBlur(rng.integers(0, 255, (h + 40, w + 60, 3), dtype=np.uint8), (0, 0), 3)
    path = folder / name
    write_png(path, canvas[: h + 40, : w + 60])
    return str(path)


def shots(folder: Path, count: int, frames: int, size: tuple[int, int], salt: int) -> list[ClipJob]:
    w, h = size
    return [
        ClipJob(
            ModelSpec("flow"),
            frames,
            24,
            1,
            w,
            h,
            (
                PinImage(0, pin(folder, f"s{salt}_{i}_a.png", 1000 * salt + 2 * i, size)),
                PinImage(frames - 1, pin(folder, f"s{salt}_{i}_b.png", 1000 * salt + 2 * i + 1, size)),
            ),
            label=f"Shot {i + 1}",
        )
        for i in range(count)
    ]


def run_all(engine: Engine, jobs: list[ClipJob]) -> float:
    stream = engine.events()
    start = time.perf_counter()
    ids = {engine.submit(job) for job in jobs}
    for event in stream.until_done(ids, timeout=1800):
        if isinstance(event, Failed):
            raise SystemExit(f"{event.message}\n{event.detail}")
        if isinstance(event, Finished) and event.cached:
            raise SystemExit("a benchmark job was a cache hit; the timing would be meaningless")
    stream.close()
    return time.perf_counter() - start


def latencies(engine: Engine, jobs: list[ClipJob]) -> list[float]:
    stream = engine.events()
    out = []
    for job in jobs:
        start = time.perf_counter()
        job_id = engine.submit(job)
        for event in stream.until_done({job_id}, timeout=120):
            if isinstance(event, Failed):
                raise SystemExit(event.message)
        out.append(time.perf_counter() - start)
    stream.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--tiny", type=int, default=30, help="tiny jobs for the overhead figure")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    import ray

    print(f"{args.shots} flow shots of {args.frames} frames at {args.size}; {os.cpu_count()} cores here")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results: dict[str, float] = {}
        overhead: dict[str, list[float]] = {}

        local = Engine(root / "local", CPU)
        try:
            results["local thread"] = run_all(local, shots(root, args.shots, args.frames, size, salt=1))
            tiny = shots(root, args.tiny, 2, (32, 32), salt=9)
            overhead["local thread"] = latencies(local, tiny)
        finally:
            local.shutdown()

        started = time.perf_counter()
        ray.init("local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        cold_init = time.perf_counter() - started
        try:
            for workers in (1, 2):
                farm = Engine(root / f"ray{workers}", CPU, executor=RayExecutor(None, max_in_flight=workers))
                try:
                    # Warm up: both worker processes started and Pinframe imported in them.
                    started = time.perf_counter()
                    run_all(farm, shots(root, 2, 2, (32, 32), salt=20 + workers))
                    if workers == 1:
                        print(
                            f"Ray cold start: init {cold_init:.1f} s, first jobs {time.perf_counter() - started:.1f} s"
                        )
                    label = f"Ray, {workers} worker{'s' if workers > 1 else ''}"
                    results[label] = run_all(farm, shots(root, args.shots, args.frames, size, salt=1 + 10 * workers))
                    if workers == 1:
                        overhead["Ray"] = latencies(farm, shots(root, args.tiny, 2, (32, 32), salt=30))
                finally:
                    farm.shutdown()
        finally:
            ray.shutdown()

    base = results["local thread"]
    print(f"\n{'where':<16}{'wall s':>9}{'s/shot':>9}{'vs local':>10}")
    for label, seconds in results.items():
        print(f"{label:<16}{seconds:>9.2f}{seconds / args.shots:>9.2f}{base / seconds:>9.2f}x")
    print(f"\nper-job round trip, {args.tiny} tiny jobs one at a time (submit -> Finished):")
    for label, values in overhead.items():
        print(
            f"  {label:<13} median {statistics.median(values) * 1000:6.1f} ms   "
            f"p90 {sorted(values)[int(0.9 * (len(values) - 1))] * 1000:6.1f} ms"
        )
    extra = statistics.median(overhead["Ray"]) - statistics.median(overhead["local thread"])
    print(f"  scheduling overhead of the farm: about {extra * 1000:.0f} ms a job")


if __name__ == "__main__":
    main()
