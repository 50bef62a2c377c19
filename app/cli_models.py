"""``pinframe models``: list known and installed models, download one, add a local folder."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from app.errors import PinframeError
from app.paths import user_data_dir
from engine.errors import EngineError
from engine.models.registry import KnownModel, ModelRegistry


def registry() -> ModelRegistry:
    return ModelRegistry(user_data_dir() / "models.json")


def add_parsers(sub) -> None:
    models = sub.add_parser("models", help="list known and installed models; download or add one")
    models.add_argument("--json", action="store_true", help="print machine-readable JSON")
    verbs = models.add_subparsers(dest="models_command", metavar="ACTION")
    dl = verbs.add_parser("download", help="download a known model into the Hugging Face cache (resumable)")
    dl.add_argument("id", help="model id from `pinframe models`")
    add = verbs.add_parser("add", help="register a local diffusers model folder")
    add.add_argument("folder")
    add.add_argument("--kind", required=True, choices=["keyframe", "keyframe-upscale", "draft", "motion"])
    rm = verbs.add_parser("remove", help="forget a local folder (the files stay)")
    rm.add_argument("id")


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def cmd_models(args: argparse.Namespace) -> int:
    try:
        reg = registry()
        if args.models_command == "download":
            return _download(reg, args.id)
        if args.models_command == "add":
            model = reg.add_local(args.folder, args.kind)
            print(f"added {model.id} ({model.pipeline}) from {model.path}")
            return 0
        if args.models_command == "remove":
            reg.remove_local(args.id)
            print(f"removed {args.id}")
            return 0
        return _list(reg, as_json=args.json)
    except EngineError as exc:
        raise PinframeError(str(exc)) from None


def _list(reg: ModelRegistry, *, as_json: bool) -> int:
    rows = []
    for model in reg.known():
        status = reg.installed(model)
        rows.append(
            {
                "id": model.id,
                "source": model.repo_id,
                "kind": model.kind,
                "size": model.size_bytes,
                "vram_gb": model.vram_gb,
                "vram_gb_offload": model.vram_gb_offload,
                "licence": model.licence,
                "gated": model.gated,
                "non_commercial": model.non_commercial,
                "installed": status.complete,
                "path": str(status.path) if status.complete else "",
            }
        )
    for local in reg.local():
        rows.append(
            {
                "id": local.id,
                "source": str(local.path),
                "kind": local.kind,
                "installed": True,
                "path": str(local.path),
                "pipeline": local.pipeline,
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    print("Built in (no download): sketch (keyframes), flow / hold / crossfade (motion)\n")
    print(f"{'id':<24} {'kind':<17} {'size':>8} {'VRAM':>14}  {'licence':<28} status")
    for r in rows:
        if "licence" in r:
            flags = ", ".join(f for f, on in (("gated", r["gated"]), ("non-commercial", r["non_commercial"])) if on)
            vram = f"{r['vram_gb']:.0f}/{r['vram_gb_offload']:.0f} GB"
            licence = r["licence"] + (f" ({flags})" if flags else "")
            status = "installed" if r["installed"] else "not downloaded"
            print(f"{r['id']:<24} {r['kind']:<17} {_gb(r['size']):>8} {vram:>14}  {licence:<28} {status}")
        else:
            print(f"{r['id']:<24} {r['kind']:<17} {'':>8} {'':>14}  {'local folder':<28} {r['path']}")
    print("\nVRAM: all on the GPU / with model CPU offload. Download with `pinframe models download ID`.")
    return 0


def _download(reg: ModelRegistry, model_id: str) -> int:
    from engine.models.download import download_model

    model = reg.get(model_id)
    if not isinstance(model, KnownModel):
        raise PinframeError(f"'{model_id}' is a local folder; there is nothing to download")
    cancel = threading.Event()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.5 or done == total:
            last[0] = now
            pct = f"{100 * done / total:5.1f}%" if total else ""
            print(f"\r{model.id}: {_gb(done)} of {_gb(total)} {pct}", end="", file=sys.stderr, flush=True)

    try:
        path = download_model(model, on_progress=progress, cancel_event=cancel)
    except KeyboardInterrupt:
        cancel.set()
        print("\ndownload paused; run the same command again to resume", file=sys.stderr)
        raise
    print(file=sys.stderr)
    print(f"{model.id} is ready at {path}")
    return 0


COMMANDS = {"models": cmd_models}
