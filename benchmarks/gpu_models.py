"""GPU benchmark of the engine's real-size model architectures, with random weights.

Speed and memory don't depend on weight values, so each model is built at its published
architecture (config values hard-coded below, each with its source) with random weights, saved
as a diffusers folder (safetensors) exactly like a user's download, and then run through the real
engine: ``Engine.submit`` -> ``engine.loader`` -> the backend -> diffusers, at the precision
``DeviceSettings()`` picks (bf16 on a CUDA GPU that supports it). Tokenizers are built in memory
(small vocabularies, as the tests do); the text encoders keep their real vocabulary and every
prompt is padded to the model's real sequence length (IF 77, LTX 256, Wan 512, CLIP 77), which is
what the cost depends on.

Per job it records wall time split into load, prompt encoding, VAE encode, denoising (per step,
from the engine's own progress events) and VAE decode, plus peak GPU memory
(``torch.cuda.max_memory_allocated``) per phase and overall. A second "warm" job on the resident
model shows the steady state without loading. Jobs whose default step count would take too long
(Wan 14B) run fewer steps; the full-length time is extrapolated from the per-step time and the
JSON says so.

Each model runs in its own child process (build, then benchmark) so peaks don't mix. Folders go
to ``--workdir`` (default /tmp/pinframe-gpu-bench) and are deleted afterwards.

Run (GPU):  python benchmarks/gpu_models.py [--models sdxl,ltx,if,wan13,wan14] [--out DIR]
Check (CPU, tiny configs, under a minute):  .venv/bin/python benchmarks/gpu_models.py --tiny
Weights only (CPU, meta device, seconds):  .venv/bin/python benchmarks/gpu_models.py --params
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_architectures import (
    WAN_1_3B,
    WAN_14B,
    Builder,
    build_if,
    build_ltx,
    build_sdxl,
    build_wan,
    free,
    gib,
    sdxl_base_from_turbo,
    weight_table,
)

ALL_MODELS = ("sdxl", "ltx", "if", "wan13", "wan14")
PROMPT = "EXT. CITY STREET - NIGHT. A woman in a red coat walks slowly through the rain, camera pans left"
NEGATIVE = "blurry, low quality, text, watermark"


# --- measuring -------------------------------------------------------------------------------------
class Probe:
    """Times named phases (synchronizing the GPU at their edges) and peak memory per phase.

    Phases nest only at the top level (an inner wrapped call is part of the outer phase). The
    time between phases is "denoise" (the engine's progress events mark each step there).
    """

    def __init__(self) -> None:
        import torch

        self.cuda = torch.cuda.is_available()
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.depth = 0
        self.timeline: list[tuple[float, str, str]] = []  # (time, "start"/"end"/"step", label)
        self.phase_s: dict[str, float] = {}
        self.phase_n: dict[str, int] = {}
        self.phase_peak: dict[str, int] = {}
        self.between_peak = 0
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()

    def _sync(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()

    def _take_peak(self) -> int:
        if not self.cuda:
            return 0
        import torch

        peak = torch.cuda.max_memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        return peak

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr)
        if getattr(original, "_probe_label", None):
            return
        probe = self

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if probe.depth:
                return original(*args, **kwargs)
            probe._sync()
            probe.between_peak = max(probe.between_peak, probe._take_peak())
            start = time.perf_counter()
            probe.timeline.append((start, "start", label))
            probe.depth = 1
            try:
                return original(*args, **kwargs)
            finally:
                probe._sync()
                end = time.perf_counter()
                probe.depth = 0
                probe.timeline.append((end, "end", label))
                probe.phase_s[label] = probe.phase_s.get(label, 0.0) + end - start
                probe.phase_n[label] = probe.phase_n.get(label, 0) + 1
                probe.phase_peak[label] = max(probe.phase_peak.get(label, 0), probe._take_peak())

        timed._probe_label = label  # type: ignore[attr-defined]
        setattr(owner, attr, timed)

    def step(self) -> None:
        """Called from the engine's progress event, on the worker thread, inside the step callback."""
        self._sync()
        self.timeline.append((time.perf_counter(), "step", ""))
        if self.cuda:
            import torch

            self.between_peak = max(self.between_peak, torch.cuda.max_memory_allocated())

    def summary(self, blocks: list[tuple[str, int]]) -> dict[str, Any]:
        """Per-step times from the timeline; ``blocks`` names consecutive runs of steps (label, count)."""
        self.between_peak = max(self.between_peak, self._take_peak())
        step_dts = []
        prev = None
        for t, kind, _ in self.timeline:
            if kind == "step" and prev is not None:
                step_dts.append(t - prev)
            prev = t
        out: dict[str, Any] = {
            "phases_s": {k: round(v, 3) for k, v in self.phase_s.items()},
            "phase_calls": dict(self.phase_n),
            "peak_gib": {k: gib(v) for k, v in self.phase_peak.items()},
        }
        out["peak_gib"]["denoise_and_rest"] = gib(self.between_peak)
        out["peak_allocated_gib"] = max(out["peak_gib"].values())
        steps = []
        i = 0
        for label, count in blocks:
            dts = step_dts[i : i + count]
            i += count
            if not dts:
                continue
            steady = dts[1:] or dts
            steps.append(
                {
                    "block": label,
                    "steps": len(dts),
                    "first_step_s": round(dts[0], 3),
                    "median_step_s": round(statistics.median(steady), 4),
                    "total_s": round(sum(dts), 3),
                }
            )
        out["denoise"] = steps
        out["denoise_s"] = round(sum(s["total_s"] for s in steps), 3)
        return out


def instrument(probe: Probe) -> None:
    """Wrap what the backends call, so each phase is timed in place (nothing in engine/ changes)."""
    import diffusers

    from engine.backends.deepfloyd import IFBackend

    probe.wrap(IFBackend, "_text_encoder", "load_text_encoder")
    probe.wrap(IFBackend, "_load_stages", "load_unets")
    for name in ("IFPipeline", "LTXConditionPipeline", "WanImageToVideoPipeline", "StableDiffusionXLPipeline"):
        probe.wrap(getattr(diffusers, name), "encode_prompt", "encode_prompt")
    probe.wrap(diffusers.WanImageToVideoPipeline, "encode_image", "encode_image")
    for name in ("AutoencoderKLLTXVideo", "AutoencoderKLWan", "AutoencoderKL"):
        probe.wrap(getattr(diffusers, name), "encode", "vae_encode")
        probe.wrap(getattr(diffusers, name), "decode", "vae_decode")


# --- cases -------------------------------------------------------------------------------------------
def pin_images(folder: Path, width: int, height: int, frames: tuple[int, ...]) -> tuple[Any, ...]:
    import cv2
    import numpy as np

    from engine.backends.fit import write_png
    from engine.jobs import PinImage

    pins = []
    for n, frame in enumerate(frames):
        rng = np.random.default_rng(n)
        image = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 3)
        path = folder / f"pin_{frame}.png"
        write_png(path, image)
        pins.append(PinImage(frame, str(path)))
    return tuple(pins)


