"""``pinframe references`` and ``pinframe loras``: a project's reference pictures and LoRA files.

pinframe references P.pinframe [list]
pinframe references P.pinframe add IMAGE --name Anna [--kind character] [--weight 0.6]
pinframe references P.pinframe remove Anna
pinframe references P.pinframe shot 12A Anna "the diner"   (the shot uses these; --clear: none)
pinframe loras P.pinframe [list]
pinframe loras P.pinframe add FILE.safetensors --name ink [--weight 0.8]
pinframe loras P.pinframe remove ink
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app import commands as C
from app.bundle import Bundle
from app.cli.common import find_shot, float_in
from app.document import LORA_WEIGHT_RANGE, REFERENCE_KINDS, REFERENCE_WEIGHT_RANGE, Project
from app.errors import PinframeError
from app.project_library import import_lora, import_reference
from app.session import ProjectSession


def add_parsers(sub) -> None:
    refs = sub.add_parser("references", help="list, add or remove the project's reference pictures; choose a shot's")
    refs.add_argument("path", help="NAME.pinframe")
    refs.add_argument("--json", action="store_true", help="print machine-readable JSON")
    actions = refs.add_subparsers(dest="action")
    actions.add_parser("list", help="list the references and the shots using each")
    add = actions.add_parser("add", help="copy a picture into the project as a named reference")
    add.add_argument("file", help="a PNG, JPEG or WebP picture")
    add.add_argument("--name", help="what to call it (default: the file's name)")
    add.add_argument("--kind", choices=REFERENCE_KINDS, default="character")
    add.add_argument(
        "--weight",
        type=float_in("--weight", *REFERENCE_WEIGHT_RANGE),
        default=0.6,
        help="how strongly keyframes follow it, 0..1 (0.6)",
    )
    remove = actions.add_parser("remove", help="delete a reference (shots using it stop using it)")
    remove.add_argument("name")
    shot = actions.add_parser("shot", help="set which references a shot's keyframes use")
    shot.add_argument("number", help="the shot number, e.g. 12A")
    shot.add_argument("names", nargs="*", help="reference names, in order")
    shot.add_argument("--clear", action="store_true", help="the shot uses no references")

    loras = sub.add_parser("loras", help="list, add or remove the project's LoRA files (safetensors only)")
    loras.add_argument("path", help="NAME.pinframe")
    loras.add_argument("--json", action="store_true", help="print machine-readable JSON")
    lactions = loras.add_subparsers(dest="action")
    lactions.add_parser("list", help="list the LoRAs")
    ladd = lactions.add_parser("add", help="copy a .safetensors LoRA into the project")
    ladd.add_argument("file", help="FILE.safetensors")
    ladd.add_argument("--name", help="what to call it (default: the file's name)")
    low, high = LORA_WEIGHT_RANGE
    ladd.add_argument("--weight", type=float_in("--weight", low, high), default=1.0, help=f"{low:g}..{high:g} (1.0)")
    lremove = lactions.add_parser("remove", help="delete a LoRA from the project")
    lremove.add_argument("name")


def describe(project: Project) -> dict:
    return {
        "references": [
            {
                "name": r.name,
                "kind": r.kind,
                "weight": r.weight,
                "media": str(r.image),
                "shots": [s.number for s in project.shots() if r.id in s.references],
            }
            for r in project.references
        ],
        "loras": [{"name": lo.name, "weight": lo.weight, "media": str(lo.file)} for lo in project.loras],
    }


def format_references(data: dict) -> str:
    if not data["references"]:
        return "no references; add one with: pinframe references PROJECT add IMAGE --name NAME"
    lines = []
    for r in data["references"]:
        shots = ", ".join(r["shots"]) or "no shots"
        lines.append(f"{r['name']:<20} {r['kind']:<10} weight {r['weight']:<5g} used by {shots}")
    return "\n".join(lines)


def format_loras(data: dict) -> str:
    if not data["loras"]:
        return "no LoRAs; add one with: pinframe loras PROJECT add FILE.safetensors --name NAME"
    return "\n".join(f"{lo['name']:<20} weight {lo['weight']:g}" for lo in data["loras"])


def _edit(path: str, edit) -> Project:
    """Run ``edit(session)`` on the open project and save; nothing is saved if it raises."""
    session = ProjectSession.open(path)
    try:
        edit(session)
        return session.project
    finally:
        if not session.close():
            raise PinframeError(f"the change could not be saved to {path}")


def _read(path: str) -> Project:
    bundle, project, _report = Bundle.open(path, readonly=True)
    bundle.close()
    return project


def cmd_references(args: argparse.Namespace) -> int:
    action = args.action or "list"
    if action == "add":

        def edit(session: ProjectSession) -> None:
            name = args.name or Path(args.file).stem
            image = import_reference(session.bundle, args.file)
            session.do(C.add_reference(session.project, image, name, args.kind, args.weight))
            print(f"added reference {name} ({args.kind}, weight {args.weight:g})")

        project = _edit(args.path, edit)
    elif action == "remove":

        def edit(session: ProjectSession) -> None:
            ref = session.project.reference_named(args.name)
            session.do(C.remove_reference(session.project, ref.id))
            print(f"removed reference {ref.name}")

        project = _edit(args.path, edit)
    elif action == "shot":
        if args.clear == bool(args.names):
            raise PinframeError("give the reference names the shot uses, or --clear for none")

        def edit(session: ProjectSession) -> None:
            shot = find_shot(session.project, args.number)
            ids = [session.project.reference_named(n).id for n in args.names]
            session.do(C.set_shot_references(session.project, shot.id, ids))
            print(f"shot {shot.number} uses {', '.join(args.names) or 'no references'}")

        project = _edit(args.path, edit)
    else:
        project = _read(args.path)
    data = describe(project)
    if args.json:
        print(json.dumps(data["references"], indent=2))
    elif action == "list":
        print(format_references(data))
    return 0


def cmd_loras(args: argparse.Namespace) -> int:
    action = args.action or "list"
    if action == "add":

        def edit(session: ProjectSession) -> None:
            name = args.name or Path(args.file).stem
            file = import_lora(session.bundle, args.file)
            session.do(C.add_lora(session.project, file, name, args.weight))
            print(f"added LoRA {name} (weight {args.weight:g})")

        project = _edit(args.path, edit)
    elif action == "remove":

        def edit(session: ProjectSession) -> None:
            lora = session.project.lora_named(args.name)
            session.do(C.remove_lora(session.project, lora.id))
            print(f"removed LoRA {lora.name}")

        project = _edit(args.path, edit)
    else:
        project = _read(args.path)
    data = describe(project)
    if args.json:
        print(json.dumps(data["loras"], indent=2))
    elif action == "list":
        print(format_loras(data))
    return 0


COMMANDS = {"references": cmd_references, "loras": cmd_loras}
