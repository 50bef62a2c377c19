"""DeepFloyd IF: model loads and T5 prompt encodings per 10 keyframe jobs, with and without reuse.

Ten jobs of three variations each, one prompt, on the tiny random-weight IF (stage I + II) that the
tests build, loaded from a folder like a user's download. "With reuse" is how the engine runs IF:
one resident backend, the prompt encoded once, T5 kept loaded when it fits the budget. "Without" loads
the model for every job and encodes the prompt for every variation. Prints numbers, asserts nothing;
on the tiny model the times are mostly Python and loading overhead, the counts are what carries over.

Run: .venv/bin/python benchmarks/if_text_reuse.py [--jobs 10] [--variations 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backends.deepfloyd import IFBackend
from engine.devices import DeviceSettings
from engine.jobs import KeyframeJob, ModelSpec
from engine.progress import StepReporter
from tests.engine.tiny_models import build_tiny_if, build_tiny_if_sr

CPU = DeviceSettings(device="cpu", precision="fp32")
PROMPT = "a man walks in the rain at night"


def jobs(spec: ModelSpec, count: int, variations: int) -> list[KeyframeJob]:
    return [
        KeyframeJob(
            model=spec,
            prompt=PROMPT,
            negative_prompt="text",
            seeds=tuple(range(n * variations, (n + 1) * variations)),
            width=96,
            height=54,
            steps=2,
        )
        for n in range(count)
    ]


def with_reuse(spec: ModelSpec, work: list[KeyframeJob], out: Path) -> tuple[int, int, int, float]:
    start = time.perf_counter()
    backend = IFBackend.load(spec, CPU)
    for job in work:
        backend.generate(job, out, StepReporter())
    return 1, backend.encoder_loads, backend.encodes, time.perf_counter() - start


def without_reuse(spec: ModelSpec, work: list[KeyframeJob], out: Path) -> tuple[int, int, int, float]:
    start = time.perf_counter()
    loads = encoder_loads = encodes = 0
    for job in work:
        backend = IFBackend.load(spec, CPU)  # a fresh model per job
        loads += 1
        for seed in job.seeds:
            backend._embeds.clear()  # and a fresh prompt encoding per variation
            backend._encoder = None
            backend.generate(replace(job, seeds=(seed,)), out, StepReporter())
        encoder_loads += backend.encoder_loads
        encodes += backend.encodes
        backend.close()
    return loads, encoder_loads, encodes, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--variations", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = ModelSpec(
            "if",
            str(build_tiny_if(root / "tiny-if")),
            "tiny-if",
            upscale_path=str(build_tiny_if_sr(root / "tiny-if-sr")),
        )
        work = jobs(spec, args.jobs, args.variations)
        with_reuse(spec, work[:1], root)  # warm imports and kernels, so neither run pays for them
        print(f"{args.jobs} IF keyframe jobs x {args.variations} variations, one prompt, tiny model, CPU")
        print(f"{'':14}{'model loads':>12}{'T5 loads':>10}{'encodings':>11}{'seconds':>9}")
        for name, run in (("with reuse", with_reuse), ("without reuse", without_reuse)):
            loads, t5, encodes, seconds = run(spec, work, root)
            print(f"{name:14}{loads:>12}{t5:>10}{encodes:>11}{seconds:>9.2f}")


if __name__ == "__main__":
    main()