def cases_for(model: str, folder: Path, tiny: bool, args: argparse.Namespace) -> list[dict[str, Any]]:
    """What to run on a built folder: the job, an optional warm repeat, and how its steps are grouped."""
    from engine.jobs import ClipJob, KeyframeJob, ModelSpec

    kw = (160, 90) if tiny else (1920, 1080)  # keyframes for a 16:9 project
    tiny_steps = 2
    if model == "sdxl":
        turbo = ModelSpec("text2image", str(folder / "turbo"), "sdxl-turbo")
        base = ModelSpec("text2image", str(folder / "base"), "sdxl-base-1.0")
        base_steps = tiny_steps if tiny else 0
        return [
            dict(
                name="sdxl-turbo keyframes x4 (engine defaults: 2 steps, no CFG)",
                job=KeyframeJob(turbo, PROMPT, (1, 2, 3, 4), *kw),
                warm=KeyframeJob(turbo, PROMPT, (5, 6, 7, 8), *kw),
                blocks=[(f"image {s}", 2) for s in range(1, 5)],
                default_steps=2,
            ),
            dict(
                name="sdxl-base-class keyframe x1 (1024-px native, 30 steps, CFG 7)",
                job=KeyframeJob(base, PROMPT, (1,), *kw, negative_prompt=NEGATIVE, steps=base_steps),
                warm=None,
                blocks=[("seed 1", base_steps or 30)],
                default_steps=30,
            ),
        ]
    if model == "if":
        spec = ModelSpec("if", str(folder / "stage1"), "if-i-xl", upscale_path=str(folder / "stage2"))
        steps = tiny_steps if tiny else 0
        n = steps or 50
        return [
            dict(
                name="IF-I-XL + IF-II-L keyframe x1 (50 + 50 steps, CFG)",
                job=KeyframeJob(spec, PROMPT, (1,), *kw, negative_prompt=NEGATIVE, steps=steps),
                warm=KeyframeJob(spec, PROMPT, (2,), *kw, negative_prompt=NEGATIVE, steps=steps),
                blocks=[("stage I", n), ("stage II", n)],
                default_steps=50,
            )
        ]
    if model == "ltx":
        spec = ModelSpec("ltx", str(folder), "ltx-video")
        width, height, frames = (128, 64, 9) if tiny else (768, 512, 97)
        pins = pin_images(folder.parent, width, height, (0, frames - 1))
        extra = dict(steps=tiny_steps, work_pixels=64 * 32) if tiny else {}
        n = tiny_steps if tiny else 30
        return [
            dict(
                name=f"LTX-Video 0.9.5 clip {frames} frames {width}x{height}, 2 pins (30 steps, CFG 3)",
                job=ClipJob(spec, frames, 24, 1, width, height, pins, PROMPT, NEGATIVE, seed=1, **extra),
                warm=ClipJob(spec, frames, 24, 1, width, height, pins, PROMPT, NEGATIVE, seed=2, **extra),
                blocks=[("transformer", n)],
                default_steps=30,
            )
        ]
    if model in ("wan13", "wan14"):
        size = "14B" if model == "wan14" else "1.3B"
        spec = ModelSpec("wan", str(folder), f"wan2.1-flf2v-{size.lower()}")
        width, height, frames = (64, 32, 5) if tiny else (832, 480, 81)
        pins = pin_images(folder.parent, width, height, (0, frames - 1))
        steps = tiny_steps if tiny else (args.wan14_steps if model == "wan14" else args.wan13_steps)
        extra = dict(work_pixels=32 * 16) if tiny else {}
        return [
            dict(
                name=f"Wan2.1 FLF2V {size} clip {frames} frames {width}x{height}, 2 pins ({steps} of 30 steps, CFG 5)",
                job=ClipJob(spec, frames, 24, 1, width, height, pins, PROMPT, NEGATIVE, seed=1, steps=steps, **extra),
                warm=None,
                blocks=[("transformer", steps)],
                default_steps=30,
            )
        ]
    raise SystemExit(f"unknown model {model}; use {', '.join(ALL_MODELS)}")


