"""What a live preview of a clip render costs: ``latent_preview`` on real-size latents, against a VAE-free
reference in the same run (copying the latents to float32 on the CPU, which every preview has to do anyway).

The app previews every 4th step (Engine's ``preview_every``); a real model's step takes a second or more, so
the preview should stay far below that. Prints milliseconds a preview and the ratio to the reference.

    .venv/bin/python benchmarks/latent_preview.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backends.diffusers_common import latent_preview

# Latents of LTX-Video at 768x448, Wan 2.1 at 832x480 and Wan 2.2 5B at 1280x704 (5 s clips).
SHAPES = {
    "ltx 768x448": (1, 128, 4, 14, 24),
    "wan 832x480": (1, 16, 21, 60, 104),
    "wan2.2-5b 1280x704": (1, 48, 21, 44, 80),
}


def timed(fn, repeats: int) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.2f}")
    print(f"{'latents':<22}{'preview ms':>12}{'copy ms':>10}{'ratio':>8}")
    for name, shape in SHAPES.items():
        latents = torch.randn(shape, dtype=torch.bfloat16)
        preview = timed(lambda latents=latents: latent_preview(latents), args.repeats)
        copy = timed(lambda latents=latents: latents.float().clone(), args.repeats)
        print(f"{name:<22}{preview * 1e3:>12.1f}{copy * 1e3:>10.1f}{preview / copy:>8.1f}")


if __name__ == "__main__":
    main()
