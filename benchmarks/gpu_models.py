"""GPU benchmark of every model-backed backend at real size, with random weights, under each memory preset.

Speed and memory don't depend on weight values, so each model is built at its published architecture
(benchmarks/gpu_configs.py: config values hard-coded, each with its source) with random weights, saved
as a diffusers folder (safetensors) exactly like a user's download, and then run through the real engine:
``Engine.submit`` -> ``engine.loader`` -> the backend -> diffusers, at the precision ``DeviceSettings`` picks
(bf16 on a CUDA GPU that supports it). Tokenizers are built in memory (small vocabularies, as the tests do);
the text encoders keep their real vocabulary and every prompt is padded to the model's real sequence length
(IF 77, LTX 256, LTX-2 1024, Wan 512, CLIP 77), which is what the cost depends on.

Which models: every backend of ``engine.backend_registry`` that needs a model, through the architectures
gpu_architectures.ARCHITECTURES lists for it (``--models`` takes architecture or backend names; a registry
backend without an architecture is reported). Backends with an ``upsample`` setting (LTX-2) run with it
off and on.

Memory presets (``--presets``): ``none`` (everything on the GPU, no VAE tiling), ``offload`` (model CPU
offload), ``group-offload`` (diffusers group offload), ``vae-tiling``, ``fp8`` (layerwise fp8 storage of the
denoiser, diffusers ``enable_layerwise_casting``), each alone, and ``recommended``: the registry's
``vram_preset`` for the model (what the README recommends for a 24 GB GPU) on top of the app's defaults. A
preset whose settings equal one already run is not run twice; on a machine without CUDA the presets that
only act on CUDA (offload, group offload, fp8) are reported as needing a GPU.

Per job: seconds per denoising step (from the engine's own progress events), seconds per 5 s clip at the
backend's trained frame rate (the registry's fps_hint) and default render size (its default_pixels, for a
16:9 project), load time, and peak GPU memory (``torch.cuda.max_memory_allocated``). Big models run a few
steps (``--steps``) and the clip time is extrapolated from their first and median step, which the output
says. Keyframe backends (IF, SDXL) report seconds per image instead of per clip.

Each model runs in its own child process (build, then every preset) so peaks don't mix. Folders go to a
fresh folder inside ``--workdir`` and are deleted afterwards; the biggest (LTX-2) needs about 64 GiB there.

Run (GPU):  python benchmarks/gpu_models.py [--models ltx2,wan22] [--presets none,recommended] [--out DIR]
Check (CPU, tiny configs, a few minutes):  .venv/bin/python benchmarks/gpu_models.py --tiny
Weights only (CPU, meta device, seconds):  .venv/bin/python benchmarks/gpu_models.py --params

The parts: gpu_configs (shapes), gpu_builders (folders), gpu_architectures (the table), gpu_presets
(memory settings, which models), gpu_cases (the jobs), gpu_probe (timing and peaks); this file drives them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_architectures import ARCHITECTURES, BY_NAME, Architecture, weight_table
from gpu_builders import Builder, free, gib
from gpu_cases import CLIP_SECONDS, Case, cases_for
from gpu_presets import (
    ALL_PRESETS,
    CUDA_ONLY,
    MEMORY_FIELDS,
    RECOMMENDED,
    preset_flags,
    recommended_terms,
    select,
    uncovered_backends,
)
from gpu_probe import Probe, instrument

from engine.backend_registry import get_backend

# Phases that load weights: left out of the per-clip time (a resident model renders without them).
LOAD_PHASES = ("load", "load_text_encoder", "load_unets", "load_upsampler")


def build_model(arch: Architecture, folder: Path, tiny: bool, device: str, dtype: Any) -> dict[str, Any]:
    b = Builder(device, dtype)
    start = time.perf_counter()
    arch.build(folder, b, tiny)
    free()
    disk = sum(p.stat().st_size for p in folder.rglob("*.safetensors"))
    return {
        "build_s": round(time.perf_counter() - start, 1),
        "params_m": {k: round(v / 1e6, 1) for k, v in b.params.items()},
        "params_total_b": round(sum(b.params.values()) / 1e9, 2),
        "weights_on_disk_gib": gib(disk),
    }


def check_disk(arch: Architecture, workdir: Path, dtype: Any) -> int:
    """Bytes the build will write; a clear error before building when the disk can't hold them."""
    shared = bool(arch.shares_with) and (workdir / arch.shares_with / "model_index.json").is_file()
    need = arch.disk_bytes(dtype.itemsize, shared)
    room = shutil.disk_usage(workdir).free
    if need * 1.02 > room:  # safetensors headers, configs and tokenizers on top of the weights
        raise RuntimeError(
            f"{arch.name} needs about {gib(need)} GiB free in {workdir} for its weights and {gib(room)} GiB are "
            "free; pass --workdir on a larger disk (or /dev/shm when the RAM allows)"
        )
    return need


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


