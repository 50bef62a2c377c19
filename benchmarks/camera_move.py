"""What a 2D camera move adds to a model-free render at 1920x1080.

A shot pinned at its first and last frame is in-betweened with optical flow, then rendered again
with a one-pin "slow push in, pan left" (the move warps every frame after the pin). Prints the
time of each, the move's time per frame, and the move's share of the flow render measured in the
same run, so the figure holds on any machine.

Run: .venv/bin/python benchmarks/camera_move.py [--frames 48] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.flow_inbetween import HEIGHT, WIDTH, texture
from engine.backends.flow import inbetween
from engine.camera_move import apply_camera_move, canonical_move


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    a = texture(HEIGHT, WIDTH, 1)
    b = np.roll(a, 40, axis=1)
    count = args.frames
    move = canonical_move("slow push in, pan left")

    flow = best_of(args.repeats, lambda: inbetween([(0, a), (count - 1, b)], count, mode="flow"))
    held = np.repeat(a[None], count, axis=0)
    warp = best_of(args.repeats, lambda: apply_camera_move(held.copy(), move, [0]))
    copy = best_of(args.repeats, lambda: held.copy())
    warp -= copy  # the copy only gives each repeat fresh frames
    print(f"{count} frames at {WIDTH}x{HEIGHT}, move '{move}'")
    print(f"  flow in-betweens (two pins)   {flow:7.3f} s  {flow / count * 1000:6.1f} ms/frame")
    print(f"  camera move (one pin)         {warp:7.3f} s  {warp / (count - 1) * 1000:6.1f} ms/frame")
    print(f"  move / flow                   {warp / flow:7.2f}x")


if __name__ == "__main__":
    main()
