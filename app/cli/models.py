"""``pinframe models``: list known and installed models, download one, add a local folder."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

from app.errors import PinframeError
from app.paths import user_data_dir
from engine.backend_registry import backends, describe_table, get_backend
from engine.errors import EngineError
from engine.models.registry import KINDS, KnownModel, ModelRegistry


def registry() -> ModelRegistry:
    return ModelRegistry(user_data_dir() / "models.json")


def add_parsers(sub) -> None:
    models = sub.add_parser("models", help="list known and installed models; download or add one")
    models.add_argument("--json", action="store_true", help="print machine-readable JSON")
    models.add_argument(
        "--backends", action="store_true", help="list the keyframe and motion backends and their settings"
    )
    models.add_argument("--markdown", action="store_true", help="with --backends: the README's table")
    verbs = models.add_subparsers(dest="models_command", metavar="ACTION")
    dl = verbs.add_parser("download", help="download a known model into the Hugging Face cache (resumable)")
    dl.add_argument("id", help="model id from `pinframe models`")
    add = verbs.add_parser("add", help="register a local diffusers model folder")
    add.add_argument("folder")
    add.add_argument(
        "--kind", choices=KINDS, help="what the model is for (default: read from the folder's model_index.json)"
    )
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
            backend = get_backend(model.backend).display_name if model.backend else model.pipeline
            print(f"added {model.id} ({backend}, {model.kind}, {model.pipeline}) from {model.path}")
            return 0
        if args.models_command == "remove":
            reg.remove_local(args.id)
            print(f"removed {args.id}")
            return 0
        if args.backends and args.markdown:
            print(backend_table_markdown())
            return 0
        if args.backends:
            return _list_backends(as_json=args.json)
        return _list(reg, as_json=args.json)
    except EngineError as exc:
        raise PinframeError(str(exc)) from None


def _list(reg: ModelRegistry, *, as_json: bool) -> int:
    rows: list[dict[str, Any]] = []
    for model in reg.known():
        status = reg.installed(model)
        rows.append(
            {
                "id": model.id,
                "source": model.repo_id,
                "kind": model.kind,
                "backend": model.backend,
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
                "backend": local.backend,
                "installed": True,
                "path": str(local.path),
                "pipeline": local.pipeline,
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    keyframe = " / ".join(b.name for b in backends("keyframe") if not b.needs_model)
    motion = " / ".join(b.name for b in backends("motion") if not b.needs_model)
    print(f"Built in (no download): {keyframe} (keyframes), {motion} (motion)\n")
    print(f"{'id':<24} {'kind':<17} {'size':>8} {'VRAM':>14}  {'licence':<28} status")
    for r in rows:
        if "licence" in r:
            flags = ", ".join(f for f, on in (("gated", r["gated"]), ("non-commercial", r["non_commercial"])) if on)
            vram = f"{r['vram_gb']:.0f}/{r['vram_gb_offload']:.0f} GB"
            licence = r["licence"] + (f" ({flags})" if flags else "")
            state = "installed" if r["installed"] else "not downloaded"
            print(f"{r['id']:<24} {r['kind']:<17} {_gb(r['size']):>8} {vram:>14}  {licence:<28} {state}")
        else:
            print(f"{r['id']:<24} {r['kind']:<17} {'':>8} {'':>14}  {'local folder':<28} {r['path']}")
    print("\nVRAM: all on the GPU / with model CPU offload. Download with `pinframe models download ID`.")
    return 0


def _list_backends(*, as_json: bool) -> int:
    """The backend table itself (engine.backend_registry): what each can do and its settings."""
    rows = describe_table()
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    for kind in ("keyframe", "motion"):
        print(f"{kind.title()} backends:")
        for r in (r for r in rows if r["kind"] == kind):
            frames = f"  frames {r['frames']}, sides x{r['resolution_multiple']}" if kind == "motion" else ""
            sound = ", makes sound" if r["sound"] else ""
            print(f"  {r['name']:<11} {r['display_name']}{frames}{sound}")
            print(f"  {'':<11} licence: {r['licence']}")
            if r["pipelines"]:
                print(f"  {'':<11} folders: {', '.join(r['pipelines'])}")
            for st in r["settings"]:
                print(f"  {'':<11} --set {st['name']}=…  {st['type']}, {st['range']}, default {st['default']}")
        print()
    return 0


def backend_table_markdown(known: list[KnownModel] | None = None) -> str:
    """The README's model table, made from the backend table and the known models (one source)."""
    from engine.models.registry import BUILTIN_MODELS

    known = list(BUILTIN_MODELS if known is None else known)
    lines = [
        "| backend | for | downloadable models (download size) | frames | sound | 24 GB preset | licence |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for b in backends():
        models = [m for m in known if m.backend == b.name]
        listed = ", ".join(f"`{m.id}` ({_gb(m.size_bytes)})" for m in models) or (
            "built in, no download" if not b.needs_model else "any local folder"
        )
        frames = b.frame_rule.text() if b.frame_rule else "stills"
        lines.append(
            f"| `{b.name}` {b.display_name} | {b.kind} | {listed} | {frames} | {'yes' if b.sound else '—'} "
            f"| {b.vram_preset or 'CPU'} | {b.licence} |"
        )
    return "\n".join(lines)


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