def figures(row: dict[str, Any], case: Case) -> dict[str, Any]:
    """Seconds per step, per clip (or image) without loading, extrapolated to the default step count."""
    load = sum(row["phases_s"].get(name, 0.0) for name in LOAD_PHASES)
    measured = {d["block"]: d for d in row["denoise"]}
    out: dict[str, Any] = {"load_s": round(load, 2), "s_per_step": {}, "steps_run": {}}
    total: float | None = row["wall_s"] - load - row["denoise_s"]
    extrapolated = []
    for label, _, full in case.blocks:
        d = measured.get(label)
        if d is None:
            total = None  # the engine reported fewer steps than the case expects
            continue
        out["s_per_step"][label] = d["median_step_s"]
        out["steps_run"][label] = f"{d['steps']} of {full}"
        if d["steps"] >= full:
            block_s = d["total_s"]
        else:
            # The first step carries the pass's setup (and, offloaded, the weights' trip to the GPU).
            block_s = d["first_step_s"] + d["median_step_s"] * (full - 1)
            extrapolated.append(f"{label}: {d['steps']} of {full} steps")
        if total is not None:
            total += block_s
    key = "clip_s" if case.clip else "image_s"
    out[key] = None if total is None else round(total / (case.images or 1), 2)
    out["extrapolated_from"] = extrapolated
    if case.clip:
        out["clip"] = case.clip
    return out


def measure(
    arch: Architecture,
    folder: Path,
    tiny: bool,
    args: argparse.Namespace,
    results: list[dict[str, Any]] | None = None,
    progress: Any = None,
) -> list[dict[str, Any]]:
    """Every preset on one built folder; each preset gets an engine (and result cache) of its own.

    Rows go into ``results`` as they come, and ``progress()`` is called after each preset, so a run stopped
    at its time limit keeps the presets it finished.
    """
    import torch

    from engine.devices import DeviceSettings

    probe = Probe()
    instrument(probe)
    cases = cases_for(arch, folder, tiny, args)
    results = [] if results is None else results
    ran: dict[tuple[bool, ...], str] = {}
    for preset in args.presets.split(","):
        settings = DeviceSettings(**preset_flags(preset, arch))
        flags = {name: getattr(settings, name) for name in MEMORY_FIELDS}
        base = {"model": arch.name, "backend": arch.backend, "preset": preset, "settings": flags}
        gpu_only = [name for name in CUDA_ONLY if flags[name]]
        skip = ""
        if gpu_only and not torch.cuda.is_available():
            skip = f"needs a GPU ({', '.join(gpu_only)}: CUDA only)"
        elif tuple(flags.values()) in ran:
            skip = f"same settings as {ran[tuple(flags.values())]}"
        if skip:
            for case in cases:
                row = {**base, "case": case.name, "label": case.label, "run": "-", "skipped": skip}
                results.append(row)
                print(json.dumps(row), flush=True)
            continue
        ran[tuple(flags.values())] = preset
        results += measure_preset(arch, folder, cases, settings, probe, base, args)
        if progress is not None:
            progress()
    return results