def build_model(model: str, folder: Path, tiny: bool, device: str, dtype: Any) -> dict[str, Any]:
    b = Builder(device, dtype)
    start = time.perf_counter()
    if model == "sdxl":
        build_sdxl(folder / "turbo", b, tiny)
        sdxl_base_from_turbo(folder / "turbo", folder / "base")
    elif model == "if":
        build_if(folder, b, tiny)
    elif model == "ltx":
        build_ltx(folder, b, tiny)
    elif model == "wan13":
        build_wan(folder, b, tiny, WAN_1_3B)
    elif model == "wan14":
        build_wan(folder, b, tiny, WAN_14B, share_from=folder.parent / "wan13")
    free()
    disk = sum(p.stat().st_size for p in folder.rglob("*.safetensors"))
    return {
        "build_s": round(time.perf_counter() - start, 1),
        "params_m": {k: round(v / 1e6, 1) for k, v in b.params.items()},
        "params_total_b": round(sum(b.params.values()) / 1e9, 2),
        "weights_on_disk_gib": gib(disk),
    }


def run_job(engine: Any, job: Any, timeout: float) -> tuple[Any, float]:
    stream = engine.events()
    start = time.perf_counter()
    job_id = engine.submit(job)
    last = None
    for event in stream.until_done({job_id}, timeout=timeout):
        if event.job_id == job_id:
            last = event
    stream.close()
    return last, time.perf_counter() - start


