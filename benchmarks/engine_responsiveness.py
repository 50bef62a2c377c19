"""Does the engine thread starve an event loop? And how fast is a cache hit?

1. An asyncio event loop (the UI runs one under qasync) schedules a tick every millisecond
   while the engine renders a CPU-heavy job (optical-flow in-betweens at 1920x1080) on its
   worker thread. Printed: worst and 99th-percentile lateness of the ticks (target < 16 ms,
   one frame at 60 Hz), and the same with the engine idle as the reference.
2. The same job submitted again: the round trip from submit to Finished (cache hit), against
   the first, uncached render.

Run: .venv/bin/python benchmarks/engine_responsiveness.py
"""

from __future__ import annotations

import asyncio
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
from engine.events import Finished
from engine.jobs import ClipJob, ModelSpec, PinImage
from engine.runtime import Engine


def make_pins(folder: Path) -> tuple[PinImage, PinImage]:
    rng = np.random.default_rng(1)
    canvas = cv2.GaussianBlur(rng.integers(0, 255, (1200, 2100, 3), dtype=np.uint8), (0, 0), 3)
    a, b = canvas[40:1120, 40:1960], canvas[70:1150, 100:2020]
    write_png(folder / "a.png", a)
    write_png(folder / "b.png", b)
    return PinImage(0, str(folder / "a.png")), PinImage(47, str(folder / "b.png"))


async def measure_lateness(done: asyncio.Event, period: float = 0.001) -> list[float]:
    late = []
    loop = asyncio.get_running_loop()
    while not done.is_set():
        expected = loop.time() + period
        await asyncio.sleep(period)
        late.append(max(0.0, loop.time() - expected))
    return late


async def run(engine: Engine, job: ClipJob) -> tuple[list[float], float]:
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    finished_at = []

    def on_event(event) -> None:
        if isinstance(event, Finished):
            finished_at.append(time.perf_counter())
            loop.call_soon_threadsafe(done.set)  # how a UI receives engine events

    unsubscribe = engine.subscribe(on_event)
    start = time.perf_counter()
    engine.submit(job)
    late = await measure_lateness(done)
    unsubscribe()
    return late, finished_at[0] - start


async def idle_reference(seconds: float) -> list[float]:
    done = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, done.set)
    return await measure_lateness(done)


def describe(name: str, late: list[float]) -> str:
    ms = sorted(x * 1000 for x in late)
    p99 = ms[int(len(ms) * 0.99) - 1] if ms else 0.0
    return f"{name}: worst {ms[-1]:.1f} ms, p99 {p99:.1f} ms, median {statistics.median(ms):.2f} ms ({len(ms)} ticks)"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        job = ClipJob(ModelSpec("flow"), 48, 24, 1, 1920, 1080, make_pins(folder), label="bench")
        engine = Engine(folder / "cache", DeviceSettings(device="cpu"))
        try:
            idle = asyncio.run(idle_reference(3.0))
            busy, first = asyncio.run(run(engine, job))
            _, cached = asyncio.run(run(engine, job))
        finally:
            engine.shutdown()
    print(describe("event loop, engine idle ", idle))
    print(describe("event loop, engine busy ", busy) + "  (target worst < 16 ms)")
    print(
        f"render 48 flow frames at 1920x1080: {first:.2f} s; cache hit round trip: {cached * 1000:.1f} ms "
        f"({first / cached:.0f}x faster)"
    )


if __name__ == "__main__":
    main()