def measure_preset(
    arch: Architecture,
    folder: Path,
    cases: list[Case],
    settings: Any,
    probe: Probe,
    base: dict[str, Any],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    import torch

    from engine.events import Finished, Progress
    from engine.jobs import UnloadModels
    from engine.loader import load_backend
    from engine.runtime import Engine

    holder = types.SimpleNamespace(load=lambda spec: load_backend(spec, settings))
    probe.wrap(holder, "load", "load")
    # A cache of its own: the same job under another preset must render again, not come from the cache.
    cache = folder.parent / f"cache-{arch.name}-{base['preset']}"
    engine = Engine(cache, settings, loader=lambda spec: holder.load(spec))
    engine.subscribe(lambda e: probe.step() if isinstance(e, Progress) else None)
    results = []
    try:
        for case in cases:
            for which, job in (("cold", case.job), ("warm", case.warm)):
                if job is None:
                    continue
                free()
                probe.reset()
                event, wall = run_job(engine, job, args.job_timeout)
                row: dict[str, Any] = {**base, "case": case.name, "label": case.label, "run": which}
                row["wall_s"] = round(wall, 2)
                if not isinstance(event, Finished):
                    row["error"] = getattr(event, "message", repr(event))
                    row["detail"] = (getattr(event, "detail", "") or "")[-2000:]
                    results.append(row)
                    print(json.dumps(row), flush=True)
                    continue
                row.update(probe.summary([(label, run) for label, run, _ in case.blocks]))
                row.update(figures(row, case))
                out = event.outputs[0]
                row["output"] = getattr(out, "fit", "") or getattr(out, "notes", "")
                row["peak_vram_gib"] = row["peak_allocated_gib"] if probe.cuda else None
                if probe.cuda:
                    row["max_reserved_gib"] = gib(torch.cuda.max_memory_reserved())
                    free_b, total_b = torch.cuda.mem_get_info()
                    row["device_used_after_gib"] = gib(total_b - free_b)
                row["resident_model_gib"] = gib(sum(b.memory_bytes() for b in engine.pool._resident.values()))
                results.append(row)
                print(json.dumps(row), flush=True)
                print(describe(row), flush=True)
        run_job(engine, UnloadModels(), 300)
    finally:
        engine.shutdown()
        shutil.rmtree(cache, ignore_errors=True)
    return results


def describe(row: dict[str, Any]) -> str:
    """One line a person reads: seconds per step, per clip (or image), peak VRAM."""
    steps = ", ".join(f"{s:.3f} s/step ({label})" for label, s in row["s_per_step"].items())
    if "clip_s" in row:
        what = f"{row['clip_s']} s per {CLIP_SECONDS} s clip ({row['clip']}, without loading)"
    else:
        what = f"{row['image_s']} s per image (without loading)"
    if row["extrapolated_from"]:
        what += f", extrapolated from {'; '.join(row['extrapolated_from'])}"
    vram = "n/a (no CUDA)" if row["peak_vram_gib"] is None else f"{row['peak_vram_gib']} GiB"
    return (
        f"   {row['model']} [{row['preset']}, {row['run']}]: {steps}; {what}; load {row['load_s']} s; peak VRAM {vram}"
    )


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


def child(args: argparse.Namespace) -> None:
    """Build one model's folder(s) and benchmark them under each preset; results as JSON to args.result."""
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
    arch = BY_NAME[args.child]
    workdir = Path(args.workdir)
    folder = workdir / arch.name
    record: dict[str, Any] = {"model": arch.name, "backend": arch.backend, "title": arch.title, "env": environment()}

    def save() -> None:  # after each stage: a child stopped at the time limit leaves what it finished
        partial = Path(f"{args.result}.part")
        partial.write_text(json.dumps(record, indent=1))
        partial.replace(args.result)

    try:
        if folder.exists():
            shutil.rmtree(folder)
        need = 0 if args.tiny else check_disk(arch, workdir, dtype)
        record["build"] = build_model(arch, folder, args.tiny, device, dtype)
        record["build"]["disk_needed_gib"] = gib(need)
        print(json.dumps(record["build"]), flush=True)
        record["runs"] = []
        save()
        measure(arch, folder, args.tiny, args, record["runs"], save)
    except Exception as exc:  # noqa: BLE001 - one model's failure is a result, not the end of the benchmark
        import traceback

        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc()[-4000:]
        print(record["traceback"], file=sys.stderr, flush=True)
    save()


def table(records: list[dict[str, Any]]) -> str:
    """A Markdown table: seconds per step, per clip or image (* extrapolated), load and peak VRAM per job."""
    lines = [
        f"| model | case | preset | run | s/step | s per {CLIP_SECONDS} s clip | s per image | load s | peak VRAM GiB "
        "| note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rec in records:
        if "error" in rec:
            lines.append(f"| {rec['model']} | | | | | | | | | FAILED: {rec['error']} |")
        for r in rec.get("runs", []):
            head = f"| {r['model']} | {r.get('label', r['case'])} | {r['preset']} | {r['run']} |"
            if "skipped" in r or "error" in r:
                lines.append(f"{head} | | | | | {r.get('skipped') or 'FAILED: ' + r['error']} |")
                continue
            step = " / ".join(f"{s:.3f}" for s in r["s_per_step"].values())
            mark = "*" if r["extrapolated_from"] else ""
            clip = f"{r['clip_s']}{mark}" if r.get("clip_s") is not None else ""
            image = f"{r['image_s']}{mark}" if r.get("image_s") is not None else ""
            vram = "n/a" if r["peak_vram_gib"] is None else f"{r['peak_vram_gib']:.2f}"
            lines.append(f"{head} {step} | {clip} | {image} | {r['load_s']:.1f} | {vram} | {r['output']} |")
    lines.append(
        "\n\\* extrapolated to the backend's default step count from the steps run (first step + median step); "
        "s/step lists each denoising pass (LTX-2 with the upsampler: half size / refine; IF: stage I / II)."
    )
    return "\n".join(lines)


def write_summary(
    args: argparse.Namespace, records: list[dict[str, Any]], presets: list[str], missing: list[str]
) -> None:
    """``--out``/gpu_bench.json, rewritten after each model."""
    if not args.out:
        return
    Path(args.out).mkdir(parents=True, exist_ok=True)
    env = next((r["env"] for r in records if "env" in r), {})
    summary = {"env": env, "presets": presets, "uncovered_backends": missing, "models": records}
    Path(args.out, "gpu_bench.json").write_text(json.dumps(summary, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs: checks the script on a CPU in minutes")
    parser.add_argument("--params", action="store_true", help="only print real parameter counts and bf16 sizes (CPU)")
    names = ", ".join(a.name for a in ARCHITECTURES)
    parser.add_argument(
        "--models",
        default="",
        help=f"architectures or backends, comma-separated, run in that order (default: all: {names})",
    )
    parser.add_argument(
        "--presets",
        default=",".join(ALL_PRESETS),
        help=f"memory presets, comma-separated (default: all: {', '.join(ALL_PRESETS)})",
    )
    parser.add_argument(
        "--steps", type=int, default=0,
        help="denoising steps run per pass (default: the backend's, or 4 for models of 5B and more); "
        "the rest is extrapolated",
    )  # fmt: skip
    parser.add_argument("--warm", action="store_true", help="also time a second job on the resident model")
    parser.add_argument("--out", default=os.environ.get("OUT", ""), help="folder for gpu_bench.json (default $OUT)")
    parser.add_argument("--workdir", default=tempfile.gettempdir(), help="where a fresh folder for the models goes")
    parser.add_argument("--job-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--time-limit", type=float, default=0.0,
        help="seconds for the whole run (default: none): a model still running then is stopped and keeps the "
        "presets it finished; models not started are listed as not run. For a device lease with a hard limit",
    )  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    missing = uncovered_backends()
    if missing:
        print(f"note: no real-size architecture for the registry backend(s) {', '.join(missing)}", file=sys.stderr)
    models = select(args.models)
    if args.params:
        print(weight_table([a.name for a in models]))
        return
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    unknown = [p for p in presets if p not in ALL_PRESETS]
    if unknown or not presets:
        raise SystemExit(f"unknown --presets {', '.join(unknown)}; use {', '.join(ALL_PRESETS)}")
    if RECOMMENDED in presets:
        for arch in models:  # a registry string the benchmark can't read fails here, not after an hour of building
            try:
                recommended_terms(get_backend(arch.backend), arch.variant)
            except ValueError as exc:
                raise SystemExit(str(exc)) from None

    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    # A folder of our own: the whole of it is deleted at the end, whatever --workdir is.
    workdir = Path(tempfile.mkdtemp(prefix="pinframe-gpu-bench-", dir=args.workdir))
    records: list[dict[str, Any]] = []
    deadline = time.perf_counter() + args.time_limit if args.time_limit else None
    try:
        for i, arch in enumerate(models):
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left < 30:
                records.append({"model": arch.name, "error": f"not run: --time-limit {args.time_limit:g} s reached"})
                print(f"== {arch.name}: not run, --time-limit reached", flush=True)
                write_summary(args, records, presets, missing)
                continue
            result = workdir / f"result-{arch.name}.json"
            cmd = [sys.executable, __file__, "--child", arch.name, "--result", str(result), "--workdir", str(workdir)]
            cmd += ["--presets", ",".join(presets), "--steps", str(args.steps), "--job-timeout", str(args.job_timeout)]
            cmd += (["--tiny"] if args.tiny else []) + (["--warm"] if args.warm else [])
            print(f"== {arch.name}: {arch.title} ({arch.backend})", flush=True)
            start = time.perf_counter()
            stopped = False
            try:
                returncode = subprocess.run(cmd, check=False, timeout=left).returncode
            except subprocess.TimeoutExpired:  # subprocess.run has killed the child
                stopped, returncode = True, None
            if result.is_file():
                record = json.loads(result.read_text())
            else:
                record = {"model": arch.name, "error": f"child exited {returncode} without a result"}
            if stopped:
                record["error"] = (
                    f"stopped at --time-limit {args.time_limit:g} s "
                    f"({'after the build' if 'build' in record else 'before the build ended'}; "
                    f"{len(record.get('runs', []))} job(s) finished)"
                )
            record["child_s"] = round(time.perf_counter() - start, 1)
            records.append(record)
            # Keep a folder a later model links its encoders and VAE from (wan13 for wan14); the rest goes.
            keep = {a.shares_with for a in models[i + 1 :] if a.shares_with}
            for path in workdir.iterdir():
                if path.is_dir() and path.name not in keep:
                    shutil.rmtree(path, ignore_errors=True)
            write_summary(args, records, presets, missing)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(records))
    failed = [r["model"] for r in records if "error" in r or any("error" in x for x in r.get("runs", []))]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