def measure(model: str, folder: Path, tiny: bool, args: argparse.Namespace) -> list[dict[str, Any]]:
    import torch

    from engine.devices import DeviceSettings
    from engine.events import Finished, Progress
    from engine.jobs import UnloadModels
    from engine.loader import load_backend
    from engine.runtime import Engine

    settings = DeviceSettings()
    probe = Probe()
    instrument(probe)

    holder = types.SimpleNamespace(load=lambda spec: load_backend(spec, settings))
    probe.wrap(holder, "load", "load")

    engine = Engine(folder.parent / f"cache-{model}", settings, loader=lambda spec: holder.load(spec))
    engine.subscribe(lambda e: probe.step() if isinstance(e, Progress) else None)
    results = []
    try:
        for case in cases_for(model, folder, tiny, args):
            for which in ("cold", "warm"):
                job = case["job"] if which == "cold" else case["warm"]
                if job is None:
                    continue
                free()
                probe.reset()
                event, wall = run_job(engine, job, args.job_timeout)
                row: dict[str, Any] = {"model": model, "case": case["name"], "run": which, "wall_s": round(wall, 2)}
                if not isinstance(event, Finished):
                    row["error"] = getattr(event, "message", repr(event))
                    row["detail"] = (getattr(event, "detail", "") or "")[-2000:]
                    results.append(row)
                    print(json.dumps(row), flush=True)
                    continue
                row.update(probe.summary(case["blocks"]))
                out = event.outputs[0]
                row["output"] = getattr(out, "fit", "") or getattr(out, "notes", "")
                steps_run = sum(count for _, count in case["blocks"])
                full = case["default_steps"] * len(case["blocks"])
                if steps_run < full:
                    per_step = statistics.mean(d["median_step_s"] for d in row["denoise"])
                    row["steps_run"] = steps_run
                    row["extrapolated_full_wall_s"] = round(wall - row["denoise_s"] + per_step * full, 1)
                if probe.cuda:
                    row["max_reserved_gib"] = gib(torch.cuda.max_memory_reserved())
                    free_b, total_b = torch.cuda.mem_get_info()
                    row["device_used_after_gib"] = gib(total_b - free_b)
                row["resident_model_gib"] = gib(sum(b.memory_bytes() for b in engine.pool._resident.values()))
                results.append(row)
                print(json.dumps(row), flush=True)
            run_job(engine, UnloadModels(), 300)
    finally:
        engine.shutdown()
    return results


def environment() -> dict[str, Any]:
    import diffusers
    import torch
    import transformers

    from engine.devices import DeviceSettings

    settings = DeviceSettings()
    env = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "device": settings.resolve_device(),
        "dtype": str(settings.torch_dtype()).replace("torch.", ""),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env["gpu"] = props.name
        env["gpu_memory_gib"] = gib(props.total_memory)
        env["cuda"] = torch.version.cuda
        env["sdpa_flash"] = torch.backends.cuda.flash_sdp_enabled()
    return env


# --- weights only (no GPU needed) ----------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    """Build one model's folder(s) and benchmark them; results as JSON to args.result."""
    import diffusers
    import torch
    import transformers

    from engine.devices import DeviceSettings

    for library in (diffusers, transformers):
        library.utils.logging.set_verbosity_error()
        library.utils.logging.disable_progress_bar()
    if args.tiny:
        torch.set_num_threads(1)
    settings = DeviceSettings()
    device, dtype = settings.resolve_device(), settings.torch_dtype()
    workdir = Path(args.workdir)
    folder = workdir / args.child
    record: dict[str, Any] = {"model": args.child, "env": environment()}
    try:
        if folder.exists():
            shutil.rmtree(folder)
        record["build"] = build_model(args.child, folder, args.tiny, device, dtype)
        print(json.dumps(record["build"]), flush=True)
        record["runs"] = measure(args.child, folder, args.tiny, args)
    except Exception as exc:  # noqa: BLE001 - one model's failure is a result, not the end of the benchmark
        import traceback

        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc()[-4000:]
        print(record["traceback"], file=sys.stderr, flush=True)
    Path(args.result).write_text(json.dumps(record, indent=1))


