"""The command line, a front door like ``ui/``: the parser, :func:`run` and :func:`main`, and the
subcommands ``new``, ``info`` and ``demo``; the others live in this package's modules (``engine``,
``models``, ``export``, ``script``, ``prompt``, ``library``), what they share in ``common``.

User mistakes end with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from app import __version__
from app.bundle import Bundle, OpenReport
from app.cli import engine as cli_engine
from app.cli import export as cli_export
from app.cli import library as cli_library
from app.cli import models as cli_models
from app.cli import prompt as cli_prompt
from app.cli import script as cli_script
from app.cli.common import EXIT_INTERNAL, EXIT_USAGE, EXIT_USER_ERROR
from app.clip_state import clip_state
from app.demo import write_demo
from app.document import Project, Scene, new_id
from app.errors import PinframeError
from app.timecode import FrameRate, format_duration, frames_to_timecode, timecode_to_frames
from engine.errors import EngineError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        # "argument --seed: --seed -1 is out of range; ..." says the option once.
        named = re.match(r"argument (\S+?)(?:/\S+)?: (.*)", message, re.DOTALL)
        if named and named.group(2).startswith(named.group(1) + " "):
            message = named.group(2)
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pinframe",
        description="Pinframe: script shots, pin generated keyframes, render the motion, export the animatic.",
    )
    parser.add_argument("--version", action="version", version=f"Pinframe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = sub.add_parser("gui", help="open the window (the default), optionally on a project")
    gui.add_argument("project", nargs="?", help="a NAME.pinframe folder to open")
    gui.add_argument("--demo", action="store_true", help="open the bundled demo project (written on first use)")

    new = sub.add_parser("new", help="create an empty project bundle")
    new.add_argument("path", help="NAME.pinframe folder to create")
    new.add_argument("--fps", default="24", help="frame rate: 24, 25, 30, 50, 60, 24000/1001, 30000/1001, 60000/1001")
    new.add_argument("--size", default="1920x1080", help="resolution WIDTHxHEIGHT (default 1920x1080)")
    new.add_argument(
        "--start", default="00:00:00:00", help="start timecode (default 00:00:00:00; use ; for drop-frame)"
    )
    new.add_argument("--name", help="project name (default: the folder name)")

    info = sub.add_parser("info", help="summarize a project: scenes, shots, pins, stale clips, running time")
    info.add_argument("path", help="NAME.pinframe folder")
    info.add_argument("--json", action="store_true", help="print machine-readable JSON")

    cli_engine.add_parsers(sub)
    cli_models.add_parsers(sub)
    cli_export.add_parsers(sub)
    cli_script.add_parsers(sub)
    cli_prompt.add_parsers(sub)
    cli_library.add_parsers(sub)

    demo = sub.add_parser("demo", help="write the demo project into a folder")
    demo.add_argument("dir", help="folder to write Demo.pinframe into (or a NAME.pinframe path)")
    return parser


def parse_size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    # isdecimal, not isdigit: '²' is a digit that int() refuses, which would crash instead of explaining.
    if len(parts) != 2 or not all(p.strip().isdecimal() for p in parts):
        raise PinframeError(f"'{text}' is not a size; write WIDTHxHEIGHT, e.g. 1920x1080")
    return int(parts[0]), int(parts[1])


def cmd_new(args: argparse.Namespace) -> int:
    rate = FrameRate.parse(args.fps)
    width, height = parse_size(args.size)
    start = timecode_to_frames(args.start, rate)
    path = Path(args.path)
    name = args.name or path.stem
    project = Project(
        name=name,
        rate=rate,
        width=width,
        height=height,
        start_frame=start,
        drop_frame=";" in args.start or "," in args.start,
        scenes=(Scene(new_id(), "Scene 1"),),
    )
    Bundle.create(path, project).close()
    print(f"created {path} ({width}x{height}, {rate.label})")
    return 0


def project_summary(project: Project, report: OpenReport) -> dict:
    rate = project.rate
    tc = lambda frames: format_duration(frames, rate, drop_frame=project.drop_frame)  # noqa: E731
    scenes = []
    # "none", "missing" (its file was gone at open), "stale", "draft", "current"
    states = {s.id: clip_state(project, s, report) for s in project.shots()}
    for index, scene in enumerate(project.scenes, 1):
        shots = []
        for shot in scene.shots:
            clip = shot.current_clip_take
            shots.append(
                {
                    "number": shot.number,
                    "duration_frames": shot.duration,
                    "duration": tc(shot.duration),
                    "pins": [p.frame for p in shot.pins],
                    "clip": states[shot.id],
                    "camera": " ".join(x for x in (shot.camera.size, shot.camera.move) if x),
                    "motion_model": project.motion_model_of(shot),
                    "motion_model_own": bool(shot.motion_model),
                    "clip_made_by": clip.made_by if clip is not None else "",
                    "clip_settings": dict(clip.settings) if clip is not None else {},
                    "clip_sound": clip is not None and clip.audio is not None,
                    "clip_notes": clip.notes if clip is not None else "",
                }
            )
        scenes.append({"index": index, "heading": scene.heading, "shots": shots})
    all_shots = list(project.shots())
    return {
        "name": project.name,
        "fps": str(rate),
        "fps_label": rate.label,
        "size": [project.width, project.height],
        "start_timecode": frames_to_timecode(project.start_frame, rate, drop_frame=project.drop_frame),
        "drop_frame": project.drop_frame,
        "motion_model": project.motion_model,
        "scene_count": len(project.scenes),
        "shot_count": len(all_shots),
        "pin_count": sum(len(s.pins) for s in all_shots),
        "clip_count": sum(1 for s in all_shots if s.current_clip is not None),
        "stale_count": sum(1 for state in states.values() if state == "stale"),
        "draft_count": sum(1 for state in states.values() if state == "draft"),
        "running_time_frames": project.running_time,
        "running_time": tc(project.running_time),
        "missing_media": [{"file": m.ref.relpath, "used_by": list(m.used_by)} for m in report.missing_media],
        "scenes": scenes,
    }


def format_summary(summary: dict, path: str) -> str:
    s = summary
    lines = [
        f"{s['name']}  ({path})",
        f"  format        {s['size'][0]}x{s['size'][1]}, {s['fps_label']} ({s['fps']}), "
        f"starts {s['start_timecode']}{' drop-frame' if s['drop_frame'] else ''}",
        f"  motion model  {s['motion_model']}",
        f"  scenes        {s['scene_count']}",
        f"  shots         {s['shot_count']}",
        f"  pins          {s['pin_count']}",
        f"  clips         {s['clip_count']} rendered, {s['stale_count']} stale, {s['draft_count']} draft",
        f"  running time  {s['running_time']} ({s['running_time_frames']} frames)",
    ]
    if s["missing_media"]:
        lines.append(f"  missing media {len(s['missing_media'])} file(s), relink them in the app:")
        lines.extend(f"    {m['file']}  used by {', '.join(m['used_by'])}" for m in s["missing_media"])
    for scene in s["scenes"]:
        lines.append("")
        lines.append(f"Scene {scene['index']}: {scene['heading'] or '(no heading)'}")
        for shot in scene["shots"]:
            pins = ",".join(map(str, shot["pins"])) or "-"
            lines.append(
                f"  {shot['number']:<6} {shot['duration']}  {shot['duration_frames']:>5} fr  "
                f"pins {pins:<12} clip {shot['clip']:<8} {shot['camera']}"
            )
            if shot["motion_model_own"]:
                lines.append(f"         motion {shot['motion_model']} (this shot's own choice)")
            if shot["clip_made_by"]:
                sound = ", with sound" if shot["clip_sound"] else ""
                lines.append(f"         made by {shot['clip_made_by']}{sound}")
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    bundle, project, report = Bundle.open(args.path, readonly=True)
    bundle.close()
    summary = project_summary(project, report)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary, args.path))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    target = write_demo(args.dir)
    print(f"wrote {target}")
    return 0


COMMANDS = {
    "new": cmd_new,
    "info": cmd_info,
    "demo": cmd_demo,
    **cli_engine.COMMANDS,
    **cli_models.COMMANDS,
    **cli_export.COMMANDS,
    **cli_script.COMMANDS,
    **cli_prompt.COMMANDS,
    **cli_library.COMMANDS,
}


def run(args: argparse.Namespace) -> int:
    """Run a non-GUI command, turning every user-facing error into one line on stderr."""
    try:
        return COMMANDS[args.command](args)
    except (PinframeError, EngineError) as exc:
        logging.getLogger("pinframe.cli").warning("`%s`: %s", args.command, exc)
        print(f"pinframe: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as exc:
        # Interrupted says what was cancelled; what was kept has been said by the command as it was saved.
        print(f"pinframe: {exc or 'cancelled'}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (`pinframe info P | head`): nothing more can be said there, and
        # Python's flush at exit must not report it again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141  # what a shell reports for a command stopped by a closed pipe
    except Exception as exc:
        if os.environ.get("PINFRAME_DEBUG"):
            raise
        logging.getLogger("pinframe.cli").exception("internal error in `%s`", args.command)
        from app.log_file import log_path

        print(
            f"pinframe: internal error: {exc!r} (the traceback is in {log_path()}; "
            "run again with PINFRAME_DEBUG=1 to see it here)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (2), --help or --version (0): returned, as a command's code is
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return run(args)
