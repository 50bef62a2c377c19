"""Render farm: per-job overhead, scaling with 1, 2 and 4 workers, model loads per render, MB/s.

1. Per-job overhead: tiny flow jobs (a 2-frame 32x32 clip) one after another, submit to Finished,
   on the engine's own thread and through a local Ray cluster; the difference is what the farm
   costs per job.
2. Scaling: N optical-flow shots (distinct pins, so nothing is a cache hit) on the local thread,
   then through the local Ray cluster with 1, 2 and 4 jobs at a time (CPU work: each flow job is
   a one-CPU task). Each configuration is warmed up first (worker processes started, Pinframe
   imported); the cold start is printed separately. Speed-ups are against 1 Ray worker; on a
   machine with fewer cores than workers the figure is bounded by the cores, not Ray.
3. Model loads per render: keyframe jobs with tiny random-weight Stable Diffusion pipelines (two
   different model folders) on a local multi-node cluster whose GPUs are fake (a custom resource,
   as the farm tests declare them; the models run on CPU). The farm's GPU actors must load each
   model once per GPU that runs it: loads == distinct (model, GPU) pairs, not jobs; and a second
   render over the same connection loads only the pairs it adds (models stay loaded).
4. Transfer: MB/s from this machine to a worker and back, streamed as Ray objects in 8 MiB pieces
   and through a shared folder (:func:`engine.farm.transport.measure`). Here both ends are one
   machine, so the figures are the farm's own cost, not a network's.

Run: .venv/bin/python benchmarks/farm.py [--quick] [--shots 8] [--frames 48] [--size 640x360]
Figures and the machine they were measured on: benchmarks/RESULTS-farm.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Ray's worker processes on this machine import Pinframe from here too.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from engine.backends.fit import write_png  # noqa: E402
from engine.devices import DeviceSettings  # noqa: E402
from engine.events import Failed, Finished  # noqa: E402
from engine.farm import RayExecutor  # noqa: E402
from engine.jobs import ClipJob, KeyframeJob, ModelSpec, PinImage  # noqa: E402
from engine.runtime import Engine  # noqa: E402

CPU = DeviceSettings(device="cpu")
FAKE_GPU = "pinframe_gpu"  # the custom resource the fake GPUs are
WORKERS = (1, 2, 4)


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


def run_all(engine: Engine, jobs: list) -> float:
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


def ms(values: list[float]) -> str:
    p90 = sorted(values)[int(0.9 * (len(values) - 1))]
    return f"median {statistics.median(values) * 1000:6.1f} ms   p90 {p90 * 1000:6.1f} ms"


# --- 1 and 2: overhead and scaling on CPU work ----------------------------------------------------
def cpu_farm(root: Path, args, size: tuple[int, int]) -> tuple[dict[str, float], dict[str, list[float]]]:
    import ray

    results: dict[str, float] = {}
    overhead: dict[str, list[float]] = {}
    local = Engine(root / "local", CPU)
    try:
        results["local thread"] = run_all(local, shots(root, args.shots, args.frames, size, salt=1))
        overhead["local thread"] = latencies(local, shots(root, args.tiny, 2, (32, 32), salt=9))
    finally:
        local.shutdown()

    cpus = max(WORKERS[-1], os.cpu_count() or 1)
    started = time.perf_counter()
    ray.init("local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    cold_init = time.perf_counter() - started
    try:
        for workers in WORKERS:
            farm = Engine(root / f"ray{workers}", CPU, executor=RayExecutor(None, max_in_flight=workers))
            try:
                started = time.perf_counter()
                # Warm up: every worker process started and Pinframe imported in it.
                run_all(farm, shots(root, workers, 2, (32, 32), salt=20 + workers))
                if workers == 1:
                    print(f"Ray cold start: init {cold_init:.1f} s, first job {time.perf_counter() - started:.1f} s")
                    overhead["Ray"] = latencies(farm, shots(root, args.tiny, 2, (32, 32), salt=30))
                label = f"Ray, {workers} worker{'s' if workers > 1 else ''}"
                results[label] = run_all(farm, shots(root, args.shots, args.frames, size, salt=1 + 10 * workers))
                print(f"  {label}: {results[label]:.1f} s")
            finally:
                farm.shutdown()
    finally:
        ray.shutdown()
    return results, overhead


# --- 3 and 4: model loads on fake GPUs, transfer speed ----------------------------------------------
def gpu_farm(root: Path, args) -> dict:
    import ray
    from ray.cluster_utils import Cluster

    from engine.farm.transport import measure
    from tests.engine.tiny_models import build_tiny_sd

    model_a = build_tiny_sd(root / "models" / "tiny-sd-a")
    model_b = root / "models" / "tiny-sd-b"  # the same weights in another folder: another model
    shutil.copytree(model_a, model_b)
    specs = [ModelSpec("text2image", str(model_a), "tiny-sd-a"), ModelSpec("text2image", str(model_b), "tiny-sd-b")]

    node_env = {"PINFRAME_FAKE_VRAM_GB": "24", "PYTHONPATH": os.environ["PYTHONPATH"]}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "env_vars": node_env},
    )
    for _ in range(args.nodes):
        cluster.add_node(num_cpus=args.gpus_per_node, resources={FAKE_GPU: args.gpus_per_node}, env_vars=node_env)
    cluster.wait_for_nodes()
    out: dict = {}
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        executor = RayExecutor(None, gpu_resource=FAKE_GPU)
        farm = Engine(root / "gpu-cache", CPU, executor=executor)
        try:
            gpus = executor.gpus()
            out["gpus"] = len(gpus)
            out["nodes"] = len(executor.nodes())
            renders = []
            resident = 0
            for render in range(2):

                def job(i: int, render: int = render) -> KeyframeJob:
                    return KeyframeJob(
                        specs[i % len(specs)],
                        "a red car",
                        (1000 * render + i,),
                        64,
                        64,
                        steps=2,
                        label=f"Shot {i + 1}",
                    )

                before = executor.model_loads
                seconds = run_all(farm, [job(i) for i in range(args.model_jobs)])
                pairs = len({(s.node, s.index, m) for s in executor.gpus() for m in s.models})
                loads = executor.model_loads - before
                renders.append(
                    {"jobs": args.model_jobs, "loads": loads, "pairs": pairs, "new": pairs - resident, "s": seconds}
                )
                resident = pairs
            out["renders"] = renders
        finally:
            farm.shutdown()

        for via, shared in (("streamed", None), ("shared folder", root / "shared")):
            if shared is not None:
                shared.mkdir()
            executor = RayExecutor(None, gpu_resource=FAKE_GPU, shared_root=shared)
            try:
                out[via] = measure(executor, args.megabytes)
            finally:
                executor.close(10.0)
    finally:
        ray.shutdown()
        cluster.shutdown()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller jobs: a check in about a minute")
    parser.add_argument("--shots", type=int, help="flow shots per configuration (default 8; --quick 4)")
    parser.add_argument("--frames", type=int, help="frames a flow shot (default 48; --quick 24)")
    parser.add_argument("--size", help="flow shot size (default 640x360; --quick 320x180)")
    parser.add_argument("--tiny", type=int, help="tiny jobs for the overhead figure (default 30; --quick 10)")
    parser.add_argument("--model-jobs", type=int, help="keyframe jobs a render on fake GPUs (default 20; --quick 8)")
    parser.add_argument("--nodes", type=int, default=2, help="nodes with fake GPUs (default 2)")
    parser.add_argument("--gpus-per-node", type=int, default=2, help="fake GPUs a node (default 2)")
    parser.add_argument("--megabytes", type=int, help="MB each way, transfer figure (default 256; --quick 32)")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: cpu, gpu")
    args = parser.parse_args()
    quick = args.quick
    for name, full, small in (
        ("shots", 8, 4),
        ("frames", 48, 24),
        ("size", "640x360", "320x180"),
        ("tiny", 30, 10),
        ("model_jobs", 20, 8),
        ("megabytes", 256, 32),
    ):
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    size = tuple(int(v) for v in args.size.split("x"))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    # The engine logs each job's notices (transfer progress, retries) as warnings: not figures.
    logging.getLogger("engine").setLevel(logging.ERROR)

    import ray

    print(
        f"farm benchmark{' (--quick)' if quick else ''}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, Ray {ray.__version__}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "cpu" not in skip:
            print(f"\n{args.shots} flow shots of {args.frames} frames at {args.size}:")
            results, overhead = cpu_farm(root, args, size)
            base, one = results["local thread"], results["Ray, 1 worker"]
            print(f"\n{'where':<16}{'wall s':>9}{'s/shot':>9}{'vs 1 worker':>13}")
            for label, seconds in results.items():
                print(f"{label:<16}{seconds:>9.2f}{seconds / args.shots:>9.2f}{one / seconds:>12.2f}x")
            print(f"(local thread vs 1 Ray worker: {base / one:.2f}x)")
            print(f"\nper-job round trip, {args.tiny} tiny jobs one at a time (submit -> Finished):")
            for label, values in overhead.items():
                print(f"  {label:<13} {ms(values)}")
            extra = statistics.median(overhead["Ray"]) - statistics.median(overhead["local thread"])
            print(f"  per-job overhead of the farm: about {extra * 1000:.0f} ms")
            if os.cpu_count() and os.cpu_count() < WORKERS[-1]:
                print(f"  (this machine has {os.cpu_count()} cores: scaling past {os.cpu_count()} workers is bounded)")

        if "gpu" not in skip:
            print(f"\nmodel loads on {args.nodes} nodes x {args.gpus_per_node} fake GPUs, two tiny SD models:")
            gpu = gpu_farm(root, args)
            print(f"  cluster: {gpu['gpus']} GPUs on {gpu['nodes']} node(s)")
            # Nothing is evicted here (24 GB fake GPUs, tiny models), so each load must be a (model, GPU)
            # pair that wasn't resident before this render: a second render loads only pairs it adds.
            for i, r in enumerate(gpu["renders"], 1):
                verdict = "ok" if r["loads"] == r["new"] else "MISMATCH"
                print(
                    f"  render {i}: {r['jobs']} jobs, {r['loads']} model loads, {r['new']} new distinct "
                    f"(model, GPU) pairs ({r['pairs']} resident), {r['s']:.1f} s  [{verdict}]"
                )
            print(f"\ntransfer, {args.megabytes} MB each way (this machine to a worker process and back):")
            for via in ("streamed", "shared folder"):
                m = gpu[via]
                print(
                    f"  {via:<14} to workers {m['to_workers']:8.0f} MB/s   from workers {m['from_workers']:8.0f} MB/s"
                )
            if any(r["loads"] != r["new"] for r in gpu["renders"]):
                raise SystemExit("model loads per render don't match the distinct (model, GPU) pairs: see above")


if __name__ == "__main__":
    main()