def table(records: list[dict[str, Any]]) -> str:
    lines = [
        f"{'model':6} {'run':4} {'wall s':>7} {'load s':>7} {'enc s':>6} {'step s':>7} {'steps':>5} "
        f"{'dec s':>6} {'peak GiB':>8} {'full s':>7}  case"
    ]
    for rec in records:
        if "error" in rec:
            lines.append(f"{rec['model']:6} FAILED: {rec['error']}")
        for r in rec.get("runs", []):
            if "error" in r:
                lines.append(f"{r['model']:6} {r['run']:4} FAILED: {r['error']}")
                continue
            ph = r["phases_s"]
            load = ph.get("load", 0) + ph.get("load_text_encoder", 0) + ph.get("load_unets", 0)
            enc = ph.get("encode_prompt", 0) + ph.get("encode_image", 0) + ph.get("vae_encode", 0)
            step = "/".join(f"{d['median_step_s']:.3f}" for d in r["denoise"][:2])
            nsteps = sum(d["steps"] for d in r["denoise"])
            full = r.get("extrapolated_full_wall_s", "")
            lines.append(
                f"{r['model']:6} {r['run']:4} {r['wall_s']:7.1f} {load:7.1f} {enc:6.2f} {step:>7} {nsteps:5d} "
                f"{ph.get('vae_decode', 0):6.2f} {r['peak_allocated_gib']:8.2f} {full!s:>7}  {r['case']}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs: checks the script on a CPU in minutes")
    parser.add_argument("--params", action="store_true", help="only print real parameter counts and bf16 sizes (CPU)")
    parser.add_argument("--models", default=",".join(ALL_MODELS), help=f"comma-separated subset of {ALL_MODELS}")
    parser.add_argument("--out", default=os.environ.get("OUT", ""), help="folder for gpu_bench.json (default $OUT)")
    parser.add_argument("--workdir", default="/tmp/pinframe-gpu-bench")
    parser.add_argument("--wan13-steps", type=int, default=30)
    parser.add_argument("--wan14-steps", type=int, default=4, help="steps actually run; the rest extrapolated")
    parser.add_argument("--job-timeout", type=float, default=900.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.params:
        print(weight_table())
        return

    models = [m for m in args.models.split(",") if m]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    for model in models:
        result = workdir / f"result-{model}.json"
        result.unlink(missing_ok=True)
        cmd = [sys.executable, __file__, "--child", model, "--result", str(result), "--workdir", str(workdir)]
        cmd += ["--wan13-steps", str(args.wan13_steps), "--wan14-steps", str(args.wan14_steps)]
        cmd += ["--job-timeout", str(args.job_timeout)] + (["--tiny"] if args.tiny else [])
        print(f"== {model}", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, check=False)
        if result.is_file():
            record = json.loads(result.read_text())
        else:
            record = {"model": model, "error": f"child exited {proc.returncode} without a result"}
        record["child_s"] = round(time.perf_counter() - start, 1)
        records.append(record)
        # Keep wan13 for wan14 (its encoders and VAE are linked, not rebuilt); everything else goes.
        keep = {"wan13"} if "wan14" in models[models.index(model) + 1 :] else set()
        for path in workdir.iterdir():
            if path.is_dir() and path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            env = next((r["env"] for r in records if "env" in r), {})
            Path(args.out, "gpu_bench.json").write_text(json.dumps({"env": env, "models": records}, indent=1))
    shutil.rmtree(workdir, ignore_errors=True)
    print(table(records))
    failed = [r["model"] for r in records if "error" in r or any("error" in x for x in r.get("runs", []))]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
